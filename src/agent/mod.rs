//! `unlock` / `lock`: an agent process that keeps one vault open for a while and shares
//! one access token among every command that asks.
//!
//! - `protocol`: length-prefixed, versioned JSON frames with a size limit.
//! - `paths`: the private socket directory, the socket name, the vault file's stamp.
//! - `server`: the agent (tokio), `state`: the grant in locked memory and the token's
//!   single-flight refresh, `client`: the blocking client `session` and the commands use.
//!
//! The agent exists on Unix only; elsewhere every command opens the vault itself.

pub mod locked;
pub mod protocol;

#[cfg(unix)]
pub mod client;
#[cfg(unix)]
pub mod paths;
#[cfg(unix)]
pub mod server;
#[cfg(unix)]
pub mod state;

use crate::error::Result;
use crate::secret::RefreshToken;
use crate::session::{Secrets, Session};
use crate::vault::VaultRef;

/// A session from the vault's agent when one is up and the reference allows it;
/// `Ok(None)` when there is no usable agent. See [`client::session`].
pub fn session(vault: &VaultRef, secrets: Secrets) -> Result<Option<Session>> {
    #[cfg(unix)]
    if vault.use_agent {
        return client::session(vault, secrets);
    }
    let _ = (vault, secrets);
    Ok(None)
}

/// The refresh token the agent rotated, to be written into the vault.
pub fn rotated_refresh_token(vault: &VaultRef) -> Result<RefreshToken> {
    #[cfg(unix)]
    return client::refresh_token(&vault.path);
    #[cfg(not(unix))]
    {
        let _ = vault;
        Err(crate::Error::failure("there is no agent on this platform"))
    }
}

/// Tells the agent its rotated refresh token is in the vault now.
pub fn refresh_token_saved(vault: &VaultRef) {
    #[cfg(unix)]
    client::refresh_token_saved(&vault.path);
    #[cfg(not(unix))]
    let _ = vault;
}
