//! `ttvault export`: the same variables as `exec`, printed for a shell or a file.

use super::handout::{self, Choice};
use super::Context;
use crate::cli::{ExportArgs, ExportFormat};
use crate::env::Preset;
use crate::error::{Error, Result};
use crate::output;
use crate::shell;
use crate::want::Freshness;
use std::io::IsTerminal;

pub fn run(ctx: &Context, args: &ExportArgs) -> Result<i32> {
    let format = format_of(args.format, ctx.json)?;
    let to_terminal = !args.reveal && std::io::stdout().is_terminal();
    // `--long-lived` to a terminal is refused before anything is asked or sent.
    let refuse_terminal = |long: bool| {
        if long && to_terminal {
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
    let preset: Preset = args.preset.into();
    let mut choice = Choice::of(args.long_lived, args.short_lived);
    // Reading the vault's recorded choice takes the passphrase, so at a terminal it is
    // not waited for: a run that must be long-lived (tastyware's preset) is refused now,
    // any other is short-lived (a note says what was left out). No passphrase is ever
    // asked only to be refused.
    let recorded_only = choice == Choice::Unsaid && to_terminal && !preset.needs_long_lived();
    if choice == Choice::Unsaid && to_terminal {
        choice = if recorded_only {
            Choice::Short
        } else {
            Choice::Long
        };
    }
    let http = crate::oauth::Client::new()?;
    let session = handout::session(
        &mut ctx.grant(&http),
        choice,
        preset,
        Freshness::at_least(args.min_ttl),
        &refuse_terminal,
    )?;
    if recorded_only && session.grant.long_lived {
        ctx.vault.report.note(
            "the vault gives programs the client secret and refresh token too; they are not printed to a terminal (redirect to a file or a pipe, or pass --reveal)",
        );
    }
    let vars = session.variables(preset);
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
