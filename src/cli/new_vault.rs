//! The options `init` and `import` share.

use clap::Args;
use std::path::PathBuf;

/// The new vault's slots and what its programs get: the options `init` and `import`
/// share (one definition, so their names, help and defaults cannot drift apart).
#[derive(Args, Debug, Clone, Default)]
pub struct NewVaultArgs {
    /// Add a recipient slot (age X25519 or SSH public key).
    #[arg(short = 'r', long = "recipient", value_name = "R")]
    pub recipients: Vec<String>,
    /// Add the recipients listed in a file, one a line.
    #[arg(short = 'R', long = "recipients-file", value_name = "F")]
    pub recipients_files: Vec<PathBuf>,
    /// No passphrase slot: recipients only.
    #[arg(long)]
    pub no_passphrase: bool,
    /// Programs run by `exec`/`export` get the client secret and refresh token by default;
    /// recorded in the vault (`handout long-lived`).
    #[arg(long, conflicts_with_all = ["short_lived", "broker"])]
    pub long_lived: bool,
    /// Programs get only a short-lived access token by default (`handout tokens`).
    #[arg(long, conflicts_with = "broker")]
    pub short_lived: bool,
    /// Programs run by `exec` get an access token and ttvault's broker for their SDK's
    /// refreshes (`handout broker`; recommended, and the default without a terminal). At a
    /// terminal without any of these flags, you are asked.
    #[arg(long)]
    pub broker: bool,
}
