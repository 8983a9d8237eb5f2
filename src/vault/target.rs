//! Where a write to the vault lands. A vault path that is a symbolic link (a dotfiles
//! setup: `.secrets -> dotfiles/secrets`) is followed: the file at the end of the link is
//! rewritten in its own directory and the link is kept, so the link and its target never
//! fork into two vaults (docs/FORMAT.md, "On disk").

use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// More links than this in a row is a loop (the kernel's own limit is 40).
const MAX_LINKS: usize = 16;

/// The file a write to `path` replaces: `path` itself, or the end of its chain of links.
/// A link that belongs to another user is refused: in a directory others can write to,
/// it could point a write anywhere the user can write. A link may point at a file that
/// does not exist yet; a new vault is then created there.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(Error::io("inspect", &current, e)),
        };
        if !meta.file_type().is_symlink() {
            return Ok(current);
        }
        check_link_owner(&current, &meta)?;
        let link = fs::read_link(&current).map_err(|e| Error::io("read the link", &current, e))?;
        current = if link.is_absolute() {
            link
        } else {
            parent(&current).join(link)
        };
    }
    Err(Error::vault(format!(
        "{} is a chain of more than {MAX_LINKS} symbolic links (a loop?)",
        path.display()
    ))
    .hint("point --vault at the vault file itself"))
}

#[cfg(unix)]
fn check_link_owner(link: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let uid = crate::harden::current_uid();
    if meta.uid() == uid || meta.uid() == 0 {
        return Ok(());
    }
    Err(Error::vault(format!(
        "{} is a symbolic link that belongs to another user (uid {}); ttvault does not write through it",
        link.display(),
        meta.uid()
    ))
    .hint("remove the link, or pass the vault file itself with --vault"))
}

#[cfg(not(unix))]
fn check_link_owner(_link: &Path, _meta: &fs::Metadata) -> Result<()> {
    Ok(())
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `path` with `suffix` added to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn follows_links_to_their_end_and_stops_at_loops() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("dotfiles")).unwrap();
        fs::write(d.join("dotfiles/secrets"), b"x").unwrap();
        symlink("dotfiles/secrets", d.join(".secrets")).unwrap();
        symlink(d.join(".secrets"), d.join("again")).unwrap();
        assert_eq!(
            resolve(&d.join("again")).unwrap(),
            d.join("dotfiles/secrets")
        );
        // A link to a file not there yet: a new vault is created at its end.
        symlink("dotfiles/new", d.join("new-link")).unwrap();
        assert_eq!(
            resolve(&d.join("new-link")).unwrap(),
            d.join("dotfiles/new")
        );
        assert_eq!(resolve(&d.join("plain")).unwrap(), d.join("plain"));
        symlink("loop-b", d.join("loop-a")).unwrap();
        symlink("loop-a", d.join("loop-b")).unwrap();
        let err = resolve(&d.join("loop-a")).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.message.contains("chain"), "{}", err.message);
    }
}
