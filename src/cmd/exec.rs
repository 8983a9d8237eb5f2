//! `ttvault exec -- CMD [ARGS…]`: run a program with fresh credentials in its environment;
//! without a program, `$SHELL`, marked with `TTVAULT_SHELL` (the vault's path, for a
//! prompt), inside which another `ttvault exec` is refused.
//! On Unix ttvault becomes the program (exec), so its signals and exit status are the
//! program's own; elsewhere, and with the broker (which lives in ttvault's process), it
//! runs the program as its child, forwards signals to it and returns its status.

use super::handout::{self, HandoutFlag};
use super::Context;
use crate::cli::ExecArgs;
use crate::env;
use crate::error::Result;
use crate::output;
use crate::vault::Handout;
use crate::want::Freshness;
use std::process::Command;

use crate::settings::SHELL_MARK;

pub fn run(ctx: &Context, args: &ExecArgs) -> Result<i32> {
    // A second exec inside the shell would stack credentials (perhaps of another vault)
    // over the ones the shell already holds, and outlive its `exit`.
    if let Some(outer) = &crate::settings::get().shell_mark {
        return Err(crate::Error::usage(format!(
            "this shell was started by `ttvault exec` for {} and holds its credentials already",
            std::path::Path::new(&outer).display()
        ))
        .hint("run the program here directly, or `exit` this shell first"));
    }
    let (program, program_args) = match args.command.split_first() {
        Some((program, rest)) => (program.clone(), rest),
        None => (user_shell(), &[][..]),
    };
    let is_shell = args.command.is_empty();
    // Before any prompt, KDF or token refresh: a mistyped name costs nothing (127 at once).
    if crate::spawn::find_program(&program).is_none() {
        return Ok(not_started(
            &program.to_string_lossy(),
            &std::io::ErrorKind::NotFound.into(),
        ));
    }
    let choice = HandoutFlag::of(args.long_lived, args.short_lived, args.broker);
    let trade_only_with_broker = |handout: Handout| {
        if args.allow_trade && handout != Handout::Broker {
            return Err(crate::Error::usage(
                "--allow-trade tells ttvault's broker to pass orders, and this run has no broker",
            )
            .hint("add --broker (or `ttvault set handout broker`)"));
        }
        Ok(())
    };
    let http = crate::oauth::Client::new()?;
    let run = handout::session(
        ctx.grant(&http),
        choice,
        args.preset.into(),
        Freshness::at_least(args.min_ttl),
        &trade_only_with_broker,
    )?;
    let broker = run.handout == Handout::Broker;
    let vars = if broker {
        Vec::new()
    } else {
        run.session.variables(args.preset.into())
    };
    let mut command = crate::spawn::command(&program);
    command.args(program_args);
    for name in env::ALL_NAMES {
        command.env_remove(name);
    }
    for var in &vars {
        command.env(var.name, var.value.as_str());
    }
    if is_shell {
        let vault = std::path::absolute(&ctx.vault.path).unwrap_or(ctx.vault.path.clone());
        command.env(SHELL_MARK, &vault);
        ctx.vault.report.note(&format!(
            "starting {} with the credentials of {} ({SHELL_MARK} is set); `exit` drops them",
            program.to_string_lossy(),
            vault.display()
        ));
    }
    let program = program.to_string_lossy();
    if broker {
        let plan = super::broker_run::Plan {
            session: run.session,
            opened: run.opened,
            preset: args.preset.into(),
            min_ttl: args.min_ttl,
            allow_trade: args.allow_trade,
            command,
            program: &program,
        };
        return super::broker_run::run(ctx, plan);
    }
    drop(run);
    let names: Vec<&str> = vars.iter().map(|v| v.name).collect();
    ctx.vault
        .report
        .detail(&format!("running {program} with {}", names.join(", ")));
    Ok(launch(command, &program))
}

#[cfg(unix)]
fn launch(mut command: Command, program: &str) -> i32 {
    use std::os::unix::process::CommandExt;
    // Only returns on failure.
    let err = command.exec();
    not_started(program, &err)
}

#[cfg(not(unix))]
fn launch(mut command: Command, program: &str) -> i32 {
    match command.status() {
        Ok(status) => status.code().unwrap_or(1),
        Err(err) => not_started(program, &err),
    }
}

/// 127 for a program that is not there, 126 for one that cannot run (as shells do).
pub fn not_started(program: &str, err: &std::io::Error) -> i32 {
    match err.kind() {
        std::io::ErrorKind::NotFound => {
            output::error(
                &crate::Error::failure(format!("cannot run `{program}`: no such program"))
                    .hint("check the name and PATH"),
            );
            127
        }
        _ => {
            output::error(
                &crate::Error::failure(format!("cannot run `{program}`: {err}"))
                    .hint("is it executable?"),
            );
            126
        }
    }
}

/// `$SHELL`, else `/bin/sh`.
fn user_shell() -> std::ffi::OsString {
    crate::settings::get()
        .shell
        .clone()
        .unwrap_or_else(|| "/bin/sh".into())
}
