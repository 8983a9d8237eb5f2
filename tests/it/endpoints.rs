//! Endpoints: https, or plain http on this computer only (refused with exit 2 before any
//! request, whether it comes from the environment or from a vault an older ttvault
//! wrote), and `rotate` toward other endpoints (said, then a flag or a yes at a terminal).

use crate::common::*;
use crate::flow::*;
use std::io::Write;
use std::process::Command;

#[test]
fn plain_http_to_another_host_is_refused_before_any_request() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets("legacy.env");
    for (var, url) in [
        ("TTVAULT_API_URL", "http://api.tastyworks.com"),
        ("TTVAULT_AUTHORIZE_URL", "http://192.0.2.1:8000/auth.html"),
    ] {
        for args in [
            &[
                "init",
                "--paste",
                "--client-id",
                CLIENT_ID,
                "--passphrase-file",
                "pw",
            ][..],
            &["import", "legacy.env", "--passphrase-file", "pw"][..],
        ] {
            let run = Run::from(
                dir.cmd(args)
                    .env(var, url)
                    .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
                    .env("TTVAULT_REFRESH_TOKEN", REFRESH_TOKEN)
                    .output()
                    .unwrap(),
            );
            run.code(2).stderr_has("plain http");
            assert!(!dir.join(".secrets").exists());
        }
    }
}

/// A vault as an older ttvault could write it, whose stored API endpoint is `api_url`
/// (today's `init` and `import` refuse a plain-http one elsewhere).
pub fn old_vault_with_api(dir: &Dir, api_url: &str) {
    use ttvault::secret::Passphrase;
    dir.passphrase_files();
    let doc = serde_json::json!({
        "version": 1,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "environment": {
            "kind": "custom",
            "api_url": api_url,
            "authorize_url": "https://my.tastytrade.com/auth.html",
        },
        "scopes": ["read"],
        "created_at": "2026-01-01T00:00:00Z",
    });
    let sealed = ttvault::vault::format::encrypt(
        doc.to_string().as_bytes(),
        Some((&Passphrase::new(PASSPHRASE), ttvault::vault::kdf::FLOOR)),
        &[],
    )
    .unwrap();
    let path = dir.write(".secrets", &sealed);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn a_stored_plain_http_endpoint_elsewhere_sends_nothing() {
    let dir = Dir::new();
    old_vault_with_api(&dir, "http://192.0.2.1:9");
    for args in [
        &["token", "--passphrase-file", "pw"][..],
        &[
            "exec",
            "--passphrase-file",
            "pw",
            "--",
            "sh",
            "-c",
            "touch ran",
        ][..],
        &["rotate", "--paste", "--passphrase-file", "pw"][..],
    ] {
        let run = Run::from(
            dir.cmd(args)
                .env("TTVAULT_REFRESH_TOKEN", REFRESH_TOKEN)
                .output()
                .unwrap(),
        );
        run.code(2).stderr_has("plain http");
        assert!(!dir.join("ran").exists());
    }
}

#[test]
fn rotate_toward_other_endpoints_needs_the_flag_and_sends_nothing_without_it() {
    let dir = Dir::new();
    let old_home = standin();
    let old_rt = dir.standin_vault(&old_home, "read");
    let before = dir.read(".secrets");
    let elsewhere = standin();
    let new_rt = elsewhere.personal_grant(CLIENT_ID, "read");
    old_home.clear_requests();

    let run = start(
        &dir,
        &elsewhere,
        &["rotate", "--paste"],
        &[("TTVAULT_REFRESH_TOKEN", &new_rt)],
    )
    .finish();
    run.code(2)
        .stderr_has("would change the vault's endpoints")
        .stderr_has(&old_home.base_url())
        .stderr_has(&elsewhere.base_url())
        .stderr_has("--endpoint-change");
    assert!(
        elsewhere.requests().is_empty(),
        "the stored secret went nowhere"
    );
    assert!(old_home.requests().is_empty());
    assert_eq!(dir.read(".secrets"), before);

    let run = start(
        &dir,
        &elsewhere,
        &["rotate", "--paste", "--endpoint-change"],
        &[("TTVAULT_REFRESH_TOKEN", &new_rt)],
    )
    .finish();
    run.success()
        .stderr_has("would change the vault's endpoints");
    assert_absent(&run.stderr, &[&old_rt, &new_rt]);
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(&elsewhere.base_url());
}

/// `TTVAULT_API_URL=` (set but empty) is unset everywhere (src/settings.rs). Before,
/// rotate counted it as an override while the endpoints it then chose did not: the
/// vault's stand-in endpoints were to be replaced by Tastytrade's production ones, and
/// rotate stopped with "would change the vault's endpoints" (exit 2).
#[test]
fn an_empty_endpoint_variable_is_unset_for_rotate_too() {
    let dir = Dir::new();
    let s = standin();
    dir.standin_vault(&s, "read");
    let new_rt = s.personal_grant(CLIENT_ID, "read");
    let run = start(
        &dir,
        &s,
        &["rotate", "--paste"],
        &[
            ("TTVAULT_REFRESH_TOKEN", &new_rt),
            ("TTVAULT_API_URL", ""),
            ("TTVAULT_AUTHORIZE_URL", ""),
        ],
    )
    .finish();
    run.success();
    assert!(
        !run.stderr.contains("would change the vault's endpoints"),
        "{}",
        run.stderr
    );
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(&s.base_url());
}

#[test]
fn rotate_toward_other_endpoints_asks_at_a_terminal() {
    if !require_tool("script") {
        return;
    }
    let dir = Dir::new();
    let old_home = standin();
    dir.standin_vault(&old_home, "read");
    let before = dir.read(".secrets");
    let elsewhere = standin();
    let new_rt = elsewhere.personal_grant(CLIENT_ID, "read");
    let bin = env!("CARGO_BIN_EXE_ttvault");
    // `script` gives ttvault a pseudo-terminal; the answers come through it.
    let rotate = |answers: &str| {
        let cmd = format!("{bin} rotate --paste --passphrase-file pw; echo \"rc=$?\"");
        let mut child = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .env("TTVAULT_API_URL", elsewhere.base_url())
            .env("TTVAULT_AUTHORIZE_URL", elsewhere.authorize_url())
            .env("TTVAULT_REFRESH_TOKEN", &new_rt)
            .env("TTVAULT_KDF_TARGET_MS", "1")
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = rotate("n\n");
    assert!(
        said.contains("would change the vault's endpoints"),
        "{said}"
    );
    assert!(said.contains("Continue? [y/N]"), "{said}");
    assert!(said.contains("rc=2"), "{said}");
    assert!(elsewhere.requests().is_empty());
    assert_eq!(dir.read(".secrets"), before);

    // Yes, then Enter to keep the stored client secret.
    let said = rotate("y\n\n");
    assert!(said.contains("rc=0"), "{said}");
    assert!(!elsewhere.token_requests().is_empty());
    assert!(!said.contains(CLIENT_SECRET) && !said.contains(&new_rt));
}
