//! One module per subcommand. Each is thin glue over the library modules.

mod audit;
mod completions;
mod exec;
mod export;
mod import;
mod lock;
mod passwd;
pub mod show;
mod status;
mod token;
mod unlock;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};

pub fn dispatch(cli: Cli) -> Result<i32> {
    let global = &cli.global;
    let Some(command) = &cli.command else {
        return Err(Error::usage("no command given").hint("run `ttvault --help`"));
    };
    match command {
        Command::Import(args) => import::run(global, args),
        Command::Passwd(args) => passwd::run(global, args),
        Command::Show => show::run(global),
        Command::Status => status::run(global),
        Command::Exec(args) => exec::run(global, args),
        Command::Export(args) => export::run(global, args),
        Command::Token => token::run(global),
        Command::Audit(args) => audit::run(global, args),
        Command::Completions(args) => completions::completions(args.shell),
        Command::Man => completions::man(),
        Command::Unlock(args) => unlock::run(global, args),
        Command::Lock => lock::run(global),
        #[cfg(unix)]
        Command::Agent(args) => crate::agent::server::run(global, args),
        other => Err(Error::failure(format!(
            "`{}` is not available in this build yet",
            command_name(other)
        ))),
    }
}

fn command_name(command: &Command) -> String {
    format!("{command:?}")
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_lowercase()
}
