//! What can go wrong in the loopback flow, as values: the command layer decides what to
//! advise (it knows which option the user passed), the pages show the message alone.

use crate::error::Code;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Why a redirect URI cannot be served by ttvault's loopback server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UriProblem {
    /// Not a URL at all (the parser's reason).
    NotAUrl(String),
    /// Not plain `http`.
    NotHttp,
    /// Not `localhost`, `127.0.0.1` or `[::1]`.
    NotLoopback,
    QueryOrFragment,
    UserInfo,
}

/// A loopback flow that could not start or did not end with a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopbackError {
    /// The redirect URI (`--redirect-uri` or the vault's) cannot be served here.
    RedirectUri { uri: String, problem: UriProblem },
    /// Another program listens on the redirect URI's port (on 127.0.0.1 or ::1).
    PortInUse { port: u16 },
    /// Listening failed for another reason.
    Listen { address: SocketAddr, reason: String },
    /// A listener stopped accepting connections for good: the port may be free for
    /// another program, so the flow ends at once rather than wait for a callback that
    /// could go elsewhere.
    ListenerDied { address: SocketAddr, reason: String },
    /// `--timeout` passed without the callback.
    TimedOut(Duration),
    /// The user declined on the authorize page (`error=access_denied`).
    Declined,
    /// The authorize page answered with another error (sanitized code and description).
    AuthorizeError {
        code: String,
        description: Option<String>,
    },
    /// A callback with the right state but no code.
    NoCode,
    /// The one-time start page was loaded a second time: its address got out (a copy,
    /// another user), so the flow ends before anyone can use what it leads to.
    StartReused,
    /// `wait` was called a second time.
    Finished,
}

impl LoopbackError {
    /// The exit status (docs/OAUTH.md "Errors and exit statuses").
    pub fn code(&self) -> Code {
        match self {
            LoopbackError::RedirectUri { .. } => Code::Usage,
            LoopbackError::NoCode => Code::Network,
            LoopbackError::PortInUse { .. }
            | LoopbackError::Listen { .. }
            | LoopbackError::ListenerDied { .. }
            | LoopbackError::TimedOut(_)
            | LoopbackError::Declined
            | LoopbackError::AuthorizeError { .. }
            | LoopbackError::StartReused
            | LoopbackError::Finished => Code::Failure,
        }
    }
}

impl fmt::Display for LoopbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopbackError::RedirectUri { uri, problem } => match problem {
                UriProblem::NotAUrl(why) => {
                    write!(f, "the redirect URI `{uri}` is not a URL: {why}")
                }
                UriProblem::NotHttp => write!(
                    f,
                    "the redirect URI `{uri}` must use http://: ttvault's local server answers \
                     it, and it speaks plain http on this computer only"
                ),
                UriProblem::NotLoopback => write!(
                    f,
                    "the redirect URI `{uri}` does not point at this computer (localhost)"
                ),
                UriProblem::QueryOrFragment => write!(
                    f,
                    "the redirect URI `{uri}` has a query or fragment, which ttvault does not \
                     support"
                ),
                UriProblem::UserInfo => write!(f, "the redirect URI `{uri}` carries a user name"),
            },
            LoopbackError::PortInUse { port } => write!(
                f,
                "port {port} on this computer is already in use by another program"
            ),
            LoopbackError::Listen { address, reason } => {
                write!(f, "could not listen on {address}: {reason}")
            }
            LoopbackError::ListenerDied { address, reason } => write!(
                f,
                "the local server stopped listening on {address} ({reason}); nothing was written"
            ),
            LoopbackError::TimedOut(timeout) => write!(
                f,
                "no answer from the browser within {}; nothing was written",
                humantime::format_duration(*timeout)
            ),
            LoopbackError::Declined => write!(
                f,
                "the authorization was declined in the browser (access_denied)"
            ),
            LoopbackError::AuthorizeError { code, description } => {
                write!(
                    f,
                    "Tastytrade's authorize page answered with an error: `{code}`"
                )?;
                match description {
                    Some(d) => write!(f, ": {d}"),
                    None => Ok(()),
                }
            }
            LoopbackError::NoCode => write!(
                f,
                "the authorize page answered without an authorization code"
            ),
            LoopbackError::StartReused => write!(
                f,
                "the one-time start address was opened a second time; ttvault stopped the \
                 sign-in there, and nothing was written"
            ),
            LoopbackError::Finished => write!(f, "the local server has already finished"),
        }
    }
}

impl std::error::Error for LoopbackError {}
