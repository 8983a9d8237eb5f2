//! `unlock` / `lock`: an agent process that keeps one vault open for a while and shares
//! one access token among every command that asks.
//!
//! - `protocol`: length-prefixed, versioned JSON frames with a size limit.
//! - `paths`: the private socket directory, the socket name, the vault file's stamp.
//! - `server`: the agent (tokio), `state`: the grant in locked memory and the token's
//!   single-flight refresh, `client`: the blocking client `session` and the commands use.
//!
//! The agent exists on Unix only; elsewhere every command opens the vault itself.

pub(crate) mod limits;
pub(crate) mod locked;
/// Tests play a hostile or outdated agent with its frames; fuzz: agent_request.
pub mod protocol;

#[cfg(unix)]
pub(crate) mod client;
/// Tests find the agent's socket by its name.
#[cfg(unix)]
pub mod paths;
#[cfg(unix)]
pub(crate) mod server;
#[cfg(unix)]
pub(crate) mod state;

use crate::error::{Error, Result};
use crate::secret::{AccessToken, RefreshToken};
use crate::vault::{GrantInfo, GrantSecrets, VaultRef};
use crate::want::{Freshness, Secrets};
use std::time::SystemTime;

/// What the agent handed out: the grant's public fields, its secrets when asked for and
/// allowed, and an access token with its expiry. The session module makes a session of it.
pub struct Served {
    pub grant: GrantInfo,
    pub secrets: Option<GrantSecrets>,
    pub access_token: AccessToken,
    pub expires_at: SystemTime,
    /// The agent holds a rotated refresh token the vault lacks.
    pub unsaved_refresh_token: bool,
}

/// What the vault's agent answered (`T`: a token, [`Served`], or the grant alone,
/// [`protocol::InfoReply`]).
pub enum AgentAnswer<T> {
    /// What was asked.
    Served(Box<T>),
    /// The agent does not hand out long-lived secrets (docs/AGENT.md); the error says
    /// what to do.
    Withheld(Error),
    /// No usable agent: the vault is opened in the process instead.
    NoAgent,
}

/// A token from the vault's agent when one is up and the reference allows it. An
/// agent's refresh failure, a vault file opening would refuse, or a floor that cannot be
/// met is an error with its exit status. See [`client::token`].
pub fn token(vault: &VaultRef, secrets: Secrets, want: Freshness) -> Result<AgentAnswer<Served>> {
    #[cfg(unix)]
    if vault.use_agent {
        return client::token(vault, secrets, want);
    }
    let _ = (vault, secrets, want);
    Ok(AgentAnswer::NoAgent)
}

/// The grant's fields (and secrets when asked) from the vault's agent, without a token:
/// nothing is refreshed or sent. Errors as [`token`].
pub fn info(vault: &VaultRef, secrets: Secrets) -> Result<AgentAnswer<protocol::InfoReply>> {
    #[cfg(unix)]
    if vault.use_agent {
        return client::info(vault, secrets);
    }
    let _ = (vault, secrets);
    Ok(AgentAnswer::NoAgent)
}

/// The refresh token the agent rotated, to be written into the vault: handed over only
/// against `vault_refresh_token`, the one the vault holds (which proves the vault was
/// opened).
pub fn rotated_refresh_token(
    vault: &VaultRef,
    vault_refresh_token: &RefreshToken,
) -> Result<RefreshToken> {
    #[cfg(unix)]
    return client::refresh_token(&vault.path, vault_refresh_token);
    #[cfg(not(unix))]
    {
        let _ = (vault, vault_refresh_token);
        Err(Error::failure("there is no agent on this platform"))
    }
}

/// Tells the agent its rotated refresh token is in the vault now.
pub fn refresh_token_saved(vault: &VaultRef) {
    #[cfg(unix)]
    client::refresh_token_saved(&vault.path);
    #[cfg(not(unix))]
    let _ = vault;
}
