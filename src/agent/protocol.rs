//! The agent's wire format: every message is a frame, a 4-byte big-endian length and that
//! many bytes of JSON carrying `"v": 1`. Frames above `MAX_FRAME` are refused before any
//! byte of them is read into memory. Replies that carry secrets are built and parsed in
//! zeroizing buffers.

use crate::error::{Code, Error};
use crate::secret::AccessToken;
use crate::vault::Payload;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;
/// The largest frame either side accepts (a grant is well under 4 KiB).
pub const MAX_FRAME: usize = 64 * 1024;

/// What a client asks.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Are you there? (no vault check, no secret)
    Ping,
    /// Until when, the token's remaining life, whether memory is locked (no secret).
    Status,
    /// A fresh access token, with the grant's public fields; with `long_lived` also the
    /// client secret and refresh token.
    Token { long_lived: bool },
    /// A client has written the agent's rotated refresh token into the vault.
    Saved,
    /// End now.
    Lock,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub v: u32,
    #[serde(flatten)]
    pub op: Op,
}

impl Request {
    pub fn new(op: Op) -> Self {
        Request { v: VERSION, op }
    }
}

/// Why the agent could not answer. `kind` drives the client: `stale` and `version` mean
/// "fall back to the vault"; `grant` and `network` are real failures with exit codes.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct WireError {
    pub kind: String,
    pub code: i32,
    pub message: String,
    #[serde(default)]
    pub hint: Option<String>,
}

impl WireError {
    pub fn new(kind: &str, code: Code, message: impl Into<String>) -> Self {
        WireError {
            kind: kind.into(),
            code: code as i32,
            message: message.into(),
            hint: None,
        }
    }

    pub fn from_error(e: &Error) -> Self {
        let kind = match e.code {
            Code::Grant => "grant",
            Code::Network => "network",
            _ => "failure",
        };
        WireError {
            kind: kind.into(),
            code: e.code as i32,
            message: e.message.clone(),
            hint: e.hint.clone(),
        }
    }

    pub fn into_error(self) -> Error {
        let code = match self.code {
            2 => Code::Usage,
            3 => Code::Vault,
            4 => Code::Grant,
            5 => Code::Network,
            _ => Code::Failure,
        };
        Error {
            code,
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
}

/// A fresh access token and the grant it came from.
#[derive(Serialize, Deserialize)]
pub struct GrantReply {
    /// The vault's document; without `long_lived` its client secret and refresh token
    /// are empty.
    pub payload: Payload,
    pub access_token: AccessToken,
    /// Unix seconds.
    pub expires_at: u64,
    pub unsaved_refresh_token: bool,
}

#[derive(Serialize, Deserialize, Default)]
pub struct Response {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantReply>,
}

impl Response {
    pub fn ok() -> Self {
        Response {
            v: VERSION,
            ..Default::default()
        }
    }
    pub fn error(e: WireError) -> Self {
        Response {
            v: VERSION,
            error: Some(e),
            ..Default::default()
        }
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
mod tests {
    use super::*;

    #[test]
    fn request_round_trip_and_shape() {
        let frame = encode(&Request::new(Op::Token { long_lived: true }));
        let len = frame_len(frame[..4].try_into().unwrap()).unwrap();
        assert_eq!(len, frame.len() - 4);
        assert_eq!(frame.capacity(), frame.len());
        let text = std::str::from_utf8(&frame[4..]).unwrap();
        assert_eq!(text, r#"{"v":1,"op":"token","long_lived":true}"#);
        let back: Request = serde_json::from_slice(&frame[4..]).unwrap();
        assert_eq!(back.op, Op::Token { long_lived: true });
    }

    #[test]
    fn oversized_prefix_is_refused() {
        assert!(frame_len(((MAX_FRAME + 1) as u32).to_be_bytes()).is_none());
        assert!(frame_len(u32::MAX.to_be_bytes()).is_none());
        let mut data: &[u8] = &[0xff, 0xff, 0xff, 0xff, 1, 2];
        assert!(read_frame(&mut data).is_err());
    }

    #[test]
    fn wire_errors_keep_their_exit_code() {
        let e = WireError::new("grant", Code::Grant, "refused");
        assert_eq!(e.into_error().code, Code::Grant);
    }
}
