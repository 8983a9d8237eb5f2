//! Where the vault is when none is named (README "Where the vault is"): the nearest
//! `.secrets` in the current folder or a parent, as git finds its repository; never one
//! in, or above, a folder of another user, nor a file of another user; init and import
//! write `./.secrets`; errors and `-v` name the vault by its absolute path.

use crate::common::*;
use std::path::Path;

/// A vault in the project folder opens from a subfolder (before: "no vault at .secrets").
#[test]
fn a_subfolder_uses_the_nearest_parent_s_vault() {
    let dir = Dir::new();
    dir.vault();
    let sub = dir.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let pw = dir.join("pw");
    let run = Run::from(
        dir.cmd(&[
            "-v",
            "--no-agent",
            "--passphrase-file",
            pw.to_str().unwrap(),
            "show",
        ])
        .current_dir(&sub)
        .output()
        .unwrap(),
    );
    run.success().stdout_has(CLIENT_ID);
    // -v names the vault it found, absolutely.
    run.stderr_has(&dir.join(".secrets").display().to_string());
}

/// The nearest vault wins over one higher up.
#[test]
fn the_nearest_vault_wins() {
    let dir = Dir::new();
    dir.vault();
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    dir.write("sub/pw2", format!("{NEW_PASSPHRASE}\n"));
    std::fs::copy(dir.join(".secrets"), dir.join("sub/.secrets")).unwrap();
    // The copy gets its own passphrase: only it opens with pw2.
    Run::from(
        dir.cmd(&[
            "--no-agent",
            "passwd",
            "--passphrase-file",
            "../pw",
            "--new-passphrase-file",
            "pw2",
        ])
        .current_dir(&sub)
        .output()
        .unwrap(),
    )
    .success();
    dir.run(&["--no-agent", "--passphrase-file", "pw", "show"])
        .success();
    let nearest = Run::from(
        dir.cmd(&["--no-agent", "--passphrase-file", "pw2", "show"])
            .current_dir(&sub)
            .output()
            .unwrap(),
    );
    nearest.success();
}

/// import (like init) writes `./.secrets` in the current folder even when a parent has a
/// vault, and leaves the parent's alone.
#[test]
fn import_writes_here_even_below_another_vault() {
    let dir = Dir::new();
    dir.vault();
    let before = dir.read(".secrets");
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    dir.legacy_secrets("sub/plain.env");
    Run::from(
        dir.cmd(&["import", "plain.env", "--passphrase-file", "../pw"])
            .current_dir(&sub)
            .output()
            .unwrap(),
    )
    .success();
    assert!(sub.join(".secrets").is_file());
    assert_eq!(dir.read(".secrets"), before);
}

/// No vault anywhere: the error names where it looked first, absolutely.
#[test]
fn no_vault_names_the_current_folder_absolutely() {
    let dir = Dir::new();
    let run = dir.run(&["--no-agent", "show"]);
    run.code(3)
        .stderr_has(&dir.join(".secrets").display().to_string());
}

/// Changes the owner of `path` to uid 65534 (nobody); false (with the reason printed)
/// where that is not allowed: outside CI, when not run as root.
fn give_to_another_user(path: &Path) -> bool {
    match std::os::unix::fs::lchown(path, Some(65534), Some(65534)) {
        Ok(()) => true,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: cannot chown to another user here ({e}); CI runs as root");
            false
        }
        Err(e) => panic!("CI must run as root to chown: {e}"),
    }
}

/// A vault planted in a parent folder that belongs to another user is never used: the
/// search does not enter or cross that folder, and says it ignored the file.
#[test]
fn a_vault_in_another_user_s_folder_is_never_picked() {
    let dir = Dir::new();
    dir.vault();
    let planted = dir.join("shared");
    let work = planted.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::rename(dir.join(".secrets"), planted.join(".secrets")).unwrap();
    if !give_to_another_user(&planted) || !give_to_another_user(&planted.join(".secrets")) {
        return;
    }
    let pw = dir.join("pw");
    let run = Run::from(
        dir.cmd(&[
            "--no-agent",
            "--passphrase-file",
            pw.to_str().unwrap(),
            "show",
        ])
        .current_dir(&work)
        .output()
        .unwrap(),
    );
    run.code(3)
        .stderr_has(&work.join(".secrets").display().to_string())
        .stderr_has("belongs to another user");
    assert!(!run.stdout.contains(CLIENT_ID), "{}", run.stdout);
}

/// A `.secrets` of another user in the user's own parent folder is never used either.
#[test]
fn another_user_s_vault_file_is_never_picked() {
    let dir = Dir::new();
    dir.vault();
    let work = dir.join("work");
    std::fs::create_dir(&work).unwrap();
    if !give_to_another_user(&dir.join(".secrets")) {
        return;
    }
    let pw = dir.join("pw");
    let run = Run::from(
        dir.cmd(&[
            "--no-agent",
            "--passphrase-file",
            pw.to_str().unwrap(),
            "show",
        ])
        .current_dir(&work)
        .output()
        .unwrap(),
    );
    run.code(3)
        .stderr_has("ignored")
        .stderr_has("belongs to another user");
    assert!(!run.stdout.contains(CLIENT_ID), "{}", run.stdout);
}
