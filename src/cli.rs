//! The command-line definitions (clap), and nothing else. README "Commands" documents them;
//! its changelog records any change to a name. Options that are library types (`Preset`,
//! `ExportFormat`) have a clap mirror here, converted with `From`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ttvault",
    version,
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
    Init(GrantArgs),
    /// Replace the grant in the existing vault with a re-created one.
    Rotate(GrantArgs),
    /// Encrypt a plaintext dotenv .secrets left by the old setup script.
    Import(ImportArgs),
    /// Change the passphrase, or add and remove recipient slots.
    Passwd(PasswdArgs),
    /// Print what the vault holds, except the secrets.
    Show,
    /// Keep the vault open in a background agent for a while (again: replaces the agent).
    Unlock(UnlockArgs),
    /// End the vault's agent now and wipe its memory (nothing unlocked is not an error).
    Lock,
    /// Without any passphrase: what the vault's header shows, and whether it is unlocked.
    Status,
    /// Run a program with fresh credentials in its environment.
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
    /// Print the man page (roff) to stdout.
    #[command(hide = true)]
    Man,
    /// Run the agent in the foreground (started by `unlock`).
    #[command(hide = true)]
    Agent(AgentArgs),
}

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
    /// Add a recipient slot (age X25519 or SSH public key).
    #[arg(short = 'r', long = "recipient", value_name = "R")]
    pub recipients: Vec<String>,
    /// Add the recipients listed in a file, one a line.
    #[arg(short = 'R', long = "recipients-file", value_name = "F")]
    pub recipients_files: Vec<PathBuf>,
    /// No passphrase slot: recipients only.
    #[arg(long)]
    pub no_passphrase: bool,
    /// init over an existing vault (it is kept as a backup first).
    #[arg(long)]
    pub force: bool,
    /// rotate: accept endpoints other than the vault's (from TTVAULT_API_URL,
    /// TTVAULT_AUTHORIZE_URL or --sandbox) without being asked.
    #[arg(long)]
    pub endpoint_change: bool,
    /// How long to wait for the browser, e.g. 90s [default: 5m]
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
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
    /// Add a recipient slot (age X25519 or SSH public key).
    #[arg(short = 'r', long = "recipient", value_name = "R")]
    pub recipients: Vec<String>,
    /// Add the recipients listed in a file, one a line.
    #[arg(short = 'R', long = "recipients-file", value_name = "F")]
    pub recipients_files: Vec<PathBuf>,
    /// No passphrase slot: recipients only.
    #[arg(long)]
    pub no_passphrase: bool,
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
    /// Lock after this long without a token request (exec, export, token, audit), at most 7 days.
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
    #[arg(long, default_value = crate::session::DEFAULT_MIN_TTL, value_parser = crate::session::parse_min_ttl)]
    pub min_ttl: std::time::Duration,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// TT_ACCESS_TOKEN, TT_API_BASE_URL; long-lived TT_API_CLIENT_ID, TT_API_CLIENT_SECRET, TT_REFRESH_TOKEN
    #[default]
    Tt,
    /// like tt; long-lived TT_SECRET, TT_REFRESH (the tastyware SDK)
    Tastyware,
    /// TASTYTRADE_ACCESS_TOKEN, TASTYTRADE_API_BASE_URL; long-lived TASTYTRADE_CLIENT_ID, …
    Tastytrade,
}

impl From<Preset> for crate::env::Preset {
    fn from(p: Preset) -> Self {
        match p {
            Preset::Tt => Self::Tt,
            Preset::Tastyware => Self::Tastyware,
            Preset::Tastytrade => Self::Tastytrade,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Also hand over the long-lived client id, client secret and refresh token.
    #[arg(long)]
    pub long_lived: bool,
    /// Which variable names to use.
    #[arg(long, value_enum, default_value_t = Preset::Tt)]
    pub preset: Preset,
    /// The access token has at least this much life left, at most 15m.
    #[arg(long, default_value = crate::session::DEFAULT_MIN_TTL, value_parser = crate::session::parse_min_ttl)]
    pub min_ttl: std::time::Duration,
    /// The program and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Sh,
    Fish,
    Powershell,
    Dotenv,
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
    #[arg(long, value_enum, default_value_t = ExportFormat::Sh)]
    pub format: ExportFormat,
    /// Also print the long-lived client id, client secret and refresh token.
    #[arg(long)]
    pub long_lived: bool,
    /// Which variable names to use.
    #[arg(long, value_enum, default_value_t = Preset::Tt)]
    pub preset: Preset,
    /// Print long-lived secrets even to a terminal.
    #[arg(long)]
    pub reveal: bool,
    /// The access token has at least this much life left, at most 15m.
    #[arg(long, default_value = crate::session::DEFAULT_MIN_TTL, value_parser = crate::session::parse_min_ttl)]
    pub min_ttl: std::time::Duration,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  ttvault api /customers/me/accounts
  ttvault api /option-chains/SPX/nested --jq '.data.items[].\"root-symbol\"'
  ttvault api /accounts/5WT00001/transactions --paginate -F per-page=250

Only GET and HEAD are sent: anything that would change something at Tastytrade is refused
(exit 2) before it is sent. Exit status 4: the grant was refused; 5: Tastytrade could not be
reached or answered nonsense; 1: the API's own error (its message is shown).")]
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
    pub shell: clap_complete::Shell,
}

/// Durations as people write them: `90s`, `15m`, `1h 30m`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 90s, 15m, 2h)"))
}
