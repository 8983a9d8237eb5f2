//! Finding the vault when none is named (README "Where the vault is"): `.secrets` in the
//! current folder, else in the nearest parent that has one, as git finds its repository.
//!
//! Like git's `safe.directory`, the search only trusts what the user owns: it never
//! climbs into or past a folder owned by someone else, and never takes a `.secrets` that
//! another user owns (or that is a link to one). A vault planted higher up by another
//! local user (a shared `/srv`, `/tmp`) is therefore never picked; the search stops there
//! and says why.

use std::path::{Path, PathBuf};

use super::reference::DEFAULT_PATH;

/// What the search found.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    /// The vault to use: absolute. When nothing was found, `.secrets` in the start
    /// folder, so the error names where it looked first.
    pub path: PathBuf,
    /// Whether the file exists (false: the start folder's path, as a default).
    pub exists: bool,
    /// A `.secrets` the search refused, and why (for a warning).
    pub refused: Option<(PathBuf, &'static str)>,
}

/// Searches `start` and its parents for `.secrets`, trusting only what `uid` owns.
pub fn search(start: &Path, uid: Option<u32>) -> Found {
    let default = start.join(DEFAULT_PATH);
    let mut dir = Some(start);
    while let Some(here) = dir {
        if !owned_by(here, uid) {
            // Not the user's folder: nothing in it or above it is trusted.
            let refused = here.join(DEFAULT_PATH).symlink_metadata().is_ok().then(|| {
                (
                    here.join(DEFAULT_PATH),
                    "its folder belongs to another user",
                )
            });
            return not_found(default, refused);
        }
        let candidate = here.join(DEFAULT_PATH);
        if candidate.symlink_metadata().is_ok() {
            if owned_by(&candidate, uid) && target_owned_by(&candidate, uid) {
                return Found {
                    path: candidate,
                    exists: true,
                    refused: None,
                };
            }
            return not_found(default, Some((candidate, "it belongs to another user")));
        }
        dir = here.parent();
    }
    not_found(default, None)
}

fn not_found(path: PathBuf, refused: Option<(PathBuf, &'static str)>) -> Found {
    Found {
        path,
        exists: false,
        refused,
    }
}

/// Whether `path` itself (a link is not followed) belongs to `uid`; always true where
/// owners are not known (`uid` is None: not Unix).
#[cfg(unix)]
fn owned_by(path: &Path, uid: Option<u32>) -> bool {
    use std::os::unix::fs::MetadataExt;
    match uid {
        Some(uid) => path.symlink_metadata().is_ok_and(|m| m.uid() == uid),
        None => true,
    }
}

/// A link's target, too (when it exists: a dangling link is reported when opened).
#[cfg(unix)]
fn target_owned_by(path: &Path, uid: Option<u32>) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (uid, path.metadata()) {
        (Some(uid), Ok(m)) => m.uid() == uid,
        _ => true,
    }
}

#[cfg(not(unix))]
fn owned_by(_path: &Path, _uid: Option<u32>) -> bool {
    true
}

#[cfg(not(unix))]
fn target_owned_by(_path: &Path, _uid: Option<u32>) -> bool {
    true
}

/// The user the search trusts: the real uid (root's own is uid 0).
pub fn current_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        Some(crate::harden::current_uid())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn me(dir: &Path) -> Option<u32> {
        Some(dir.metadata().unwrap().uid())
    }

    #[test]
    fn the_nearest_vault_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(tmp.path().join(".secrets"), "x").unwrap();
        std::fs::write(tmp.path().join("a/.secrets"), "x").unwrap();
        let found = search(&deep, me(tmp.path()));
        assert_eq!(found.path, tmp.path().join("a/.secrets"));
        assert!(found.exists);
    }

    #[test]
    fn a_folder_or_file_of_another_user_stops_the_search() {
        let tmp = tempfile::tempdir().unwrap();
        let sub = tmp.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(tmp.path().join(".secrets"), "x").unwrap();
        let mine = me(tmp.path()).unwrap();
        // As a user who owns nothing here: the start folder itself is not trusted.
        let stranger = search(&sub, Some(mine.wrapping_add(1)));
        assert!(!stranger.exists);
        assert_eq!(stranger.path, sub.join(".secrets"));
    }
}
