//! What sits at the vault path: a symbolic link is followed (the file at its end is
//! rewritten in its own directory and the link kept, so no plaintext and no second vault
//! is left behind), and anything but a regular file is refused at once.

use crate::common::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// Every file under `dir` (links not followed) whose bytes hold a test secret.
fn plaintext_copies(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            found.extend(plaintext_copies(&entry.path()));
        } else if meta.is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            if text.contains(CLIENT_SECRET) || text.contains(REFRESH_TOKEN) {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false)
}

/// Names in `dir` that a write must not leave: temp files and the lock file.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp.") || n.ends_with(".lock"))
        .collect()
}

/// `.secrets -> dotfiles/secrets`, the plaintext of the old setup script, imported in
/// place: the vault is written at the end of the link and the link kept; the plaintext is
/// overwritten, not only unlinked (a second name for the same file, as some dotfiles
/// managers make, then holds zeros), and no plaintext is left anywhere. Before, the link
/// was replaced by a vault and dotfiles/secrets kept every secret.
#[test]
fn import_through_a_link_overwrites_the_plaintext_and_keeps_the_link() {
    let dir = Dir::new();
    dir.passphrase_files();
    std::fs::create_dir(dir.join("dotfiles")).unwrap();
    let plain = dir.legacy_secrets("dotfiles/secrets");
    let size = std::fs::metadata(&plain).unwrap().len();
    std::fs::hard_link(&plain, dir.join("dotfiles/second-name")).unwrap();
    symlink("dotfiles/secrets", dir.join(".secrets")).unwrap();

    dir.run(&["import", "--passphrase-file", "pw"])
        .success()
        .stdout_has("overwritten and replaced by the vault")
        .stdout_has("link");
    assert!(is_link(&dir.join(".secrets")), "the link was replaced");
    assert!(dir
        .read("dotfiles/secrets")
        .starts_with(b"age-encryption.org/v1\n"));
    assert_eq!(dir.read("dotfiles/second-name"), vec![0u8; size as usize]);
    assert_eq!(plaintext_copies(dir.path()), Vec::<String>::new());
    assert!(leftovers(dir.path()).is_empty() && leftovers(&dir.join("dotfiles")).is_empty());
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
}

/// `passwd` (any rewrite) through a link rewrites the file at its end, in its own
/// directory; before, the link became a file with the new passphrase while the target
/// kept the old one: two vaults, silently.
#[test]
fn passwd_through_a_link_rewrites_its_target_and_keeps_the_link() {
    let dir = Dir::new();
    dir.vault();
    std::fs::create_dir(dir.join("dotfiles")).unwrap();
    std::fs::rename(dir.join(".secrets"), dir.join("dotfiles/secrets")).unwrap();
    symlink("dotfiles/secrets", dir.join(".secrets")).unwrap();

    dir.run(PW_TO_PW2).success();
    assert!(is_link(&dir.join(".secrets")), "the link was replaced");
    dir.run(&[
        "--vault",
        "dotfiles/secrets",
        "show",
        "--passphrase-file",
        "pw2",
    ])
    .success();
    dir.run(&["show", "--passphrase-file", "pw"]).code(3);
    // Nothing left next to the link or the target (no lock file for `git status`).
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    assert_eq!(leftovers(&dir.join("dotfiles")), Vec::<String>::new());
}

/// audit's plaintext check follows links: a link next to the vault that leads to a
/// plaintext copy is one, and so is a plaintext file next to the vault's link target.
#[test]
fn audit_follows_links_to_plaintext_copies() {
    let dir = Dir::new();
    dir.vault();
    std::fs::create_dir(dir.join("elsewhere")).unwrap();
    dir.legacy_secrets("elsewhere/old.env");
    symlink("elsewhere/old.env", dir.join("old.env")).unwrap();
    let run = dir.run(&["audit", "--offline", "--json", "--passphrase-file", "pw"]);
    assert_no_secrets(&run);
    assert!(
        run.stdout.contains("leftovers.plaintext") && run.stdout.contains("old.env"),
        "{}",
        run.stdout
    );

    let dir = Dir::new();
    dir.vault();
    std::fs::create_dir(dir.join("dotfiles")).unwrap();
    std::fs::rename(dir.join(".secrets"), dir.join("dotfiles/secrets")).unwrap();
    symlink("dotfiles/secrets", dir.join(".secrets")).unwrap();
    dir.legacy_secrets("dotfiles/secrets.env");
    let run = dir.run(&["audit", "--offline", "--json", "--passphrase-file", "pw"]);
    assert!(
        run.stdout.contains("leftovers.plaintext") && run.stdout.contains("secrets.env"),
        "{}",
        run.stdout
    );
}

/// Waits for `child`. If it has not ended after a patience far beyond any normal run
/// (only so that a hang fails the test instead of blocking the suite), `release` unblocks
/// it first. Returns its output and whether it had to be released.
pub fn wait_or_release(child: Child, release: impl FnOnce()) -> (Run, bool) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => (Run::from(out.unwrap()), false),
        Err(_) => {
            release();
            (Run::from(rx.recv().unwrap().unwrap()), true)
        }
    }
}

/// A FIFO at the vault path (anyone who can write the directory can make one) is refused
/// at once with exit 3, by every command; before, each one blocked in open() until some
/// writer came.
#[test]
fn a_fifo_at_the_vault_path_is_refused_at_once() {
    let dir = Dir::new();
    dir.passphrase_files();
    let fifo = dir.join(".secrets");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for args in [
        &["status"][..],
        &["show", "--passphrase-file", "pw"],
        &["exec", "--passphrase-file", "pw", "--", "true"],
        &["token", "--no-agent", "--passphrase-file", "pw"],
        &[
            "passwd",
            "--passphrase-file",
            "pw",
            "--new-passphrase-file",
            "pw2",
        ],
    ] {
        let child = dir
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let fifo = fifo.clone();
        let (run, released) = wait_or_release(child, move || {
            let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
        });
        run.code(3).stderr_has("FIFO");
        assert!(!released, "{args:?} blocked on the FIFO");
    }
}
