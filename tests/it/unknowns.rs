//! What is not known about Tastytrade, against the stand-in's modes: token endpoints that
//! take only JSON or only form bodies (learned once, remembered in the vault), scope claims
//! named `scopes`, opaque refresh tokens, and the sandbox's transient refusal. Each runs the
//! real binary.

use crate::common::*;
use crate::flow::*;
use tt_standin::{Config, ScopeClaim, StandIn, TokenBodies};

/// A vault made by `init --paste` against `standin` with a fresh grant of `scopes`.
fn init_paste(dir: &Dir, standin: &StandIn, scopes: &str) -> Run {
    let rt = standin.personal_grant(CLIENT_ID, scopes);
    start(
        dir,
        standin,
        &["init", "--paste", "--client-id", CLIENT_ID],
        &[
            ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
            ("TTVAULT_REFRESH_TOKEN", &rt),
        ],
    )
    .finish()
}

fn content_types(standin: &StandIn) -> Vec<String> {
    standin
        .token_requests()
        .iter()
        .map(|r| r.header("content-type").unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_json_only_token_endpoint_is_learned_once_and_remembered() {
    let s = standin_with(Config {
        token_bodies: TokenBodies::JsonOnly,
        ..Config::default()
    });
    let dir = Dir::new();
    init_paste(&dir, &s, "read").success();
    // The stand-in is custom (RFC 6749 form first), so init needed the second encoding.
    assert_eq!(
        content_types(&s),
        ["application/x-www-form-urlencoded", "application/json"]
    );
    let json = &s.token_requests()[1];
    let fields = json.form();
    assert!(
        fields.iter().all(|(k, _)| k != "client_id"),
        "Tastytrade's JSON refresh has no client_id"
    );
    s.clear_requests();
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    assert_eq!(
        content_types(&s),
        ["application/json"],
        "remembered in the vault"
    );
}

#[test]
fn a_form_only_token_endpoint_needs_one_request() {
    let s = standin_with(Config {
        token_bodies: TokenBodies::FormOnly,
        ..Config::default()
    });
    let dir = Dir::new();
    init_paste(&dir, &s, "read").success();
    assert_eq!(content_types(&s), ["application/x-www-form-urlencoded"]);
    s.clear_requests();
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    assert_eq!(content_types(&s), ["application/x-www-form-urlencoded"]);
}

#[test]
fn an_imported_vault_learns_the_encoding_on_first_use() {
    let s = standin_with(Config {
        token_bodies: TokenBodies::JsonOnly,
        ..Config::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    assert_eq!(content_types(&s).len(), 2, "form, then JSON");
    s.clear_requests();
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    assert_eq!(content_types(&s), ["application/json"]);
}

#[test]
fn trade_is_refused_in_a_scopes_claim_and_opaque_tokens_say_unknown() {
    let s = standin_with(Config {
        scope_claim: ScopeClaim::Scopes,
        ..Config::default()
    });
    let dir = Dir::new();
    init_paste(&dir, &s, "read trade")
        .code(1)
        .stderr_has("`trade` scope");
    assert!(!dir.join(".secrets").exists());
    init_paste(&dir, &s, "read")
        .success()
        .stdout_has("scopes:      read");

    let s = standin_with(Config {
        opaque_refresh_tokens: true,
        ..Config::default()
    });
    let dir = Dir::new();
    init_paste(&dir, &s, "read")
        .success()
        .stdout_has("scopes:      unknown");
}

#[test]
fn the_sandbox_transient_refusal_is_waited_out_or_named() {
    let s = standin_with(Config {
        transient_not_customer: 1,
        ..Config::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    assert_eq!(s.token_requests().len(), 2, "one refusal, one retry");

    let s = standin_with(Config {
        transient_not_customer: 100,
        ..Config::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let run = dir.run(&["token", "--passphrase-file", "pw"]);
    run.code(5)
        .stderr_has("User is not a TastyTrade customer")
        .stderr_has("known transient error");
    assert_eq!(s.token_requests().len(), 4, "bounded: three retries");
}
