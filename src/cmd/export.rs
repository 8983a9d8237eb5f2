//! `ttvault export`: the same variables as `exec`, printed for a shell or a file.

use super::handout::{self, HandoutFlag};
use super::Context;
use crate::cli::{ExportArgs, ExportFormat};
use crate::env::Preset;
use crate::error::{Error, Result};
use crate::output;
use crate::shell;
use crate::vault::Handout;
use crate::want::Freshness;
use std::io::IsTerminal;

pub fn run(ctx: &Context, args: &ExportArgs) -> Result<i32> {
    let format = format_of(args.format, ctx.json)?;
    let to_terminal = !args.reveal && std::io::stdout().is_terminal();
    let preset: Preset = args.preset.into();
    // Checked as soon as the run's hand-out is known (the flag, or the vault's recorded
    // choice), before any token is asked for; long-lived to a terminal is refused.
    let refuse = |handout: Handout| {
        // The broker lives only as long as the program `exec` runs: printed variables get
        // the access token alone, so a program that needs more cannot use them.
        if handout == Handout::Broker && preset.needs_long_lived() {
            return Err(Error::usage(
                "the vault hands this preset's programs to ttvault's broker, which only `exec` runs",
            )
            .hint("run the program with `ttvault exec --preset tastyware -- PROGRAM`"));
        }
        if handout == Handout::LongLived && to_terminal {
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
    let mut choice = HandoutFlag::of(args.long_lived, args.short_lived, false);
    // Reading the vault's recorded choice takes the passphrase, so at a terminal it is
    // not waited for: a run that must be long-lived (tastyware's preset) is refused now,
    // any other is short-lived (a note says what was left out). No passphrase is ever
    // asked only to be refused.
    let recorded_only = choice == HandoutFlag::Unsaid && to_terminal && !preset.needs_long_lived();
    if choice == HandoutFlag::Unsaid && to_terminal {
        choice = HandoutFlag::Said(if recorded_only {
            Handout::Tokens
        } else {
            Handout::LongLived
        });
    }
    let http = crate::oauth::Client::new()?;
    let run = handout::session(
        ctx.grant(&http),
        choice,
        preset,
        Freshness::at_least(args.min_ttl),
        &refuse,
    )?;
    if recorded_only && run.session.grant.handout == Handout::LongLived {
        ctx.vault.report.note(
            "the vault gives programs the client secret and refresh token too; they are not printed to a terminal (redirect to a file or a pipe, or pass --reveal)",
        );
    }
    let vars = run.session.variables(preset);
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
