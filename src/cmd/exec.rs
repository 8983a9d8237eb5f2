//! `ttvault exec -- CMD [ARGS…]`: run a program with fresh credentials in its environment.
//! On Unix ttvault becomes the program (exec), so its signals and exit status are the
//! program's own; elsewhere it waits for the program and returns its status.

use super::Context;
use crate::cli::ExecArgs;
use crate::env;
use crate::error::Result;
use crate::output;
use crate::session::{self, Secrets};
use std::process::Command;

pub fn run(ctx: &Context, args: &ExecArgs) -> Result<i32> {
    let secrets = if args.long_lived {
        Secrets::Included
    } else {
        Secrets::Withheld
    };
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(crate::Error::usage("exec needs a program to run")
            .hint("ttvault exec -- PROGRAM [ARGS…]"));
    };
    // Before any prompt, KDF or token refresh: a mistyped name costs nothing (127 at once).
    if crate::spawn::find_program(program).is_none() {
        return Ok(not_started(
            &program.to_string_lossy(),
            &std::io::ErrorKind::NotFound.into(),
        ));
    }
    let session = session::open(&ctx.vault, secrets)?;
    let vars = session.variables(args.preset.into());
    drop(session);
    let mut command = crate::spawn::command(program);
    command.args(program_args);
    for name in env::ALL_NAMES {
        command.env_remove(name);
    }
    for var in &vars {
        command.env(var.name, var.value.as_str());
    }
    let names: Vec<&str> = vars.iter().map(|v| v.name).collect();
    ctx.vault.report.detail(&format!(
        "running {} with {}",
        program.to_string_lossy(),
        names.join(", ")
    ));
    Ok(launch(command, &program.to_string_lossy()))
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
fn not_started(program: &str, err: &std::io::Error) -> i32 {
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
