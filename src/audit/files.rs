//! Checks on the files around the vault: permissions and owner, git, plaintext leftovers.

use super::Report;
use crate::vault::describe::describe_slots;
use crate::vault::header::Slot;
use crate::vault::{format, store};
use crate::vault::{GrantInfo, GrantSecrets};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Files larger than this are not read when looking for leftover secrets.
const MAX_SCANNED: u64 = 1 << 20;

pub fn permissions(report: &mut Report, vault: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(vault) else {
            return;
        };
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            report.error(
                "file.permissions",
                format!("the vault has mode {mode:04o}: other users can read it and try passphrases offline"),
                crate::vault::store::chmod_private(vault),
            );
        } else {
            report.ok(
                "file.permissions",
                format!("the vault is private (mode {mode:04o})"),
            );
        }
        let uid = crate::harden::current_uid();
        if meta.uid() != uid {
            report.error(
                "file.owner",
                format!(
                    "the vault belongs to uid {}, not to you (uid {uid})",
                    meta.uid()
                ),
                "copy it to a file you own and delete the other one",
            );
        }
        let dir = parent(vault);
        if let Ok(dmeta) = std::fs::metadata(dir) {
            let dmode = dmeta.mode() & 0o777;
            // Sticky directories like /tmp stop others from replacing our file.
            if dmode & 0o022 != 0 && dmode & 0o1000 == 0 {
                report.warn(
                    "dir.permissions",
                    format!("the vault's directory {} (mode {dmode:04o}) lets other users replace or delete the vault", dir.display()),
                    format!("chmod go-w {}", dir.display()),
                );
            }
        }
    }
    #[cfg(not(unix))]
    report.ok(
        "file.permissions",
        "file permissions are not checked on this platform",
    );
}

pub fn git(report: &mut Report, vault: &Path) {
    let dir = parent(vault);
    let Some(name) = vault.file_name() else {
        return;
    };
    let git = |args: &[&str]| {
        crate::spawn::command("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    match git(&["rev-parse", "--is-inside-work-tree"]) {
        Err(_) => return report.ok("git", "git is not installed; repository checks skipped"),
        Ok(s) if !s.success() => {
            return report.ok("git", "the vault is not inside a git repository")
        }
        Ok(_) => {}
    }
    let name = name.to_string_lossy();
    let tracked = git(&["ls-files", "--error-unmatch", "--", &name])
        .map(|s| s.success())
        .unwrap_or(false);
    if tracked {
        report.error(
            "git.tracked",
            "the vault is tracked by git: every clone and push carries a copy that can be attacked offline, forever",
            format!("git rm --cached {name}, add it to .gitignore, then `ttvault passwd` (and rotate the grant if the repository was ever shared)"),
        );
        return;
    }
    let ignored = git(&["check-ignore", "-q", "--", &name])
        .map(|s| s.success())
        .unwrap_or(false);
    if ignored {
        report.ok(
            "git.ignored",
            "the vault is inside a git repository and ignored by it",
        );
    } else {
        report.warn(
            "git.ignored",
            "the vault is inside a git repository and not ignored: one `git add .` commits it",
            format!("echo {name} >> .gitignore"),
        );
    }
}

/// A file beside the vault that a person would not want there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub path: PathBuf,
    /// The file's name, as listed in its directory.
    pub name: String,
    pub kind: LeftoverKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftoverKind {
    /// Holds the vault's client secret or refresh token in plaintext.
    Plaintext,
    /// `<vault>.backup`: the old setup script renamed an existing plaintext `.secrets` to
    /// this name before writing a new one, so it holds an earlier grant in plaintext.
    LegacyBackup,
    /// An older encrypted copy of the vault (`<vault>.bak-…`).
    VaultBackup,
}

impl Leftover {
    /// Whether the file holds credentials in plaintext (what `import` offers to shred).
    pub fn is_plaintext(&self) -> bool {
        self.kind != LeftoverKind::VaultBackup
    }
}

/// Plaintext copies of the vault's secrets (the legacy `.secrets` and its `.secrets.backup`,
/// a `.env`, notes) and old vault backups in the vault's directory, and in its target's
/// directory when the vault is a symbolic link. Links are followed: a link to a plaintext
/// file is a plaintext copy. `import` uses this too, before the vault exists.
pub fn find_leftovers(vault: &Path, grant: &GrantSecrets) -> Vec<Leftover> {
    let target = store_target(vault);
    let mut dirs = vec![parent(vault).to_path_buf()];
    if let Some(t) = &target {
        let dir = parent(t).to_path_buf();
        if dir.canonicalize().ok() != dirs[0].canonicalize().ok() {
            dirs.push(dir);
        }
    }
    let vault_names: Vec<String> = [Some(vault), target.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let vault_file = vault.canonicalize().ok();
    let secrets = [
        grant.client_secret.expose().as_bytes(),
        grant.refresh_token.expose().as_bytes(),
    ];
    let mut found = Vec::new();
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<_> = entries.flatten().collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if vault_names.contains(&name) || path.canonicalize().ok() == vault_file {
                continue;
            }
            // Regular files only (a FIFO is never opened for reading), links followed.
            let Some(bytes) = store::read_regular(&path, MAX_SCANNED) else {
                continue;
            };
            let named = |suffix: &str| {
                vault_names
                    .iter()
                    .any(|v| name.starts_with(&format!("{v}{suffix}")))
            };
            let kind = if format::read_header(&bytes).is_ok() {
                named(".bak-").then_some(LeftoverKind::VaultBackup)
            } else if secrets
                .iter()
                .any(|s| !s.is_empty() && bytes.windows(s.len()).any(|w| w == *s))
            {
                Some(LeftoverKind::Plaintext)
            } else if vault_names.iter().any(|v| name == format!("{v}.backup"))
                && crate::dotenv::parse_legacy(&bytes).is_ok()
            {
                Some(LeftoverKind::LegacyBackup)
            } else {
                None
            };
            if let Some(kind) = kind {
                found.push(Leftover { path, name, kind });
            }
        }
    }
    found
}

/// Reports what [`find_leftovers`] finds.
pub fn leftovers(report: &mut Report, vault: &Path, grant: &GrantSecrets) {
    let found = find_leftovers(vault, grant);
    for Leftover { path, name, kind } in &found {
        match kind {
            LeftoverKind::VaultBackup => report.warn(
                "leftovers.backup",
                format!("{name} is an older copy of the vault: it opens with the passphrase it had then"),
                format!("delete it once the current vault works: rm {}", path.display()),
            ),
            LeftoverKind::Plaintext => report.error(
                "leftovers.plaintext",
                format!("{name} holds the vault's client secret or refresh token in plaintext"),
                format!("delete it (shred -u {}), and if it was ever shared re-create the grant and run `ttvault rotate`", path.display()),
            ),
            LeftoverKind::LegacyBackup => report.error(
                "leftovers.plaintext",
                format!("{name} is the old setup script's backup: an earlier grant's client secret and refresh token in plaintext"),
                format!("delete that grant on tastytrade.com (Manage → My Profile → API), then shred -u {}", path.display()),
            ),
        }
    }
    if found.is_empty() {
        report.ok(
            "leftovers",
            "no plaintext copy of the secrets and no old backups next to the vault",
        );
    }
}

/// The file at the end of the vault's link, when the vault path is one.
fn store_target(path: &Path) -> Option<std::path::PathBuf> {
    let is_link = std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    is_link
        .then(|| crate::vault::target::resolve(path).ok())
        .flatten()
}

pub fn slots(report: &mut Report, slots: &[Slot], grant: &GrantInfo) {
    let text = describe_slots(slots, &grant.recipients).join("; ");
    report.ok("vault.slots", format!("slots: {text}"));
    report.ok(
        "vault.format",
        format!("age v1 file, payload version {}", grant.payload_version),
    );
    for slot in slots {
        match slot {
            Slot::Passphrase { kdf } if kdf.is_below_floor() => report.warn(
                "vault.kdf",
                format!(
                    "the passphrase slot uses argon2id m={} KiB t={}, below ttvault's floor (64 MiB, t=3)",
                    kdf.memory_kib, kdf.iterations
                ),
                "ttvault passwd (re-tunes the KDF to about one second)",
            ),
            Slot::Scrypt { .. } => report.warn(
                "vault.kdf",
                "the passphrase slot is age's scrypt (the file came from `age -p`)",
                "ttvault passwd (rewrites it with ttvault's argon2id slot)",
            ),
            _ => {}
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
