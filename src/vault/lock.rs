//! The write lock: an exclusive `flock` on `<vault>.lock`, next to the file the write
//! replaces (the end of a symbolic link). It exists only while a write is under way: the
//! holder removes it before letting go, and whoever then gets the lock checks that the
//! name still leads to the file it locked, else starts again (so a removed lock file is
//! never trusted). Nothing is ever left for `git status` to show.
//!
//! Other users are attackers: the lock file is opened without following a link, and must
//! be a regular file of the user's own, or the write is refused. Waiting is bounded and
//! says so after a moment, instead of hanging behind a process that never lets go.

use super::target::{self, sibling};
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long before the waiting writer says why it is waiting.
const NOTICE_AFTER: Duration = Duration::from_secs(2);
/// The longest a write waits for another by default. A write holds the lock for one or two
/// KDF derivations (about a second each, a few at the read caps), never while prompting.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// Held for the whole of a read-modify-write. Dropping it removes the lock file, then
/// releases the lock.
pub struct WriteLock {
    file: Option<File>,
    lock_path: PathBuf,
    target: PathBuf,
}

impl WriteLock {
    /// The file the locked write replaces (the vault path, or the end of its link).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The file a write to `path` replaces, which must be the one this lock is for (the
    /// link could have been changed meanwhile).
    pub fn target_for(&self, path: &Path) -> Result<PathBuf> {
        let now = target::resolve(path)?;
        if now != self.target {
            return Err(Error::failure(format!(
                "{} now points elsewhere than when ttvault locked it; nothing was written",
                path.display()
            ))
            .hint("check the link, then run the command again"));
        }
        Ok(now)
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        // Remove while still holding the lock: a writer waiting on this file finds its
        // name gone once it gets the lock, and starts again on a fresh one.
        let _ = fs::remove_file(&self.lock_path);
        drop(self.file.take());
    }
}

/// Takes the write lock for the vault at `path`, waiting a bounded time for another
/// writer.
pub fn lock(path: &Path) -> Result<WriteLock> {
    let target = target::resolve(path)?;
    let lock_path = sibling(&target, ".lock");
    let bound = wait_bound();
    let start = Instant::now();
    let mut told = false;
    loop {
        let file = open_lock_file(&lock_path)?;
        match file.try_lock() {
            Ok(()) if still_named(&file, &lock_path) => {
                return Ok(WriteLock {
                    file: Some(file),
                    lock_path,
                    target,
                })
            }
            // The writer before us removed it as it finished: lock the current file.
            Ok(()) => continue,
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", &lock_path, e)),
        }
        drop(file);
        let waited = start.elapsed();
        if waited >= bound {
            return Err(Error::failure(format!(
                "another ttvault has been writing {} for {} s; gave up waiting, nothing was written",
                target.display(),
                waited.as_secs()
            ))
            .hint(format!(
                "run the command again once the other one ends; if none is running, another process holds {} (`fuser -v {}` names it)",
                lock_path.display(),
                lock_path.display()
            )));
        }
        if !told && waited >= NOTICE_AFTER {
            told = true;
            crate::output::note(&format!(
                "another ttvault is writing {}; waiting (at most {} s)…",
                target.display(),
                bound.as_secs()
            ));
        }
        std::thread::sleep(POLL);
    }
}

fn wait_bound() -> Duration {
    crate::settings::get()
        .lock_wait_secs
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WAIT)
}

/// Opens (creating, 0600) the lock file without following a link, and checks it is a
/// regular file of the user's own.
fn open_lock_file(lock_path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options
        .open(lock_path)
        .map_err(|e| refused_lock(lock_path, Some(e)))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("inspect", lock_path, e))?;
    if !meta.is_file() || !owned_by_user(&meta) {
        return Err(refused_lock(lock_path, None));
    }
    Ok(file)
}

#[cfg(unix)]
fn owned_by_user(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.uid() == crate::harden::current_uid()
}

#[cfg(not(unix))]
fn owned_by_user(_meta: &fs::Metadata) -> bool {
    true
}

/// The error for a lock file that cannot be ours: a link, not a file, another user's.
fn refused_lock(lock_path: &Path, open_error: Option<std::io::Error>) -> Error {
    let what = match fs::symlink_metadata(lock_path) {
        Ok(m) if m.file_type().is_symlink() => "is a symbolic link".to_string(),
        Ok(m) if !m.is_file() => "is not a regular file".to_string(),
        #[cfg(unix)]
        Ok(m) if !owned_by_user(&m) => {
            use std::os::unix::fs::MetadataExt;
            format!("belongs to another user (uid {})", m.uid())
        }
        _ => match open_error {
            Some(e) => return Error::io("open the lock file", lock_path, e),
            None => "changed while ttvault opened it".to_string(),
        },
    };
    Error::failure(format!(
        "the vault's lock file {} {what}; ttvault refuses it and wrote nothing",
        lock_path.display()
    ))
    .hint(format!(
        "someone else can write to {}: if you did not create that file, remove it (rm {}) and keep the vault in a directory only you can write (chmod go-w)",
        target::parent(lock_path).display(),
        lock_path.display()
    ))
}

/// Whether `lock_path` still names the file `file` has open.
#[cfg(unix)]
fn still_named(file: &File, lock_path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(lock_path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_named(_file: &File, lock_path: &Path) -> bool {
    lock_path.exists()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_exists_only_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join(".secrets");
        let held = lock(&vault).unwrap();
        assert!(dir.path().join(".secrets.lock").exists());
        assert_eq!(held.target(), vault);
        drop(held);
        assert!(!dir.path().join(".secrets.lock").exists());
        // Again, after a crash left the file behind: taken over, then removed.
        fs::write(dir.path().join(".secrets.lock"), b"").unwrap();
        drop(lock(&vault).unwrap());
        assert!(!dir.path().join(".secrets.lock").exists());
    }

    #[test]
    fn a_linked_lock_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join(".secrets");
        let elsewhere = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(".secrets.lock")).unwrap();
        let err = lock(&vault).err().unwrap();
        assert!(err.message.contains("symbolic link"), "{}", err.message);
        assert!(!elsewhere.exists());
    }
}
