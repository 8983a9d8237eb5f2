//! The passphrase slot: an age recipient stanza of our own,
//! `-> ttvault-argon2id <salt> <m> <t> <p>`, whose body is the file key sealed with a key
//! derived by argon2id. Unlike age's scrypt stanza it may stand beside X25519 and SSH
//! stanzas, so one file opens with a passphrase or with an identity. docs/FORMAT.md
//! describes every byte.

use super::kdf::{KdfParams, SALT_LEN};
use crate::secret::Passphrase;
use age::{DecryptError, EncryptError};
use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use age_core::primitives::{aead_decrypt, aead_encrypt};
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use rand::RngCore;
use std::collections::HashSet;

pub const TAG: &str = "ttvault-argon2id";
/// The sealed file key: 16 bytes plus the 16-byte Poly1305 tag.
const BODY_LEN: usize = FILE_KEY_BYTES + 16;

/// Writes a passphrase slot.
pub struct PassphraseRecipient {
    pub passphrase: Passphrase,
    pub params: KdfParams,
}

/// Opens a passphrase slot.
pub struct PassphraseIdentity {
    pub passphrase: Passphrase,
}

impl age::Recipient for PassphraseRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        use age_core::secrecy::ExposeSecret;
        let mut salt = [0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let key = self
            .params
            .derive(&self.passphrase, &salt)
            .map_err(|e| EncryptError::Io(std::io::Error::other(e.message)))?;
        let body = aead_encrypt(&key, file_key.expose_secret());
        let stanza = Stanza {
            tag: TAG.to_string(),
            args: vec![
                STANDARD_NO_PAD.encode(salt),
                self.params.memory_kib.to_string(),
                self.params.iterations.to_string(),
                self.params.parallelism.to_string(),
            ],
            body,
        };
        // No labels: this slot may be combined with any other recipient.
        Ok((vec![stanza], HashSet::new()))
    }
}

impl age::Identity for PassphraseIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != TAG {
            return None;
        }
        let Some((salt, params)) = parse_args(&stanza.args) else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        if stanza.body.len() != BODY_LEN || params.check_caps().is_err() {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let key = match params.derive(&self.passphrase, &salt) {
            Ok(key) => key,
            Err(_) => return Some(Err(DecryptError::InvalidHeader)),
        };
        Some(
            aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body)
                .map_err(|_| DecryptError::DecryptionFailed)
                .and_then(|mut plain| {
                    let file_key = FileKey::try_init_with_mut(|k: &mut [u8; FILE_KEY_BYTES]| {
                        k.copy_from_slice(&plain);
                        Ok::<(), DecryptError>(())
                    });
                    zeroize::Zeroize::zeroize(&mut plain);
                    file_key
                }),
        )
    }
}

/// Parses `<salt> <m> <t> <p>` strictly: canonical base64 of exactly 16 bytes, and
/// decimal numbers without sign or leading zeros that fit in u32.
pub fn parse_args(args: &[String]) -> Option<([u8; SALT_LEN], KdfParams)> {
    let [salt, m, t, p] = args else { return None };
    let salt_bytes = STANDARD_NO_PAD.decode(salt).ok()?;
    // Reject non-canonical encodings, so one file has one spelling.
    if STANDARD_NO_PAD.encode(&salt_bytes) != *salt {
        return None;
    }
    let salt: [u8; SALT_LEN] = salt_bytes.try_into().ok()?;
    Some((
        salt,
        KdfParams {
            memory_kib: decimal(m)?,
            iterations: decimal(t)?,
            parallelism: decimal(p)?,
        },
    ))
}

fn decimal(s: &str) -> Option<u32> {
    let canonical = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
        && s.len() <= 10;
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn strict_argument_parsing() {
        let salt = STANDARD_NO_PAD.encode([7u8; 16]);
        assert!(parse_args(&args(&[&salt, "65536", "3", "1"])).is_some());
        assert!(parse_args(&args(&[&salt, "065536", "3", "1"])).is_none());
        assert!(parse_args(&args(&[&salt, "+65536", "3", "1"])).is_none());
        assert!(parse_args(&args(&[&salt, "65536", "3"])).is_none());
        assert!(parse_args(&args(&[&salt, "99999999999", "3", "1"])).is_none());
        let short = STANDARD_NO_PAD.encode([7u8; 15]);
        assert!(parse_args(&args(&[&short, "65536", "3", "1"])).is_none());
    }
}
