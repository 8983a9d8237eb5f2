//! Keeps a new vault out of git: when its folder is inside a git work tree that does not
//! ignore it, `.gitignore` in that folder gets the vault's name (the plaintext setup
//! script this replaces did the same), so one `git add .` cannot commit it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What git says about a vault path that may not exist yet.
#[derive(Debug, PartialEq, Eq)]
pub enum GitState {
    /// Not in a work tree, or git is not installed.
    Outside,
    /// In a work tree that already ignores it.
    Ignored,
    /// In a work tree that would track it.
    NotIgnored,
}

pub fn state(vault: &Path) -> GitState {
    let (dir, name) = split(vault);
    let git = |args: &[&std::ffi::OsStr]| {
        Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !git(&["rev-parse".as_ref(), "--is-inside-work-tree".as_ref()]) {
        return GitState::Outside;
    }
    if git(&[
        "check-ignore".as_ref(),
        "-q".as_ref(),
        "--".as_ref(),
        name.as_ref(),
    ]) {
        GitState::Ignored
    } else {
        GitState::NotIgnored
    }
}

/// Appends the vault's name to `.gitignore` in its folder (created if missing; a link
/// there is not followed) and returns that file's path.
pub fn ignore(vault: &Path) -> std::io::Result<PathBuf> {
    let (dir, name) = split(vault);
    let path = dir.join(".gitignore");
    let existing = match std::fs::symlink_metadata(&path) {
        Ok(m) if !m.is_file() => {
            return Err(std::io::Error::other(
                ".gitignore there is not a regular file",
            ))
        }
        Ok(_) => std::fs::read(&path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    }
    let mut file = options.open(&path)?;
    let separator = if existing.is_empty() || existing.ends_with(b"\n") {
        ""
    } else {
        "\n"
    };
    // Anchored: the vault in this folder, not every file of that name below it.
    writeln!(file, "{separator}/{name}")?;
    Ok(path)
}

fn split(vault: &Path) -> (PathBuf, String) {
    let dir = match vault.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = vault
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".secrets".into());
    (dir, name)
}
