//! The client side: blocking std `UnixStream`, one request per connection. Anything that
//! goes wrong on the way (no socket, connection refused, a closed connection, a reply
//! that is not a frame) means "no agent", and the caller opens the vault itself.

use super::paths;
use super::protocol::{self, Op, Request, Response, Versioned, VERSION};
use crate::cli::Global;
use crate::error::Result;
use crate::mint::Minted;
use crate::secret::RefreshToken;
use crate::vault::{self, format, store, Opened};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

/// Waiting for a token may include the agent's refresh (the HTTP client's own timeouts
/// and retries bound it well below this).
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(120);
/// Everything else is answered at once.
pub const QUICK_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to the vault's agent; None when there is none (or its directory is not
/// private, in which case it is not trusted either).
pub fn connect(vault: &Path) -> Option<UnixStream> {
    let socket = paths::socket_for(vault, false).ok()?;
    UnixStream::connect(socket).ok()
}

/// Sends one request; None when no agent answered with a well-formed frame.
pub fn call(vault: &Path, op: Op, timeout: Duration) -> Option<Response> {
    let mut stream = connect(vault)?;
    call_on(&mut stream, op, timeout)
}

pub fn call_on(stream: &mut UnixStream, op: Op, timeout: Duration) -> Option<Response> {
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(QUICK_TIMEOUT)).ok()?;
    protocol::write_frame(stream, &Request::new(op)).ok()?;
    let body = protocol::read_frame(stream).ok()?;
    let versioned: Versioned = serde_json::from_slice(&body).ok()?;
    if versioned.v != Some(u64::from(VERSION)) {
        return None;
    }
    serde_json::from_slice(&body).ok()
}

/// A fresh token and the grant from the vault's agent. `Ok(None)`: no usable agent (none
/// running, stale, another version): open the vault instead. `Err`: the agent's refresh
/// failed, with the exit code it carries (4 refused grant, 5 network).
pub fn minted(global: &Global, long_lived: bool) -> Result<Option<Minted>> {
    let Some(response) = call(&global.vault, Op::Token { long_lived }, TOKEN_TIMEOUT) else {
        return Ok(None);
    };
    if let Some(e) = response.error {
        return match e.kind.as_str() {
            "grant" | "network" => Err(e.into_error()),
            _ => Ok(None),
        };
    }
    let Some(grant) = response.grant else {
        return Ok(None);
    };
    let header = format::read_header(&store::read(&global.vault)?)?;
    if global.verbose > 0 {
        eprintln!("ttvault: using the agent that holds the vault open");
    }
    if grant.unsaved_refresh_token {
        save_rotated(global, long_lived.then_some(&grant.payload.refresh_token));
    }
    Ok(Some(Minted {
        opened: Opened {
            path: global.vault.clone(),
            payload: grant.payload,
            header,
            passphrase: None,
        },
        access_token: grant.access_token,
        expires_at: UNIX_EPOCH + Duration::from_secs(grant.expires_at),
    }))
}

/// The token endpoint rotated the refresh token while the agent held the vault. The agent
/// has no passphrase, so a client that can open the vault (passphrase source, identity,
/// or a terminal) writes the new token in and tells the agent; otherwise it says so.
/// Returns whether it was saved.
pub fn save_rotated(global: &Global, known: Option<&RefreshToken>) -> bool {
    let fetched;
    let new = match known {
        Some(t) => t,
        None => {
            let grant = call(&global.vault, Op::Token { long_lived: true }, TOKEN_TIMEOUT)
                .and_then(|r| r.grant);
            match grant {
                Some(g) => {
                    fetched = g.payload.refresh_token;
                    &fetched
                }
                None => return false,
            }
        }
    };
    let saved = vault::update(global, None, |o| {
        o.payload.refresh_token = new.clone();
        Ok(((), vault::keep_passphrase(global, o)?))
    });
    match saved {
        Ok(()) => {
            let _ = call(&global.vault, Op::Saved, QUICK_TIMEOUT);
            if global.verbose > 0 {
                eprintln!("ttvault: saved the agent's new refresh token in the vault");
            }
            true
        }
        Err(e) => {
            eprintln!(
                "ttvault: warning: the token endpoint issued a new refresh token that only the agent holds ({})",
                e.message
            );
            eprintln!(
                "  hint: run any command with the passphrase (e.g. `ttvault token --passphrase-file F`) or `ttvault unlock` before the agent ends, or the grant is lost"
            );
            false
        }
    }
}
