//! `ttvault exec -- CMD [ARGS…]`: run a program with fresh credentials in its environment.
//! On Unix ttvault becomes the program (exec), so its signals and exit status are the
//! program's own; elsewhere it waits for the program and returns its status.

use crate::cli::{ExecArgs, Global};
use crate::env;
use crate::error::Result;
use std::process::Command;

/// Variables that must never reach a child: ttvault's own secret inputs.
const NEVER_INHERITED: &[&str] = &[
    "TTVAULT_PASSPHRASE",
    "TTVAULT_NEW_PASSPHRASE",
    "TTVAULT_CLIENT_SECRET",
    "TTVAULT_REFRESH_TOKEN",
];

pub fn run(global: &Global, args: &ExecArgs) -> Result<i32> {
    let minted = crate::agent::minted(global, args.long_lived)?;
    let vars = minted.variables(args.preset, args.long_lived);
    let (program, program_args) = args.command.split_first().expect("clap requires CMD");
    let mut command = Command::new(program);
    command.args(program_args);
    for name in env::ALL_NAMES.iter().chain(NEVER_INHERITED) {
        command.env_remove(name);
    }
    for var in &vars {
        command.env(var.name, var.value.as_str());
    }
    if global.verbose > 0 {
        let names: Vec<&str> = vars.iter().map(|v| v.name).collect();
        eprintln!(
            "ttvault: running {} with {}",
            program.to_string_lossy(),
            names.join(", ")
        );
    }
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
            eprintln!("ttvault: cannot run `{program}`: no such program (check the name and PATH)");
            127
        }
        _ => {
            eprintln!("ttvault: cannot run `{program}`: {err} (is it executable?)");
            126
        }
    }
}
