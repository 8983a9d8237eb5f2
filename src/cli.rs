//! The command-line definitions (clap), and nothing else. README "Commands" documents them;
//! its changelog records any change to a name. Options that are library types (`Preset`,
//! `ExportFormat`) have a clap mirror here, converted with `From`.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

mod documented;
mod new_vault;
pub mod text;

pub use new_vault::NewVaultArgs;

pub use documented::{documented, NO_JSON};

/// The whole command line as `--help`, completions and the man pages show it: the derived
/// definitions plus the examples and environment from [`text`] under each command.
pub fn command() -> clap::Command {
    with_after_help(blank_env_unset(Cli::command()))
}

pub(crate) fn with_after_help(cmd: clap::Command) -> clap::Command {
    let header = *cmd.get_styles().get_header();
    cmd.after_help(text::after_help(None, header))
        .mut_subcommands(|sub| {
            let after = text::after_help(Some(sub.get_name()), header);
            sub.after_help(after)
        })
}

/// The one rule for empty values (src/settings.rs): an option whose variable is blank
/// takes no value from it (clap would call it a missing value, exit 2).
fn blank_env_unset(cmd: clap::Command) -> clap::Command {
    let settings = crate::settings::get();
    cmd.mut_args(|arg| match arg.get_env().and_then(|name| name.to_str()) {
        Some(name) if settings.is_blank(name) => arg.env(None),
        _ => arg,
    })
    .mut_subcommands(blank_env_unset)
}

/// Parses the process's arguments (exiting with clap's message and status 2 on bad usage).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[derive(Parser, Debug)]
#[command(
    name = "ttvault",
    // The commit too (build.rs): a bug report then says exactly which code ran.
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("TTVAULT_COMMIT"), ")"),
    about = "Keeps Tastytrade API credentials in a passphrase-encrypted age file",
    long_about = "ttvault keeps a Tastytrade OAuth grant (client id, client secret, refresh \
token) in one passphrase-encrypted age file, .secrets, and hands short-lived access tokens \
to the programs that need them."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The vault file [default: .secrets]
    #[arg(long, global = true, env = "TTVAULT_VAULT", value_name = "PATH")]
    pub vault: Option<PathBuf>,
    /// Read the passphrase from the first line of this file.
    #[arg(long, global = true, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the passphrase from this open file descriptor (Unix).
    #[arg(long, global = true, value_name = "N")]
    pub passphrase_fd: Option<i32>,
    /// An age identity file (X25519 or SSH key) that opens a recipient slot.
    #[arg(
        short = 'i',
        long,
        global = true,
        env = "TTVAULT_IDENTITY",
        value_name = "PATH"
    )]
    pub identity: Option<PathBuf>,
    /// Machine-readable output where a command prints a report.
    #[arg(long, global = true)]
    pub json: bool,
    /// Say more about what happens (never any secret value).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Do not use a running agent (`ttvault unlock`); open the vault directly.
    #[arg(long, global = true)]
    pub no_agent: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the browser OAuth flow (or --paste), verify the grant, write a new vault.
    Init(InitArgs),
    /// Replace the grant in the existing vault with a re-created one.
    Rotate(RotateArgs),
    /// Encrypt a plaintext dotenv .secrets left by the old setup script.
    ///
    /// For the .secrets (TT_API_CLIENT_ID, TT_API_CLIENT_SECRET, TT_REFRESH_TOKEN) that the
    /// SPX fetcher's get_refresh_token.py wrote. That script's helper,
    /// `tastytrade.oauth.login`, was removed from tastyware's SDK in 11.0.4, so it no longer
    /// runs on a fresh install: import the file it left, and `ttvault rotate` makes new grants
    /// from then on.
    Import(ImportArgs),
    /// Change the passphrase, or add and remove recipient slots.
    Passwd(PasswdArgs),
    /// Print what the vault holds, except the secrets.
    Show,
    /// Change a recorded choice: `ttvault set handout tokens|broker|long-lived`.
    Set(SetArgs),
    /// Keep the vault open in a background agent for a while (again: replaces the agent).
    Unlock(UnlockArgs),
    /// End the vault's agent now and wipe its memory (nothing unlocked is not an error).
    Lock(NoUnlockArgs),
    /// Without any passphrase: what the vault's header shows, and whether it is unlocked.
    Status(NoUnlockArgs),
    /// Run a program (or $SHELL) with fresh credentials in its environment.
    Exec(ExecArgs),
    /// Print the credential variables for a shell or a file.
    Export(ExportArgs),
    /// Print one fresh access token.
    Token(TokenArgs),
    /// A read-only Tastytrade API call with the vault's token, like `gh api`.
    Api(ApiArgs),
    /// Report the grant's scopes and every other risk ttvault can see.
    Audit(AuditArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of ttvault or of one command.
    Man(ManArgs),
    /// Run the agent in the foreground (started by `unlock`).
    #[command(hide = true)]
    Agent(AgentArgs),
}

/// How to get a grant: the options `init` and `rotate` share.
#[derive(Args, Debug, Clone, Default)]
pub struct GrantArgs {
    /// Use Tastytrade's sandbox ("cert") environment.
    #[arg(long)]
    pub sandbox: bool,
    /// The OAuth client id (the secret is never taken on the command line).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Paste a refresh token shown on tastytrade.com instead of the browser flow.
    #[arg(long)]
    pub paste: bool,
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// The grant's redirect URI; must equal the one registered on tastytrade.com
    /// [default: http://localhost:8000; rotate: the one the vault recorded]
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// The scopes to request, space separated [default: read]
    #[arg(long)]
    pub scope: Option<String>,
    /// Accept a grant that holds the `trade` scope.
    #[arg(long)]
    pub allow_trade: bool,
    /// How long to wait for the browser, e.g. 90s [default: 5m]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<std::time::Duration>,
}

/// `init`: how to get the grant, and the new vault.
#[derive(Args, Debug, Clone, Default)]
pub struct InitArgs {
    #[command(flatten)]
    pub grant: GrantArgs,
    #[command(flatten)]
    pub new_vault: NewVaultArgs,
    /// Replace an existing vault (it is kept as .secrets.bak-<time> first).
    #[arg(long)]
    pub force: bool,
}

/// `rotate`: how to get the new grant; the vault's slots stay as they are.
#[derive(Args, Debug, Clone, Default)]
pub struct RotateArgs {
    #[command(flatten)]
    pub grant: GrantArgs,
    /// Accept endpoints other than the vault's (from TTVAULT_API_URL,
    /// TTVAULT_AUTHORIZE_URL or --sandbox) without being asked.
    #[arg(long)]
    pub endpoint_change: bool,
}

/// The global unlock options again, hidden, for the commands that never open the vault
/// (`lock`, `status`, `completions`, `man`): their help does not list them, and a script
/// that passes them anyway still works (same ids, so clap hands any value to [`Global`]).
#[derive(Args, Debug, Clone, Default)]
pub struct NoUnlockArgs {
    #[arg(long, hide = true, id = "passphrase_file", value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,
    #[arg(long, hide = true, id = "passphrase_fd", value_name = "N")]
    pub passphrase_fd: Option<i32>,
    #[arg(
        short = 'i',
        long = "identity",
        hide = true,
        id = "identity",
        env = "TTVAULT_IDENTITY",
        value_name = "PATH"
    )]
    pub identity: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// The plaintext dotenv file; defaults to the vault path itself.
    pub file: Option<PathBuf>,
    /// Keep the plaintext file after the vault is written.
    #[arg(long)]
    pub keep_plaintext: bool,
    /// Use Tastytrade's sandbox ("cert") environment for the imported grant.
    #[arg(long)]
    pub sandbox: bool,
    #[command(flatten)]
    pub new_vault: NewVaultArgs,
    /// Overwrite and remove the other plaintext copies of the secrets found beside the
    /// vault (such as the old setup's .secrets.backup) without asking.
    #[arg(long)]
    pub shred_copies: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SetArgs {
    /// What to change.
    #[arg(value_enum)]
    pub setting: Setting,
    /// handout: tokens, broker or long-lived; long-lived: on or off.
    #[arg(value_enum)]
    pub value: SetValue,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// What programs run by `exec` (and `export`) get by default: tokens, broker or
    /// long-lived.
    Handout,
    /// The older name: on is `handout long-lived`, off is `handout tokens`.
    LongLived,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetValue {
    /// Only a short-lived access token.
    Tokens,
    /// A short-lived access token, placeholders and ttvault's broker (exec).
    Broker,
    /// The client secret and refresh token too.
    LongLived,
    /// With `long-lived`: the same as `handout long-lived`.
    On,
    /// With `long-lived`: the same as `handout tokens`.
    Off,
}

#[derive(Args, Debug, Clone)]
pub struct PasswdArgs {
    /// Read the new passphrase from the first line of this file.
    #[arg(long, value_name = "PATH")]
    pub new_passphrase_file: Option<PathBuf>,
    /// Add a recipient slot (age X25519 or SSH public key).
    #[arg(long = "add-recipient", value_name = "R")]
    pub add_recipients: Vec<String>,
    /// Remove a recipient slot.
    #[arg(long = "remove-recipient", value_name = "R")]
    pub remove_recipients: Vec<String>,
    /// Remove the passphrase slot (recipients only).
    #[arg(long)]
    pub no_passphrase: bool,
}

#[derive(Args, Debug, Clone)]
pub struct UnlockArgs {
    /// How long the vault stays open, at most 7 days (counted from this unlock).
    #[arg(long, default_value = "15m", value_parser = crate::agent::limits::agent_duration)]
    pub ttl: std::time::Duration,
    /// Lock after this long without a token request (exec, export, token, api, audit), at most 7 days.
    #[arg(long, value_parser = crate::agent::limits::agent_duration)]
    pub idle: Option<std::time::Duration>,
    /// Let the agent hand the client secret and refresh token to any program of yours
    /// that asks (else only when the vault records that choice).
    #[arg(long)]
    pub long_lived: bool,
}

#[derive(Args, Debug, Clone)]
pub struct AgentArgs {
    #[arg(long, value_parser = crate::agent::limits::agent_duration)]
    pub ttl: std::time::Duration,
    #[arg(long, value_parser = crate::agent::limits::agent_duration)]
    pub idle: Option<std::time::Duration>,
    #[arg(long)]
    pub long_lived: bool,
}

#[derive(Args, Debug, Clone)]
pub struct TokenArgs {
    /// The access token has at least this much life left, at most 15m.
    #[arg(long, value_name = "DURATION", default_value = crate::want::DEFAULT_MIN_TTL, value_parser = crate::want::parse_min_ttl)]
    pub min_ttl: std::time::Duration,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// TT_ACCESS_TOKEN, TT_API_BASE_URL; long-lived TT_API_CLIENT_ID, TT_API_CLIENT_SECRET, TT_REFRESH_TOKEN
    #[default]
    Tt,
    /// like tt; long-lived TT_SECRET, TT_REFRESH (the tastyware SDK)
    Tastyware,
    /// TASTYTRADE_ACCESS_TOKEN, TASTYTRADE_API_BASE_URL, TASTYTRADE_API_URL; long-lived TASTYTRADE_CLIENT_ID, …
    Tastytrade,
    /// like tt; long-lived TT_CLIENT_ID, TT_CLIENT_SECRET, TT_REFRESH_TOKEN, API_BASE_URL (Tastytrade's Python SDK)
    TastytradePython,
    /// like tt; long-lived OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN (Tastytrade's JavaScript SDK)
    TastytradeJs,
}

impl From<Preset> for crate::env::Preset {
    fn from(p: Preset) -> Self {
        match p {
            Preset::Tt => Self::Tt,
            Preset::Tastyware => Self::Tastyware,
            Preset::Tastytrade => Self::Tastytrade,
            Preset::TastytradePython => Self::TastytradePython,
            Preset::TastytradeJs => Self::TastytradeJs,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Also hand over the long-lived client id, client secret and refresh token, this run
    /// [default: the vault's recorded choice].
    #[arg(long, conflicts_with_all = ["short_lived", "broker"])]
    pub long_lived: bool,
    /// Hand over only the access token this run, whatever the vault recorded.
    #[arg(long, conflicts_with = "broker")]
    pub short_lived: bool,
    /// The access token, placeholders under the long-lived names, and ttvault's broker as
    /// the program's HTTPS proxy, which answers its token requests (docs/BROKER.md).
    #[arg(long)]
    pub broker: bool,
    /// Let the broker pass orders and other writes (refused unless the grant holds trade).
    #[arg(long)]
    pub allow_trade: bool,
    /// Which variable names to use.
    #[arg(long, value_enum, default_value_t = Preset::Tt)]
    pub preset: Preset,
    /// The access token has at least this much life left, at most 15m.
    #[arg(long, value_name = "DURATION", default_value = crate::want::DEFAULT_MIN_TTL, value_parser = crate::want::parse_min_ttl)]
    pub min_ttl: std::time::Duration,
    /// The program and its arguments [default: $SHELL, marked with TTVAULT_SHELL]
    // No `allow_hyphen_values`: an unknown `--flag` before the program is a usage error
    // with clap's suggestion (`--long-live`: did you mean `--long-lived`?), not a program
    // to run. After the first word of the program (or `--`), every word is the program's.
    #[arg(
        trailing_var_arg = true,
        value_name = "CMD",
        value_hint = clap::ValueHint::CommandWithArguments
    )]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `export NAME='value'` lines for sh, bash and zsh (eval the output)
    Sh,
    /// `set -gx NAME 'value'` lines (pipe the output to `source`)
    Fish,
    /// PowerShell lines that set env:NAME to 'value'
    Powershell,
    /// NAME='value' lines for a .env file (also sourceable by sh)
    Dotenv,
    /// One JSON object, name to value (as --json)
    Json,
}

impl From<ExportFormat> for crate::shell::ExportFormat {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Sh => Self::Sh,
            ExportFormat::Fish => Self::Fish,
            ExportFormat::Powershell => Self::Powershell,
            ExportFormat::Dotenv => Self::Dotenv,
            ExportFormat::Json => Self::Json,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// How to print the variables [default: sh; --json: json]
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Also print the long-lived client id, client secret and refresh token, this run
    /// [default: the vault's recorded choice].
    #[arg(long, conflicts_with = "short_lived")]
    pub long_lived: bool,
    /// Print only the access token's variables this run, whatever the vault recorded.
    #[arg(long)]
    pub short_lived: bool,
    /// Which variable names to use.
    #[arg(long, value_enum, default_value_t = Preset::Tt)]
    pub preset: Preset,
    /// Print long-lived secrets even to a terminal.
    #[arg(long)]
    pub reveal: bool,
    /// The access token has at least this much life left, at most 15m.
    #[arg(long, value_name = "DURATION", default_value = crate::want::DEFAULT_MIN_TTL, value_parser = crate::want::parse_min_ttl)]
    pub min_ttl: std::time::Duration,
}

// Examples and notes under `--help`: `text::examples_of` and `text::note_of`.
#[derive(Args, Debug, Clone)]
pub struct ApiArgs {
    /// The path under the vault's API base, e.g. /customers/me (a full URL is refused).
    #[arg(value_name = "PATH")]
    pub path: String,
    /// GET (default) or HEAD; anything else is refused before it is sent.
    #[arg(
        short = 'X',
        long = "method",
        value_name = "METHOD",
        default_value = "GET"
    )]
    pub method: String,
    /// Filter the answer with a jq expression (jq built in); strings print raw.
    #[arg(long, value_name = "EXPR")]
    pub jq: Option<String>,
    /// Follow page-offset to the last page; prints every page's data.items as one array
    /// (with --jq the filter runs on each page).
    #[arg(long)]
    pub paginate: bool,
    /// Print the status line and the headers first.
    #[arg(short = 'i', long)]
    pub include: bool,
    /// Add a query parameter (repeatable).
    #[arg(short = 'F', long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// An age identity file (X25519 or SSH key) that opens a recipient slot. Here only
    /// as --identity: -i means --include, as in `gh api` and curl.
    // Same id as the global option, so clap does not add the global `-i` here, and passes
    // the value up to `Global::identity`.
    #[arg(
        long = "identity",
        id = "identity",
        env = "TTVAULT_IDENTITY",
        value_name = "PATH"
    )]
    pub identity: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    /// Skip the checks that call Tastytrade.
    #[arg(long)]
    pub offline: bool,
    /// Exit 6 when any warning is found.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
    #[command(flatten)]
    pub unused: NoUnlockArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// A command's page (ttvault-exec(1), …) instead of ttvault(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
    #[command(flatten)]
    pub unused: NoUnlockArgs,
}

/// Durations as people write them: `90s`, `15m`, `1h 30m`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 90s, 15m, 2h)"))
}
