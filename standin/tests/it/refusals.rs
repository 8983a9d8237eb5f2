//! Tastytrade's captured refusals of a refresh ("Client secret mismatch", "Grant revoked",
//! "Invalid JWT"), as they happen and as `StandIn::refuse_refreshes` forces them; and
//! `POST /sessions/validate`, the cheapest proof that an access token works.

use crate::common::*;
use serde_json::json;
use tt_standin::{Config, RefreshRefusal};

#[test]
fn another_applications_secret_is_a_secret_mismatch_not_a_dead_grant() {
    let s = standin(Config::default());
    s.register_app("other-app", "other-secret", &[REDIRECT]);
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    for secret in ["other-secret", "wrong"] {
        let r = token_json(
            &base,
            &json!({"grant_type": "refresh_token", "refresh_token": rt, "client_secret": secret}),
        );
        assert_oauth_error(&r, 400, "invalid_grant", Some("Client secret mismatch"));
    }
    // The grant is fine: its own secret still works.
    assert_eq!(refresh(&base, &rt).status, 200);
}

#[test]
fn each_captured_refusal_can_be_forced_and_ended() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    for (refusal, description) in [
        (
            RefreshRefusal::ClientSecretMismatch,
            "Client secret mismatch",
        ),
        (RefreshRefusal::GrantRevoked, "Grant revoked"),
        (RefreshRefusal::InvalidJwt, "Invalid JWT"),
    ] {
        s.refuse_refreshes(Some(refusal));
        assert_oauth_error(
            &refresh(&base, &rt),
            400,
            "invalid_grant",
            Some(description),
        );
    }
    s.refuse_refreshes(None);
    assert_eq!(refresh(&base, &rt).status, 200);
}

fn validate(base: &str, bearer: Option<&str>, method: &str) -> Response {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("User-Agent", UA), ("Accept", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    request(base, method, "/sessions/validate", &headers, "")
}

#[test]
fn sessions_validate_answers_a_working_bearer_without_any_scope() {
    let s = standin(Config::default());
    let base = s.base_url();
    // No `read`: validating needs no scope and no account number.
    let rt = s.personal_grant(CLIENT_ID, "openid");
    let at = s.access_token(&rt);
    let r = validate(&base, Some(&at), "POST");
    assert_eq!(r.status, 201, "{r:?}");
    let v = r.json();
    assert_eq!(v["context"], "/sessions/validate");
    assert!(v["data"]["email"].is_string(), "{v}");
    assert_eq!(validate(&base, Some("garbage"), "POST").status, 401);
    assert_eq!(validate(&base, None, "POST").status, 401);
    assert_eq!(validate(&base, Some(&at), "GET").status, 405);
}
