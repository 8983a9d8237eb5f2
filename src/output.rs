//! The words a person reads on stderr, printed in one place with one prefix style:
//!
//! ```text
//! ttvault: error: <what happened>
//!   hint: <what to do>
//! ttvault: warning: <something to act on>
//! ttvault: note: <worth knowing, nothing to do>
//! ttvault: <what happens, step by step>        (with -v only)
//! ```
//!
//! Library code never prints: it reports through a [`Reporter`] that the command passes
//! in (inside its `VaultRef`), and returns errors that `main` prints with [`error`]. Reports
//! (the JSON and the lines a command prints on stdout) go through [`stdout`].

use crate::error::{Error, Result};
use std::io::Write;

/// Where library code sends what a person should read while a command runs.
pub trait Reporter: Send + Sync {
    /// Something the person should act on; `hint` says how.
    fn warning(&self, message: &str, hint: Option<&str>);
    /// Worth knowing; nothing to do.
    fn note(&self, message: &str);
    /// What happens, step by step: shown with `-v` only. Never a secret.
    fn detail(&self, message: &str);
}

/// The terminal's stderr, with the verbosity of `-v`.
pub struct Stderr {
    verbosity: u8,
}

impl Stderr {
    pub fn new(verbosity: u8) -> Self {
        Stderr { verbosity }
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity > 0
    }
}

impl Reporter for Stderr {
    fn warning(&self, message: &str, hint: Option<&str>) {
        warning(message, hint);
    }
    fn note(&self, message: &str) {
        note(message);
    }
    fn detail(&self, message: &str) {
        if self.is_verbose() {
            write_lines(&[&format!("ttvault: {message}")]);
        }
    }
}

/// Drops every report (library tests, and the agent, whose stderr goes nowhere).
pub struct Quiet;

impl Reporter for Quiet {
    fn warning(&self, _: &str, _: Option<&str>) {}
    fn note(&self, _: &str) {}
    fn detail(&self, _: &str) {}
}

/// An error that ends the command, with its hint.
pub fn error(err: &Error) {
    let first = format!("ttvault: error: {}", err.message);
    match &err.hint {
        Some(hint) => write_lines(&[&first, &format!("  hint: {hint}")]),
        None => write_lines(&[&first]),
    }
}

pub fn warning(message: &str, hint: Option<&str>) {
    let first = format!("ttvault: warning: {message}");
    match hint {
        Some(hint) => write_lines(&[&first, &format!("  hint: {hint}")]),
        None => write_lines(&[&first]),
    }
}

pub fn note(message: &str) {
    write_lines(&[&format!("ttvault: note: {message}")]);
}

/// A line of the conversation with the person (questions, "waiting for the browser…"),
/// on stderr so that stdout stays the command's report.
pub fn say(message: &str) {
    write_lines(&[message]);
}

/// A question's label on stderr, the answer typed after it on the same line.
pub fn prompt(label: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(label.as_bytes()).and_then(|_| err.flush());
}

/// A JSON report on stdout.
pub fn json(doc: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    stdout(text.as_bytes())
}

/// Writes to stdout; a closed pipe (`ttvault export | head -1`) is not an error.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::failure(format!("cannot write to stdout: {e}"))),
    }
}

/// Whole lines in one locked write, so lines of concurrent reports do not interleave.
fn write_lines(lines: &[&str]) {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
}
