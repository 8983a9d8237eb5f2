//! Tastytrade's captured refusals of a refresh, each with the advice that fits it:
//! "Client secret mismatch" is the secret (fixed by `rotate` with the right one, the grant
//! kept), "Grant revoked" the grant (re-create it), "Invalid JWT" the token (paste again).

use crate::common::*;
use crate::flow::*;
use tt_standin::RefreshRefusal;

#[test]
fn each_refusal_gets_its_own_advice_and_exit_4() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    for (refusal, said, advice, not) in [
        (
            RefreshRefusal::ClientSecretMismatch,
            "Client secret mismatch",
            "ttvault rotate --paste",
            "re-create the grant",
        ),
        (
            RefreshRefusal::GrantRevoked,
            "Grant revoked",
            "re-create the grant",
            "client secret",
        ),
        (
            RefreshRefusal::InvalidJwt,
            "Invalid JWT",
            "damaged or was mistyped",
            "re-create the grant",
        ),
    ] {
        s.refuse_refreshes(Some(refusal));
        let run = dir.run_at(&s, &["token", "--passphrase-file", "pw"]);
        run.code(4).stderr_has(said).stderr_has(advice);
        assert!(!run.stderr.contains(not), "{said}: {}", run.stderr);
        assert_no_secrets(&run);
    }
}

/// The application's secret changed under the vault (regenerated, or another app's typed
/// at init): the advice says the secret, and following it keeps the same grant.
#[test]
fn a_secret_mismatch_is_fixed_by_rotate_with_the_right_secret() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    s.register_app(CLIENT_ID, "cs-SECRET-the-right-one", &[REDIRECT_URI]);
    let run = dir.run_at(&s, &["token", "--passphrase-file", "pw"]);
    run.code(4)
        .stderr_has("Client secret mismatch")
        .stderr_has("another application")
        .stderr_has("need not be re-created");
    start(
        &dir,
        &s,
        &["rotate", "--paste"],
        &[
            ("TTVAULT_CLIENT_SECRET", "cs-SECRET-the-right-one"),
            ("TTVAULT_REFRESH_TOKEN", &refresh),
        ],
    )
    .finish()
    .success();
    dir.run_at(&s, &["token", "--passphrase-file", "pw"])
        .success();
}

/// At init the secret was just typed: the same words, no vault to rotate yet.
#[test]
fn init_with_another_applications_secret_names_the_secret() {
    let s = standin();
    let dir = Dir::new();
    s.register_app("other-app", "other-secret", &[REDIRECT_URI]);
    let refresh = s.personal_grant(CLIENT_ID, "read");
    let run = start(
        &dir,
        &s,
        &["init", "--paste", "--client-id", CLIENT_ID],
        &[
            ("TTVAULT_CLIENT_SECRET", "other-secret"),
            ("TTVAULT_REFRESH_TOKEN", &refresh),
        ],
    )
    .finish();
    run.code(4)
        .stderr_has("Client secret mismatch")
        .stderr_has("do not re-create the grant for this");
    assert!(!dir.join(".secrets").exists());
}
