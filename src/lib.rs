//! ttvault: a passphrase-encrypted vault for Tastytrade API credentials.
//!
//! The library holds everything that can be tested without a terminal or a network;
//! `main.rs` only parses the command line and maps errors to exit statuses. Only the
//! command layer (`cli`, `cmd`) knows clap: it turns the parsed command line into library
//! inputs (`vault::VaultRef`, each command's options) once, and prints through `output`.

pub mod agent;
pub mod api;
pub(crate) mod audit;
pub mod broker;
pub mod bundle;
pub mod cli;
pub(crate) mod cmd;
pub mod dotenv;
pub mod endpoints;
pub mod env;
pub mod error;
pub mod gitignore;
pub mod harden;
pub mod oauth;
pub mod output;
pub(crate) mod passphrase;
pub mod readable_time;
pub mod recipients;
pub mod secret;
pub mod session;
pub mod shell;
pub mod spawn;
pub mod supervise;
pub mod vault;

pub use error::{Code, Error, Result};

/// Runs one parsed command line and returns the process exit status.
pub fn run(cli: cli::Cli) -> Result<i32> {
    cmd::dispatch(cli)
}
