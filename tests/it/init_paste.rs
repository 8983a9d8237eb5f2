//! `ttvault init` without the browser: `--paste` and its failures, the vault it writes
//! (backups under `--force`, the JSON report, a rotated refresh token), and `ttvault` with
//! no arguments. Each is checked for its exit status, its message, and what was written.

use crate::common::*;
use crate::flow::*;
use std::time::Duration;
use tt_standin::ACCOUNT_NUMBERS;

const SECRET_ENV: (&str, &str) = ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET);

/// `init --paste` with the refresh token from the environment.
fn paste(dir: &Dir, standin: &tt_standin::StandIn, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["init", "--paste", "--client-id", CLIENT_ID];
    args.extend_from_slice(extra);
    start(
        dir,
        standin,
        &args,
        &[SECRET_ENV, ("TTVAULT_REFRESH_TOKEN", token)],
    )
    .finish()
}

#[test]
fn paste_writes_a_verified_vault() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    let run = paste(&dir, &standin, &rt, &[]);
    run.success()
        .stdout_has("scopes:      read")
        .stdout_has("••••0002");
    assert_absent(&run.stdout, &[&rt]);
    assert_absent(&run.stderr, &[&rt]);
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
    // A second init refuses the existing vault, before talking to anyone.
    let before = dir.read(".secrets");
    standin.clear_requests();
    paste(&dir, &standin, &rt, &[])
        .code(1)
        .stderr_has("already exists");
    assert_eq!(dir.read(".secrets"), before);
    assert!(standin.requests().is_empty());
}

#[test]
fn a_revoked_grant_is_exit_4_and_writes_nothing() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    standin.revoke(&rt);
    paste(&dir, &standin, &rt, &[])
        .code(4)
        .stderr_has("Grant revoked")
        .stderr_has("ttvault rotate");
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn a_mangled_token_is_exit_4_saying_paste_it_again() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    let truncated = &rt[..rt.len() - 10];
    paste(&dir, &standin, truncated, &[])
        .code(4)
        .stderr_has("Invalid JWT")
        .stderr_has("paste it again");
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn trade_scope_is_refused_without_allow_trade() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read trade");
    paste(&dir, &standin, &rt, &[])
        .code(1)
        .stderr_has("`trade` scope")
        .stderr_has("Read only");
    assert!(!dir.join(".secrets").exists());
    paste(&dir, &standin, &rt, &["--allow-trade"])
        .success()
        .stdout_has("read trade");
}

#[test]
fn a_pasted_access_token_is_recognised() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    let at = standin.access_token(&rt);
    standin.clear_requests();
    let run = paste(&dir, &standin, &at, &[]);
    run.code(1).stderr_has("access token, not a refresh token");
    assert_absent(&run.stderr, &[&at]);
    assert!(standin.token_requests().is_empty());
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn another_applications_token_is_refused() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    standin.register_app("other-app", "other-secret", &["http://localhost:8000"]);
    let rt = standin.personal_grant("other-app", "read");
    paste(&dir, &standin, &rt, &[])
        .code(1)
        .stderr_has("different application");
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn rate_limits_are_retried_and_outages_are_exit_5() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    standin.fail_next(429, 2);
    paste(&dir, &standin, &rt, &[]).success();
    assert_eq!(standin.token_requests().len(), 3);

    let dir = Dir::new();
    standin.clear_requests();
    standin.fail_next(503, 10);
    paste(&dir, &standin, &rt, &[]).code(5).stderr_has("503");
    assert_eq!(
        standin.token_requests().len(),
        4,
        "one try and three retries"
    );
    assert!(!dir.join(".secrets").exists());
    standin.fail_next(503, 0);
}

#[test]
fn an_unreachable_endpoint_is_exit_5_naming_it() {
    let dir = Dir::new();
    dir.passphrase_files();
    let port = free_port();
    let run = Run::from(
        dir.cmd(&[
            "init",
            "--paste",
            "--client-id",
            CLIENT_ID,
            "--passphrase-file",
            "pw",
        ])
        .env("TTVAULT_API_URL", format!("http://127.0.0.1:{port}"))
        .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
        .env("TTVAULT_REFRESH_TOKEN", REFRESH_TOKEN)
        .output()
        .unwrap(),
    );
    run.code(5).stderr_has(&format!("http://127.0.0.1:{port}"));
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn paste_without_a_terminal_needs_its_inputs() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.run(&["init", "--paste", "--passphrase-file", "pw"])
        .code(2)
        .stderr_has("client id");
}

#[test]
fn no_arguments_without_a_terminal_prints_the_help() {
    let dir = Dir::new();
    let run = dir.run(&[]);
    assert_eq!(run.status, Some(2));
    assert!(
        run.stdout.contains("Usage") || run.stderr.contains("Usage"),
        "{}",
        run.stdout
    );
}

#[test]
fn force_keeps_the_old_vault_as_a_backup() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    paste(&dir, &standin, &rt, &[]).success();
    let old = dir.read(".secrets");
    paste(&dir, &standin, &rt, &["--force"])
        .success()
        .stdout_has("previous vault was kept");
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".secrets.bak-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read(backups[0].path()).unwrap(), old);
    assert_ne!(dir.read(".secrets"), old);
}

#[test]
fn a_refresh_token_rotated_during_verification_is_the_one_stored() {
    let dir = Dir::new();
    let config = tt_standin::Config {
        rotate_refresh_tokens: true,
        ..Default::default()
    };
    let standin = standin_at_with(config, "http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    paste(&dir, &standin, &rt, &[]).success();
    // The pasted token was replaced by the verifying refresh; the vault must hold the
    // new one, or the next command would find the grant dead.
    let run = Run::from(
        dir.cmd(&["token", "--passphrase-file", "pw"])
            .env("TTVAULT_API_URL", standin.base_url())
            .output()
            .unwrap(),
    );
    run.code(0);
    assert_eq!(run.stdout.trim().split('.').count(), 3, "one access token");
}

#[test]
fn json_report_names_scopes_and_masked_accounts() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    let run = paste(&dir, &standin, &rt, &["--json"]);
    run.success();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["environment"], "custom");
    assert_eq!(doc["client_id"], CLIENT_ID);
    assert_eq!(doc["scopes"], serde_json::json!(["read"]));
    assert_eq!(doc["scopes_known"], true);
    assert_eq!(doc["accounts"].as_array().unwrap().len(), 2);
    for n in ACCOUNT_NUMBERS {
        assert!(!run.stdout.contains(n));
    }
}

/// `ttvault` alone, on a terminal (a pseudo-terminal from util-linux `script`).
#[cfg(unix)]
#[test]
fn no_arguments_on_a_terminal_explains_and_offers_init() {
    if !require_tool("script") {
        return;
    }
    let dir = Dir::new();
    let mut child = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{}'", env!("CARGO_BIN_EXE_ttvault")),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .env_remove("TTVAULT_VAULT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        stdin.write_all(b"n\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("encrypted file"), "{text}");
    assert!(text.contains("Start `ttvault init` now? [y/N]"), "{text}");
    assert!(text.contains("Nothing done"), "{text}");
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn a_failed_forced_init_leaves_the_old_vault_alone() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let rt = standin.personal_grant(CLIENT_ID, "read");
    paste(&dir, &standin, &rt, &[]).success();
    let before = dir.read(".secrets");
    let dead = standin.personal_grant(CLIENT_ID, "read");
    standin.revoke(&dead);
    paste(&dir, &standin, &dead, &["--force"]).code(4);
    assert_eq!(dir.read(".secrets"), before);
    let backups = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".bak-"))
        .count();
    assert_eq!(backups, 0, "no backup: nothing was replaced");
}
