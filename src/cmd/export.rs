//! `ttvault export`: the same variables as `exec`, printed for a shell or a file.

use super::Context;
use crate::cli::ExportArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::session::{self, Freshness, Secrets};
use crate::shell;
use std::io::IsTerminal;

pub fn run(ctx: &Context, args: &ExportArgs) -> Result<i32> {
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
    let session = session::open_with(&ctx.vault, secrets, Freshness::at_least(args.min_ttl))?;
    let vars = session.variables(args.preset.into());
    let text = shell::render(args.format.into(), &vars)?;
    output::stdout(text.as_bytes())?;
    Ok(0)
}
