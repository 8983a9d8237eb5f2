//! `ttvault rotate` against the stand-in: the new grant replaces the old one in place,
//! keeping the passphrase and creation time; failures leave the vault byte-identical.

use crate::common::*;
use crate::flow::*;

const SECRET_ENV: (&str, &str) = ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET);

/// A vault made by `init --paste` with a fresh read grant; returns its refresh token.
fn vault_with_grant(dir: &Dir, standin: &tt_standin::StandIn) -> String {
    let rt = standin.personal_grant(CLIENT_ID, "read");
    start(
        dir,
        standin,
        &["init", "--paste", "--client-id", CLIENT_ID],
        &[SECRET_ENV, ("TTVAULT_REFRESH_TOKEN", &rt)],
    )
    .finish()
    .success();
    rt
}

fn rotate_paste(dir: &Dir, standin: &tt_standin::StandIn, token: &str) -> Run {
    // No client id or secret given: the vault's are used.
    start(
        dir,
        standin,
        &["rotate", "--paste"],
        &[("TTVAULT_REFRESH_TOKEN", token)],
    )
    .finish()
}

fn show(dir: &Dir) -> String {
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout
        .clone()
}

#[test]
fn rotate_replaces_the_grant_and_reports_the_old_one_refused() {
    let dir = Dir::new();
    let standin = standin();
    let old = vault_with_grant(&dir, &standin);
    let before = show(&dir);
    assert!(before.contains("rotated:       never"));
    // The user re-creates the grant: the old one is deleted, a new one made.
    standin.revoke(&old);
    let new = standin.personal_grant(CLIENT_ID, "read");
    let run = rotate_paste(&dir, &standin, &new);
    run.success().stdout_has("now refused by Tastytrade (good)");
    assert_absent(&run.stdout, &[&old, &new]);
    assert_absent(&run.stderr, &[&old, &new]);
    let after = show(&dir);
    assert!(!after.contains("rotated:       never"), "{after}");
    let created = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("created:"))
            .map(str::to_string)
    };
    assert_eq!(created(&before), created(&after), "created_at is kept");
    // The vault now holds the new grant: refreshing with it works, via `rotate` again
    // (same token: nothing changes but the check).
    let again = rotate_paste(&dir, &standin, &new);
    again.success().stderr_has("same as the old one");
}

#[test]
fn rotate_warns_when_the_old_grant_still_works() {
    let dir = Dir::new();
    let standin = standin();
    vault_with_grant(&dir, &standin);
    let new = standin.personal_grant(CLIENT_ID, "read");
    rotate_paste(&dir, &standin, &new)
        .success()
        .stderr_has("still accepts the OLD refresh token")
        .stderr_has("delete the old grant");
}

#[test]
fn a_failed_rotate_leaves_the_vault_byte_identical() {
    let dir = Dir::new();
    let standin = standin();
    vault_with_grant(&dir, &standin);
    let before = dir.read(".secrets");

    // A revoked new grant: exit 4.
    let new = standin.personal_grant(CLIENT_ID, "read");
    standin.revoke(&new);
    rotate_paste(&dir, &standin, &new)
        .code(4)
        .stderr_has("Grant revoked");
    assert_eq!(dir.read(".secrets"), before);

    // A trade grant without --allow-trade: exit 1.
    let trade = standin.personal_grant(CLIENT_ID, "read trade");
    rotate_paste(&dir, &standin, &trade)
        .code(1)
        .stderr_has("`trade` scope");
    assert_eq!(dir.read(".secrets"), before);

    // A wrong passphrase: exit 3, before any request.
    standin.clear_requests();
    dir.write("wrong", "not the passphrase\n");
    let run = Run::from(
        dir.cmd(&["rotate", "--paste", "--passphrase-file", "wrong"])
            .env("TTVAULT_API_URL", standin.base_url())
            .env("TTVAULT_REFRESH_TOKEN", &trade)
            .output()
            .unwrap(),
    );
    run.code(3);
    assert!(standin.requests().is_empty());
    assert_eq!(dir.read(".secrets"), before);
}

#[test]
fn rotate_through_the_browser_uses_the_stored_redirect_uri() {
    let dir = Dir::new();
    let port = free_port();
    let redirect = redirect_for(port);
    let standin = standin_at(&redirect);
    // init through the browser records the redirect URI.
    let flow = start(
        &dir,
        &standin,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &redirect,
        ],
        &[SECRET_ENV],
    );
    let cb = standin.decide_url(&flow.authorize_url(), true).unwrap();
    assert_eq!(get(&cb).status, 200);
    flow.finish().success();
    // rotate without --redirect-uri finds it in the vault, and the client credentials too.
    let flow = start(&dir, &standin, &["rotate"], &[]);
    let url = flow.authorize_url();
    assert_eq!(param(&url, "redirect_uri"), Some(redirect.clone()));
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    let cb = standin.decide_url(&url, true).unwrap();
    let page = get(&cb);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("replaced the old one"));
    flow.finish()
        .success()
        .stderr_has("still accepts the OLD refresh token");
}

#[test]
fn rotate_refuses_slot_options() {
    let dir = Dir::new();
    let standin = standin();
    vault_with_grant(&dir, &standin);
    let before = dir.read(".secrets");
    for extra in [&["--no-passphrase"][..], &["--force"], &["-r", "age1xyz"]] {
        let mut args = vec!["rotate", "--paste"];
        args.extend_from_slice(extra);
        start(&dir, &standin, &args, &[]).finish().code(2);
    }
    assert_eq!(dir.read(".secrets"), before);
}

#[test]
fn an_explicit_redirect_uri_wins_over_the_recorded_one_even_when_it_is_the_default() {
    let dir = Dir::new();
    let port = free_port();
    let recorded = redirect_for(port);
    let standin = standin_at(&recorded);
    let flow = start(
        &dir,
        &standin,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &recorded,
        ],
        &[SECRET_ENV],
    );
    let cb = standin.decide_url(&flow.authorize_url(), true).unwrap();
    assert_eq!(get(&cb).status, 200);
    flow.finish().success();
    let before = dir.read(".secrets");
    // Port 8000 is taken (by this test, or by whatever already holds it), so a rotate that
    // uses the explicit http://localhost:8000 stops at once naming that port; one that
    // took the recorded URI instead would listen on the free port and wait for a browser.
    let _held = std::net::TcpListener::bind(("127.0.0.1", 8000));
    let run = start(
        &dir,
        &standin,
        &["rotate", "--redirect-uri", "http://localhost:8000"],
        &[],
    )
    .finish();
    run.code(1)
        .stderr_has("port 8000")
        .stderr_has("already in use");
    assert!(
        !run.stderr.contains(&format!("localhost:{port}")),
        "{}",
        run.stderr
    );
    assert_eq!(dir.read(".secrets"), before);
}
