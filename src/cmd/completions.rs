//! `ttvault completions SHELL` and the hidden `ttvault man`: both generated from the clap
//! definitions, so they cannot drift from the real options.

use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ttvault", &mut out);
    super::export::write_stdout(&out)?;
    Ok(0)
}

pub fn man() -> Result<i32> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::failure(format!("cannot render the man page: {e}")))?;
    super::export::write_stdout(&out)?;
    Ok(0)
}
