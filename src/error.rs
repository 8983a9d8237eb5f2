//! One error type for the whole crate: what went wrong, what to do about it, and the
//! documented exit status (see README "Exit status"). Messages never carry secrets:
//! constructors take only text the caller wrote, never a value read from the vault.

use std::fmt;

/// The exit statuses of the command-line contract (README "Exit status").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// 1: any other failure.
    Failure = 1,
    /// 2: bad usage.
    Usage = 2,
    /// 3: the vault could not be opened (passphrase, identity, damage, permissions).
    Vault = 3,
    /// 4: Tastytrade refused the grant (`invalid_grant`).
    Grant = 4,
    /// 5: Tastytrade or the configured endpoint is unreachable or answered nonsense.
    Network = 5,
    /// 6: `audit --strict` found a warning.
    AuditWarning = 6,
}

#[derive(Debug)]
pub struct Error {
    pub code: Code,
    /// What happened, in one sentence.
    pub message: String,
    /// What to do next, when there is something to do.
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: None,
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Code::Failure, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }
    pub fn vault(message: impl Into<String>) -> Self {
        Self::new(Code::Vault, message)
    }
    pub fn grant(message: impl Into<String>) -> Self {
        Self::new(Code::Grant, message)
    }
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(Code::Network, message)
    }
    /// Adds (or replaces) the "what to do" line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// An I/O error on `path`, with the operation that failed.
    pub fn io(action: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        Self::failure(format!("could not {action} {}: {err}", path.display()))
    }
    pub fn exit_code(&self) -> i32 {
        self.code as i32
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
