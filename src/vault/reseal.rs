//! Rewriting the vault's contents without the passphrase. A vault opened with an
//! identity (the headless-server case) cannot re-wrap its passphrase slot, but it does
//! not need to: every slot wraps the same file key, and whoever opened one slot holds it.
//! So the header is kept byte for byte (every slot, the passphrase slot's salt and KDF
//! parameters, the header MAC, which covers the header only and stays valid under the
//! same file key), and only the payload is new: a fresh 16-byte nonce, hence a fresh
//! payload key, and age's STREAM over the new document. docs/FORMAT.md, "Rewriting
//! without the passphrase", gives the reasoning and its limits: this is only used when the
//! set of slots stays the same, because a file key outlives the slots it was wrapped for.

use super::format::{self, Unlock, MAX_PLAINTEXT};
use super::header::MAX_STANZAS;
use crate::error::{Error, Result};
use age_core::format::{FileKey, Stanza};
use age_core::primitives::hkdf;
use age_core::secrecy::ExposeSecret;
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use rand::RngCore;
use std::io::Read;
use zeroize::Zeroizing;

const V1_LINE: &[u8] = b"age-encryption.org/v1\n";
const MAC_PREFIX: &[u8] = b"---";
/// The header MAC: 32 bytes, 43 characters of unpadded base64.
const MAC_CHARS: usize = 43;
/// age's STREAM: 64 KiB chunks, each sealed with ChaCha20-Poly1305.
const CHUNK: usize = 64 * 1024;
const NONCE_LEN: usize = 16;
/// Largest armored file read (the plaintext cap plus STREAM overhead, generously).
const MAX_ARMORED: u64 = 4 << 20;

/// A header as found in the file: its exact bytes and what they say.
struct RawHeader<'a> {
    /// Everything up to and including the `---` the MAC covers.
    covered: &'a [u8],
    /// The whole header, through the MAC line's newline.
    whole: &'a [u8],
    stanzas: Vec<Stanza>,
    mac: [u8; 32],
}

/// A new vault file holding `plaintext` with the very header of `file`, for the holder of
/// `identities`. The result is checked by age's own reader before it is returned.
pub fn reseal(
    file: &[u8],
    identities: &[Box<dyn age::Identity>],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    if plaintext.len() as u64 > MAX_PLAINTEXT {
        return Err(Error::failure("the vault's document is too large to write"));
    }
    let binary = dearmored(file)?;
    let header = split_header(&binary)?;
    let file_key = unwrap_file_key(&header.stanzas, identities)?;
    verify_mac(&header, &file_key)?;

    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let payload_key = Zeroizing::new(hkdf(&nonce, b"payload", file_key.expose_secret()));
    let mut out = Vec::with_capacity(header.whole.len() + NONCE_LEN + plaintext.len() + 64);
    out.extend_from_slice(header.whole);
    out.extend_from_slice(&nonce);
    stream_seal(&payload_key, plaintext, &mut out)?;

    // The oracle: age reads what was written, and finds exactly the new document.
    let back = format::decrypt(&out, Unlock::Identities(identities))?;
    if back.as_slice() != plaintext {
        return Err(Error::failure(
            "the rewritten vault did not read back as written; nothing was saved",
        ));
    }
    Ok(out)
}

/// The binary form of the file (ttvault writes binary; an armored vault is decoded).
fn dearmored(file: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if !file.starts_with(super::header::ARMOR_BEGIN.as_bytes()) {
        return Ok(file.into());
    }
    let mut out = Vec::new();
    age::armor::ArmoredReader::new(file)
        .take(MAX_ARMORED)
        .read_to_end(&mut out)
        .map_err(|_| damaged("armor"))?;
    Ok(out.into())
}

fn damaged(what: &str) -> Error {
    Error::vault(format!("the vault's header is damaged ({what})"))
        .hint("restore the vault from a backup, or run `ttvault init --force`")
}

/// Splits off the header with age's own stanza grammar (`age_core::format::read`).
fn split_header(file: &[u8]) -> Result<RawHeader<'_>> {
    let mut rest = file
        .strip_prefix(V1_LINE)
        .ok_or_else(|| damaged("not an age v1 file"))?;
    let mut stanzas = Vec::new();
    while !rest.starts_with(MAC_PREFIX) {
        if stanzas.len() == MAX_STANZAS {
            return Err(damaged("too many stanzas"));
        }
        let (after, stanza) = age_core::format::read::legacy_age_stanza(rest)
            .map_err(|_| damaged("malformed stanza"))?;
        stanzas.push(Stanza::from(stanza));
        rest = after;
    }
    if stanzas.is_empty() {
        return Err(damaged("no recipient stanza"));
    }
    let covered_len = file.len() - rest.len() + MAC_PREFIX.len();
    let line = &rest[MAC_PREFIX.len()..];
    let encoded = line
        .strip_prefix(b" ")
        .and_then(|l| l.get(..MAC_CHARS))
        .filter(|_| line.get(1 + MAC_CHARS) == Some(&b'\n'))
        .ok_or_else(|| damaged("MAC line"))?;
    let mac: [u8; 32] = STANDARD_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|m| m.try_into().ok())
        .ok_or_else(|| damaged("MAC"))?;
    let whole_len = covered_len + 1 + MAC_CHARS + 1;
    Ok(RawHeader {
        covered: &file[..covered_len],
        whole: &file[..whole_len],
        stanzas,
        mac,
    })
}

/// The file key, from the first identity that opens a slot (as age's decryptor does).
fn unwrap_file_key(stanzas: &[Stanza], identities: &[Box<dyn age::Identity>]) -> Result<FileKey> {
    match identities.iter().find_map(|i| i.unwrap_stanzas(stanzas)) {
        Some(Ok(key)) => Ok(key),
        Some(Err(_)) | None => Err(Error::vault(
            "the identity does not open any slot of this vault",
        )
        .hint("check -i / TTVAULT_IDENTITY, or open it with the passphrase")),
    }
}

/// The header must be the one this file key sealed (age: HMAC-SHA-256 keyed by
/// HKDF(file key, "header") over the header up to `---`).
fn verify_mac(header: &RawHeader<'_>, file_key: &FileKey) -> Result<()> {
    let key = Zeroizing::new(hkdf(&[], b"header", file_key.expose_secret()));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_ref())
        .map_err(|_| Error::failure("HMAC key of the wrong length"))?;
    mac.update(header.covered);
    mac.verify_slice(&header.mac).map_err(|_| {
        Error::vault("the vault's header was modified or damaged (MAC check failed)")
            .hint("restore the vault from a backup, or run `ttvault init --force`")
    })
}

/// age's STREAM: chunk i is sealed under the nonce `i` (11 bytes, big-endian) followed by
/// 1 on the last chunk and 0 before it. An empty document is one empty last chunk.
fn stream_seal(key: &[u8; 32], plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let aead = ChaCha20Poly1305::new(key.into());
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(CHUNK).collect()
    };
    for (i, chunk) in chunks.iter().enumerate() {
        let mut nonce = [0u8; 12];
        nonce[..11].copy_from_slice(&(i as u128).to_be_bytes()[5..]);
        nonce[11] = u8::from(i + 1 == chunks.len());
        let sealed = aead
            .encrypt(&nonce.into(), *chunk)
            .map_err(|_| Error::failure("could not encrypt the vault's document"))?;
        out.extend_from_slice(&sealed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Passphrase;
    use crate::vault::kdf::KdfParams;

    const CHEAP: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    fn x25519() -> (age::x25519::Identity, Vec<Box<dyn age::Identity>>) {
        let id = age::x25519::Identity::generate();
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(id.clone())];
        (id, ids)
    }

    #[test]
    fn every_slot_opens_the_new_document_and_the_header_is_kept() {
        let (id, ids) = x25519();
        let p = Passphrase::new("pw");
        let recipients: Vec<Box<dyn age::Recipient + Send>> = vec![Box::new(id.to_public())];
        let old = format::encrypt(b"old", Some((&p, CHEAP)), &recipients).unwrap();
        // Sizes around the chunk boundary, where STREAM's last-chunk flag matters.
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK] {
            let new = vec![b'n'; len];
            let file = reseal(&old, &ids, &new).unwrap();
            assert_eq!(
                *format::decrypt(&file, Unlock::Identities(&ids)).unwrap(),
                new
            );
            assert_eq!(
                *format::decrypt(&file, Unlock::Passphrase(&p)).unwrap(),
                new
            );
            let header_len = split_header(&old).unwrap().whole.len();
            assert_eq!(file[..header_len], old[..header_len], "len {len}");
        }
    }

    #[test]
    fn a_foreign_identity_or_a_forged_header_is_refused() {
        let (id, ids) = x25519();
        let recipients: Vec<Box<dyn age::Recipient + Send>> = vec![Box::new(id.to_public())];
        let file = format::encrypt(b"doc", None, &recipients).unwrap();
        let (_, other) = x25519();
        let err = reseal(&file, &other, b"new").unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        // The same stanzas under a MAC that is not the file key's: refused, not rewritten.
        let text = file.clone();
        let mac_at = text.windows(4).position(|w| w == b"--- ").unwrap() + 4;
        let mut forged = text;
        forged[mac_at] = if forged[mac_at] == b'A' { b'B' } else { b'A' };
        let err = reseal(&forged, &ids, b"new").unwrap_err();
        assert!(err.message.contains("MAC"), "{}", err.message);
        assert!(reseal(b"age-encryption.org/v1\n--- x\n", &ids, b"new").is_err());
    }

    #[test]
    fn an_armored_vault_is_rewritten_in_binary() {
        use std::io::Write;
        let (id, ids) = x25519();
        let e = age::Encryptor::with_recipients(std::iter::once(&id.to_public() as _)).unwrap();
        let mut armored = Vec::new();
        let out =
            age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = e.wrap_output(out).unwrap();
        w.write_all(b"old").unwrap();
        w.finish().unwrap().finish().unwrap();
        let file = reseal(&armored, &ids, b"new").unwrap();
        assert!(file.starts_with(V1_LINE));
        assert_eq!(
            &*format::decrypt(&file, Unlock::Identities(&ids)).unwrap(),
            b"new"
        );
    }
}
