//! The vault on disk: owner-only permissions, a lock around every read-modify-write, and
//! atomic writes (0600 temp file in the same directory, fsync, rename, fsync the
//! directory), so a crash at any instant leaves the old vault or the new one.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A vault is a few kilobytes; a huge file is not one, and is not read whole.
const MAX_VAULT_BYTES: u64 = 4 << 20;

/// Reads the vault file, refusing what cannot be one. Permissions are checked separately
/// (`check_private`), after the content has been recognized, so a plaintext `.secrets`
/// gets the `import` hint first.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::vault(format!("no vault at {}", path.display()))
            .hint("create one with `ttvault init` (or `ttvault import` for a plaintext .secrets), or pass --vault"),
        _ => Error::vault(format!("cannot read the vault {}: {e}", path.display())),
    })?;
    if meta.is_dir() {
        return Err(Error::vault(format!(
            "{} is a directory, not a vault file",
            path.display()
        ))
        .hint("pass the vault file with --vault PATH"));
    }
    if meta.len() > MAX_VAULT_BYTES {
        return Err(Error::vault(format!(
            "{} is {} bytes, far too large to be a vault",
            path.display(),
            meta.len()
        ))
        .hint("check --vault / TTVAULT_VAULT"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    File::open(path)
        .and_then(|f| f.take(MAX_VAULT_BYTES).read_to_end(&mut bytes))
        .map_err(|e| Error::vault(format!("cannot read the vault {}: {e}", path.display())))?;
    Ok(bytes)
}

/// Like ssh with private keys: refuse a vault that other users can read or that belongs
/// to someone else.
pub fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(path).map_err(|e| Error::io("inspect", path, e))?;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::vault(format!(
                "the vault {} can be read by other users (mode {mode:04o})",
                path.display()
            ))
            .hint(format!("run `{}` and try again", chmod_private(path))));
        }
        let uid = crate::harden::current_uid();
        if meta.uid() != uid && uid != 0 {
            return Err(Error::vault(format!(
                "the vault {} belongs to another user (uid {})",
                path.display(),
                meta.uid()
            ))
            .hint("copy it to a file you own, or run ttvault as its owner"));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The command that closes the vault file to other users (the one place it is written).
pub fn chmod_private(path: &Path) -> String {
    format!("chmod 600 {}", shell_quote(path))
}

fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// An exclusive lock on the vault, held for the whole of a read-modify-write. It lives in
/// a sibling `<vault>.lock` file, which is never deleted (deleting lock files races).
pub struct WriteLock {
    _file: File,
}

pub fn lock(path: &Path) -> Result<WriteLock> {
    let lock_path = sibling(path, ".lock");
    let file = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| Error::io("create the lock file", &lock_path, e))?;
    file.lock().map_err(|e| Error::io("lock", &lock_path, e))?;
    remove_stale_temps(path);
    Ok(WriteLock { _file: file })
}

/// Whether an existing vault may be replaced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Fail if a file exists at the path (never overwrite silently).
    CreateNew,
    /// Replace the file atomically.
    Replace,
}

/// Writes `bytes` to `path` atomically. The caller holds the lock.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode, _lock: &WriteLock) -> Result<()> {
    let temp = temp_path(path);
    let result = write_temp_and_commit(path, &temp, bytes, mode);
    // Whatever happened, the temp file must not linger (it holds ciphertext only).
    let _ = fs::remove_file(&temp);
    result?;
    sync_dir(path);
    Ok(())
}

fn write_temp_and_commit(path: &Path, temp: &Path, bytes: &[u8], mode: Mode) -> Result<()> {
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| Error::io("create", temp, e))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io("write", temp, e))?;
    drop(file);
    match mode {
        Mode::Replace => fs::rename(temp, path).map_err(|e| Error::io("replace", path, e)),
        // A hard link fails if the target exists: an atomic create-if-absent.
        Mode::CreateNew => fs::hard_link(temp, path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => already_exists(path),
            _ => Error::io("create", path, e),
        }),
    }
}

pub fn already_exists(path: &Path) -> Error {
    Error::failure(format!("a vault already exists at {}", path.display()))
        .hint("nothing was overwritten; use `ttvault rotate` to replace its grant, or --force to start over (the old vault is kept as a backup)")
}

/// Copies the vault to `<vault>.bak-<UTC time>` (0600) and returns that path.
pub fn backup(path: &Path, _lock: &WriteLock) -> Result<PathBuf> {
    let bytes = read(path)?;
    let stamp = crate::vault::payload::now_rfc3339().replace(':', "");
    let target = sibling(path, &format!(".bak-{stamp}"));
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(|e| Error::io("create the backup", &target, e))?;
    file.write_all(&bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io("write the backup", &target, e))?;
    sync_dir(path);
    Ok(target)
}

fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.tmp.",
        path.file_name().unwrap_or_default().to_string_lossy()
    )
}

fn temp_path(path: &Path) -> PathBuf {
    let name = format!(
        "{}{}.{:08x}",
        temp_prefix(path),
        std::process::id(),
        rand::random::<u32>()
    );
    path.with_file_name(name)
}

/// Removes temp files left by a writer that crashed. Safe because the caller holds the
/// lock, so no other writer is between create and rename.
fn remove_stale_temps(path: &Path) {
    let dir = parent(path);
    let prefix = temp_prefix(path);
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes the rename itself durable. Best effort: not every platform can open a directory.
fn sync_dir(path: &Path) {
    if let Ok(dir) = File::open(parent(path)) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".secrets");
        let lock = lock(&path).unwrap();
        write_atomic(&path, b"one", Mode::CreateNew, &lock).unwrap();
        let err = write_atomic(&path, b"two", Mode::CreateNew, &lock).unwrap_err();
        assert!(err.message.contains("already exists"));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"three", Mode::Replace, &lock).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_owner_only_and_others_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let lock = lock(&path).unwrap();
        write_atomic(&path, b"x", Mode::CreateNew, &lock).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        check_private(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = check_private(&path).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.hint.unwrap().contains("chmod 600"));
    }
}
