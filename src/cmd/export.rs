//! `ttvault export`: the same variables as `exec`, printed for a shell or a file.

use super::Context;
use crate::cli::{ExportArgs, ExportFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::session::{self, Secrets};
use crate::shell;
use std::io::IsTerminal;

pub fn run(ctx: &Context, args: &ExportArgs) -> Result<i32> {
    let format = format_of(args.format, ctx.json)?;
    if args.long_lived && !args.reveal && std::io::stdout().is_terminal() {
        return Err(Error::usage(
            "refusing to print the client secret and refresh token to a terminal",
        )
        .hint(
            "they would stay in the scrollback; redirect to a file or a pipe, or pass --reveal",
        ));
    }
    let secrets = if args.long_lived {
        Secrets::Included
    } else {
        Secrets::Withheld
    };
    let session = session::open(&ctx.vault, secrets)?;
    let vars = session.variables(args.preset.into());
    let text = shell::render(format, &vars)?;
    output::stdout(text.as_bytes())?;
    Ok(0)
}

/// `--json` means `--format json`; with another `--format` it is a contradiction.
fn format_of(format: Option<ExportFormat>, json: bool) -> Result<shell::ExportFormat> {
    match (format, json) {
        (Some(f), true) if f != ExportFormat::Json => Err(Error::usage(
            "--json asks for JSON, --format for another format",
        )
        .hint("give one of them: --json is the same as --format json")),
        (Some(f), _) => Ok(f.into()),
        (None, true) => Ok(shell::ExportFormat::Json),
        (None, false) => Ok(shell::ExportFormat::Sh),
    }
}
