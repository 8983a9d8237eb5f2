//! The `fetch-spx` example (examples/fetch-spx.rs) run by `ttvault exec` against the
//! stand-in, and its failures.

use crate::api::{assert_tokens_hidden, dead_token_standin};
use crate::common::*;

#[test]
fn fetch_spx_prints_both_roots_under_exec() {
    let Some(fetch_spx) = fetch_spx() else {
        return;
    };
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    // Its tokens are born expired: any floor above zero would stop exec first.
    let run = dir.run(&[
        "exec",
        "--passphrase-file",
        "pw",
        "--min-ttl",
        "0s",
        "--",
        fetch_spx.to_str().unwrap(),
    ]);
    run.success();
    assert_tokens_hidden(&run, &s, &refresh);
    let out = &run.stdout;
    assert!(
        out.contains("SPX (SPX options, 100 per contract)\n"),
        "{out}"
    );
    assert!(
        out.contains("SPXW (SPX options, 100 per contract)\n"),
        "{out}"
    );
    assert!(
        out.contains("AM-settled") && out.contains("PM-settled"),
        "{out}"
    );
    // Each root's expirations follow its heading: monthlies AM, dailies PM.
    let (spx, spxw) = out.split_once("SPXW (").unwrap();
    assert!(
        spx.contains("Regular") && !spx.contains("PM-settled"),
        "{out}"
    );
    assert!(
        spxw.contains("Weekly") && !spxw.contains("AM-settled"),
        "{out}"
    );
    assert!(
        spxw.lines().filter(|l| l.contains("strikes")).count() >= 3,
        "{out}"
    );
    let r = s.requests().into_iter().last().unwrap();
    assert_eq!(r.path, "/option-chains/SPX/nested");
    assert!(r.header("user-agent").unwrap().starts_with("fetch-spx/"));
}

#[test]
fn fetch_spx_says_what_is_missing_or_refused() {
    let Some(fetch_spx) = fetch_spx() else {
        return;
    };
    let bare = Run::from(
        std::process::Command::new(&fetch_spx)
            .env_remove("TT_ACCESS_TOKEN")
            .env_remove("TT_API_BASE_URL")
            .output()
            .unwrap(),
    );
    assert_eq!(bare.status, Some(2));
    assert!(
        bare.stderr.contains("TT_ACCESS_TOKEN is not set"),
        "{}",
        bare.stderr
    );
    assert!(bare.stderr.contains("ttvault exec"));
    // A token the API refuses: a clear failure, not a panic.
    let s = dead_token_standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // Its tokens are born expired: any floor above zero would stop exec first.
    let run = dir.run(&[
        "exec",
        "--passphrase-file",
        "pw",
        "--min-ttl",
        "0s",
        "--",
        fetch_spx.to_str().unwrap(),
    ]);
    run.code(1)
        .stderr_has("401")
        .stderr_has("Token has expired");
}

/// The example binary, built by `cargo test` (and `cargo build --examples`) beside the
/// test binary. `cargo test --test it` alone does not build examples: then the test is
/// skipped with a reason, except in CI, whose `cargo test --workspace` builds them.
pub fn fetch_spx() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir
        .join("examples")
        .join(format!("fetch-spx{}", std::env::consts::EXE_SUFFIX));
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing: CI runs `cargo test --workspace`, which builds it",
            path.display()
        );
    }
    eprintln!("skipping: {} is not built (run `cargo test` without --test, or `cargo build --example fetch-spx`)", path.display());
    None
}
