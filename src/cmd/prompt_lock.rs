//! One prompt at a time per user, across processes. Two ttvault commands asking on one
//! terminal at once (a split terminal, `make -j`) would share the keystrokes and fight over
//! its echo: one turns echo off, the other back on, and a passphrase shows in clear. Each
//! question therefore holds an exclusive lock on a file in the agent's private runtime
//! directory; a second asker waits for it, saying so on the terminal, and asks afterwards.
//!
//! The lock is `flock`-style (std's `File::lock`), released by the kernel when the holder
//! exits however it ends, so a killed prompt never leaves the others waiting.

use super::tty::Tty;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};

/// The lock file's name in the agent directory.
const NAME: &str = "prompt.lock";

/// Held while one question is asked; dropping it lets the next asker in.
pub struct PromptLock {
    _file: Option<File>,
}

/// Takes the prompt lock, waiting (with one line on the terminal naming the holder) while
/// another ttvault process asks. Where the lock file cannot be had (no private runtime
/// directory), the question is asked without it: a missing lock must not stop a person
/// from unlocking their vault.
pub fn take(tty: &mut Tty) -> PromptLock {
    let Some(mut file) = open() else {
        return PromptLock { _file: None };
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = holder_pid(&mut file)
                .map(|pid| format!(" (pid {pid})"))
                .unwrap_or_default();
            let _ = tty.say(&format!(
                "ttvault: waiting for another ttvault prompt{holder}…\n"
            ));
            if file.lock().is_err() {
                return PromptLock { _file: None };
            }
        }
        Err(std::fs::TryLockError::Error(_)) => return PromptLock { _file: None },
    }
    // Who holds it, for the next waiter's line.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    PromptLock { _file: Some(file) }
}

#[cfg(unix)]
fn open() -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = crate::agent::paths::socket_dir(true).ok()?;
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // The directory is ours and private (socket_dir checks it); no symlink followed.
        .custom_flags(libc::O_NOFOLLOW)
        .open(dir.join(NAME))
        .ok()
}

#[cfg(not(unix))]
fn open() -> Option<File> {
    None
}

/// The holder's pid. It writes it just after taking the lock, so a waiter that comes in
/// between reads an empty file: look again a few times (at most a quarter second) before
/// saying the line without it.
fn holder_pid(file: &mut File) -> Option<u32> {
    for _ in 0..25 {
        if let Some(pid) = read_pid(file) {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
