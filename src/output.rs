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

mod progress;

pub use progress::Activity;

use crate::error::{Error, Result};
use anstyle::{AnsiColor, Effects, Style};
use std::io::Write;

/// The marks' colours at a terminal (anstream drops them elsewhere, and honours NO_COLOR
/// and CLICOLOR_FORCE): red errors, yellow warnings, green ok, dim hints.
pub const ERROR_STYLE: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
pub const WARNING_STYLE: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
pub const OK_STYLE: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);
pub const NOTE_STYLE: Style = AnsiColor::Cyan.on_default();
pub const HINT_STYLE: Style = Style::new().effects(Effects::DIMMED);

/// `text` in `style`, for a line written through this module (stderr) or [`stdout`]; the
/// escape codes are removed where colour is off.
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The hint line under an error or warning.
fn hint_line(hint: &str) -> String {
    paint(HINT_STYLE, &format!("  hint: {hint}"))
}

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
    let first = format!("ttvault: {} {}", paint(ERROR_STYLE, "error:"), err.message);
    match &err.hint {
        Some(hint) => write_lines(&[&first, &hint_line(hint)]),
        None => write_lines(&[&first]),
    }
}

pub fn warning(message: &str, hint: Option<&str>) {
    let first = format!("ttvault: {} {message}", paint(WARNING_STYLE, "warning:"));
    match hint {
        Some(hint) => write_lines(&[&first, &hint_line(hint)]),
        None => write_lines(&[&first]),
    }
}

pub fn note(message: &str) {
    write_lines(&[&format!(
        "ttvault: {} {message}",
        paint(NOTE_STYLE, "note:")
    )]);
}

/// A line of the conversation with the person (questions, "waiting for the browser…"),
/// on stderr so that stdout stays the command's report.
pub fn say(message: &str) {
    write_lines(&[message]);
}

/// A question's label on stderr, the answer typed after it on the same line.
pub fn prompt(label: &str) {
    progress::clear();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(label.as_bytes()).and_then(|_| err.flush());
}

/// Ends any spinner now, before a prompt is shown.
pub fn clear_activity() {
    progress::clear();
}

/// One line of a report on stdout (colour from [`paint`] kept only where stdout takes it).
/// A closed stdout (`ttvault status | head -1`) is found here, by the write's error, and
/// is no failure: the reader has gone, the rest of the report is not wanted.
pub fn line(text: &str) -> Result<()> {
    let mut text = text.to_string();
    text.push('\n');
    stdout_styled(&text)
}

/// `println!` for the command layer's reports, through [`line`]: `outln!("…", args)?`.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::line("")
    };
    ($($arg:tt)*) => {
        $crate::output::line(&format!($($arg)*))
    };
}

/// A JSON report on stdout.
pub fn json(doc: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    stdout(text.as_bytes())
}

/// Writes to stdout byte for byte; a closed pipe (`ttvault export | head -1`) is not an
/// error.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    write_stdout(std::io::stdout().lock(), bytes)
}

/// A report's text on stdout with colour from [`paint`], kept only where stdout is a
/// terminal that takes it (NO_COLOR, CLICOLOR_FORCE honoured). Never for data a program
/// reads (variables, tokens, JSON): those go through [`stdout`] untouched.
pub fn stdout_styled(text: &str) -> Result<()> {
    write_stdout(anstream::stdout().lock(), text.as_bytes())
}

fn write_stdout(mut out: impl Write, bytes: &[u8]) -> Result<()> {
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
    progress::suspended(|| {
        let mut err = anstream::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
    });
}
