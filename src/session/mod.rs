//! One way to a grant. A [`GrantSource`] is the vault's agent when one answers, else the
//! vault opened in this process; either gives one [`Session`]: the grant's public fields,
//! its secrets only when asked, and a fresh access token with its expiry. A refresh token
//! that the token endpoint rotated is written into the vault in one place,
//! [`Session::save_rotated`].

mod floor;
mod grant;
mod mint;

pub use floor::{longer_than_lifetime, parse_min_ttl, Freshness, DEFAULT_MIN_TTL};
pub use grant::{GrantInfo, GrantSecrets, Secrets};

use crate::agent::Answer;
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
        let known_token = match &self.unsaved {
            Unsaved::Nothing => return Ok(()),
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
        Self::find_with(vault, secrets, Freshness::default())
    }

    /// Like [`find`](Self::find), with what the agent's token must be (`want`; a vault
    /// opened here mints a fresh token anyway). When the agent withholds the long-lived
    /// secrets, the vault is opened here if a passphrase or identity is at hand, else
    /// that refusal (saying what to do) is the error.
    pub fn find_with(vault: &VaultRef, secrets: Secrets, want: Freshness) -> Result<Self> {
        match crate::agent::session(vault, secrets, want)? {
            Answer::Served(session) => Ok(GrantSource::Agent(rotation_saved(vault, *session))),
            Answer::Withheld(e) if !can_open_here(vault) => Err(e),
            Answer::Withheld(_) | Answer::NoAgent => Ok(GrantSource::Vault {
                opened: vault::open(vault)?,
                secrets,
            }),
        }
    }

    /// For `audit`: the grant with its secrets and a token refreshed just now (the live
    /// checks must see a revoked grant), and a vault that others can read still opens
    /// (audit reports that among everything else). An agent that withholds the secrets
    /// serves the fresh token alone when nothing here can open the vault.
    pub fn find_despite_permissions(vault: &VaultRef) -> Result<Self> {
        let want = Freshness::fresh();
        let answer = match crate::agent::session(vault, Secrets::Included, want)? {
            Answer::Withheld(_) if !can_open_here(vault) => {
                crate::agent::session(vault, Secrets::Withheld, want)?
            }
            answer => answer,
        };
        match answer {
            Answer::Served(session) => Ok(GrantSource::Agent(rotation_saved(vault, *session))),
            Answer::Withheld(e) => Err(e),
            Answer::NoAgent => Ok(GrantSource::Vault {
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
        self.session_with(vault, http, Freshness::default())
    }

    /// Like [`session`](Self::session), with a token that has at least `want.min_ttl`
    /// left (a token minted here is refused, exit 2, only when the endpoint's tokens live
    /// less than that).
    pub fn session_with(
        self,
        vault: &VaultRef,
        http: &dyn Http,
        want: Freshness,
    ) -> Result<Session> {
        match self {
            GrantSource::Agent(session) => Ok(session),
            GrantSource::Vault { opened, secrets } => {
                mint::from_opened_with(vault, http, opened, secrets, want.min_ttl)
            }
        }
    }
}

/// A session from the agent, or from the vault and the token endpoint, with a token that
/// has at least `want.min_ttl` left (`exec`, `export`,
/// `token`). A token minted here is fresh; it is refused (exit 2) only when the
/// endpoint's tokens live less than the floor.
pub fn open_with(vault: &VaultRef, secrets: Secrets, want: Freshness) -> Result<Session> {
    match GrantSource::find_with(vault, secrets, want)? {
        GrantSource::Agent(session) => Ok(session),
        source => source.session_with(vault, &crate::oauth::Client::new()?, want),
    }
}

/// Whether this process could open the vault without the agent: a passphrase file,
/// descriptor or variable, an identity, or a person to ask (the vault's Ui).
fn can_open_here(vault: &VaultRef) -> bool {
    let sources = &vault.unlock;
    sources.passphrase_file.is_some()
        || sources.passphrase_fd.is_some()
        || sources.identity.is_some()
        || std::env::var_os(crate::passphrase::ENV_PASSPHRASE).is_some()
        || vault.ui.can_ask()
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
