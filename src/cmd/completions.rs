//! `ttvault completions SHELL`, the hidden `ttvault man`, and the help `ttvault` alone
//! prints: all generated from the clap definitions, so they cannot drift from the real
//! options.

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::output;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ttvault", &mut out);
    output::stdout(&out)?;
    Ok(0)
}

pub fn man() -> Result<i32> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::failure(format!("cannot render the man page: {e}")))?;
    output::stdout(&out)?;
    Ok(0)
}

/// The top-level help, on stdout (styled at a terminal, as `--help` is).
pub fn print_help() {
    let _ = Cli::command().print_help();
}
