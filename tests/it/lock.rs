//! The write lock and backups, against another user and a full disk: a planted lock file
//! is refused, a held lock is waited for a bounded time and said so, no prompt ever holds
//! the lock, and a backup is complete or absent.

use crate::common::*;
use crate::links::wait_or_release;
use std::io::Read;
use std::process::{Command, Stdio};

pub(crate) fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Another user (or anyone, through a link) plants `.secrets.lock`: the write is refused
/// with a clear message instead of following the link or blocking forever.
#[test]
fn a_lock_file_that_is_a_link_is_refused() {
    let dir = Dir::new();
    dir.vault();
    let before = dir.read(".secrets");
    // (ttvault 0.1 left its lock file behind after every write.)
    let _ = std::fs::remove_file(dir.join(".secrets.lock"));
    std::os::unix::fs::symlink("victim", dir.join(".secrets.lock")).unwrap();
    dir.run(PW_TO_PW2)
        .code(1)
        .stderr_has("lock file")
        .stderr_has("symbolic link")
        .stderr_has("hint:");
    assert!(!dir.join("victim").exists(), "the link was followed");
    assert_eq!(dir.read(".secrets"), before);
}

#[test]
fn a_lock_file_of_another_user_is_refused() {
    if !is_root() {
        // Only root can make a file that belongs to another user.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root (.ci/run)"
        );
        eprintln!("skipping: giving a file to another user needs root");
        return;
    }
    let dir = Dir::new();
    dir.vault();
    let before = dir.read(".secrets");
    let lock = dir.write(".secrets.lock", b"");
    std::os::unix::fs::chown(&lock, Some(65534), Some(65534)).unwrap();
    dir.run(PW_TO_PW2)
        .code(1)
        .stderr_has("belongs to another user (uid 65534)");
    assert_eq!(dir.read(".secrets"), before);
}

/// Holds `.secrets.lock` the way another ttvault does.
fn hold_lock(dir: &Dir) -> std::fs::File {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(".secrets.lock"))
        .unwrap();
    file.lock().unwrap();
    file
}

/// A writer that finds the lock held says so (after about 2 s) and goes on once it is
/// free; before, it waited silently, forever if need be.
#[test]
fn a_held_lock_is_waited_for_and_said_so() {
    let dir = Dir::new();
    dir.vault();
    let held = hold_lock(&dir);
    let mut child = dir
        .cmd(PW_TO_PW2)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr until the notice: an event, however long the machine takes.
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("another ttvault is writing") {
                let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
            }
        }
    });
    let notice = rx.recv_timeout(std::time::Duration::from_secs(120));
    drop(held);
    let (run, _) = wait_or_release(child, || {});
    let notice = notice.expect("no notice that another ttvault is writing");
    assert!(notice.contains(".secrets"), "{notice}");
    assert_eq!(run.status, Some(0), "{}", run.stdout);
    dir.run(&["show", "--passphrase-file", "pw2"]).success();
}

/// The wait is bounded: a lock that is never let go ends in a clear failure, and nothing
/// is written.
#[test]
fn the_wait_for_the_lock_is_bounded() {
    let dir = Dir::new();
    dir.vault();
    let before = dir.read(".secrets");
    let held = hold_lock(&dir);
    let child = dir
        .cmd(PW_TO_PW2)
        .env("TTVAULT_LOCK_WAIT_SECS", "3")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (run, released) = wait_or_release(child, move || drop(held));
    assert!(!released, "the wait was not bounded");
    run.code(1)
        .stderr_has("gave up waiting")
        .stderr_has("nothing was written");
    assert_eq!(dir.read(".secrets"), before);
}

/// `passwd` asks the new passphrase before it takes the lock: while it waits at the
/// prompt, another writer goes through. Before, the prompt held the lock and every other
/// writer waited for the person at the keyboard.
#[test]
fn passwd_never_prompts_while_holding_the_lock() {
    if !require_tool("script") {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    // `script` gives passwd a terminal, where it asks the new passphrase.
    let bin = env!("CARGO_BIN_EXE_ttvault");
    let template = dir.cmd(&[]);
    let mut prompting = Command::new("script")
        .args([
            "-qec",
            &format!("{bin} passwd --passphrase-file pw"),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("TTVAULT_NEW_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = prompting.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("New passphrase") {
        let n = out.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "passwd ended without prompting: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    let id = age::x25519::Identity::generate();
    let other = dir
        .cmd(&[
            "passwd",
            "--passphrase-file",
            "pw",
            "--add-recipient",
            &id.to_public().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = prompting.id();
    let (run, released) = wait_or_release(other, move || {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let _ = prompting.kill();
    let _ = prompting.wait();
    assert!(!released, "the other writer waited for the prompt");
    run.success();
    assert!(
        !run.stderr.contains("another ttvault is writing"),
        "{}",
        run.stderr
    );
}

/// A full disk (here: a file-size limit, which makes writes fail as ENOSPC does) while
/// `init --force` backs up the old vault: no short `.secrets.bak-*`, no temp file, the old
/// vault untouched. Before, a 512-byte backup was left.
#[test]
fn a_full_disk_leaves_no_partial_backup() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let before = dir.read(".secrets");
    assert!(
        before.len() > 512,
        "the vault must be larger than the limit"
    );
    let rt = s.personal_grant(CLIENT_ID, "read");
    let template = dir.cmd_at(&s, &[]);
    // SIGXFSZ ignored, so a write past the limit fails with EFBIG instead of killing.
    let out = Command::new("sh")
        .args([
            "-c",
            "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_ttvault"),
            "init",
            "--paste",
            "--force",
            "--client-id",
            CLIENT_ID,
            "--passphrase-file",
            "pw",
        ])
        .current_dir(dir.path())
        .env_clear()
        .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
        .env("TTVAULT_REFRESH_TOKEN", &rt)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run::from(out);
    run.code(1).stderr_has("backup");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".bak-") || n.contains(".tmp."))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
    assert_eq!(dir.read(".secrets"), before);
}
