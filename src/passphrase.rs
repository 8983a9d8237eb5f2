//! Where a passphrase comes from (README "Commands"): `--passphrase-file`,
//! `--passphrase-fd`, `TTVAULT_PASSPHRASE` (with a warning), else a hidden prompt when stdin
//! is a terminal, else an immediate error naming these options. Never a hang waiting for
//! input.

use crate::error::{Error, Result};
use crate::output::Reporter;
use crate::secret::Passphrase;
use crate::vault::reference::{UnlockSources, VaultRef};
use std::io::{IsTerminal, Read};
use std::path::Path;
use zeroize::Zeroizing;

pub const ENV_PASSPHRASE: &str = "TTVAULT_PASSPHRASE";
pub const ENV_NEW_PASSPHRASE: &str = "TTVAULT_NEW_PASSPHRASE";
/// Longest passphrase line read from a file or descriptor.
const MAX_LINE: u64 = 64 * 1024;

/// The passphrase that opens an existing vault.
pub fn existing(vault: &VaultRef) -> Result<Passphrase> {
    if let Some(p) = from_sources_or_env(&vault.unlock, &*vault.report)? {
        return Ok(p);
    }
    prompt_once(&format!("Passphrase for {}: ", vault.path.display()))
}

/// The passphrase for a vault being created (`init`, `import`): the same sources, but a
/// terminal prompt asks twice.
pub fn new_for_vault(vault: &VaultRef) -> Result<Passphrase> {
    if let Some(p) = from_sources_or_env(&vault.unlock, &*vault.report)? {
        return Ok(p);
    }
    prompt_twice(
        &format!("New passphrase for {}: ", vault.path.display()),
        &*vault.report,
    )
}

/// The new passphrase for `passwd`: `--new-passphrase-file`, `TTVAULT_NEW_PASSPHRASE`, or a
/// terminal prompt asked twice.
pub fn new_for_passwd(file: Option<&Path>, report: &dyn Reporter) -> Result<Passphrase> {
    if let Some(path) = file {
        return from_file(path);
    }
    if let Some(p) = from_env(ENV_NEW_PASSPHRASE, report)? {
        return Ok(p);
    }
    prompt_twice("New passphrase: ", report)
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
    from_env(ENV_PASSPHRASE, report)
}

fn from_env(name: &str, report: &dyn Reporter) -> Result<Option<Passphrase>> {
    let Some(value) = std::env::var_os(name) else {
        return Ok(None);
    };
    report.warning(
        &format!("using the passphrase from {name}; the environment can leak"),
        Some("prefer --passphrase-file or the prompt"),
    );
    let value = Zeroizing::new(
        value
            .into_string()
            .map_err(|_| Error::usage(format!("{name} is not valid UTF-8")))?,
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

#[cfg(unix)]
fn from_fd(fd: i32) -> Result<Passphrase> {
    // /dev/fd/N opens the descriptor without unsafe code (Linux, macOS, the BSDs).
    let path = format!("/dev/fd/{fd}");
    let file = std::fs::File::open(&path).map_err(|e| {
        Error::usage(format!(
            "cannot read the passphrase from descriptor {fd}: {e}"
        ))
    })?;
    first_line(file, &format!("descriptor {fd}"))
}

#[cfg(not(unix))]
fn from_fd(_fd: i32) -> Result<Passphrase> {
    Err(Error::usage("--passphrase-fd is available on Unix only")
        .hint("use --passphrase-file or the prompt"))
}

/// The first line of `reader`, without its `\n` or `\r\n`.
fn first_line(reader: impl Read, source: &str) -> Result<Passphrase> {
    let mut bytes = Zeroizing::new(Vec::new());
    reader
        .take(MAX_LINE)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::usage(format!("cannot read the passphrase from {source}: {e}")))?;
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

fn no_terminal() -> Error {
    Error::usage("a passphrase is needed, but there is no terminal to ask it on")
        .hint("pass --passphrase-file PATH or --passphrase-fd N, set TTVAULT_PASSPHRASE, or use -i KEY for a recipient slot")
}

fn prompt(label: &str) -> Result<Passphrase> {
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal());
    }
    let value = Zeroizing::new(
        rpassword::prompt_password(label)
            .map_err(|e| Error::failure(format!("could not read the passphrase: {e}")))?,
    );
    non_empty_inner(Passphrase::new(value.as_str()), "the prompt")
}

fn prompt_once(label: &str) -> Result<Passphrase> {
    prompt(label)
}

fn prompt_twice(label: &str, report: &dyn Reporter) -> Result<Passphrase> {
    let first = prompt(label)?;
    let second = prompt("Repeat it: ")?;
    if !first.ct_eq(&second) {
        return Err(
            Error::usage("the two passphrases differ; nothing was written")
                .hint("run the command again"),
        );
    }
    if first.expose().chars().count() < 8 {
        report.warning(
            "a passphrase under 8 characters is weak; the KDF slows guessing, it cannot make a short passphrase strong",
            None,
        );
    }
    Ok(first)
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
}
