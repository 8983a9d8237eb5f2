//! One way to a grant. A command builds one [`GrantAccess`] (see `access`) and asks it for
//! what it needs: the grant's fields without a token, or a [`Session`] with at least some
//! freshness, with or without the long-lived secrets. The agent is asked first; the vault
//! is opened in this process when the agent cannot serve. A refresh token that the token
//! endpoint rotated is written into the vault in one place, [`Session::save_rotated`].

mod access;
mod mint;

pub use access::GrantAccess;

use crate::agent::Served;
use crate::error::{Error, Result};
use crate::secret::{AccessToken, Passphrase, RefreshToken};
use crate::vault::{self, GrantInfo, GrantSecrets, VaultRef};
use std::time::SystemTime;

/// Where a session's grant came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The vault's agent (`ttvault unlock`).
    Agent,
    /// The vault, opened in this process.
    Vault,
}

/// A refresh token the token endpoint rotated that the vault does not hold yet.
enum Unsaved {
    Nothing,
    /// Issued to this process, which has it.
    Here(RefreshToken),
    /// Issued to the agent, which holds it (and sends it when asked for secrets).
    InAgent,
}

/// A grant in use: its public fields, its secrets when asked for, a fresh access token.
pub struct Session {
    pub grant: GrantInfo,
    secrets: Option<GrantSecrets>,
    pub access_token: AccessToken,
    pub expires_at: SystemTime,
    source: Source,
    unsaved: Unsaved,
}

impl Session {
    /// A session the agent answered with.
    pub(crate) fn from_agent(served: Served) -> Self {
        Session {
            grant: served.grant,
            secrets: served.secrets,
            access_token: served.access_token,
            expires_at: served.expires_at,
            source: Source::Agent,
            unsaved: if served.unsaved_refresh_token {
                Unsaved::InAgent
            } else {
                Unsaved::Nothing
            },
        }
    }

    pub fn source(&self) -> Source {
        self.source
    }

    /// The client secret and refresh token, when the session was asked for them (the
    /// commands hand them on through [`Self::variables`]).
    #[cfg(test)]
    pub fn secrets(&self) -> Option<&GrantSecrets> {
        self.secrets.as_ref()
    }

    /// Whether a rotated refresh token still has to be written into the vault.
    pub fn has_unsaved_refresh_token(&self) -> bool {
        !matches!(self.unsaved, Unsaved::Nothing)
    }

    /// The variables of `preset` for this session (`exec`, `export`): the long-lived ones
    /// when the session holds the secrets.
    pub fn variables(&self, preset: crate::env::Preset) -> Vec<crate::env::Var> {
        crate::env::variables(
            preset,
            &crate::env::Credentials {
                access_token: &self.access_token,
                expires_at: self.expires_at,
                api_base_url: self.grant.environment.api_url(),
                client_id: &self.grant.client_id,
                long_lived: self
                    .secrets
                    .as_ref()
                    .map(|s| (&s.client_secret, &s.refresh_token)),
            },
        )
    }

    /// Writes the rotated refresh token into the vault, keeping its slots (the one place
    /// this is done), and tells the agent when the token was its own. `known`: the
    /// passphrase, when this process already has it; otherwise the vault's unlock sources
    /// are used. Returns the token now in the vault, None when there was nothing to save.
    fn save_rotated(
        &mut self,
        vault: &VaultRef,
        known: Option<&Passphrase>,
    ) -> Result<Option<RefreshToken>> {
        let known_token = match &self.unsaved {
            Unsaved::Nothing => return Ok(None),
            Unsaved::Here(token) => Some(token.clone()),
            Unsaved::InAgent => self.secrets.as_ref().map(|s| s.refresh_token.clone()),
        };
        let new = vault::update(vault, known, |opened| {
            // The agent hands its rotated token over only against the one the vault
            // holds, which only a process that opened the vault knows.
            let new = match known_token {
                Some(token) => token,
                None => crate::agent::rotated_refresh_token(vault, &opened.payload.refresh_token)?,
            };
            opened.payload.refresh_token = new.clone();
            Ok((new, vault::keep_passphrase(opened)?))
        })?;
        if self.source == Source::Agent {
            crate::agent::refresh_token_saved(vault);
        }
        if let Some(s) = &mut self.secrets {
            s.refresh_token = new.clone();
        }
        self.unsaved = Unsaved::Nothing;
        vault
            .report
            .detail("the token endpoint issued a new refresh token; saved it in the vault");
        Ok(Some(new))
    }
}

/// What to do while only the agent holds the grant's refresh token.
const UNSAVED_AGENT_HINT: &str = "run any command with the passphrase (e.g. `ttvault token --passphrase-file F`) or `ttvault unlock` before the agent ends, or the grant is lost";

/// A refresh token issued to this process that could not be written into the vault.
fn unsaved_here(err: Error) -> Error {
    err.hint("the token endpoint issued a new refresh token that could not be saved; run the command again with the passphrase")
}

#[cfg(test)]
mod tests;
