//! The agent's wire format: every message is a frame, a 4-byte big-endian length and that
//! many bytes of JSON carrying the protocol version `"v"`. Frames above `MAX_FRAME` are
//! refused before any byte of them is read into memory. Replies that carry secrets are
//! built and parsed in zeroizing buffers. A reply is one of a few kinds ([`Reply`]); a
//! peer speaking another version is answered with an error and treated as no agent.

use crate::error::{Code, Error};
use crate::secret::{AccessToken, RefreshToken};
use crate::vault::Payload;
use crate::vault::{GrantInfo, GrantSecrets};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// The protocol version this build speaks; a frame of any other version gets a `version`
/// error, and a client treats a reply of another version as no agent. Raise it whenever
/// a request or reply changes shape.
pub const VERSION: u32 = 3;
/// The largest frame either side accepts (a grant is well under 4 KiB).
pub const MAX_FRAME: usize = 64 * 1024;

/// What a client asks.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Are you there? (no vault check, no secret)
    Ping,
    /// Until when, the token's remaining life, whether memory is locked (no secret).
    Status,
    /// An access token, with the grant's public fields; with `secrets` also the client
    /// secret and refresh token (only when the vault's choice or `unlock --long-lived`
    /// allows it, else a `withheld` error). The token has at least `min_ttl_secs` left;
    /// with `fresh`, it was refreshed after the request arrived.
    Token {
        secrets: bool,
        #[serde(default)]
        fresh: bool,
        #[serde(default)]
        min_ttl_secs: u64,
    },
    /// The refresh token the agent rotated, for a client that shows it has opened the
    /// vault: it sends the refresh token the vault holds, which the agent compares with
    /// the one it was handed (or last saw saved). Answered like `token` with `secrets`.
    Rotated { vault_refresh_token: RefreshToken },
    /// The grant's public fields without a token (no refresh, nothing sent anywhere:
    /// `show`, or a command that reads the recorded choice first); with `secrets` also the
    /// client secret and refresh token, on the same terms as `token`.
    Info { secrets: bool },
    /// A client has written the agent's rotated refresh token into the vault.
    Saved,
    /// End now.
    Lock,
}

/// Equal ops; a refresh token is compared in constant time.
impl PartialEq for Op {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Op::Token {
                    secrets,
                    fresh,
                    min_ttl_secs,
                },
                Op::Token {
                    secrets: s2,
                    fresh: f2,
                    min_ttl_secs: m2,
                },
            ) => (secrets, fresh, min_ttl_secs) == (s2, f2, m2),
            (Op::Info { secrets }, Op::Info { secrets: s2 }) => secrets == s2,
            (
                Op::Rotated {
                    vault_refresh_token: a,
                },
                Op::Rotated {
                    vault_refresh_token: b,
                },
            ) => a.ct_eq(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for Op {}

/// A client's request as one frame carries it: the protocol version and the op.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RequestFrame {
    pub v: u32,
    #[serde(flatten)]
    pub op: Op,
}

impl RequestFrame {
    pub fn new(op: Op) -> Self {
        RequestFrame { v: VERSION, op }
    }
}

/// Why the agent could not answer. The kind drives the client: `grant` and `network` are
/// the failures of the agent's refresh, which the client exits with (4, 5); every other
/// kind means "no usable agent: open the vault instead".
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not a frame, not JSON, or an unknown request.
    BadRequest,
    /// Another protocol version.
    Version,
    /// The vault file changed since it was unlocked; the agent ends.
    Stale,
    /// Tastytrade refused the grant.
    Grant,
    /// Tastytrade could not be reached or answered nonsense.
    Network,
    /// Anything else that went wrong in the agent.
    Failure,
    /// The vault file is no longer one opening would accept (open to others, another
    /// owner, not a regular file, a link swapped in); the client exits 3.
    Vault,
    /// The request cannot be met as asked (a `min_ttl` longer than the tokens' lifetime);
    /// the client exits 2.
    Usage,
    /// Long-lived secrets were asked for and this agent does not hand them out.
    Withheld,
}

impl ErrorKind {
    /// The exit status a client gives this failure.
    pub fn code(self) -> Code {
        match self {
            ErrorKind::BadRequest | ErrorKind::Usage => Code::Usage,
            ErrorKind::Grant => Code::Grant,
            ErrorKind::Network => Code::Network,
            ErrorKind::Vault => Code::Vault,
            ErrorKind::Version | ErrorKind::Stale | ErrorKind::Failure | ErrorKind::Withheld => {
                Code::Failure
            }
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl WireError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WireError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn from_error(e: &Error) -> Self {
        let kind = match e.code {
            Code::Grant => ErrorKind::Grant,
            Code::Network => ErrorKind::Network,
            Code::Usage => ErrorKind::Usage,
            _ => ErrorKind::Failure,
        };
        WireError {
            kind,
            message: e.message.clone(),
            hint: e.hint.clone(),
        }
    }

    pub fn into_error(self) -> Error {
        Error {
            code: self.kind.code(),
            message: self.message,
            hint: self.hint,
        }
    }
}

/// The agent's state, without secrets.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StatusReply {
    pub pid: u32,
    pub vault: String,
    /// Unix seconds when the agent ends at the latest (the TTL).
    pub until: u64,
    /// The idle limit in seconds, when one is set.
    pub idle_secs: Option<u64>,
    /// Unix seconds when the cached access token expires, when there is one.
    pub token_expires: Option<u64>,
    /// Whether the grant sits in mlock'ed memory.
    pub memory_locked: bool,
    /// The token endpoint rotated the refresh token and no client has saved it yet.
    pub unsaved_refresh_token: bool,
    /// A refresh is in flight (absent from older agents).
    #[serde(default)]
    pub refreshing: bool,
}

/// A fresh access token and the grant it came from.
#[derive(Serialize, Deserialize)]
pub struct GrantReply {
    pub grant: GrantInfo,
    /// Only when the request asked for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<GrantSecrets>,
    pub access_token: AccessToken,
    /// Unix seconds.
    pub expires_at: u64,
    /// The agent holds a rotated refresh token the vault lacks.
    pub unsaved_refresh_token: bool,
}

/// The grant without a token (`info`).
#[derive(Serialize, Deserialize)]
pub struct InfoReply {
    pub grant: GrantInfo,
    /// Only when the request asked for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<GrantSecrets>,
}

/// What the agent answers. Externally tagged (`"done"`, `{"status": …}`, `{"grant": …}`,
/// `{"error": …}`) so a reply is parsed straight into its fields: serde's internally
/// tagged or flattened forms would first copy every string, secrets included, into a
/// buffer nobody zeroizes.
// One reply per request, dropped at once: boxing the grant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Done (`ping`, `saved`, `lock`).
    Done,
    Status(StatusReply),
    Grant(GrantReply),
    Info(InfoReply),
    Error(WireError),
}

/// The agent's reply as one frame carries it: the protocol version and the reply.
#[derive(Serialize, Deserialize)]
pub struct ReplyFrame {
    pub v: u32,
    pub reply: Reply,
}

impl ReplyFrame {
    pub fn new(reply: Reply) -> Self {
        ReplyFrame { v: VERSION, reply }
    }
    pub fn done() -> Self {
        Self::new(Reply::Done)
    }
    pub fn error(e: WireError) -> Self {
        Self::new(Reply::Error(e))
    }
}

/// Serializes `value` into a frame (length prefix included) in a zeroizing buffer.
pub fn encode<T: Serialize>(value: &T) -> Zeroizing<Vec<u8>> {
    let len = json_len(value);
    let mut out = Zeroizing::new(Vec::with_capacity(4 + len));
    out.extend_from_slice(&(len as u32).to_be_bytes());
    // Serializing our own plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
    out
}

/// JSON of `value` in a buffer allocated once at its exact size: a growing Vec would
/// leave copies of the secrets it holds in the memory it reallocates away from.
pub fn to_json(value: &impl Serialize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(json_len(value)));
    let _ = serde_json::to_writer(&mut *out, value);
    out
}

/// The length of `value`'s JSON, counted without storing it.
fn json_len(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Reads the 4-byte length prefix and checks it against the limit.
pub fn frame_len(prefix: [u8; 4]) -> Option<usize> {
    let len = u32::from_be_bytes(prefix) as usize;
    (len <= MAX_FRAME).then_some(len)
}

/// Blocking read of one frame (the client side).
pub fn read_frame(r: &mut impl Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut prefix = [0u8; 4];
    r.read_exact(&mut prefix)?;
    let len = frame_len(prefix).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "agent frame too large")
    })?;
    let mut body = Zeroizing::new(vec![0u8; len]);
    r.read_exact(&mut body)?;
    Ok(body)
}

/// Blocking write of one frame.
pub fn write_frame<T: Serialize>(w: &mut impl Write, value: &T) -> std::io::Result<()> {
    let frame = encode(value);
    w.write_all(&frame)?;
    w.flush()
}

/// What the client needs to check before anything else in a frame.
#[derive(Deserialize)]
pub struct Versioned {
    pub v: Option<u64>,
    /// The request's op, read without its other fields: `lock` is understood at every
    /// version, so a ttvault of another version can still end this agent.
    #[serde(default)]
    pub op: Option<String>,
}

/// What `unlock` writes to the new agent's stdin (never argv or environment): the grant
/// it decrypted and the stamp of the vault file it decrypted it from.
#[derive(Serialize, Deserialize)]
pub struct Handoff {
    pub v: u32,
    pub stamp: String,
    pub payload: Payload,
}

#[cfg(test)]
mod tests;
