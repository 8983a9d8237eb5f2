//! `ttvault export`: the same variables as `exec`, printed for a shell or a file.

use super::handout::{self, Choice};
use super::Context;
use crate::cli::{ExportArgs, ExportFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::session::Freshness;
use crate::shell;
use crate::vault::Handout;
use std::io::IsTerminal;

pub fn run(ctx: &Context, args: &ExportArgs) -> Result<i32> {
    let format = format_of(args.format, ctx.json)?;
    // Checked as soon as the run is known to be long-lived (the flag, or the vault's
    // recorded choice), before any token is asked for.
    let preset: crate::env::Preset = args.preset.into();
    let to_terminal = |handout: Handout| {
        // The broker lives only as long as the program `exec` runs: printed variables get
        // the access token alone, so a program that needs more cannot use them.
        if handout == Handout::Broker && preset.needs_long_lived() {
            return Err(Error::usage(
                "the vault hands this preset's programs to ttvault's broker, which only `exec` runs",
            )
            .hint("run the program with `ttvault exec --preset tastyware -- PROGRAM`"));
        }
        let long = handout == Handout::LongLived;
        if long && !args.reveal && std::io::stdout().is_terminal() {
            return Err(Error::usage(
                "refusing to print the client secret and refresh token to a terminal",
            )
            .hint(
                "they would stay in the scrollback; redirect to a file or a pipe, pass \
                 --reveal, or --short-lived for the access token alone",
            ));
        }
        Ok(())
    };
    let choice = Choice::of(args.long_lived, args.short_lived, false);
    let run = handout::session(
        &ctx.vault,
        choice,
        args.preset.into(),
        Freshness::at_least(args.min_ttl),
        &to_terminal,
    )?;
    let vars = run.session.variables(args.preset.into());
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
