//! Where a passphrase comes from (README "Commands"): `--passphrase-file`,
//! `--passphrase-fd`, `TTVAULT_PASSPHRASE` (with a warning), else the vault's [`Ui`]
//! (the command layer's hidden prompt on the controlling terminal, or, without one, an
//! immediate error naming these options). Never a hang waiting for input; nothing here
//! reads a terminal itself.
//!
//! A person may mistype: a wrong passphrase may be typed again (3 tries in all; the KDF is
//! the rate limit). Non-interactive sources are used once: retrying them would only repeat
//! the same mistake.
//!
//! [`Ui`]: crate::ui::Ui

use crate::error::{Error, Result};
use crate::output::{self, Reporter};
use crate::secret::Passphrase;
use crate::settings::{self, NEW_PASSPHRASE, PASSPHRASE};
use crate::ui::PassphraseAsk;
use crate::vault::reference::{UnlockSources, VaultRef};
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Longest passphrase line read from a file or descriptor.
const MAX_LINE: u64 = 64 * 1024;
/// Tries at a terminal: for a wrong passphrase, and for a new one (mismatch, empty).
pub const TRIES: usize = 3;

/// Opens something with the passphrase of an existing vault: `attempt` tries one
/// passphrase. A passphrase the vault's Ui gave that `attempt` finds wrong is asked
/// again, up to [`TRIES`] times (the Ui is told which try it is); one from a file,
/// descriptor or the environment is tried once. Returns what `attempt` gave and the
/// passphrase that worked.
pub fn unlock_with<T>(
    vault: &VaultRef,
    mut attempt: impl FnMut(&Passphrase) -> Result<T>,
) -> Result<(T, Passphrase)> {
    if let Some(p) = from_sources_or_env(&vault.unlock, &*vault.report)? {
        let _status = output::Activity::start("unlocking the vault…", &*vault.report);
        return attempt(&p).map(|t| (t, p));
    }
    let mut round = 1;
    loop {
        let p = vault.ui.passphrase(&PassphraseAsk {
            vault: &vault.path,
            attempt: round,
            tries: TRIES,
        })?;
        let outcome = {
            let _status = output::Activity::start("unlocking the vault…", &*vault.report);
            attempt(&p)
        };
        match outcome {
            Err(e) if is_wrong_passphrase(&e) && round < TRIES => round += 1,
            other => return other.map(|t| (t, p)),
        }
    }
}

/// Whether `err` says the passphrase did not open the vault (vault::format's message),
/// the one failure typing again can fix.
fn is_wrong_passphrase(err: &Error) -> bool {
    err.code == crate::Code::Vault && err.message.starts_with("wrong passphrase")
}

/// The passphrase for a vault being created (`init`, `import`): the same sources, but a
/// the Ui asks twice.
pub fn new_for_vault(vault: &VaultRef) -> Result<Passphrase> {
    if let Some(p) = from_sources_or_env(&vault.unlock, &*vault.report)? {
        return Ok(p);
    }
    vault.ui.new_passphrase(&vault.path)
}

/// The new passphrase for `passwd`: `--new-passphrase-file`, `TTVAULT_NEW_PASSPHRASE`, or
/// the Ui, which asks twice.
pub fn new_for_passwd(vault: &VaultRef, file: Option<&Path>) -> Result<Passphrase> {
    if let Some(path) = file {
        return from_file(path);
    }
    if let Some(p) = from_env(
        NEW_PASSPHRASE,
        settings::get().new_passphrase()?,
        &*vault.report,
    )? {
        return Ok(p);
    }
    vault.ui.new_passphrase(&vault.path)
}

fn from_sources_or_env(
    sources: &UnlockSources,
    report: &dyn Reporter,
) -> Result<Option<Passphrase>> {
    if let Some(path) = &sources.passphrase_file {
        return from_file(path).map(Some);
    }
    if let Some(fd) = sources.passphrase_fd {
        return from_fd(fd).map(Some);
    }
    from_env(PASSPHRASE, settings::get().passphrase()?, report)
}

/// The passphrase `value` of the variable `name` (read once, in settings), with the
/// warning that the environment can leak.
fn from_env(
    name: &str,
    value: Option<Zeroizing<String>>,
    report: &dyn Reporter,
) -> Result<Option<Passphrase>> {
    let Some(value) = value else {
        return Ok(None);
    };
    report.warning(
        &format!("using the passphrase from {name}; the environment can leak"),
        Some("prefer --passphrase-file or the prompt"),
    );
    non_empty(Passphrase::new(value.as_str()), name)
}

fn from_file(path: &Path) -> Result<Passphrase> {
    let file = std::fs::File::open(path).map_err(|e| {
        Error::usage(format!(
            "cannot read the passphrase file {}: {e}",
            path.display()
        ))
    })?;
    first_line(file, &path.display().to_string())
}

/// The descriptor `--passphrase-fd` names, taken when the command line was read so that
/// nothing ttvault opens later can reuse its number, and so that no child inherits it.
/// `Err` keeps why it could not be taken, reported when the passphrase is needed.
static DESCRIPTOR: Mutex<Option<(i32, std::io::Result<std::fs::File>)>> = Mutex::new(None);

/// Takes `--passphrase-fd N` at start: close-on-exec from now on, read (and closed) only
/// when the passphrase is needed. Call once, before anything opens files or starts children.
#[cfg(unix)]
pub fn claim_descriptor(fd: i32) {
    let taken = crate::harden::take_descriptor(fd);
    *DESCRIPTOR.lock().unwrap_or_else(|e| e.into_inner()) = Some((fd, taken));
}

#[cfg(not(unix))]
pub fn claim_descriptor(_fd: i32) {}

/// Reads the first line from the descriptor itself (a pipe, a file from its offset, a
/// socket), then closes it. Before, `/dev/fd/N` was reopened: a file started again at
/// offset 0 for every reader, a socket could not be opened at all, and N stayed open.
#[cfg(unix)]
fn from_fd(fd: i32) -> Result<Passphrase> {
    let claimed = DESCRIPTOR
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .filter(|(n, _)| *n == fd);
    let file = match claimed {
        Some((_, taken)) => taken,
        None => crate::harden::take_descriptor(fd),
    }
    .map_err(|e| {
        Error::usage(format!(
            "cannot read the passphrase from descriptor {fd}: {e}"
        ))
        .hint("open it for the command, e.g. `ttvault --passphrase-fd 3 … 3<file`")
    })?;
    // `file` is dropped (closed) on return.
    first_line(file, &format!("descriptor {fd}"))
}

#[cfg(not(unix))]
fn from_fd(_fd: i32) -> Result<Passphrase> {
    Err(Error::usage("--passphrase-fd is available on Unix only")
        .hint("use --passphrase-file or the prompt"))
}

/// The first line of `reader`, without its `\n` or `\r\n`. Reading stops at the first
/// newline: a pipe or socket may stay open after it.
fn first_line(reader: impl Read, source: &str) -> Result<Passphrase> {
    let mut reader = reader.take(MAX_LINE);
    let mut bytes = Zeroizing::new(Vec::new());
    let mut chunk = Zeroizing::new([0u8; 256]);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::usage(format!(
                    "cannot read the passphrase from {source}: {e}"
                )))
            }
        };
        bytes.extend_from_slice(&chunk[..n]);
        if n == 0 || chunk[..n].contains(&b'\n') {
            break;
        }
    }
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line)
        .map_err(|_| Error::usage(format!("the passphrase from {source} is not valid UTF-8")))?;
    non_empty_inner(Passphrase::new(text), source)
}

fn non_empty(p: Passphrase, source: &str) -> Result<Option<Passphrase>> {
    non_empty_inner(p, source).map(Some)
}

fn non_empty_inner(p: Passphrase, source: &str) -> Result<Passphrase> {
    if p.expose().is_empty() {
        Err(Error::usage(format!(
            "the passphrase from {source} is empty"
        )))
    } else {
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_strips_line_endings_only() {
        let p = first_line(&b"  pass word \r\nsecond\n"[..], "t").unwrap();
        assert_eq!(p.expose(), "  pass word ");
        let p = first_line(&b"no-newline"[..], "t").unwrap();
        assert_eq!(p.expose(), "no-newline");
        assert!(first_line(&b"\nx"[..], "t").is_err());
        assert!(first_line(&b"\xff\xfe"[..], "t").is_err());
    }

    /// A wrong passphrase from the Ui is asked again, the Ui told which try it is; the
    /// library itself asks nothing.
    #[test]
    fn a_wrong_passphrase_is_asked_again_through_the_ui() {
        use crate::ui::{Answer, Asked, ScriptedUi};
        let ui = std::sync::Arc::new(ScriptedUi::new([
            Answer::Passphrase("wrong".into()),
            Answer::Passphrase("right".into()),
        ]));
        let mut vault = VaultRef::new("/nonexistent/.secrets");
        vault.ui = ui.clone();
        let attempt = |p: &Passphrase| {
            if p.expose() == "right" {
                Ok(7)
            } else {
                Err(Error::vault("wrong passphrase, or not this vault's"))
            }
        };
        let (seven, p) = unlock_with(&vault, attempt).unwrap();
        assert_eq!((seven, p.expose()), (7, "right"));
        let attempts: Vec<usize> = ui
            .asked()
            .iter()
            .map(|a| match a {
                Asked::Passphrase { attempt, .. } => *attempt,
                other => panic!("asked {other:?}"),
            })
            .collect();
        assert_eq!(attempts, [1, 2]);
    }

    /// Nobody to ask: the clear usage error naming the passphrase sources, at once.
    #[test]
    fn without_a_terminal_the_error_names_the_sources() {
        let err = unlock_with(&VaultRef::new("/nonexistent/.secrets"), |_| Ok(())).unwrap_err();
        assert_eq!(err.code, crate::Code::Usage);
        assert!(err.hint.unwrap().contains("--passphrase-fd"));
    }
}
