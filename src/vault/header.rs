//! Reads the recipient stanzas of an age header without decrypting anything, for
//! `status` (which needs no passphrase) and to check a passphrase slot's KDF parameters
//! against the caps before any work is done. Any byte string is accepted as input: what
//! is not a well-formed age v1 header is an error, never a panic.

use super::kdf::KdfParams;
use super::slot;
use serde::Serialize;

pub const AGE_V1: &str = "age-encryption.org/v1";
pub const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
/// A header with more stanzas than this is refused (ttvault writes a handful).
pub const MAX_STANZAS: usize = 64;
/// Longest header line read (age's own lines are far shorter).
const MAX_LINE: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StanzaInfo {
    pub tag: String,
    pub args: Vec<String>,
}

/// One slot of the vault, as the header shows it (kinds and parameters, never secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Slot {
    /// ttvault's argon2id passphrase slot.
    Passphrase {
        kdf: KdfParams,
    },
    /// A passphrase slot whose arguments do not parse.
    DamagedPassphrase,
    /// age's own scrypt passphrase stanza (`age -p`), with its work factor log2(N).
    Scrypt {
        log_n: u8,
    },
    X25519,
    Ssh {
        key_type: String,
    },
    /// ML-KEM hybrid recipients and anything newer.
    Other {
        tag: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub armored: bool,
    pub stanzas: Vec<StanzaInfo>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// The file does not begin like an age file at all.
    NotAge,
    /// It begins like one, but the header is malformed or truncated.
    Malformed(&'static str),
}

impl Header {
    /// The slots, without age's random "grease" stanzas.
    pub fn slots(&self) -> Vec<Slot> {
        self.stanzas
            .iter()
            .filter(|s| !s.tag.ends_with("-grease"))
            .map(classify)
            .collect()
    }

    pub fn has_passphrase_slot(&self) -> bool {
        self.slots().iter().any(|s| {
            matches!(
                s,
                Slot::Passphrase { .. } | Slot::DamagedPassphrase | Slot::Scrypt { .. }
            )
        })
    }
}

fn classify(s: &StanzaInfo) -> Slot {
    match s.tag.as_str() {
        slot::TAG => match slot::parse_args(&s.args) {
            Some((_, kdf)) => Slot::Passphrase { kdf },
            None => Slot::DamagedPassphrase,
        },
        "scrypt" => match s.args.get(1).and_then(|n| n.parse().ok()) {
            Some(log_n) => Slot::Scrypt { log_n },
            None => Slot::Other { tag: s.tag.clone() },
        },
        "X25519" => Slot::X25519,
        "ssh-ed25519" | "ssh-rsa" => Slot::Ssh {
            key_type: s.tag.clone(),
        },
        other => Slot::Other {
            tag: other.to_string(),
        },
    }
}

/// Parses the header of a binary or armored age file.
pub fn parse(file: &[u8]) -> Result<Header, HeaderError> {
    if file.starts_with(ARMOR_BEGIN.as_bytes()) {
        let mut header = match parse_binary(&dearmor(file)) {
            Err(HeaderError::NotAge) => return Err(HeaderError::Malformed("armor")),
            other => other?,
        };
        header.armored = true;
        return Ok(header);
    }
    parse_binary(file)
}

/// What the armor decodes to before its first error (at most 1 MiB). The header is at the
/// start, so damage further on (a truncated file, a lost end marker) still leaves it
/// readable, as it is to age's own reader.
fn dearmor(file: &[u8]) -> Vec<u8> {
    use std::io::BufRead;
    // Line by line (`fill_buf` decodes one armor line), so an error drops nothing before it.
    let mut reader = age::armor::ArmoredReader::new(file);
    let mut out = Vec::new();
    while out.len() < 1 << 20 {
        let n = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(line) => {
                out.extend_from_slice(line);
                line.len()
            }
        };
        reader.consume(n);
    }
    out
}

fn parse_binary(file: &[u8]) -> Result<Header, HeaderError> {
    let mut lines = Lines { rest: file };
    match lines.next_line() {
        Some(first) if first == AGE_V1.as_bytes() => {}
        _ => return Err(HeaderError::NotAge),
    }
    let mut stanzas = Vec::new();
    loop {
        let line = lines
            .next_line()
            .ok_or(HeaderError::Malformed("truncated header"))?;
        if line.starts_with(b"---") {
            if stanzas.is_empty() {
                return Err(HeaderError::Malformed("no recipient stanza"));
            }
            return Ok(Header {
                armored: false,
                stanzas,
            });
        }
        let text = std::str::from_utf8(line).map_err(|_| HeaderError::Malformed("not text"))?;
        let rest = text
            .strip_prefix("-> ")
            .ok_or(HeaderError::Malformed("expected a stanza"))?;
        let mut words = rest.split(' ');
        let tag = words.next().filter(|t| !t.is_empty());
        let tag = tag.ok_or(HeaderError::Malformed("stanza without a tag"))?;
        let args: Vec<String> = words.map(str::to_string).collect();
        if args.iter().any(|a| a.is_empty()) {
            return Err(HeaderError::Malformed("empty stanza argument"));
        }
        // The body: base64 lines of 64 columns, ended by the first shorter line. Like
        // age, also read the legacy form whose body ends after a full line (or has no
        // line at all): a line that is not base64 is then the next stanza or the MAC, and
        // is left for the outer loop. Otherwise a stanza line could pass for a body line
        // here while age reads it as a stanza.
        loop {
            let mut peek = Lines { rest: lines.rest };
            let body = peek
                .next_line()
                .ok_or(HeaderError::Malformed("truncated stanza"))?;
            if !body.iter().all(|&b| is_base64(b)) {
                break;
            }
            lines = peek;
            if body.len() > 64 {
                return Err(HeaderError::Malformed("stanza body line too long"));
            }
            if body.len() < 64 {
                break;
            }
        }
        if stanzas.len() == MAX_STANZAS {
            return Err(HeaderError::Malformed("too many stanzas"));
        }
        stanzas.push(StanzaInfo {
            tag: tag.to_string(),
            args,
        });
    }
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    /// The next `\n`-terminated line, without its terminator; None at the end or when a
    /// line is over the length limit.
    fn next_line(&mut self) -> Option<&'a [u8]> {
        let end = self
            .rest
            .iter()
            .take(MAX_LINE + 1)
            .position(|&b| b == b'\n')?;
        let (line, rest) = self.rest.split_at(end);
        self.rest = &rest[1..];
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stanzas_and_skips_bodies() {
        let file = b"age-encryption.org/v1\n-> X25519 abc\nAAAA\n-> ttvault-argon2id s 1 2 3\n\n--- mac\nbinary";
        let h = parse(file).unwrap();
        assert_eq!(h.stanzas.len(), 2);
        assert_eq!(h.stanzas[0].tag, "X25519");
        assert_eq!(h.slots()[0], Slot::X25519);
        assert_eq!(h.slots()[1], Slot::DamagedPassphrase);
        assert!(h.has_passphrase_slot());
    }

    /// An armored vault cut short after its header: the header still reads, as it does
    /// for age (found by the vault_header fuzz target's differential check).
    #[test]
    fn truncated_armor_keeps_its_header() {
        use std::io::Write;
        let id = age::x25519::Identity::generate();
        let e = age::Encryptor::with_recipients(std::iter::once(&id.to_public() as _)).unwrap();
        let mut armored = Vec::new();
        let out =
            age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = e.wrap_output(out).unwrap();
        w.write_all(&[7u8; 200]).unwrap();
        w.finish().unwrap().finish().unwrap();
        assert_eq!(parse(&armored).unwrap().slots(), [Slot::X25519]);
        let cut = &armored[..armored.len() - 45];
        let h = parse(cut).unwrap();
        assert!(h.armored);
        assert_eq!(h.slots(), [Slot::X25519]);
        assert_eq!(
            parse(b"-----BEGIN AGE ENCRYPTED FILE-----\n!!!!\n"),
            Err(HeaderError::Malformed("armor"))
        );
    }

    /// age reads a stanza without a body line (its legacy form), so the line after it is
    /// a stanza, not a body: the caps pre-check and `status` must see it.
    #[test]
    fn a_stanza_line_is_never_taken_for_a_body_line() {
        let file = b"age-encryption.org/v1\n-> X25519 abc\n-> ttvault-argon2id AAAAAAAAAAAAAAAAAAAAAA 1048577 1 1\n\n--- mac\nbinary";
        let h = parse(file).unwrap();
        let tags: Vec<&str> = h.stanzas.iter().map(|s| s.tag.as_str()).collect();
        assert_eq!(tags, ["X25519", "ttvault-argon2id"]);
        // Before, this read as one X25519 stanza whose body was the argon2id line.
        let file = b"age-encryption.org/v1\n-> X25519 abc\n-> ttvault-argon2id AAAAAAAAAAAAAAAAAAAAAA 1048577 1 1\n--- mac\n";
        let h = parse(file).unwrap();
        assert_eq!(h.stanzas.len(), 2);
        assert!(h.has_passphrase_slot());
        let full = "A".repeat(64);
        let legacy = format!("age-encryption.org/v1\n-> a\n{full}\n-> b\n\n--- mac\n");
        assert_eq!(parse(legacy.as_bytes()).unwrap().stanzas.len(), 2);
        let file = b"age-encryption.org/v1\n-> X25519 abc\nnot base64\n--- mac\n";
        assert_eq!(
            parse(file),
            Err(HeaderError::Malformed("expected a stanza"))
        );
    }

    #[test]
    fn refuses_what_is_not_an_age_header() {
        assert_eq!(parse(b"TT_API_CLIENT_ID=x\n"), Err(HeaderError::NotAge));
        assert_eq!(parse(b""), Err(HeaderError::NotAge));
        assert!(matches!(
            parse(b"age-encryption.org/v1\n-> X25519 a\n"),
            Err(HeaderError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"age-encryption.org/v1\n--- mac\n"),
            Err(HeaderError::Malformed(_))
        ));
    }
}
