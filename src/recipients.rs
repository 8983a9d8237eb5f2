//! age recipients (public keys that get a slot) and identities (the private keys that
//! open one): X25519 (`age1…`, `AGE-SECRET-KEY-1…`) and SSH (ed25519, rsa).

use crate::error::{Error, Result};
use std::path::Path;

/// Parses one recipient string into an age recipient.
pub fn parse(text: &str) -> Result<Box<dyn age::Recipient + Send>> {
    let text = text.trim();
    if let Ok(r) = text.parse::<age::x25519::Recipient>() {
        return Ok(Box::new(r));
    }
    if let Ok(r) = text.parse::<age::ssh::Recipient>() {
        return Ok(Box::new(r));
    }
    Err(Error::usage(format!("`{}` is not an age or SSH public key", abbreviate(text)))
        .hint("give an age recipient (age1…) or an SSH public key line (ssh-ed25519 AAAA… / ssh-rsa AAAA…)"))
}

/// The canonical spelling of a recipient, to compare and store it.
pub fn normalize(text: &str) -> Result<String> {
    let text = text.trim();
    parse(text)?;
    // SSH lines may carry a comment; the key type and key are what identify it.
    let mut words = text.split_whitespace();
    Ok(match (words.next(), words.next()) {
        (Some(kind), Some(key)) if kind.starts_with("ssh-") => format!("{kind} {key}"),
        _ => text.to_string(),
    })
}

/// Recipients from `-r` values and `-R` files (one a line; blank lines and `#` comments
/// skipped), normalized and without duplicates.
pub fn collect(values: &[String], files: &[std::path::PathBuf]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |r: &str| -> Result<()> {
        let r = normalize(r)?;
        if !out.contains(&r) {
            out.push(r);
        }
        Ok(())
    };
    for v in values {
        add(v)?;
    }
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::usage(format!(
                "cannot read recipients file {}: {e}",
                file.display()
            ))
        })?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            add(line)?;
        }
    }
    Ok(out)
}

/// Loads the identities of an age identity file or an unencrypted SSH private key.
pub fn load_identities(path: &Path) -> Result<Vec<Box<dyn age::Identity>>> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::vault(format!(
            "cannot read the identity file {}: {e}",
            path.display()
        ))
    })?;
    if let Ok(file) = age::IdentityFile::from_buffer(&bytes[..]) {
        if let Ok(ids) = file.into_identities() {
            if !ids.is_empty() {
                return Ok(ids
                    .into_iter()
                    .map(|i| i as Box<dyn age::Identity>)
                    .collect());
            }
        }
    }
    let name = Some(path.display().to_string());
    match age::ssh::Identity::from_buffer(&bytes[..], name) {
        Ok(id @ age::ssh::Identity::Unencrypted(_)) => Ok(vec![Box::new(id)]),
        Ok(age::ssh::Identity::Encrypted(_)) => Err(Error::vault(format!(
            "the SSH key {} is protected by a passphrase, which ttvault does not ask for",
            path.display()
        ))
        .hint("use an age identity (age-keygen) or an unencrypted key kept with mode 600")),
        _ => Err(Error::vault(format!(
            "{} is not an age identity file or an SSH private key",
            path.display()
        ))
        .hint("pass the private key: an age-keygen file (AGE-SECRET-KEY-1…) or an SSH key")),
    }
}

/// Shows the start of a long string, enough to recognize it (keys here are public).
fn abbreviate(text: &str) -> String {
    let mut s: String = text.chars().take(24).collect();
    if text.chars().count() > 24 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_age_and_ssh_recipients() {
        let id = age::x25519::Identity::generate();
        let r = id.to_public().to_string();
        assert!(parse(&r).is_ok());
        assert_eq!(normalize(&format!("  {r} ")).unwrap(), r);
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@example";
        assert_eq!(
            normalize(ssh).unwrap(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN"
        );
        let err = parse("not-a-key").err().expect("refused");
        assert_eq!(err.code, crate::Code::Usage);
    }
}
