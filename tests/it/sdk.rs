//! The program this setup serves: an SPX option chain fetcher on tastyware's Python SDK
//! (tests/sdk/option_chain_fetcher.py, the SDK pinned in tests/sdk/requirements.txt), run
//! under `ttvault exec` against the stand-in. `.ci/run` installs the SDK into
//! target/sdk-venv (see `python_with`); elsewhere the tests skip with a printed reason.

use crate::common::*;
use std::path::PathBuf;

/// The fetcher copied into the test's folder, so its `load_dotenv()` finds that folder's
/// `.env` (python-dotenv searches from the calling script's folder).
fn fetcher(dir: &Dir) -> &'static str {
    let source =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/option_chain_fetcher.py");
    std::fs::copy(source, dir.join("option_chain_fetcher.py")).unwrap();
    "option_chain_fetcher.py"
}

#[test]
fn the_seed_program_runs_under_a_plain_exec_on_a_vault_that_chose_long_lived() {
    let Some(python) = python_with("tastytrade") else {
        return;
    };
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // The choice, recorded once (init --long-lived and the question at init and import
    // record it too).
    dir.run(&["set", "long-lived", "on", "--passphrase-file", "pw"])
        .success();
    // A stale plaintext .env beside the program: python-dotenv must not override what
    // ttvault put in the environment.
    dir.write(
        ".env",
        "TT_API_CLIENT_SECRET=stale-secret\nTT_REFRESH_TOKEN=stale-refresh\n",
    );
    let script = fetcher(&dir);
    s.clear_requests();
    let run = dir.run_at(
        &s,
        &[
            "exec",
            "--passphrase-file",
            "pw",
            "--",
            python.to_str().unwrap(),
            script,
        ],
    );
    run.success();
    assert_no_secrets(&run);
    run.stdout_has(&format!("accounts: {}", tt_standin::ACCOUNT_NUMBERS.len()));
    run.stdout_has("SPX: ").stdout_has("(AM)");
    run.stdout_has("SPXW: ").stdout_has("(PM)");
    // ttvault's own refresh, then the SDK's with the injected secrets (a JSON body).
    let refreshes = s.token_requests();
    assert_eq!(refreshes.len(), 2, "{refreshes:?}");
    let sdk = &refreshes[1];
    let body: serde_json::Value = serde_json::from_str(&sdk.body).expect("a JSON refresh");
    assert_eq!(body["grant_type"], "refresh_token");
    assert_eq!(body["client_secret"], CLIENT_SECRET);
}

#[test]
fn on_a_short_lived_vault_the_tastyware_preset_stops_before_the_sdk_starts() {
    let Some(python) = python_with("tastytrade") else {
        return;
    };
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let script = fetcher(&dir);
    s.clear_requests();
    let run = dir.run_at(
        &s,
        &[
            "exec",
            "--preset",
            "tastyware",
            "--passphrase-file",
            "pw",
            "--",
            python.to_str().unwrap(),
            script,
        ],
    );
    // ttvault's own explanation, not the SDK's KeyError or a failed login.
    run.code(2).stderr_has("TT_SECRET");
    assert!(!run.stderr.contains("Traceback"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(s.token_requests().is_empty(), "{:?}", s.token_requests());
    assert_no_secrets(&run);
}
