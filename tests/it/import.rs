//! `ttvault import`: the legacy plaintext `.secrets` becomes a vault, and the plaintext is
//! gone only once the vault is written and reads back.

use crate::common::*;

#[test]
fn in_place_import_replaces_the_plaintext() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets(".secrets");
    dir.run(&["show", "--passphrase-file", "pw"])
        .code(3)
        .stderr_has("ttvault import");
    dir.run(&["import", "--passphrase-file", "pw"])
        .success()
        .stdout_has("replaced");
    let bytes = dir.read(".secrets");
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(CLIENT_SECRET) && !text.contains(REFRESH_TOKEN));
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
    // Importing again finds an encrypted vault, and changes nothing.
    dir.run(&["import", "--passphrase-file", "pw"])
        .code(2)
        .stderr_has("already an encrypted vault");
    assert_eq!(dir.read(".secrets"), bytes);
}

#[test]
fn separate_file_is_shredded_after_the_vault_reads_back() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets("old.env");
    dir.run(&["import", "old.env", "--passphrase-file", "pw"])
        .success()
        .stdout_has("removed");
    assert!(!dir.join("old.env").exists());
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
}

#[test]
fn keep_plaintext_keeps_it() {
    let dir = Dir::new();
    dir.passphrase_files();
    let legacy = dir.legacy_secrets("old.env");
    let before = std::fs::read(&legacy).unwrap();
    dir.run(&[
        "import",
        "old.env",
        "--keep-plaintext",
        "--passphrase-file",
        "pw",
    ])
    .success();
    assert_eq!(std::fs::read(&legacy).unwrap(), before);
}

#[test]
fn never_overwrites_an_existing_vault() {
    let dir = Dir::new();
    dir.vault();
    let vault = dir.read(".secrets");
    let legacy = dir.legacy_secrets("old.env");
    dir.run(&["import", "old.env", "--passphrase-file", "pw"])
        .code(1)
        .stderr_has("already exists");
    assert_eq!(dir.read(".secrets"), vault);
    assert!(
        legacy.exists(),
        "the plaintext must survive a failed import"
    );
}

#[test]
fn tolerates_what_editors_leave_and_names_a_missing_key() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.write(
        "old.env",
        format!("# legacy\r\nexport TT_API_CLIENT_ID=\"{CLIENT_ID}\"\r\n\r\nTT_API_CLIENT_SECRET = '{CLIENT_SECRET}'\r\nTT_REFRESH_TOKEN={REFRESH_TOKEN} # note\r\n"),
    );
    dir.run(&["import", "old.env", "--passphrase-file", "pw"])
        .success();
    let shown = dir.run(&["show", "--passphrase-file", "pw", "--json"]);
    shown.success();
    let doc: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["client_id"], CLIENT_ID);

    let dir = Dir::new();
    dir.passphrase_files();
    dir.write(
        "old.env",
        format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\n"),
    );
    dir.run(&["import", "old.env", "--passphrase-file", "pw"])
        .code(2)
        .stderr_has("TT_REFRESH_TOKEN");
    assert!(dir.join("old.env").exists());
    assert!(!dir.join(".secrets").exists());
}

#[test]
fn verbose_runs_never_print_a_secret() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets(".secrets");
    // Run::success / code assert that no test secret is in stdout or stderr.
    dir.run(&["-vv", "import", "--passphrase-file", "pw"])
        .success();
    dir.run(&["-vv", "show", "--passphrase-file", "pw"])
        .success();
    dir.run(&["-vv", "show", "--passphrase-file", "pw", "--json"])
        .success();
    dir.run(&["-vv", "status", "--json"]).success();
    dir.run(&[
        "-vv",
        "passwd",
        "--passphrase-file",
        "pw",
        "--new-passphrase-file",
        "pw2",
    ])
    .success();
    dir.run(&["-vv", "show", "--passphrase-file", "pw"]).code(3);
}
