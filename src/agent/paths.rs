//! Where a vault's agent listens, and how the agent recognises "its" vault file.
//!
//! The socket lives in a private directory: `$XDG_RUNTIME_DIR/ttvault/` or, when that is
//! unset, `$HOME/.ttvault-agent/` (as gpg-agent uses `~/.gnupg`): never a predictable name
//! in a shared folder such as /tmp, where another user could create it first and so keep
//! every `unlock` failing. The directory is created 0700 and, every time it is used,
//! checked to be a real directory (not a symlink) owned by us and closed to others;
//! otherwise it is not used at all, and clients say why ([`refused_dir`]). The socket's name is a hash of the vault's
//! canonical path, so one vault has one agent however it is named on the command line.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The agent directory's name in the home directory, without XDG_RUNTIME_DIR.
pub const HOME_DIR_NAME: &str = ".ttvault-agent";

/// Where the private socket directory is (whether or not it exists).
pub fn socket_dir_path() -> Result<PathBuf> {
    let settings = crate::settings::get();
    match (&settings.runtime_dir, &settings.home) {
        (Some(runtime), _) => Ok(runtime.join("ttvault")),
        (None, Some(home)) => Ok(home.join(HOME_DIR_NAME)),
        (None, None) => Err(Error::failure(
            "no private place for the agent's socket: neither XDG_RUNTIME_DIR nor HOME is set",
        )
        .hint("set XDG_RUNTIME_DIR to a private directory (or HOME) and try again")),
    }
}

/// Why the agent directory exists but is not used (another user's, open to others, a
/// link): what a client says before it opens the vault itself. None when it is fine or
/// simply absent (no agent).
pub fn refused_dir() -> Option<Error> {
    let dir = socket_dir_path().ok()?;
    match std::fs::symlink_metadata(&dir) {
        Err(_) => None,
        Ok(_) => check_private_dir(&dir).err(),
    }
}

/// The private socket directory; created when `create`, else only checked.
pub fn socket_dir(create: bool) -> Result<PathBuf> {
    let dir = socket_dir_path()?;
    if create {
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create the agent directory", &dir, e)),
        }
    }
    check_private_dir(&dir)?;
    Ok(dir)
}

fn check_private_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| Error::io("inspect the agent directory", dir, e))?;
    let unsafe_dir = |why: &str| {
        Error::failure(format!(
            "the agent directory {} {why}; not using it",
            dir.display()
        ))
        .hint(format!(
            "remove it (`rm -r {}`; ttvault recreates it privately), or set XDG_RUNTIME_DIR to a private directory",
            dir.display()
        ))
    };
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(unsafe_dir("is not a plain directory"));
    }
    if meta.uid() != crate::harden::current_uid() {
        return Err(unsafe_dir("belongs to another user"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(unsafe_dir("is open to other users"));
    }
    Ok(())
}

/// The canonical path of the vault (it must exist).
pub fn canonical_vault(vault: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(vault).map_err(|e| Error::io("find the vault", vault, e))
}

/// The socket's file name for a canonical vault path.
pub fn socket_name(canonical_vault: &Path) -> String {
    let digest = Sha256::digest(canonical_vault.as_os_str().as_encoded_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.sock")
}

/// The socket path for `vault` (canonicalized here).
pub fn socket_for(vault: &Path, create_dir: bool) -> Result<PathBuf> {
    let canonical = canonical_vault(vault)?;
    Ok(socket_dir(create_dir)?.join(socket_name(&canonical)))
}

/// What the agent remembers of the vault file it was given: size, modification time and
/// a SHA-256 of the content. Any difference (rotate, passwd, a restore) means the grant
/// the agent holds may no longer be the vault's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultStamp {
    pub len: u64,
    pub mtime_ns: i128,
    pub sha256: [u8; 32],
}

/// A vault is a few kilobytes; no more than this is read of whatever is at its path.
const MAX_STAMPED_BYTES: u64 = 4 << 20;

/// Why the agent will not serve from the vault file as it is now.
#[derive(Debug)]
pub enum VaultCheck {
    /// Opening the vault would refuse it now (open to others, another owner, not a regular
    /// file, a link swapped in), with what opening says about it.
    Refused(Error),
    /// Nothing is at the path any more.
    Missing,
    /// It could not be looked at (e.g. no descriptor left): no verdict on the file.
    Unreadable(std::io::Error),
}

impl VaultStamp {
    /// The stamp of the file at `path` (links followed, as `unlock` names the vault).
    /// Opened without blocking, so a FIFO there fails at once instead of hanging.
    pub fn of(path: &Path) -> std::io::Result<VaultStamp> {
        let file = open_nonblocking(path, false)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Self::read(file, &meta)
    }

    /// The stamp of the vault at its canonical path, checked on the open descriptor by the
    /// store's own policy ([`crate::vault::store::check_opened`]); a link there now is a
    /// swap (the canonical path had none) and is not followed.
    pub fn checked(canonical: &Path) -> Result<VaultStamp, VaultCheck> {
        let refused =
            |message: String, hint: String| VaultCheck::Refused(Error::vault(message).hint(hint));
        let file = match open_nonblocking(canonical, true) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(VaultCheck::Missing),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(refused(
                    format!(
                        "{} was replaced by a symbolic link while unlocked; the agent does not follow it",
                        canonical.display()
                    ),
                    "put the vault file back, or run `ttvault unlock` again to serve what the link leads to".into(),
                ))
            }
            Err(e) => return Err(VaultCheck::Unreadable(e)),
        };
        let meta = file.metadata().map_err(VaultCheck::Unreadable)?;
        // The store's own policy, on this descriptor: what is hashed is what was checked.
        crate::vault::store::check_opened(canonical, &meta).map_err(VaultCheck::Refused)?;
        Self::read(file, &meta).map_err(VaultCheck::Unreadable)
    }

    fn read(file: std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<VaultStamp> {
        use std::io::Read;
        let mut bytes = Vec::new();
        file.take(MAX_STAMPED_BYTES).read_to_end(&mut bytes)?;
        let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        Ok(VaultStamp {
            len: bytes.len() as u64,
            mtime_ns,
            sha256: Sha256::digest(&bytes).into(),
        })
    }

    pub fn to_hex(&self) -> String {
        let hash: String = self.sha256.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:{}:{hash}", self.len, self.mtime_ns)
    }

    pub fn from_hex(s: &str) -> Option<VaultStamp> {
        let mut parts = s.splitn(3, ':');
        let len = parts.next()?.parse().ok()?;
        let mtime_ns = parts.next()?.parse().ok()?;
        let hash = parts.next()?;
        if hash.len() != 64 {
            return None;
        }
        let mut sha256 = [0u8; 32];
        for (i, byte) in sha256.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hash.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(VaultStamp {
            len,
            mtime_ns,
            sha256,
        })
    }
}

/// Opens for reading without blocking on a FIFO; with `no_follow`, a link fails (ELOOP).
fn open_nonblocking(path: &Path, no_follow: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = libc::O_NONBLOCK | if no_follow { libc::O_NOFOLLOW } else { 0 };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips_and_names_are_stable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v");
        std::fs::write(&file, b"abc").unwrap();
        let stamp = VaultStamp::of(&file).unwrap();
        assert_eq!(VaultStamp::from_hex(&stamp.to_hex()), Some(stamp.clone()));
        assert!(VaultStamp::from_hex("1:2:zz").is_none());
        std::fs::write(&file, b"abd").unwrap();
        assert_ne!(VaultStamp::of(&file).unwrap().sha256, stamp.sha256);
        assert_eq!(socket_name(Path::new("/a")), socket_name(Path::new("/a")));
        assert_ne!(socket_name(Path::new("/a")), socket_name(Path::new("/b")));
    }

    #[test]
    fn the_checked_stamp_refuses_what_opening_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v");
        std::fs::write(&file, b"abc").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            VaultStamp::checked(&file).unwrap(),
            VaultStamp::of(&file).unwrap()
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        match VaultStamp::checked(&file) {
            Err(VaultCheck::Refused(e)) => {
                assert!(e.hint.unwrap().contains("chmod 600"), "{}", e.message)
            }
            other => panic!("not refused: {other:?}"),
        }
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(
            VaultStamp::checked(&link),
            Err(VaultCheck::Refused(_))
        ));
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success(), "mkfifo (coreutils) is needed");
        // Refused at once, not blocked waiting for a writer.
        assert!(matches!(
            VaultStamp::checked(&fifo),
            Err(VaultCheck::Refused(_))
        ));
        assert!(VaultStamp::of(&fifo).is_err());
        assert!(matches!(
            VaultStamp::checked(&dir.path().join("gone")),
            Err(VaultCheck::Missing)
        ));
    }

    #[test]
    fn refuses_a_dir_open_to_others() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("open");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_private_dir(&d).is_err());
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_private_dir(&d).is_ok());
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(check_private_dir(&link).is_err());
    }
}
