//! `ttvault init` against the stand-in Tastytrade through the browser flow, and every way
//! it can fail, each checked for its exit status, its message, and that no vault was
//! written (`--paste` is in init_paste.rs, attacks on the loopback server in
//! loopback_attack.rs).

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
    // Hold Tastytrade's answer so the replay lands while ttvault exchanges the code.
    standin.set_token_delay(Duration::from_secs(3600));
    let first = {
        let c = callback.clone();
        std::thread::spawn(move || get(&c))
    };
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    while standin.token_requests().is_empty() {
        assert!(std::time::Instant::now() < give_up, "no code exchange came");
        std::thread::sleep(Duration::from_millis(10));
    }
    let replay = get(&callback);
    standin.set_token_delay(Duration::ZERO);
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
    let run = flow.finish();
    run.code(1)
        .stderr_has(&format!("port {port}"))
        .stderr_has("--redirect-uri");
    // The holder is this user's (the test itself): named with its pid.
    if cfg!(target_os = "linux") {
        run.stderr_has(&format!("(pid {})", std::process::id()));
    }
    assert!(!dir.join(".secrets").exists());
}

/// A port held by another ttvault init (hardened: its descriptors cannot be read) is
/// named as such, with its pid. Before: "in use by another program".
#[test]
#[cfg(target_os = "linux")]
fn a_port_held_by_another_init_names_it() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let mut args = init_args(port);
    args.extend(["--client-id".into(), CLIENT_ID.into()]);
    let first = start(&dir, &standin, &argv(&args), &[SECRET_ENV]);
    let _ = first.url(); // listening by now
    let other = Dir::new();
    start(&other, &standin, &argv(&args), &[SECRET_ENV])
        .finish()
        .code(1)
        .stderr_has(&format!(
            "port {port} is already in use by another `ttvault init` (pid {})",
            first.pid()
        ));
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
    assert_eq!(page.status, 200, "a refusal is no server error");
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
