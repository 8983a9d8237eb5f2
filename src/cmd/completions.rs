//! `ttvault completions SHELL` and the help `ttvault` alone prints: generated from the clap
//! definitions (`cli::command`), so they cannot drift from the real options.

use crate::cli;
use crate::error::Result;
use crate::output;

pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cli::command(), "ttvault", &mut out);
    output::stdout(&out)?;
    Ok(0)
}

/// The top-level help, on stdout (styled at a terminal, as `--help` is).
pub fn print_help() {
    let _ = cli::command().print_help();
}
