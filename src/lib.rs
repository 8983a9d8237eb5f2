//! ttvault: a passphrase-encrypted vault for Tastytrade API credentials.
//!
//! The library holds everything that can be tested without a terminal or a network;
//! `main.rs` only parses the command line and maps errors to exit statuses. Only the
//! command layer (`cli`, `cmd`) knows clap: it turns the parsed command line into library
//! inputs (`vault::VaultRef`, each command's options) once, and prints through `output`.
//! Whatever must be asked of a person goes through the [`ui::Ui`] the command layer puts in
//! the `VaultRef` (the terminal, or nobody): the library never prompts itself.

// Modules are crate-private unless something outside the library needs them; each `pub`
// says who. The integration tests (tests/it), the fuzz targets (fuzz/) and the test
// vectors' generator (examples/gen_vectors.rs) are separate crates.
/// Tests play and inspect the agent (protocol frames, socket names); fuzz: agent_request.
pub mod agent;
/// Fuzz: api_answer (the transport seam).
pub mod api;
pub(crate) mod audit;
pub(crate) mod body_encoding;
/// Tests run the credential broker (exec --broker) against the stand-in.
pub mod broker;
/// Tests: the broker's CA bundle written for a program (exec --broker).
pub mod bundle;
/// main parses with it; tests check help and completions.
pub mod cli;
pub(crate) mod cmd;
/// Tests and fuzz: dotenv parse/render round trips.
pub mod dotenv;
/// Tests and examples/gen_vectors.rs build payloads with an environment.
pub mod endpoints;
/// Tests: the exported variable sets.
pub mod env;
pub(crate) mod error;
pub(crate) mod gitignore;
/// main hardens the process first; tests ask the current uid.
pub mod harden;
/// The one HTTP client: token calls and `api` (fuzz: http_response).
pub mod http;
/// Fuzz: the token, JWT, accounts, HTTP request and callback parsers.
pub mod oauth;
/// main prints its errors through it; fuzz: api_answer's sink.
pub mod output;
pub(crate) mod passphrase;
pub(crate) mod readable_time;
/// Tests: identities for recipient slots.
pub mod recipients;
/// Tests, fuzz and examples: the secret newtypes.
pub mod secret;
pub(crate) mod session;
/// main reads the environment once, first.
pub mod settings;
/// Tests: every export format read back.
pub mod shell;
pub(crate) mod spawn;
/// exec: a child run under ttvault, its signals forwarded and its status returned.
pub(crate) mod supervise;
/// The seam for asking a person: a caller of the library hands its own `Ui` (and tests
/// a `ScriptedUi`).
pub mod ui;
/// Tests, fuzz and examples: the vault format, header and payload.
pub mod vault;
pub(crate) mod want;

pub use error::{Code, Error, Result};

/// Puts the terminal back as it was if a prompt had turned its echo off: for main's panic
/// hook (signals and unwinding restore it on their own, see `cmd::tty`).
pub fn restore_terminal() {
    cmd::tty::restore_now();
}

/// Runs one parsed command line and returns the process exit status.
pub fn run(cli: cli::Cli) -> Result<i32> {
    cmd::dispatch(cli)
}
