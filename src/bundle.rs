//! The CA bundle exec's program trusts under the broker: the system's roots, any
//! `SSL_CERT_FILE` the user had, and the broker's per-run CA, in a file inside a private
//! (0700) directory made for this run and removed when the run ends. A directory left by a
//! ttvault that was killed (`kill -9`: no destructor runs) is removed by the next run.
//!
//! The bundle holds only public certificates; it is private so that no other user can
//! swap in a CA of their own for the program to trust.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where the platforms keep their root certificates, first found wins (the list Go's
/// crypto/x509 searches on Linux and the BSDs, and macOS's exported file).
const SYSTEM_ROOTS: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

/// The file name inside the run's directory.
pub const FILE_NAME: &str = "ca-bundle.pem";

/// A run's bundle; the directory is removed on drop.
pub struct CaBundle {
    dir: PathBuf,
    file: PathBuf,
}

impl CaBundle {
    /// Writes the bundle for this run under `parent` (see [`parent_dir`]), after removing
    /// the directories of runs whose ttvault no longer exists. `user_file`: the user's own
    /// `SSL_CERT_FILE`, whose certificates the program trusted before and still must.
    pub fn write(parent: &Path, ca_pem: &str, user_file: Option<&Path>) -> Result<CaBundle> {
        private_dir(parent)?;
        sweep(parent);
        let dir = parent.join(format!(
            "run-{}-{}",
            std::process::id(),
            crate::broker::random_b64().get(..12).unwrap_or("x")
        ));
        let shown = dir.display().to_string();
        let failed = |e: std::io::Error| {
            Error::failure(format!(
                "could not write the broker's CA bundle in {shown}: {e}"
            ))
        };
        make_dir_0700(&dir).map_err(failed)?;
        let bundle = CaBundle {
            file: dir.join(FILE_NAME),
            dir,
        };
        let mut text = String::new();
        if let Some(roots) = SYSTEM_ROOTS
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
        {
            text.push_str(&roots);
            text.push('\n');
        }
        if let Some(own) = user_file.and_then(|p| std::fs::read_to_string(p).ok()) {
            text.push_str(&own);
            text.push('\n');
        }
        text.push_str(ca_pem);
        std::fs::write(&bundle.file, text).map_err(failed)?;
        Ok(bundle)
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for CaBundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `broker/` in the agent's private directory (`$XDG_RUNTIME_DIR/ttvault`, else
/// `~/.ttvault-agent`): no other user can make it first, as one could in /tmp.
#[cfg(unix)]
pub fn parent_dir() -> Result<PathBuf> {
    Ok(crate::agent::paths::socket_dir(true)?.join("broker"))
}

/// `ttvault-broker` in the temporary directory (per user on Windows).
#[cfg(not(unix))]
pub fn parent_dir() -> Result<PathBuf> {
    Ok(std::env::temp_dir().join("ttvault-broker"))
}

/// The shared parent: made 0700 if missing; refused if it is a link, another user's, or
/// open to others (in /tmp another user could have made it first).
fn private_dir(parent: &Path) -> Result<()> {
    let _ = make_dir_0700(parent);
    let unsafe_dir = |why: &str| {
        Error::failure(format!(
            "refusing to write the broker's CA bundle in {}: {why}",
            parent.display()
        ))
        .hint("remove that directory (or set XDG_RUNTIME_DIR to a private one) and run again")
    };
    let meta = std::fs::symlink_metadata(parent).map_err(|e| unsafe_dir(&e.to_string()))?;
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if meta.uid() != crate::harden::current_uid() {
            return Err(unsafe_dir("it belongs to another user"));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(unsafe_dir("others can open it"));
        }
    }
    Ok(())
}

fn make_dir_0700(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Removes `run-<pid>-…` directories whose ttvault has gone (killed before it could clean
/// up). A directory of a live ttvault is left alone.
fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("run-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    crate::harden::process_exists(pid)
}

#[cfg(not(unix))]
fn alive(pid: u32) -> bool {
    pid == std::process::id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_the_roots_the_users_file_and_the_ca_and_goes_with_its_run() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("broker");
        let own = tmp.path().join("corporate.pem");
        std::fs::write(&own, "CORPORATE ROOT\n").unwrap();
        // A directory left by a ttvault that is gone (pid 2^22 is above Linux's limit).
        let stale = parent.join("run-4194304-abc");
        std::fs::create_dir_all(&stale).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let bundle = CaBundle::write(&parent, "BROKER CA\n", Some(&own)).unwrap();
        assert!(!stale.exists(), "a dead run's directory is swept");
        let text = std::fs::read_to_string(bundle.path()).unwrap();
        assert!(text.contains("CORPORATE ROOT") && text.ends_with("BROKER CA\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(bundle.dir())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let dir = bundle.dir().to_path_buf();
        drop(bundle);
        assert!(!dir.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_parent_open_to_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("broker");
        std::fs::create_dir(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = CaBundle::write(&parent, "CA", None).err().unwrap();
        assert!(
            err.message.contains("others can open it"),
            "{}",
            err.message
        );
    }
}
