//! `ttvault import`: the legacy plaintext `.secrets` becomes a vault, and the plaintext is
//! gone only once the vault is written and reads back.

use crate::common::*;
use crate::longlived::{at_terminal, OLD_GRANT};

#[test]
fn in_place_import_replaces_the_plaintext() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets(".secrets");
    dir.run(&["show", "--passphrase-file", "pw"])
        .code(3)
        .stderr_has("ttvault import");
    let run = dir.run(&["import", "--passphrase-file", "pw"]);
    run.success().stdout_has("replaced");
    // The first thing said meets people whose setup script no longer runs.
    assert!(
        run.stderr
            .starts_with("ttvault: note: this is the plaintext .secrets of the old setup script"),
        "{}",
        run.stderr
    );
    run.stderr_has("removed in tastytrade 11.0.4");
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

#[test]
fn import_at_a_terminal_offers_to_shred_the_old_backup() {
    if !require_tool("script") {
        return;
    }
    let s = standin();
    for (answers, shredded) in [("1\ny\n", true), ("1\nn\n", false)] {
        let dir = Dir::new();
        dir.vault_plaintext_with_backup();
        let said = at_terminal(&dir, &s, "import --passphrase-file pw", &[], answers);
        assert!(said.contains("rc=0"), "{said}");
        assert!(
            said.contains(".secrets.backup (the old setup script's backup"),
            "{said}"
        );
        assert!(said.contains("Overwrite and remove them"), "{said}");
        assert_eq!(!dir.join(".secrets.backup").exists(), shredded, "{said}");
        assert!(!said.contains("old-SECRET"), "{said}");
    }
}

#[cfg(unix)]
#[test]
fn import_shred_copies_follows_links_and_without_it_names_the_copies() {
    let dir = Dir::new();
    dir.vault_plaintext_with_backup();
    // The backup is a link into another folder; a copy holding these secrets sits there too.
    std::fs::create_dir(dir.join("dotfiles")).unwrap();
    std::fs::rename(dir.join(".secrets.backup"), dir.join("dotfiles/backup")).unwrap();
    std::os::unix::fs::symlink("dotfiles/backup", dir.join(".secrets.backup")).unwrap();
    dir.legacy_secrets("notes.env");
    let run = dir.run(&["import", "--shred-copies", "--passphrase-file", "pw"]);
    run.success()
        .stdout_has("Overwrote and removed the plaintext copy");
    for gone in [".secrets.backup", "dotfiles/backup", "notes.env"] {
        assert!(
            std::fs::symlink_metadata(dir.join(gone)).is_err(),
            "{gone} remains"
        );
    }
    assert_eq!(dir.read(".gitignore"), b".secrets\n.secrets.backup\n");

    // Without the flag and without a terminal: kept, named, and audit lists them.
    let dir = Dir::new();
    dir.vault_plaintext_with_backup();
    let run = dir.run(&["import", "--passphrase-file", "pw"]);
    run.success()
        .stderr_has("a plaintext copy is still there")
        .stderr_has(".secrets.backup")
        .stderr_has("--shred-copies");
    assert_eq!(dir.read(".secrets.backup"), OLD_GRANT.as_bytes());
    let audit = dir.run(&["audit", "--offline", "--json", "--passphrase-file", "pw"]);
    assert!(
        audit.stdout.contains("the old setup script's backup"),
        "{}",
        audit.stdout
    );
    assert!(!audit.stdout.contains("old-SECRET"));
}
