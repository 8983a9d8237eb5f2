//! One module per subcommand. Each is thin glue over the library modules.

mod api;
mod audit;
mod completions;
mod exec;
mod export;
mod grant;
mod import;
mod init;
mod lock;
mod passwd;
mod rotate;
pub mod show;
mod status;
mod token;
mod unlock;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};

pub fn dispatch(cli: Cli) -> Result<i32> {
    let global = &cli.global;
    let Some(command) = &cli.command else {
        return welcome(global);
    };
    match command {
        Command::Init(args) => init::run(global, args),
        Command::Rotate(args) => rotate::run(global, args),
        Command::Import(args) => import::run(global, args),
        Command::Passwd(args) => passwd::run(global, args),
        Command::Show => show::run(global),
        Command::Status => status::run(global),
        Command::Exec(args) => exec::run(global, args),
        Command::Export(args) => export::run(global, args),
        Command::Token => token::run(global),
        Command::Api(args) => api::run(global, args),
        Command::Audit(args) => audit::run(global, args),
        Command::Completions(args) => completions::completions(args.shell),
        Command::Man => completions::man(),
        Command::Unlock(args) => unlock::run(global, args),
        Command::Lock => lock::run(global),
        #[cfg(unix)]
        Command::Agent(args) => crate::agent::server::run(global, args),
        #[cfg(not(unix))]
        Command::Agent(_) => Err(Error::failure(
            "the agent is not available on this platform yet",
        )),
    }
}

/// `ttvault` alone. On a terminal without a vault: say what ttvault is and offer to run
/// `init`; with a vault: its status and the usual help. Without a terminal: the help
/// (and exit 2, as for any missing command).
fn welcome(global: &crate::cli::Global) -> Result<i32> {
    use clap::{CommandFactory, Parser};
    use std::io::{BufRead, IsTerminal, Write};
    let mut help = crate::cli::Cli::command();
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !terminal {
        let _ = help.print_help();
        return Ok(2);
    }
    if global.vault.exists() {
        let _ = status::run(global);
        println!();
        let _ = help.print_help();
        return Ok(0);
    }
    eprintln!(
        "ttvault keeps your Tastytrade API credentials in an encrypted file, {}.",
        global.vault.display()
    );
    eprintln!("There is none here yet: `ttvault init` creates it by signing in to Tastytrade in your browser.");
    eprint!("Start `ttvault init` now? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
        // The defaults of `ttvault init` with no options.
        let args = match crate::cli::Cli::try_parse_from(["ttvault", "init"]) {
            Ok(crate::cli::Cli {
                command: Some(Command::Init(args)),
                ..
            }) => args,
            _ => return Err(Error::failure("could not prepare `ttvault init`")),
        };
        return init::run(global, &args);
    }
    eprintln!("Nothing done. Run `ttvault --help` to see every command.");
    Ok(0)
}
