//! The vault on disk: owner-only permissions, a lock around every read-modify-write, and
//! atomic writes (0600 temp file in the same directory, fsync, rename, fsync the
//! directory), so a crash at any instant leaves the old vault or the new one.

use super::target::{parent, sibling};
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A vault is a few kilobytes; a huge file is not one, and is not read whole.
const MAX_VAULT_BYTES: u64 = 4 << 20;

/// A vault file as read, with what its open descriptor said about it (fstat), so every
/// check is made on the file whose bytes are used, never on the path again: a path can
/// be swapped between a look and a read (`renameat2(RENAME_EXCHANGE)` swaps two files
/// atomically), a descriptor cannot.
pub struct VaultFile {
    pub bytes: Vec<u8>,
    meta: fs::Metadata,
}

impl VaultFile {
    /// The privacy check ([`check_private`]) on what was read.
    pub fn check_private(&self, path: &Path) -> Result<()> {
        check_private(path, &self.meta)
    }

    /// Root opening a vault another user owns: that user's name (or uid), so the command
    /// can say so, as ssh does. None otherwise.
    pub fn foreign_owner(&self) -> Option<String> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let owner = self.meta.uid();
            if crate::harden::current_uid() == 0 && owner != 0 {
                return Some(
                    crate::harden::user_name(owner)
                        .map_or_else(|| format!("uid {owner}"), |n| format!("{n} (uid {owner})")),
                );
            }
        }
        None
    }
}

/// Reads the vault file, refusing what cannot be one. Permissions are checked separately
/// ([`VaultFile::check_private`]), after the content has been recognized, so a plaintext
/// `.secrets` gets the `import` hint first. A FIFO, socket or device at the path is refused
/// at once: it is opened without blocking and checked on the open descriptor, so nothing
/// another user puts there can make ttvault hang.
pub fn open(path: &Path) -> Result<VaultFile> {
    let file = open_nonblocking(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::vault(format!("no vault at {}", path.display()))
            .hint("create one with `ttvault init` (or `ttvault import` for a plaintext .secrets), or pass --vault"),
        _ => Error::vault(format!("cannot read the vault {}: {e}", path.display())),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| Error::vault(format!("cannot read the vault {}: {e}", path.display())))?;
    check_type(path, &meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_VAULT_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::vault(format!("cannot read the vault {}: {e}", path.display())))?;
    Ok(VaultFile { bytes, meta })
}

/// The bytes of the vault file ([`open`] without the privacy facts).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    open(path).map(|f| f.bytes)
}

/// The one file policy of a vault, for the store and the agent alike, on what fstat said
/// of an open descriptor: a regular file of vault size, private ([`check_private`]).
pub fn check_opened(path: &Path, meta: &fs::Metadata) -> Result<()> {
    check_type(path, meta)?;
    check_private(path, meta)
}

/// A regular file of at most [`MAX_VAULT_BYTES`].
fn check_type(path: &Path, meta: &fs::Metadata) -> Result<()> {
    if !meta.is_file() {
        return Err(Error::vault(format!(
            "{} is {}, not a vault file",
            path.display(),
            describe_type(meta)
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
    Ok(())
}

/// The contents of `path` when it is a regular file of at most `max` bytes (links
/// followed); `None` for anything else. For scans of files next to the vault (`audit`).
pub fn read_regular(path: &Path, max: u64) -> Option<Vec<u8>> {
    let file = open_nonblocking(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Opens for reading without blocking on a FIFO (O_NONBLOCK changes nothing for a
/// regular file).
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

fn describe_type(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Like ssh with private keys: refuse a vault that other users can read or that belongs
/// to someone else (root excepted: it may open any vault, and is told whose it is).
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
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
    let _ = (path, meta);
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

pub use super::lock::{lock, WriteLock};

/// Whether an existing vault may be replaced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Fail if a file exists at the path (never overwrite silently).
    CreateNew,
    /// Replace the file atomically.
    Replace,
}

/// Writes `bytes` to `path` atomically. The caller holds the lock. A `path` that is a
/// symbolic link keeps being one: the file it leads to is replaced, in its own directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode, lock: &WriteLock) -> Result<()> {
    let target = lock.target_for(path)?;
    remove_stale_temps(&target);
    let temp = temp_path(&target);
    let result = write_temp(&temp, bytes).and_then(|()| match mode {
        Mode::Replace => fs::rename(&temp, &target).map_err(|e| Error::io("replace", &target, e)),
        // A hard link fails if the target exists: an atomic create-if-absent.
        Mode::CreateNew => fs::hard_link(&temp, &target).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => already_exists(path),
            _ => Error::io("create", &target, e),
        }),
    });
    // Whatever happened, the temp file must not linger (it holds ciphertext only).
    let _ = fs::remove_file(&temp);
    result?;
    sync_dir(&target);
    Ok(())
}

/// A new 0600 file holding all of `bytes`, on disk (fsynced).
fn write_temp(temp: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| Error::io("create", temp, e))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io("write", temp, e))
}

pub fn already_exists(path: &Path) -> Error {
    Error::failure(format!("a vault already exists at {}", path.display()))
        .hint("nothing was overwritten; use `ttvault rotate` to replace its grant, or --force to start over (the old vault is kept as a backup)")
}

/// Copies the vault to `<vault>.bak-<UTC time>` (0600) and returns that path. The copy is
/// written to a temp file, fsynced, then linked into place: a full disk or a crash leaves
/// a complete backup or none, never a short one.
pub fn backup(path: &Path, lock: &WriteLock) -> Result<PathBuf> {
    let target = lock.target_for(path)?;
    let bytes = read(&target)?;
    let stamp = crate::vault::payload::now_rfc3339().replace(':', "");
    let backup = sibling(&target, &format!(".bak-{stamp}"));
    let temp = temp_path(&target);
    let result = write_temp(&temp, &bytes).and_then(|()| {
        fs::hard_link(&temp, &backup).map_err(|e| Error::io("create the backup", &backup, e))
    });
    let _ = fs::remove_file(&temp);
    result.map_err(|e| Error {
        hint: Some(
            "the vault was left as it was and no backup was kept; free some disk space and try again"
                .into(),
        ),
        ..e
    })?;
    sync_dir(&target);
    Ok(backup)
}

fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
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
    let prefix = temp_prefix(path);
    if let Ok(entries) = fs::read_dir(parent(path)) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
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
        open(&path).unwrap().check_private(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = open(&path).unwrap().check_private(&path).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.hint.unwrap().contains("chmod 600"));
    }
}
