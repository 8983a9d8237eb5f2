//! One way to a grant. A [`GrantSource`] is the vault's agent when one answers, else the
//! vault opened in this process; either gives one [`Session`]: the grant's public fields,
//! its secrets only when asked, and a fresh access token with its expiry. A refresh token
//! that the token endpoint rotated is written into the vault in one place,
//! [`Session::save_rotated`].

mod grant;
mod mint;

pub use grant::{GrantInfo, GrantSecrets, Secrets};

use crate::error::{Error, Result};
use crate::oauth::Http;
use crate::secret::{AccessToken, Passphrase, RefreshToken};
use crate::vault::header::Slot;
use crate::vault::{self, format, store, Opened, VaultRef};
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
    /// A session the agent answered with; `unsaved`: the agent holds a rotated refresh
    /// token the vault lacks.
    pub fn from_agent(
        grant: GrantInfo,
        secrets: Option<GrantSecrets>,
        access_token: AccessToken,
        expires_at: SystemTime,
        unsaved: bool,
    ) -> Self {
        Session {
            grant,
            secrets,
            access_token,
            expires_at,
            source: Source::Agent,
            unsaved: if unsaved {
                Unsaved::InAgent
            } else {
                Unsaved::Nothing
            },
        }
    }

    pub fn source(&self) -> Source {
        self.source
    }

    /// The client secret and refresh token, when the session was asked for them.
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
    /// are used. Nothing to save is not an error.
    pub fn save_rotated(&mut self, vault: &VaultRef, known: Option<&Passphrase>) -> Result<()> {
        let new = match &self.unsaved {
            Unsaved::Nothing => return Ok(()),
            Unsaved::Here(token) => token.clone(),
            Unsaved::InAgent => match &self.secrets {
                Some(s) => s.refresh_token.clone(),
                None => crate::agent::rotated_refresh_token(vault)?,
            },
        };
        vault::update(vault, known, |opened| {
            opened.payload.refresh_token = new.clone();
            Ok(((), vault::keep_passphrase(opened)?))
        })?;
        if self.source == Source::Agent {
            crate::agent::refresh_token_saved(vault);
        }
        if let Some(s) = &mut self.secrets {
            s.refresh_token = new;
        }
        self.unsaved = Unsaved::Nothing;
        vault
            .report
            .detail("the token endpoint issued a new refresh token; saved it in the vault");
        Ok(())
    }
}

/// Where a grant comes from.
pub enum GrantSource {
    /// The vault's agent answered, with a fresh access token already.
    Agent(Session),
    /// The vault, opened in this process; a token is minted when asked for a session.
    Vault { opened: Opened, secrets: Secrets },
}

impl GrantSource {
    /// The agent when one answers (and the reference allows it), else the vault opened
    /// here. An agent whose refresh failed is an error (its exit status says why); an
    /// agent that cannot serve (stale, another version) counts as none. A rotated refresh
    /// token only the agent holds is saved now if this process can open the vault.
    pub fn find(vault: &VaultRef, secrets: Secrets) -> Result<Self> {
        match crate::agent::session(vault, secrets)? {
            Some(session) => Ok(GrantSource::Agent(rotation_saved(vault, session))),
            None => Ok(GrantSource::Vault {
                opened: vault::open(vault)?,
                secrets,
            }),
        }
    }

    /// Like [`find`](Self::find) with the secrets, but a vault that others can read
    /// still opens (for `audit`, which reports that among everything else).
    pub fn find_despite_permissions(vault: &VaultRef) -> Result<Self> {
        match crate::agent::session(vault, Secrets::Included)? {
            Some(session) => Ok(GrantSource::Agent(rotation_saved(vault, session))),
            None => Ok(GrantSource::Vault {
                opened: vault::open_despite_permissions(vault)?,
                secrets: Secrets::Included,
            }),
        }
    }

    /// The grant's public fields and (when asked for) its secrets, without a token.
    pub fn grant(&self) -> (GrantInfo, Option<GrantSecrets>) {
        match self {
            GrantSource::Agent(s) => (s.grant.clone(), s.secrets.clone()),
            GrantSource::Vault { opened, secrets } => (
                GrantInfo::of(&opened.payload),
                (*secrets == Secrets::Included).then(|| GrantSecrets::of(&opened.payload)),
            ),
        }
    }

    /// The vault's slots, as its header shows them.
    pub fn slots(&self, vault: &VaultRef) -> Result<Vec<Slot>> {
        match self {
            GrantSource::Vault { opened, .. } => Ok(opened.header.slots()),
            GrantSource::Agent(_) => Ok(format::read_header(&store::read(&vault.path)?)?.slots()),
        }
    }

    /// A session: the agent's, or one with a token minted from the vault opened here.
    pub fn session(self, vault: &VaultRef, http: &dyn Http) -> Result<Session> {
        match self {
            GrantSource::Agent(session) => Ok(session),
            GrantSource::Vault { opened, secrets } => {
                mint::from_opened(vault, http, opened, secrets)
            }
        }
    }
}

/// The usual way in: a session from the agent, or from the vault and the token endpoint.
pub fn open(vault: &VaultRef, secrets: Secrets) -> Result<Session> {
    match GrantSource::find(vault, secrets)? {
        GrantSource::Agent(session) => Ok(session),
        source => source.session(vault, &crate::oauth::Client::new()?),
    }
}

/// A rotated refresh token the agent holds is saved when this process can open the vault;
/// when it cannot, that is a warning, not a failure (the agent still has the token).
fn rotation_saved(vault: &VaultRef, mut session: Session) -> Session {
    if session.has_unsaved_refresh_token() {
        if let Err(e) = session.save_rotated(vault, None) {
            vault.report.warning(
                &format!(
                    "the token endpoint issued a new refresh token that only the agent holds ({})",
                    e.message
                ),
                Some(UNSAVED_AGENT_HINT),
            );
        }
    }
    session
}

/// What to do while only the agent holds the grant's refresh token.
const UNSAVED_AGENT_HINT: &str = "run any command with the passphrase (e.g. `ttvault token --passphrase-file F`) or `ttvault unlock` before the agent ends, or the grant is lost";

/// A refresh token issued to this process that could not be written into the vault.
fn unsaved_here(err: Error) -> Error {
    err.hint("the token endpoint issued a new refresh token that could not be saved; run the command again with the passphrase")
}

#[cfg(test)]
mod tests;
