//! The agent: `ttvault agent --ttl D [--idle D]`, started by `unlock`, never by hand.
//!
//! It hardens itself first (not dumpable, no core files), reads the grant from its stdin
//! pipe into locked memory, binds the vault's socket, says `ready` on its stdout pipe and
//! serves until the TTL runs out, the idle limit passes, `lock` asks, the vault file
//! changes, or its socket is taken over by a newer agent. On the way out it removes its
//! socket (when still its own) and zeroizes what it held.

use super::paths::{self, VaultStamp};
use super::protocol::{
    self, ErrorKind, GrantReply, Handoff, InfoReply, Op, Reply, ReplyFrame, RequestFrame,
    Versioned, WireError, VERSION,
};
use super::state::{self, State};
use crate::error::{Error, Result};
use crate::oauth::{self, Http};
use crate::vault::{GrantInfo, GrantSecrets};
use crate::want::Freshness;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;
use zeroize::Zeroizing;

/// How long a client may take to send one frame, and the agent to write one.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an abandoned refresh may take to return and wipe its copies at the end.
const CLEANUP: Duration = Duration::from_millis(500);
/// How often the agent checks its idle limit and that its socket is still its own.
const TICK: Duration = Duration::from_millis(250);

/// What the agent is started with (`ttvault --vault PATH agent --ttl D [--idle D]`).
pub struct Options {
    /// The vault, canonical (as `unlock` names it).
    pub vault: PathBuf,
    /// How long it serves at most, from now.
    pub ttl: Duration,
    /// How long it serves without a token request.
    pub idle: Option<Duration>,
    /// `unlock --long-lived`: hand the client secret and refresh token to whoever asks,
    /// whatever the vault recorded.
    pub long_lived: bool,
}

pub fn run(options: &Options) -> Result<i32> {
    crate::harden::harden_process();
    let mut out = std::io::stdout();
    match start(options) {
        Ok((state, listener, socket, http)) => {
            let note = if state.memory_locked() {
                "ready\n"
            } else {
                "ready mlock-failed\n"
            };
            let _ = out.write_all(note.as_bytes()).and_then(|_| out.flush());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::failure(format!("agent: no async runtime: {e}")))?;
            runtime.block_on(serve(Arc::clone(&state), listener, socket));
            // The TTL, the idle limit, `lock` or a signal decided: the agent ends now, not
            // when a refresh stuck on a slow endpoint gives up. The refresh is abandoned
            // (its exchange dropped at once), and its thread gets a moment to return and
            // drop its copies of the client secret and refresh token (zeroized on drop);
            // one still sleeping between retries is not waited for: the process exits and
            // takes it along. Tasks still holding the state are dropped; then the last
            // reference goes and the locked buffers are zeroized.
            http.cancel();
            runtime.shutdown_timeout(CLEANUP);
            drop(state);
            drop(http);
            Ok(0)
        }
        Err(e) => {
            let _ = writeln!(out, "error: {}", e.message);
            Err(e)
        }
    }
}

type Started = (
    Arc<State>,
    std::os::unix::net::UnixListener,
    (PathBuf, (u64, u64)),
    Arc<dyn Http + Send + Sync>,
);

fn start(options: &Options) -> Result<Started> {
    let bad = |what: &str| Error::failure(format!("agent: {what}"));
    // Unbuffered: std's stdin buffer would keep a copy of the grant that nobody zeroizes.
    use std::os::fd::AsFd;
    let no_grant = || bad("no grant on stdin (the agent is started by `ttvault unlock`)");
    let mut stdin = std::fs::File::from(
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|_| no_grant())?,
    );
    let body = protocol::read_frame(&mut stdin).map_err(|_| no_grant())?;
    drop(stdin);
    let handoff: Handoff =
        serde_json::from_slice(&body).map_err(|_| bad("the grant on stdin is malformed"))?;
    drop(body);
    if handoff.v != VERSION {
        return Err(bad("the grant on stdin has another protocol version"));
    }
    let stamp = VaultStamp::from_hex(&handoff.stamp).ok_or_else(|| bad("bad vault stamp"))?;
    let vault = paths::canonical_vault(&options.vault)?;
    let http: Arc<dyn Http + Send + Sync> = Arc::new(oauth::Client::new()?);
    let state = Arc::new(State::new(
        vault.clone(),
        &handoff.payload,
        stamp,
        options.ttl,
        options.idle,
        options.long_lived,
        Arc::clone(&http),
    ));
    drop(handoff);
    let socket = paths::socket_for(&vault, true)?;
    let listener = bind(&socket)?;
    let meta = std::fs::symlink_metadata(&socket)
        .map_err(|e| Error::io("inspect the agent socket", &socket, e))?;
    Ok((state, listener, (socket, (meta.dev(), meta.ino())), http))
}

/// Binds the socket, replacing a stale one (nobody answers on it) but never a live agent.
fn bind(socket: &Path) -> Result<std::os::unix::net::UnixListener> {
    if std::fs::symlink_metadata(socket).is_ok() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return Err(Error::failure("another agent already holds this vault")
                .hint("run `ttvault lock` first, or `ttvault unlock` again to replace it"));
        }
        std::fs::remove_file(socket)
            .map_err(|e| Error::io("remove the stale agent socket", socket, e))?;
    }
    let listener = std::os::unix::net::UnixListener::bind(socket)
        .map_err(|e| Error::io("listen on", socket, e))?;
    // The directory is already 0700; the socket itself is closed to others too.
    let _ = std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600));
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("listen on", socket, e))?;
    Ok(listener)
}

async fn serve(
    state: Arc<State>,
    listener: std::os::unix::net::UnixListener,
    (socket, id): (PathBuf, (u64, u64)),
) {
    let Ok(listener) = UnixListener::from_std(listener) else {
        return;
    };
    let shutdown = Arc::new(Notify::new());
    let mut tick = tokio::time::interval(TICK);
    // SIGTERM, SIGINT and SIGHUP end the agent like `lock` does (socket removed, memory
    // wiped) instead of leaving a stale socket behind.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let still_ours = |socket: &Path| {
        std::fs::symlink_metadata(socket)
            .map(|m| (m.dev(), m.ino()) == id)
            .unwrap_or(false)
    };
    let mut backoff = AcceptBackoff::default();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff.reset();
                    tokio::spawn(handle(stream, Arc::clone(&state), Arc::clone(&shutdown)));
                }
                // Out of descriptors (EMFILE, ENFILE), memory, or an aborted connection:
                // the connection stays queued and accept would fail again at once, so
                // wait before trying again instead of spinning.
                Err(_) => tokio::time::sleep(backoff.next()).await,
            },
            _ = tokio::time::sleep_until(state.deadline.into()) => break,
            _ = tick.tick() => {
                if state.idle_expired() || !still_ours(&socket) {
                    break;
                }
            }
            _ = shutdown.notified() => break,
            _ = arrives(&mut term) => break,
            _ = arrives(&mut int) => break,
            _ = arrives(&mut hup) => break,
        }
    }
    drop(listener);
    if still_ours(&socket) {
        let _ = std::fs::remove_file(&socket);
    }
}

/// The pause after a failed accept: doubling from 10 ms to at most 1 s, reset by the
/// next accepted connection.
#[derive(Default)]
struct AcceptBackoff {
    current: Option<Duration>,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self) -> Duration {
        let next = match self.current {
            None => Self::FIRST,
            Some(d) => (d * 2).min(Self::MAX),
        };
        self.current = Some(next);
        next
    }

    fn reset(&mut self) {
        self.current = None;
    }
}

/// Waits for a signal; forever when it could not be hooked.
async fn arrives(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// One connection: the peer must be our own uid; then frames until it closes, times out,
/// or sends something that breaks the framing.
async fn handle(mut stream: UnixStream, state: Arc<State>, shutdown: Arc<Notify>) {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == crate::harden::current_uid() => {}
        // Another user (or an unknown peer): close without a word.
        _ => return,
    }
    loop {
        let mut prefix = [0u8; 4];
        match tokio::time::timeout(IO_TIMEOUT, stream.read_exact(&mut prefix)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let Some(len) = protocol::frame_len(prefix) else {
            let e = WireError::new(ErrorKind::BadRequest, "frame too large");
            let _ = reply(&mut stream, &ReplyFrame::error(e)).await;
            return;
        };
        let mut body = Zeroizing::new(vec![0u8; len]);
        match tokio::time::timeout(IO_TIMEOUT, stream.read_exact(&mut body)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let (response, end) = answer(&body, &state, Instant::now()).await;
        let sent = reply(&mut stream, &response).await;
        if end {
            shutdown.notify_one();
            return;
        }
        if !sent {
            return;
        }
    }
}

async fn reply(stream: &mut UnixStream, response: &ReplyFrame) -> bool {
    let frame = protocol::encode(response);
    matches!(
        tokio::time::timeout(IO_TIMEOUT, stream.write_all(&frame)).await,
        Ok(Ok(()))
    )
}

/// The reply to one frame, and whether the agent should end after sending it.
async fn answer(body: &[u8], state: &State, arrival: Instant) -> (ReplyFrame, bool) {
    let bad = |m: &str| ReplyFrame::error(WireError::new(ErrorKind::BadRequest, m));
    let Ok(versioned) = serde_json::from_slice::<Versioned>(body) else {
        return (bad("not a JSON request"), false);
    };
    if versioned.v != Some(u64::from(VERSION)) {
        if versioned.op.as_deref() == Some("lock") {
            return (ReplyFrame::done(), true);
        }
        let e = WireError::new(
            ErrorKind::Version,
            format!("this agent speaks protocol version {VERSION}"),
        );
        return (ReplyFrame::error(e), false);
    }
    let Ok(request) = serde_json::from_slice::<RequestFrame>(body) else {
        return (bad("unknown request"), false);
    };
    match request.op {
        Op::Ping => (ReplyFrame::done(), false),
        Op::Lock => (ReplyFrame::done(), true),
        // Only after a rotation the agent asked for: the vault now holds the new refresh
        // token, so its current file is the agent's again. Otherwise it whitewashes nothing.
        Op::Saved if state.unsaved() => match state.saved() {
            Ok(()) => (ReplyFrame::done(), false),
            Err(e) => (ReplyFrame::error(e), false),
        },
        Op::Saved => (ReplyFrame::done(), false),
        // No secret in a status: a file opening would refuse does not hide the agent
        // (`status` and `lock` still see it); only a changed file ends it.
        Op::Status => match state.check_vault() {
            Err((e, true)) => (ReplyFrame::error(e), true),
            _ => (ReplyFrame::new(Reply::Status(state.status())), false),
        },
        Op::Token {
            secrets,
            fresh,
            min_ttl_secs,
        } => {
            if let Err((e, end)) = state.check_vault() {
                return (ReplyFrame::error(e), end);
            }
            if secrets && !state.long_lived() {
                return (ReplyFrame::error(withheld()), false);
            }
            let want = Freshness {
                min_ttl: Duration::from_secs(min_ttl_secs),
                fresh,
            };
            (grant_reply(state, arrival, want, secrets).await, false)
        }
        Op::Info { secrets } => {
            if let Err((e, end)) = state.check_vault() {
                return (ReplyFrame::error(e), end);
            }
            if secrets && !state.long_lived() {
                return (ReplyFrame::error(withheld()), false);
            }
            (info_reply(state, secrets), false)
        }
        Op::Rotated {
            vault_refresh_token,
        } => {
            if let Err((e, end)) = state.check_vault() {
                return (ReplyFrame::error(e), end);
            }
            // Only a client that has opened the vault knows the refresh token it holds.
            if !state.is_vault_refresh_token(&vault_refresh_token) {
                return (ReplyFrame::error(withheld()), false);
            }
            (
                grant_reply(state, arrival, Freshness::default(), true).await,
                false,
            )
        }
    }
}

/// The refusal of long-lived secrets (docs/AGENT.md, "Long-lived secrets").
fn withheld() -> WireError {
    let mut e = WireError::new(
        ErrorKind::Withheld,
        "the agent hands out access tokens only, not the client secret and refresh token",
    );
    e.hint = Some(WITHHELD_HINT.into());
    e
}

/// What to do when the agent withholds the long-lived secrets.
pub const WITHHELD_HINT: &str = "give the passphrase (--passphrase-file F, --passphrase-fd N, TTVAULT_PASSPHRASE or a terminal) or -i KEY so ttvault opens the vault itself, or run `ttvault unlock --long-lived` (or record the choice in the vault) to let the agent hand them out";

async fn grant_reply(
    state: &State,
    arrival: Instant,
    want: Freshness,
    secrets: bool,
) -> ReplyFrame {
    state.touch();
    let (access_token, expires_at) = match state.fresh_token(arrival, want).await {
        Ok(t) => t,
        Err(e) => return ReplyFrame::error(e),
    };
    let payload = match state.payload() {
        Ok(p) => p,
        Err(e) => return ReplyFrame::error(e),
    };
    let grant = GrantReply {
        grant: GrantInfo::of(&payload),
        secrets: secrets.then(|| GrantSecrets::of(&payload)),
        access_token,
        expires_at: state::unix_secs(expires_at),
        unsaved_refresh_token: state.unsaved(),
    };
    ReplyFrame::new(Reply::Grant(grant))
}

/// The grant's fields (and secrets when asked and allowed) without a token.
fn info_reply(state: &State, secrets: bool) -> ReplyFrame {
    state.touch();
    match state.payload() {
        Ok(payload) => ReplyFrame::new(Reply::Info(InfoReply {
            grant: GrantInfo::of(&payload),
            secrets: secrets.then(|| GrantSecrets::of(&payload)),
        })),
        Err(e) => ReplyFrame::error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::AcceptBackoff;
    use std::time::Duration;

    #[test]
    fn accept_failures_back_off_up_to_a_second_and_reset() {
        let mut b = AcceptBackoff::default();
        let waits: Vec<Duration> = (0..10).map(|_| b.next()).collect();
        assert_eq!(waits[0], Duration::from_millis(10));
        assert!(waits.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*waits.last().unwrap(), Duration::from_secs(1));
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(10));
    }
}
