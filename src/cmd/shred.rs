//! Overwriting plaintext copies of the secrets before removing them (`import`): the
//! plaintext it encrypted, and the copies found beside the vault.

use crate::error::{Error, Result};
use std::path::Path;

/// Overwrites the plaintext with zeros before unlinking it, so its secrets do not stay
/// in the file's blocks on simple filesystems (copy-on-write and SSDs may still keep them:
/// SECURITY.md says so). A link is followed: the file it names is the plaintext, and both
/// go.
pub fn shred_and_remove(path: &Path) -> Result<()> {
    let is_link = std::fs::symlink_metadata(path)
        .map_err(|e| Error::io("inspect", path, e))?
        .file_type()
        .is_symlink();
    let target = path
        .canonicalize()
        .map_err(|e| Error::io("inspect", path, e))?;
    overwrite(open_for_overwrite(&target)?, &target)?;
    std::fs::remove_file(&target).map_err(|e| Error::io("remove", &target, e))?;
    if is_link {
        std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
    }
    Ok(())
}

/// The plaintext file, opened for writing (links followed); a regular file only.
pub fn open_for_overwrite(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open for overwriting", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// Zeros over the whole file, on disk.
pub fn overwrite(mut file: std::fs::File, path: &Path) -> Result<()> {
    use std::io::Write;
    let len = file
        .metadata()
        .map_err(|e| Error::io("inspect", path, e))?
        .len();
    file.write_all(&vec![0u8; len as usize])
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io("overwrite", path, e))
}
