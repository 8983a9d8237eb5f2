//! `ttvault --version` names the commit it was built from (build.rs), so a bug report says
//! exactly which code ran.

use crate::common::*;

#[test]
fn version_names_the_commit() {
    let run = Dir::new().run(&["--version"]);
    run.success();
    let line = run.stdout.trim();
    let prefix = concat!("ttvault ", env!("CARGO_PKG_VERSION"), " (commit ");
    let head = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        // A checkout: exactly its HEAD, abbreviated.
        Some(sha) => assert_eq!(line, format!("{prefix}{})", &sha[..12])),
        // A tarball without git: still a version line, saying what it knows.
        None => assert!(line.starts_with("ttvault "), "{line}"),
    }
}
