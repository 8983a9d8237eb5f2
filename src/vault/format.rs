//! Encrypting and decrypting the vault file: a standard age v1 file whose slots are our
//! argon2id passphrase stanza and/or age X25519 / SSH recipients. Stock `age -p` (scrypt)
//! files open too. Every failure maps to exit status 3 with what happened and what to do.

use super::header::{self, Header, HeaderError, Slot};
use super::kdf::KdfParams;
use super::slot::{PassphraseIdentity, PassphraseRecipient};
use crate::error::{Error, Result};
use crate::secret::Passphrase;
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// The document inside is tiny; anything larger is not a vault.
pub const MAX_PLAINTEXT: u64 = 1 << 20;

/// Largest scrypt work factor (log2 N) a stock `age -p` vault may ask for. 2^20 is 1 GiB
/// of memory, the ceiling argon2id slots have too (`kdf::MAX_MEMORY_KIB`); age's own
/// default cap is its measured target + 4, which is 2^22 (4 GiB, tens of seconds) or more.
/// `age -p` writes 2^18 (Go) or about one second's worth (rage).
pub const MAX_SCRYPT_LOG_N: u8 = 20;

/// How to open a vault.
pub enum Unlock<'a> {
    Passphrase(&'a Passphrase),
    Identities(&'a [Box<dyn age::Identity>]),
}

/// Encrypts `plaintext` to a passphrase slot (when given) and to `recipients`.
pub fn encrypt(
    plaintext: &[u8],
    passphrase: Option<(&Passphrase, KdfParams)>,
    recipients: &[Box<dyn age::Recipient + Send>],
) -> Result<Vec<u8>> {
    let slot = passphrase.map(|(p, params)| PassphraseRecipient {
        passphrase: p.clone(),
        params,
    });
    let all = slot
        .iter()
        .map(|s| s as &dyn age::Recipient)
        .chain(recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient));
    let encryptor = age::Encryptor::with_recipients(all).map_err(|e| match e {
        age::EncryptError::MissingRecipients => {
            Error::usage("a vault needs a passphrase or at least one recipient")
        }
        other => Error::failure(format!("could not encrypt the vault: {other}")),
    })?;
    let mut out = Vec::new();
    let io = |e: std::io::Error| Error::failure(format!("could not encrypt the vault: {e}"));
    let mut writer = encryptor.wrap_output(&mut out).map_err(io)?;
    writer.write_all(plaintext).map_err(io)?;
    writer.finish().map_err(io)?;
    Ok(out)
}

/// Reads and checks the header, naming a plaintext `.secrets` when that is what it is.
pub fn read_header(file: &[u8]) -> Result<Header> {
    match header::parse(file) {
        Ok(h) => Ok(h),
        Err(HeaderError::NotAge) if file.is_empty() => Err(Error::vault("the vault file is empty")
            .hint("restore it from a backup, or create a new one with `ttvault init --force`")),
        Err(HeaderError::NotAge) if crate::dotenv::looks_like_legacy_secrets(file) => Err(
            Error::vault("the vault file is the plaintext .secrets of the old setup script")
                .hint("`ttvault import` encrypts it in place"),
        ),
        Err(HeaderError::NotAge) => {
            Err(Error::vault("the vault file is not an age-encrypted file")
                .hint("check --vault / TTVAULT_VAULT, or restore the file from a backup"))
        }
        Err(HeaderError::Malformed(what)) => {
            Err(Error::vault(format!("the vault's header is damaged ({what})")).hint(DAMAGED_HINT))
        }
    }
}

const DAMAGED_HINT: &str =
    "restore the vault from a backup (init --force keeps one as .secrets.bak-*), or run `ttvault init --force`";

/// Decrypts a vault file. Passphrase slots are checked against the KDF caps first.
pub fn decrypt(file: &[u8], unlock: Unlock<'_>) -> Result<Zeroizing<Vec<u8>>> {
    let header = read_header(file)?;
    for slot in header.slots() {
        match slot {
            Slot::Passphrase { kdf } => kdf.check_caps()?,
            Slot::Scrypt { log_n } if log_n > MAX_SCRYPT_LOG_N => {
                return Err(Error::vault(format!(
                    "the vault's scrypt work factor (2^{log_n}) is beyond what ttvault will compute (at most 2^{MAX_SCRYPT_LOG_N})"
                ))
                .hint("this file was not written by `age -p` defaults, or was tampered with; restore a backup"))
            }
            _ => {}
        }
    }
    let armored = age::armor::ArmoredReader::new(file);
    let decryptor = age::Decryptor::new(armored).map_err(|e| map_decrypt_error(e, &unlock))?;
    let scrypt_identity;
    let argon_identity;
    let identities: Vec<&dyn age::Identity> = match &unlock {
        Unlock::Passphrase(p) if decryptor.is_scrypt() => {
            let mut id = age::scrypt::Identity::new(p.expose().to_string().into());
            // Again here, in case age reads a header differently from `header::parse`.
            id.set_max_work_factor(MAX_SCRYPT_LOG_N);
            scrypt_identity = id;
            vec![&scrypt_identity]
        }
        Unlock::Passphrase(p) => {
            argon_identity = PassphraseIdentity {
                passphrase: (*p).clone(),
            };
            vec![&argon_identity]
        }
        Unlock::Identities(ids) => ids.iter().map(|i| i.as_ref()).collect(),
    };
    let reader = decryptor
        .decrypt(identities.into_iter())
        .map_err(|e| map_decrypt_error(e, &unlock))?;
    let mut plain = Zeroizing::new(Vec::new());
    // One byte past the limit tells a too-large document from one of exactly the limit.
    reader
        .take(MAX_PLAINTEXT + 1)
        .read_to_end(&mut plain)
        .map_err(|_| {
            Error::vault("the vault's encrypted contents are damaged or truncated")
                .hint(DAMAGED_HINT)
        })?;
    if plain.len() as u64 > MAX_PLAINTEXT {
        return Err(Error::vault(format!(
            "the vault's contents are larger than {} KiB, far too large for a ttvault document",
            MAX_PLAINTEXT / 1024
        ))
        .hint("check --vault / TTVAULT_VAULT: this file was encrypted by something else"));
    }
    Ok(plain)
}

fn map_decrypt_error(e: age::DecryptError, unlock: &Unlock<'_>) -> Error {
    use age::DecryptError as D;
    match e {
        D::DecryptionFailed | D::NoMatchingKeys | D::KeyDecryptionFailed => match unlock {
            Unlock::Passphrase(_) => Error::vault("wrong passphrase (or the passphrase slot is damaged)")
                .hint("try again; if you use an identity file instead, pass -i KEY"),
            Unlock::Identities(_) => Error::vault("the identity does not open any slot of this vault")
                .hint("check -i / TTVAULT_IDENTITY, or open it with the passphrase"),
        },
        D::ExcessiveWork { required, target } => Error::vault(format!(
            "the vault's scrypt work factor (2^{required}) is far beyond this machine's (2^{target})"
        ))
        .hint("re-encrypt it on the machine that wrote it with a lower work factor"),
        D::InvalidMac => Error::vault("the vault's header was modified or damaged (MAC check failed)")
            .hint(DAMAGED_HINT),
        D::UnknownFormat => Error::vault("the vault uses an age format version this ttvault does not know")
            .hint("upgrade ttvault"),
        D::InvalidHeader => Error::vault("the vault's header is damaged").hint(DAMAGED_HINT),
        D::Io(_) => Error::vault("the vault file is damaged or truncated").hint(DAMAGED_HINT),
        other => Error::vault(format!("the vault could not be decrypted: {other}")).hint(DAMAGED_HINT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::kdf::FLOOR;

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let p = Passphrase::new("correct horse");
        let file = encrypt(b"hello", Some((&p, FLOOR)), &[]).unwrap();
        assert_eq!(&*decrypt(&file, Unlock::Passphrase(&p)).unwrap(), b"hello");
        let err = decrypt(&file, Unlock::Passphrase(&Passphrase::new("wrong"))).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.message.contains("wrong passphrase"));
    }

    /// A stock `age -p` file whose scrypt work factor was raised to 2^22 (4 GiB, many
    /// seconds): refused before any work, like an argon2id slot past the caps. age alone
    /// would compute anything up to its measured target + 4.
    #[test]
    fn scrypt_work_factor_is_capped() {
        let p = Passphrase::new("pw");
        let mut r = age::scrypt::Recipient::new(p.expose().to_string().into());
        r.set_work_factor(2);
        let e = age::Encryptor::with_recipients(std::iter::once(&r as _)).unwrap();
        let mut file = Vec::new();
        let mut w = e.wrap_output(&mut file).unwrap();
        w.write_all(b"{}").unwrap();
        w.finish().unwrap();
        let text = String::from_utf8_lossy(&file).into_owned();
        let line = text.lines().nth(1).unwrap().to_string();
        assert!(
            line.starts_with("-> scrypt ") && line.ends_with(" 2"),
            "{line}"
        );
        let hostile = text.replacen(&line, &format!("{} 22", &line[..line.len() - 2]), 1);
        // Refused by the cap, before any work: computing 2^22 would have failed as a
        // wrong passphrase instead.
        let err = decrypt(hostile.as_bytes(), Unlock::Passphrase(&p)).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(
            err.message.contains("scrypt work factor (2^22)"),
            "{}",
            err.message
        );
        assert_eq!(&*decrypt(&file, Unlock::Passphrase(&p)).unwrap(), b"{}");
    }

    /// A document past the limit used to come back cut to 1 MiB, as if it were whole.
    #[test]
    fn oversized_contents_are_refused_not_truncated() {
        let p = Passphrase::new("pw");
        let cheap = KdfParams {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        };
        let limit = MAX_PLAINTEXT as usize;
        let file = encrypt(&vec![b'x'; limit], Some((&p, cheap)), &[]).unwrap();
        assert_eq!(decrypt(&file, Unlock::Passphrase(&p)).unwrap().len(), limit);
        let file = encrypt(&vec![b'x'; limit + 1], Some((&p, cheap)), &[]).unwrap();
        let err = decrypt(&file, Unlock::Passphrase(&p)).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.message.contains("far too large"), "{}", err.message);
    }

    #[test]
    fn passphrase_beside_x25519() {
        let id = age::x25519::Identity::generate();
        let recipients: Vec<Box<dyn age::Recipient + Send>> = vec![Box::new(id.to_public())];
        let p = Passphrase::new("pw");
        let file = encrypt(b"both", Some((&p, FLOOR)), &recipients).unwrap();
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(id)];
        assert_eq!(&*decrypt(&file, Unlock::Identities(&ids)).unwrap(), b"both");
        assert_eq!(&*decrypt(&file, Unlock::Passphrase(&p)).unwrap(), b"both");
    }
}
