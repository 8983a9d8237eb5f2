//! `unlock` / `lock`: an agent process that keeps one vault open for a while and shares
//! one access token among every command that asks.
//!
//! - `protocol`: length-prefixed, versioned JSON frames with a size limit.
//! - `paths`: the private socket directory, the socket name, the vault file's stamp.
//! - `server`: the agent (tokio), `state`: the grant in locked memory and the token's
//!   single-flight refresh, `client`: the blocking client the commands use.
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

use crate::cli::Global;
use crate::error::Result;
use crate::mint::{self, Minted};
use crate::oauth;

/// The grant and a fresh access token: from the vault's agent when one is up (and
/// `--no-agent` is not given), else by opening the vault and calling the token endpoint.
/// `long_lived`: the caller needs the client secret and refresh token too.
pub fn minted(global: &Global, long_lived: bool) -> Result<Minted> {
    if let Some(m) = from_agent(global, long_lived)? {
        return Ok(m);
    }
    let http = oauth::Client::new()?;
    mint::from_vault(global, &http)
}

/// The agent's answer alone: `Ok(None)` when there is no usable agent (or `--no-agent`).
pub fn from_agent(global: &Global, long_lived: bool) -> Result<Option<Minted>> {
    #[cfg(unix)]
    if !global.no_agent {
        return client::minted(global, long_lived);
    }
    #[cfg(not(unix))]
    let _ = (global, long_lived);
    Ok(None)
}
