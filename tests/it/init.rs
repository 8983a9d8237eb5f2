//! `ttvault init` against the stand-in Tastytrade: the browser flow, `--paste`, and every
//! way they can fail, each checked for its exit status, its message, and that no vault
//! was written.

use crate::common::*;
use crate::flow::*;
use std::time::Duration;
use tt_standin::ACCOUNT_NUMBERS;

fn init_args(port: u16) -> Vec<String> {
    vec![
        "init".into(),
        "--redirect-uri".into(),
        redirect_for(port),
        "--timeout".into(),
        "60s".into(),
    ]
}

fn argv(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const SECRET_ENV: (&str, &str) = ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET);

#[test]
fn browser_flow_writes_a_verified_vault_and_sends_exact_token_requests() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);

    // The printed address is the one-time start page, which sends the browser on to the
    // authorize URL: every parameter, percent-encoded.
    let start_url = flow.url();
    assert!(
        start_url.starts_with(&format!("http://localhost:{port}/start/")),
        "{start_url}"
    );
    let url = follow_start(&start_url);
    assert!(url.starts_with(&standin.authorize_url()), "{url}");
    assert!(
        url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A"),
        "{url}"
    );
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri"), Some(redirect_for(port)));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "scope").as_deref(), Some("read"));
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let state = param(&url, "state").unwrap();
    let challenge = param(&url, "code_challenge").unwrap();
    assert!(state.len() >= 32);

    // The user approves; the browser follows the redirect to ttvault.
    let callback = standin.decide_url(&url, true).unwrap();
    let code = param(&callback, "code").unwrap();
    let page = get(&callback);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("saved it in the encrypted vault"));
    // The success page came only once the vault was on disk.
    assert!(dir.join(".secrets").exists());
    let run = flow.finish();
    run.success()
        .stdout_has("saved to")
        .stdout_has("scopes:      read");

    // Accounts are shown masked only.
    run.stdout_has("••••0001").stdout_has("(owner)");
    for n in ACCOUNT_NUMBERS {
        assert!(!run.stdout.contains(n) && !run.stderr.contains(n));
    }
    let tokens = standin.token_requests();
    let refresh_token = {
        // The vault holds the grant the code produced: the stand-in minted it.
        let requests = &tokens;
        assert_eq!(
            requests.len(),
            2,
            "the exchange, then one verifying refresh"
        );
        let f = requests[1].form();
        f.iter()
            .find(|(k, _)| k == "refresh_token")
            .unwrap()
            .1
            .clone()
    };
    for text in [&run.stdout, &run.stderr, &page.body] {
        assert_absent(text, &[CLIENT_SECRET, &refresh_token, &code]);
    }

    // The code exchange, field by field.
    let exchange = &tokens[0];
    assert_eq!(exchange.method, "POST");
    assert!(exchange
        .header("content-type")
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    assert!(exchange
        .header("user-agent")
        .unwrap()
        .starts_with("ttvault/"));
    assert_eq!(exchange.header("authorization"), None);
    assert_eq!(exchange.header("accept-version"), None);
    let form = exchange.form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in the exchange"))
    };
    assert_eq!(field("grant_type"), "authorization_code");
    assert!(
        field("code") == code,
        "the exchange sends the callback's code"
    );
    assert_eq!(field("redirect_uri"), redirect_for(port));
    assert_eq!(field("client_id"), CLIENT_ID);
    assert!(
        field("client_secret") == CLIENT_SECRET,
        "the client secret goes in the body"
    );
    let verifier = field("code_verifier");
    {
        use base64::Engine;
        use sha2::Digest;
        let s256 = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        assert!(s256 == challenge, "the verifier matches the challenge");
    }
    // The verifying refresh.
    let refresh = &tokens[1];
    assert_eq!(refresh.header("authorization"), None);
    assert!(refresh
        .header("user-agent")
        .unwrap()
        .starts_with("ttvault/"));
    let rf = refresh.form();
    assert!(rf.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(rf.contains(&("client_secret".into(), CLIENT_SECRET.into())));

    // The vault opens and holds the grant's settings.
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID)
        .stdout_has("custom")
        .stdout_has(&redirect_for(port));
    let bytes = dir.read(".secrets");
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert_absent(
        &String::from_utf8_lossy(&bytes),
        &[CLIENT_SECRET, &refresh_token],
    );
}

#[test]
fn credentials_form_on_the_local_page() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    // No client id, no secret, no terminal: the page asks for both.
    let flow = start(&dir, &standin, &argv(&init_args(port)), &[]);
    let url = flow.url();
    assert!(
        url.starts_with(&format!("http://localhost:{port}/start/")),
        "{url}"
    );
    let form = get(&url);
    assert_eq!(form.status, 200);
    let csrf = form
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let post = format!("http://localhost:{port}/credentials");
    // A forged post: wrong CSRF token, then a foreign Origin.
    let bad = post_form(
        &post,
        &[
            ("csrf", "x"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        None,
    );
    assert_eq!(bad.status, 403);
    let fields = [
        ("csrf", csrf.as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    assert_eq!(
        post_form(&post, &fields, Some("http://evil.example")).status,
        403
    );
    // The real one goes on to Tastytrade.
    let next = post_form(&post, &fields, Some(&format!("http://localhost:{port}")));
    assert_eq!(next.status, 303);
    let authorize = next.location.unwrap();
    assert!(authorize.starts_with(&standin.authorize_url()));
    assert_absent(&authorize, &[CLIENT_SECRET]);
    // Through the stand-in's own consent form this time.
    let consent = get(&authorize);
    assert_eq!(consent.status, 200);
    let decided = post_form(&authorize, &[("decision", "approve")], None);
    assert_eq!(decided.status, 302, "{}", decided.body);
    let done = get(&decided.location.unwrap());
    assert_eq!(done.status, 200);
    assert_absent(&done.body, &[CLIENT_SECRET]);
    flow.finish().success().stdout_has(CLIENT_ID);
}

#[test]
fn forged_callbacks_are_refused_and_the_real_one_still_works() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    let url = flow.authorize_url();
    let callback = standin.decide_url(&url, true).unwrap();
    let code = param(&callback, "code").unwrap();
    let base = format!("http://localhost:{port}/");

    // Wrong state, missing state.
    let wrong = get(&format!("{base}?code={code}&state=forged"));
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("does not belong"));
    let missing = get(&format!("{base}?code={code}"));
    assert_eq!(missing.status, 400);
    // A foreign Host (DNS rebinding) with the real callback.
    let rebinding = get_with_host(&callback, Some(&format!("evil.example:{port}")));
    assert_eq!(rebinding.status, 400);
    // Other paths and methods.
    assert_eq!(get(&format!("{base}favicon.ico")).status, 404);
    for p in [&wrong, &missing, &rebinding] {
        assert_absent(&p.body, &[&code, CLIENT_SECRET]);
    }
    assert!(!dir.join(".secrets").exists());

    // The real callback, with an extra RFC 9207 `iss`.
    let page = get(&format!("{callback}&iss=http%3A%2F%2Fx"));
    assert_eq!(page.status, 200, "{}", page.body);
    flow.finish().success();
}

#[test]
fn a_replayed_callback_gets_an_error_page() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    let callback = standin.decide_url(&flow.authorize_url(), true).unwrap();
    // Slow Tastytrade down so the replay lands while ttvault verifies the grant.
    standin.set_token_delay(Duration::from_millis(1500));
    let first = {
        let c = callback.clone();
        std::thread::spawn(move || get(&c))
    };
    std::thread::sleep(Duration::from_millis(500));
    let replay = get(&callback);
    assert_eq!(replay.status, 410);
    assert!(replay.body.contains("already used"));
    assert_eq!(first.join().unwrap().status, 200);
    flow.finish().success();
    assert_eq!(
        standin.token_requests().len(),
        2,
        "the replayed code was never exchanged"
    );
}

#[test]
fn denied_consent_writes_nothing() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    let callback = standin.decide_url(&flow.authorize_url(), false).unwrap();
    assert_eq!(param(&callback, "error").as_deref(), Some("access_denied"));
    let page = get(&callback);
    assert_eq!(page.status, 400);
    assert!(page.body.contains("declined"));
    flow.finish()
        .code(1)
        .stderr_has("declined")
        .stderr_has("access_denied");
    assert!(!dir.join(".secrets").exists());
    assert!(standin.token_requests().is_empty());
}

#[test]
fn a_busy_port_is_named() {
    let dir = Dir::new();
    let holder = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    flow.finish()
        .code(1)
        .stderr_has(&format!("port {port}"))
        .stderr_has("--redirect-uri");
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn the_wait_times_out() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let args = [
        "init",
        "--client-id",
        CLIENT_ID,
        "--timeout",
        "1s",
        "--redirect-uri",
        &redirect_for(port),
    ];
    let flow = start(&dir, &standin, &args, &[SECRET_ENV]);
    flow.finish()
        .code(1)
        .stderr_has("no answer from the browser within 1s")
        .stderr_has("times out in 1s");
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn a_bad_redirect_uri_is_bad_usage() {
    let dir = Dir::new();
    let standin = standin_at("http://localhost:8000");
    let args = [
        "init",
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        "https://localhost:8000",
    ];
    start(&dir, &standin, &args, &[SECRET_ENV])
        .finish()
        .code(2)
        .stderr_has("exactly http://localhost:8000")
        .stderr_has("(http, port 8000, no trailing slash)");
}

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

#[cfg(unix)]
#[test]
fn ctrl_c_releases_the_port_and_writes_nothing() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    let _ = flow.url();
    let status = std::process::Command::new("kill")
        .args(["-INT", &flow.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = flow.finish();
    assert_eq!(run.status, None, "ended by the signal");
    assert!(!dir.join(".secrets").exists());
    // The port is free again.
    std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
}

#[test]
fn asking_for_trade_needs_allow_trade_before_any_sign_in() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend([
        "--client-id".into(),
        CLIENT_ID.into(),
        "--scope".into(),
        "read trade".into(),
    ]);
    start(&dir, &standin, &argv(&args), &[SECRET_ENV])
        .finish()
        .code(2)
        .stderr_has("--allow-trade");
    assert!(standin.requests().is_empty());
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

#[test]
fn a_refused_code_shows_the_failure_in_the_browser() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let flow = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    let callback = standin.decide_url(&flow.authorize_url(), true).unwrap();
    // The client secret is regenerated before the browser comes back: the code is dead.
    standin.revoke_all(CLIENT_ID);
    let page = get(&callback);
    assert_eq!(page.status, 500);
    assert!(
        page.body.contains("refused the authorization code"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Nothing was saved"));
    // Markdown's code spans (`invalid_grant`) are set as code, never shown as backticks.
    assert!(page.body.contains("<code>"), "{}", page.body);
    assert!(!page.body.contains('`'), "{}", page.body);
    flow.finish()
        .code(4)
        .stderr_has("refused the authorization code");
    assert!(!dir.join(".secrets").exists());
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
fn an_absurd_timeout_does_not_overflow() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let args = [
        "init",
        "--client-id",
        CLIENT_ID,
        "--timeout",
        "500000000000years",
        "--redirect-uri",
        &redirect_for(port),
    ];
    let flow = start(&dir, &standin, &args, &[SECRET_ENV]);
    let callback = standin.decide_url(&flow.authorize_url(), true).unwrap();
    assert_eq!(get(&callback).status, 200);
    flow.finish().success();
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
