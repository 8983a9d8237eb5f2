//! The client side: blocking std `UnixStream`, one request per connection. Anything that
//! goes wrong on the way (no socket, connection refused, a closed connection, a reply
//! that is not a frame, another protocol version) means "no agent", and the caller opens
//! the vault itself.

use super::protocol::{
    self, ErrorKind, GrantReply, InfoReply, Op, Reply, ReplyFrame, RequestFrame, StatusReply,
    Versioned, WireError, VERSION,
};
use super::{limits, paths, AgentAnswer, Served};
use crate::error::{Error, Result};
use crate::secret::RefreshToken;
use crate::vault::VaultRef;
use crate::want::{Freshness, Secrets};
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
    protocol::write_frame(stream, &RequestFrame::new(op)).ok()?;
    let body = protocol::read_frame(stream).ok()?;
    let Ok(versioned) = serde_json::from_slice::<Versioned>(&body) else {
        return Some(None);
    };
    if versioned.v != Some(u64::from(VERSION)) {
        return Some(None);
    }
    Some(
        serde_json::from_slice::<ReplyFrame>(&body)
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
        Reply::Done | Reply::Grant(_) | Reply::Info(_) => None,
    }
}

/// A token from the vault's agent. `NoAgent`: none running, stale, another version:
/// open the vault instead. `Withheld`: long-lived secrets asked of an agent that does not
/// hand them out. `Err`: the agent's refresh failed (4 refused grant, 5 network), the
/// vault file is one opening would refuse (3), or the floor cannot be met (2).
pub fn token(vault: &VaultRef, secrets: Secrets, want: Freshness) -> Result<AgentAnswer<Served>> {
    let op = Op::Token {
        secrets: secrets == Secrets::Included,
        fresh: want.fresh,
        min_ttl_secs: want.min_ttl.as_secs(),
    };
    answer(vault, op, TOKEN_TIMEOUT, |reply| match reply {
        Reply::Grant(g) => Some(Served {
            // An instant past what a date can show counts as already expired.
            expires_at: limits::from_unix_secs(g.expires_at).unwrap_or(UNIX_EPOCH),
            grant: g.grant,
            secrets: g.secrets,
            access_token: g.access_token,
            unsaved_refresh_token: g.unsaved_refresh_token,
        }),
        _ => None,
    })
}

/// The grant's fields (and secrets when asked) without a token; answered like [`token`].
pub fn info(vault: &VaultRef, secrets: Secrets) -> Result<AgentAnswer<InfoReply>> {
    let op = Op::Info {
        secrets: secrets == Secrets::Included,
    };
    answer(vault, op, QUICK_TIMEOUT, |reply| match reply {
        Reply::Info(i) => Some(i),
        _ => None,
    })
}

/// One request whose reply `served` picks; the agent's errors sorted as [`token`] says.
fn answer<T>(
    vault: &VaultRef,
    op: Op,
    timeout: Duration,
    served: impl FnOnce(Reply) -> Option<T>,
) -> Result<AgentAnswer<T>> {
    let reply = connect(&vault.path).map(|mut stream| {
        let reply = exchange(&mut stream, op, timeout);
        if reply.is_none() {
            // It took the request and ended (lock, TTL, a signal) or stopped answering
            // before it replied, typically during a refresh: say so, rather than fall back
            // to the passphrase without a word.
            vault.report.warning(
                "the agent ended or stopped answering before it answered; opening the vault here",
                None,
            );
        }
        reply.flatten()
    });
    match reply.flatten() {
        Some(Reply::Error(e)) if e.kind == ErrorKind::Withheld => {
            Ok(AgentAnswer::Withheld(e.into_error()))
        }
        Some(Reply::Error(e))
            if matches!(
                e.kind,
                ErrorKind::Grant | ErrorKind::Network | ErrorKind::Vault | ErrorKind::Usage
            ) =>
        {
            Err(e.into_error())
        }
        Some(reply) => match served(reply) {
            Some(t) => {
                vault
                    .report
                    .detail("using the agent that holds the vault open");
                Ok(AgentAnswer::Served(Box::new(t)))
            }
            None => Ok(AgentAnswer::NoAgent),
        },
        None => {
            // An agent directory that is there but not trusted is someone's doing: say so,
            // or the prompt that follows would come without a reason.
            if let Some(e) = paths::refused_dir() {
                vault.report.warning(
                    &format!("not asking an agent: {}", e.message),
                    e.hint.as_deref(),
                );
            }
            Ok(AgentAnswer::NoAgent)
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
