//! `ttvault export`: the same variables as `exec`, printed for a shell or a file.

use crate::cli::{ExportArgs, Global};
use crate::error::{Error, Result};
use crate::shell;
use std::io::{IsTerminal, Write};

pub fn run(global: &Global, args: &ExportArgs) -> Result<i32> {
    if args.long_lived && !args.reveal && std::io::stdout().is_terminal() {
        return Err(Error::usage(
            "refusing to print the client secret and refresh token to a terminal",
        )
        .hint(
            "they would stay in the scrollback; redirect to a file or a pipe, or pass --reveal",
        ));
    }
    let minted = crate::agent::minted(global, args.long_lived)?;
    let vars = minted.variables(args.preset, args.long_lived);
    let text = shell::render(args.format, &vars)?;
    write_stdout(text.as_bytes())?;
    Ok(0)
}

/// Writes to stdout; a closed pipe (`ttvault export | head -1`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::failure(format!("cannot write to stdout: {e}"))),
    }
}
