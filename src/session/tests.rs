//! Tests of sessions from a vault opened here: a rotated refresh token is written into the
//! vault before the session is handed out, secrets are there only when asked, and the
//! vault is opened once per command.

use super::*;
use crate::endpoints::Environment;
use crate::oauth::http::{Request, Response, TransportError};
use crate::oauth::Http;
use crate::secret::{ClientSecret, RefreshToken};
use crate::ui::{Answer, ScriptedUi};
use crate::vault::{kdf, Opened, Payload, UnlockSources};
use crate::want::{Freshness, Secrets};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const PASSPHRASE: &str = "a test passphrase";

/// A vault at `dir/.secrets` holding refresh token `rt-0`, opened by the passphrase file.
fn vault_in(dir: &std::path::Path) -> VaultRef {
    let payload = Payload::new(
        "cid".into(),
        ClientSecret::new("cs"),
        RefreshToken::new("rt-0"),
        Environment::Production,
        vec!["read".into()],
    );
    let pass = Passphrase::new(PASSPHRASE);
    let sealed = vault::seal(&payload, Some((&pass, kdf::FLOOR))).unwrap();
    let path = dir.join(".secrets");
    std::fs::write(&path, sealed).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::write(dir.join("pw"), PASSPHRASE).unwrap();
    let mut vault = VaultRef::new(path);
    // No agent is asked: these are the vault-opened-here paths.
    vault.use_agent = false;
    vault.unlock = UnlockSources {
        passphrase_file: Some(dir.join("pw")),
        ..Default::default()
    };
    vault
}

/// A token endpoint that answers access token `at-N` and, when `rotate`, refresh token
/// `rt-N+1` on its Nth call.
fn endpoint(calls: Arc<AtomicUsize>, rotate: bool) -> impl Http {
    move |_: &Request<'_>| -> std::result::Result<Response, TransportError> {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let rt = if rotate {
            format!(r#","refresh_token":"rt-{}""#, n + 1)
        } else {
            String::new()
        };
        Ok(Response::new(
            200,
            Some("application/json"),
            format!(r#"{{"access_token":"at-{n}","expires_in":900,"token_type":"Bearer"{rt}}}"#),
        ))
    }
}

fn stored_refresh_token(vault: &VaultRef) -> String {
    vault::open(vault)
        .unwrap()
        .payload
        .refresh_token
        .expose()
        .to_string()
}

#[test]
fn a_rotated_refresh_token_is_saved_before_the_session_is_handed_out() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_in(dir.path());
    let calls = Arc::new(AtomicUsize::new(0));
    let http = endpoint(Arc::clone(&calls), true);
    let mut grant = GrantAccess::new(&vault, &http);
    let session = grant
        .session(Secrets::Included, Freshness::default())
        .unwrap();
    assert_eq!(session.source(), Source::Vault);
    assert_eq!(session.access_token.expose(), "at-0");
    assert!(!session.has_unsaved_refresh_token());
    // The session and the vault both hold the new token.
    assert_eq!(session.secrets().unwrap().refresh_token.expose(), "rt-1");
    assert_eq!(stored_refresh_token(&vault), "rt-1");
    // A second, fresh token (api after a 401) comes from the same opening and uses the
    // refresh token saved just now, not the dead one it was opened with.
    let again = grant
        .session(Secrets::Withheld, Freshness::fresh())
        .unwrap();
    assert_eq!(again.access_token.expose(), "at-1");
    assert_eq!(stored_refresh_token(&vault), "rt-2");
}

#[test]
fn the_fields_then_a_session_ask_the_passphrase_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = vault_in(dir.path());
    // A person types the passphrase (one answer only: a second question fails).
    let ui = Arc::new(ScriptedUi::new([Answer::Passphrase(PASSPHRASE.into())]));
    vault.unlock = UnlockSources::default();
    vault.ui = ui.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    // The endpoint rotates: saving the new refresh token needs the passphrase again.
    let http = endpoint(Arc::clone(&calls), true);
    let mut grant = GrantAccess::new(&vault, &http);
    // The recorded choice first (exec, export): no token asked for.
    let fields = grant.fields(Secrets::Withheld).unwrap();
    assert!(fields.secrets.is_none() && fields.info.handout == crate::vault::Handout::Tokens);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(grant.fields(Secrets::Included).unwrap().secrets.is_some());
    let session = grant
        .session(Secrets::Withheld, Freshness::default())
        .unwrap();
    assert_eq!(session.access_token.expose(), "at-0");
    assert_eq!(grant.slots().unwrap().len(), 1);
    assert_eq!(ui.asked().len(), 1, "{:?}", ui.asked());
    vault.unlock.passphrase_file = Some(dir.path().join("pw"));
    assert_eq!(stored_refresh_token(&vault), "rt-1");
}

#[test]
fn secrets_only_when_asked_and_variables_follow() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_in(dir.path());
    let http = endpoint(Arc::new(AtomicUsize::new(0)), false);
    let names = |secrets: Secrets| {
        let mut grant = GrantAccess::new(&vault, &http);
        let held = grant.fields(secrets).unwrap().secrets;
        assert_eq!(held.is_some(), secrets == Secrets::Included);
        let session = grant.session(secrets, Freshness::default()).unwrap();
        assert_eq!(session.secrets().is_some(), secrets == Secrets::Included);
        let vars = session.variables(crate::env::Preset::Tt);
        vars.iter().map(|v| v.name).collect::<Vec<_>>()
    };
    let short = names(Secrets::Withheld);
    assert!(short.contains(&"TT_ACCESS_TOKEN"));
    assert!(!short.contains(&"TT_REFRESH_TOKEN"));
    assert!(names(Secrets::Included).contains(&"TT_REFRESH_TOKEN"));
    // Nothing rotated: the vault still holds its token.
    assert_eq!(stored_refresh_token(&vault), "rt-0");
}

#[test]
fn a_rotated_token_that_cannot_be_saved_fails_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = vault_in(dir.path());
    // Opened without keeping the passphrase, so the rewrite needs it again, and the only
    // source now gives a wrong one.
    let opened = Opened {
        passphrase: None,
        ..vault::open(&vault).unwrap()
    };
    std::fs::write(dir.path().join("wrong"), "not the passphrase").unwrap();
    vault.unlock.passphrase_file = Some(dir.path().join("wrong"));
    let http = endpoint(Arc::new(AtomicUsize::new(0)), true);
    let mut grant = GrantAccess::new(&vault, &http).with_opened(opened);
    let err = match grant.session(Secrets::Withheld, Freshness::default()) {
        Err(e) => e,
        Ok(_) => panic!("saved without a passphrase"),
    };
    assert!(err.hint.unwrap().contains("new refresh token"));
    // Nothing was written.
    vault.unlock.passphrase_file = Some(dir.path().join("pw"));
    assert_eq!(stored_refresh_token(&vault), "rt-0");
}
