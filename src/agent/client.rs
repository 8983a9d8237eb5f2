//! The client side: blocking std `UnixStream`, one request per connection. Anything that
//! goes wrong on the way (no socket, connection refused, a closed connection, a reply
//! that is not a frame, another protocol version) means "no agent", and the caller opens
//! the vault itself.

use super::protocol::{
    self, ErrorKind, GrantReply, Op, Reply, Request, Response, StatusReply, Versioned, WireError,
    VERSION,
};
use super::{limits, paths, Answer};
use crate::error::{Error, Result};
use crate::secret::RefreshToken;
use crate::session::{Freshness, Secrets, Session};
use crate::vault::VaultRef;
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

/// Sends one request; None when no agent answered with a well-formed frame of our version.
pub fn call(vault: &Path, op: Op, timeout: Duration) -> Option<Reply> {
    let mut stream = connect(vault)?;
    call_on(&mut stream, op, timeout)
}

pub fn call_on(stream: &mut UnixStream, op: Op, timeout: Duration) -> Option<Reply> {
    exchange(stream, op, timeout).flatten()
}

/// One request and its reply frame. None: no frame came back (the connection closed or
/// timed out); `Some(None)`: a frame that is not a reply of our version.
fn exchange(stream: &mut UnixStream, op: Op, timeout: Duration) -> Option<Option<Reply>> {
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(QUICK_TIMEOUT)).ok()?;
    protocol::write_frame(stream, &Request::new(op)).ok()?;
    let body = protocol::read_frame(stream).ok()?;
    let Ok(versioned) = serde_json::from_slice::<Versioned>(&body) else {
        return Some(None);
    };
    if versioned.v != Some(u64::from(VERSION)) {
        return Some(None);
    }
    Some(
        serde_json::from_slice::<Response>(&body)
            .ok()
            .map(|r| r.reply),
    )
}

/// What the vault's agent says about itself: None when no agent answers; an error when
/// one answered but cannot serve (a changed vault file: it has ended).
pub fn status(vault: &Path) -> Option<Result<StatusReply, WireError>> {
    match call(vault, Op::Status, QUICK_TIMEOUT)? {
        Reply::Status(s) => Some(Ok(s)),
        Reply::Error(e) => Some(Err(e)),
        Reply::Done | Reply::Grant(_) => None,
    }
}

/// A session from the vault's agent. `NoAgent`: none running, stale, another version:
/// open the vault instead. `Withheld`: long-lived secrets asked of an agent that does not
/// hand them out. `Err`: the agent's refresh failed (4 refused grant, 5 network), the
/// vault file is one opening would refuse (3), or the floor cannot be met (2).
pub fn session(vault: &VaultRef, secrets: Secrets, want: Freshness) -> Result<Answer> {
    let op = Op::Token {
        secrets: secrets == Secrets::Included,
        fresh: want.fresh,
        min_ttl_secs: want.min_ttl.as_secs(),
    };
    let reply = connect(&vault.path).map(|mut stream| {
        let reply = exchange(&mut stream, op, TOKEN_TIMEOUT);
        if reply.is_none() {
            // It took the request and ended (lock, TTL, a signal) or stopped answering
            // before it replied, typically during a refresh: say so, rather than fall back
            // to the passphrase without a word.
            vault.report.warning(
                "the agent ended or stopped answering before it handed out a token; opening the vault here",
                None,
            );
        }
        reply.flatten()
    });
    match reply.flatten() {
        Some(Reply::Grant(g)) => {
            vault
                .report
                .detail("using the agent that holds the vault open");
            // An instant past what a date can show counts as already expired.
            let expires_at = limits::from_unix_secs(g.expires_at).unwrap_or(UNIX_EPOCH);
            Ok(Answer::Served(Box::new(Session::from_agent(
                g.grant,
                g.secrets,
                g.access_token,
                expires_at,
                g.unsaved_refresh_token,
            ))))
        }
        Some(Reply::Error(e)) if e.kind == ErrorKind::Withheld => {
            Ok(Answer::Withheld(e.into_error()))
        }
        Some(Reply::Error(e))
            if matches!(
                e.kind,
                ErrorKind::Grant | ErrorKind::Network | ErrorKind::Vault | ErrorKind::Usage
            ) =>
        {
            Err(e.into_error())
        }
        _ => {
            // An agent directory that is there but not trusted is someone's doing: say so,
            // or the prompt that follows would come without a reason.
            if let Some(e) = paths::refused_dir() {
                vault.report.warning(
                    &format!("not asking an agent: {}", e.message),
                    e.hint.as_deref(),
                );
            }
            Ok(Answer::NoAgent)
        }
    }
}

/// The refresh token the agent rotated, against the one the vault holds.
pub fn refresh_token(vault: &Path, vault_refresh_token: &RefreshToken) -> Result<RefreshToken> {
    let op = Op::Rotated {
        vault_refresh_token: vault_refresh_token.clone(),
    };
    match call(vault, op, TOKEN_TIMEOUT) {
        Some(Reply::Grant(GrantReply {
            secrets: Some(s), ..
        })) => Ok(s.refresh_token),
        Some(Reply::Error(e)) => Err(e.into_error()),
        _ => Err(Error::failure(
            "the agent did not hand over its refresh token",
        )),
    }
}

/// Tells the agent its rotated refresh token is now in the vault.
pub fn refresh_token_saved(vault: &Path) {
    let _ = call(vault, Op::Saved, QUICK_TIMEOUT);
}

/// Asks the vault's agent to end and waits (briefly) until its socket is gone. Returns
/// whether an agent answered.
pub fn end(vault: &Path) -> bool {
    let answered = call(vault, Op::Lock, QUICK_TIMEOUT).is_some();
    let socket = paths::socket_for(vault, false).ok();
    for _ in 0..100 {
        match &socket {
            Some(s) if std::fs::symlink_metadata(s).is_ok() => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => break,
        }
    }
    answered
}
