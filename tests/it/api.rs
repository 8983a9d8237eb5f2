//! `ttvault api` against the stand-in: output shapes, --jq, --paginate, -i, -F, refused
//! methods, API errors. The grant's failures: api_grant.rs; the fetch-spx example: fetch_spx.rs.

use crate::common::*;
use std::collections::BTreeSet;
use std::time::Duration;
use tt_standin::{Config, StandIn};

/// `ttvault api ARGS… --passphrase-file pw`.
pub fn api(dir: &Dir, args: &[&str]) -> Run {
    let mut all = vec!["api"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--passphrase-file", "pw"]);
    dir.run(&all)
}

/// Neither the grant's refresh token nor any access token the stand-in saw is printed.
#[track_caller]
pub fn assert_tokens_hidden(run: &Run, s: &StandIn, refresh: &str) {
    let mut secrets = vec![refresh.to_string()];
    secrets.extend(
        s.requests()
            .iter()
            .filter_map(|r| r.header("authorization"))
            .filter_map(|h| h.strip_prefix("Bearer "))
            .map(str::to_string),
    );
    for secret in &secrets {
        assert!(
            !run.stdout.contains(secret.as_str()),
            "stdout shows a token"
        );
        assert!(
            !run.stderr.contains(secret.as_str()),
            "stderr shows a token"
        );
    }
}

/// The API requests the stand-in received (token requests left out), as `METHOD path?query`.
pub fn api_requests(s: &StandIn) -> Vec<String> {
    s.requests()
        .iter()
        .filter(|r| r.path != "/oauth/token")
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect()
}

pub fn ids(items: &serde_json::Value) -> Vec<u64> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| t["id"].as_u64().expect("an id"))
        .collect()
}

#[test]
fn piped_output_is_the_body_as_received() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let run = api(&dir, &["/customers/me"]);
    run.success();
    // The stand-in writes compact JSON with no newline; piped, it comes through unchanged.
    assert!(!run.stdout.contains('\n'), "{:?}", run.stdout);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["context"], "/customers/me");
    assert_eq!(v["data"]["id"], tt_standin::CUSTOMER_ID);
    assert_tokens_hidden(&run, &s, &refresh);
    // Every request said who it was and asked for JSON, without Accept-Version.
    let r = s.requests().into_iter().last().unwrap();
    assert!(r.header("user-agent").unwrap().starts_with("ttvault/"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("accept-version"), None);
}

#[test]
fn a_terminal_gets_pretty_json() {
    if !require_tool("script") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // `script` gives ttvault a pseudo-terminal as stdout (util-linux's, Debian's bsdutils).
    let line = format!(
        "{} api /customers/me --passphrase-file pw",
        env!("CARGO_BIN_EXE_ttvault")
    );
    let run = Run::from(
        std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    );
    run.success();
    let text = run.stdout.replace("\r\n", "\n");
    assert!(
        text.contains("{\n  \"context\": \"/customers/me\",\n  \"data\": {\n    \""),
        "not pretty: {text:?}"
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["data"]["id"], tt_standin::CUSTOMER_ID);
}

#[test]
fn jq_filters_nested_data_and_prints_strings_raw() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let roots = api(
        &dir,
        &[
            "/option-chains/SPX/nested",
            "--jq",
            r#".data.items[]."root-symbol""#,
        ],
    );
    roots.success();
    assert_eq!(roots.stdout, "SPX\nSPXW\n");
    assert_tokens_hidden(&roots, &s, &refresh);
    // Non-string results are JSON, one per line.
    let summary = api(
        &dir,
        &[
            "/option-chains/SPX/nested",
            "--jq",
            r#".data.items[] | {root: ."root-symbol", settlement: .expirations[0]."settlement-type"}"#,
        ],
    );
    summary.success();
    assert_eq!(
        summary.stdout,
        "{\"root\":\"SPX\",\"settlement\":\"AM\"}\n{\"root\":\"SPXW\",\"settlement\":\"PM\"}\n"
    );
}

#[test]
fn a_bad_filter_is_usage_before_anything_happens() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    // No passphrase source: had the vault been opened, this would be exit 3.
    dir.run(&["api", "/customers/me", "--jq", ".data | ("])
        .code(2)
        .stderr_has("--jq");
    dir.run(&["api", "/customers/me", "--jq", "env"])
        .code(2)
        .stderr_has("env");
    dir.run(&["api", "https://evil.example/customers/me"])
        .code(2)
        .stderr_has("not a path under the vault's API base");
    assert!(s.requests().is_empty(), "{:?}", s.requests());
}

#[test]
fn paginate_yields_every_item_once() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let path = "/accounts/5WT00001/transactions";
    let whole = api(&dir, &[path, "-F", "per-page=1000"]);
    whole.success();
    let whole: serde_json::Value = serde_json::from_str(&whole.stdout).unwrap();
    let expected = ids(&whole["data"]["items"]);
    assert!(expected.len() > 6, "enough for several pages");
    s.clear_requests();

    let run = api(&dir, &[path, "--paginate", "-F", "per-page=3"]);
    run.success();
    assert_tokens_hidden(&run, &s, &refresh);
    let all: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let got = ids(&all);
    assert_eq!(got, expected, "every item once, in order");
    let pages = expected.len().div_ceil(3);
    let wanted: Vec<String> = (0..pages)
        .map(|n| format!("GET {path}?per-page=3&page-offset={n}"))
        .collect();
    assert_eq!(api_requests(&s), wanted);

    // With --jq the filter runs on each page.
    let run = api(
        &dir,
        &[
            path,
            "--paginate",
            "-F",
            "per-page=4",
            "--jq",
            ".data.items[].id",
        ],
    );
    run.success();
    let lines: Vec<u64> = run.stdout.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(lines, expected);
    let unique: BTreeSet<u64> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len());
}

#[test]
fn paginate_with_include_prints_each_page_after_its_headers() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let run = api(
        &dir,
        &[
            "/accounts/5WT00002/transactions",
            "--paginate",
            "-i",
            "-F",
            "per-page=2",
        ],
    );
    run.success();
    let blocks: Vec<&str> = run.stdout.split("HTTP/1.1 200 OK\n").skip(1).collect();
    assert_eq!(blocks.len(), 2, "{}", run.stdout);
    let mut seen = Vec::new();
    for block in blocks {
        assert!(
            block.contains("content-type: application/json\n"),
            "{block}"
        );
        let (_, body) = block.split_once("\n\n").unwrap();
        let items: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        seen.extend(ids(&items));
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn include_and_head_show_the_status_and_headers() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let run = api(&dir, &["-X", "HEAD", "-i", "/customers/me"]);
    run.success();
    assert!(
        run.stdout.starts_with("HTTP/1.1 200 OK\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("content-type: application/json\n"));
    assert!(
        run.stdout.ends_with("\n\n"),
        "no body after HEAD: {:?}",
        run.stdout
    );
    assert!(api_requests(&s).contains(&"HEAD /customers/me?".to_string()));
    let run = api(&dir, &["-i", "/customers/me"]);
    run.success();
    let (head, body) = run.stdout.split_once("\n\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    assert!(body.starts_with("{\"context\""));
    dir.run(&["api", "-X", "HEAD", "--jq", ".", "/customers/me"])
        .code(2);
}

#[test]
fn fields_become_query_parameters() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    api(
        &dir,
        &[
            "/accounts/5WT00001/transactions?per-page=2",
            "-F",
            "page-offset=1",
            "-F",
            "symbol=SPXW  1",
        ],
    )
    .success();
    let r = s.requests().into_iter().last().unwrap();
    assert_eq!(
        r.query_params(),
        [
            ("per-page".to_string(), "2".to_string()),
            ("page-offset".to_string(), "1".to_string()),
            ("symbol".to_string(), "SPXW  1".to_string()),
        ]
    );
    dir.run(&["api", "/customers/me", "-F", "novalue"]).code(2);
}

#[test]
fn methods_that_change_things_never_reach_the_server() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    for method in ["POST", "put", "PATCH", "DELETE", "OPTIONS"] {
        let run = dir.run(&[
            "api",
            "-X",
            method,
            "/customers/me",
            "--passphrase-file",
            "pw",
        ]);
        run.code(2).stderr_has("nothing was sent");
        if method != "OPTIONS" {
            run.stderr_has("trading is out of ttvault's scope");
        }
    }
    assert!(s.requests().is_empty(), "{:?}", s.requests());
}

#[test]
fn api_errors_are_exit_1_with_the_apis_message_and_masked_accounts() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let run = api(&dir, &["/nope"]);
    run.code(1)
        .stderr_has("404")
        .stderr_has("Route not found")
        .stderr_has("not_found");
    assert!(run.stdout.is_empty());
    let run = api(&dir, &["/accounts/5WT99999/transactions", "-v"]);
    run.code(1)
        .stderr_has("Account ••••9999 not found")
        .stderr_has("GET /accounts/••••9999/transactions");
    assert!(!run.stderr.contains("5WT99999"), "{}", run.stderr);
    assert_tokens_hidden(&run, &s, &refresh);
    // A grant without `read` cannot list transactions: the API's 403, exit 1.
    let other = Dir::new();
    other.standin_vault(&s, "trade");
    let run = api(&other, &["/accounts/5WT00001/transactions"]);
    run.code(1).stderr_has("403").stderr_has("not_permitted");
}

/// Access tokens that are dead on arrival: the API refuses every one, so ttvault gets
/// exactly one fresh token, is refused again, and says the grant is refused.
pub fn dead_token_standin() -> StandIn {
    standin_with(Config {
        access_token_ttl: Duration::ZERO,
        ..Config::default()
    })
}

#[test]
fn api_is_in_the_help_completions_and_man_page() {
    let dir = Dir::new();
    dir.run(&["api", "--help"])
        .success()
        .stdout_has("--paginate")
        .stdout_has("--jq")
        .stdout_has("-X, --method");
    dir.run(&["completions", "bash"])
        .success()
        .stdout_has("ttvault__subcmd__api");
    dir.run(&["man"]).success().stdout_has("ttvault\\-api");
}
