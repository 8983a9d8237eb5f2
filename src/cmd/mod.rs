//! One module per subcommand, each thin glue over the library. Each command turns its
//! parsed arguments once into library inputs: the [`Context`] (the vault reference, output
//! mode) and its own options as library types. Commands never call one another; what two
//! of them share lives in the library, or in `grant` (the flow `init` and `rotate` share).

mod api;
mod audit;
mod broker_run;
mod completions;
mod credentials;
mod exec;
mod export;
mod grant;
mod grant_report;
mod grant_retry;
mod handout;
mod import;
mod init;
mod lock;
mod man;
mod passwd;
mod prompt_lock;
mod rotate;
mod set;
mod show;
mod shred;
mod status;
mod terminal_ui;
mod token;
pub(crate) mod tty;
mod unlock;
mod welcome;

use crate::cli::{Cli, Command, Global};
use crate::error::Result;
use crate::outln;
use crate::output;
use crate::session::GrantAccess;
use crate::vault::reference::Search;
use crate::vault::{UnlockSources, VaultRef};
use std::sync::Arc;

/// What every command gets from the global options.
pub struct Context {
    pub vault: VaultRef,
    /// `--json`: a machine-readable report on stdout.
    pub json: bool,
    /// `-v` (counted).
    pub verbosity: u8,
}

impl Context {
    fn of(global: &Global, search: Search) -> Self {
        if let Some(fd) = global.passphrase_fd {
            // Before anything is opened or started: no child inherits it, no file of ours
            // takes its number.
            crate::passphrase::claim_descriptor(fd);
        }
        let report = Arc::new(output::Stderr::new(global.verbose));
        Context {
            vault: VaultRef {
                path: VaultRef::locate(global.vault.as_deref(), search, &*report),
                unlock: UnlockSources {
                    passphrase_file: global.passphrase_file.clone(),
                    passphrase_fd: global.passphrase_fd,
                    identity: global.identity.clone(),
                },
                use_agent: !global.no_agent,
                report,
                ui: terminal_ui::detect(),
            },
            json: global.json,
            verbosity: global.verbose,
        }
    }
}

impl Context {
    /// The one way to this command's grant, built once per command (`session`).
    fn grant<'a>(&'a self, http: &'a dyn crate::oauth::Http) -> GrantAccess<'a> {
        GrantAccess::new(&self.vault, http)
    }
}

pub fn dispatch(cli: Cli) -> Result<i32> {
    // init and import write `./.secrets`; every other command finds the nearest vault.
    let search = match &cli.command {
        Some(Command::Init(_) | Command::Import(_)) => Search::Here,
        _ => Search::Up,
    };
    let ctx = Context::of(&cli.global, search);
    let Some(command) = &cli.command else {
        return match welcome::ask(&ctx) {
            welcome::Next::Help { code } => {
                completions::print_help();
                Ok(code)
            }
            welcome::Next::StatusAndHelp => {
                let _ = status::run(&ctx);
                outln!()?;
                completions::print_help();
                Ok(0)
            }
            welcome::Next::Init => init::run(&ctx, &Default::default()),
            welcome::Next::Nothing => Ok(0),
        };
    };
    if ctx.json {
        refuse_json_without_a_form(command)?;
    }
    match command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Rotate(args) => rotate::run(&ctx, args),
        Command::Import(args) => import::run(&ctx, args),
        Command::Passwd(args) => passwd::run(&ctx, args),
        Command::Show => show::run(&ctx),
        Command::Set(args) => set::run(&ctx, args),
        Command::Status(_) => status::run(&ctx),
        Command::Exec(args) => exec::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::Token(args) => token::run(&ctx, args),
        Command::Api(args) => api::run(&ctx, args),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::Completions(args) => completions::completions(args.shell),
        Command::Man(args) => man::run(args.command.as_deref()),
        Command::Unlock(args) => unlock::run(&ctx, args),
        Command::Lock(_) => lock::run(&ctx),
        #[cfg(unix)]
        Command::Agent(args) => crate::agent::server::run(&crate::agent::server::Options {
            vault: ctx.vault.path.clone(),
            ttl: args.ttl,
            idle: args.idle,
            long_lived: args.long_lived,
        }),
        #[cfg(not(unix))]
        Command::Agent(_) => Err(crate::Error::failure(
            "the agent is not available on this platform yet",
        )),
    }
}

/// `--json` is honoured by the commands that print a report (and `token`, `export`); the
/// others say so rather than print text where a script expects JSON.
fn refuse_json_without_a_form(command: &Command) -> Result<()> {
    let (name, hint) = match command {
        Command::Import(_) => ("import", "import prints a short summary"),
        Command::Passwd(_) => ("passwd", "passwd prints a one-line summary"),
        Command::Exec(_) => ("exec", "for the variables as JSON: `ttvault export --json`"),
        Command::Api(_) => (
            "api",
            "api prints the API's own JSON already; --jq filters it",
        ),
        Command::Completions(_) => ("completions", "completions prints a shell script"),
        Command::Man(_) => ("man", "man prints a roff page"),
        _ => return Ok(()),
    };
    Err(
        crate::Error::usage(format!("`ttvault {name}` has no JSON output")).hint(format!(
            "drop --json; {hint}; --json works with init, rotate, show, unlock, lock, status, \
         export, token and audit"
        )),
    )
}
