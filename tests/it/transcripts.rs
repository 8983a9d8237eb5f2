//! Whole outputs pinned (as rage's tests/cmd): each tests/cmd/NAME.toml is one command
//! line with its exact stdout, stderr and exit status, run by trycmd in a fresh sandbox
//! folder (NAME.in holds the files it starts with). `[..]` stands for text that may vary
//! (the vault's absolute path). After a deliberate change of wording, re-run with
//! `TRYCMD=overwrite`: the rewritten .toml files are copied back into tests/cmd.
//!
//! Git keeps no file modes but the executable bit, and ttvault refuses a vault others can
//! read; so the cases run from a copy in which every starting file is 0600, except the
//! vault of `readable-vault`, which is 0644 on purpose.

use std::path::Path;

#[test]
fn transcripts_pin_help_and_offline_errors() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd");
    let copy = tempfile::Builder::new()
        .prefix("ttvault-transcripts")
        .tempdir()
        .unwrap();
    copy_tree(&source, copy.path());
    let cases = std::fs::read_dir(&source)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("toml".as_ref()))
        .count();
    assert!(cases >= 15, "only {cases} transcripts in tests/cmd");
    trycmd::TestCases::new()
        .register_bin("ttvault", Path::new(env!("CARGO_BIN_EXE_ttvault")))
        .case(copy.path().join("*.toml"))
        .run();
    if std::env::var_os("TRYCMD").is_some_and(|v| v == "overwrite") {
        for entry in std::fs::read_dir(copy.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension() == Some("toml".as_ref()) {
                std::fs::copy(&path, source.join(path.file_name().unwrap())).unwrap();
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
            continue;
        }
        std::fs::copy(entry.path(), &target).unwrap();
        let in_sandbox = from.extension() == Some("in".as_ref());
        let readable = from.ends_with("readable-vault.in") && entry.file_name() == ".secrets";
        if in_sandbox {
            let mode = if readable { 0o644 } else { 0o600 };
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}
