//! [`GrantAccess`]: the one value a command asks for its grant, built once from the
//! vault reference (which carries the command's [`crate::ui::Ui`]) and the HTTP client.
//! It asks the agent first; when the agent cannot serve what is asked (none
//! is running, or it hands out access tokens only and the secrets are wanted), it opens
//! the vault here where that is possible (with a one-line note when the agent was up),
//! else the agent's refusal, which says what to do, is the error. A vault opened here is
//! kept for the rest of the command: a second token, or a rotation to save, costs no
//! second prompt.

use super::{mint, Session, UNSAVED_AGENT_HINT};
use crate::agent::AgentAnswer;
use crate::error::{Error, Result};
use crate::oauth::Http;
use crate::vault::header::Slot;
use crate::vault::{self, format, store, GrantInfo, GrantSecrets, Opened, VaultRef};
use crate::want::{Freshness, Secrets};

/// The grant's public fields, and its secrets when they were asked for.
pub struct GrantFields {
    pub info: GrantInfo,
    pub secrets: Option<GrantSecrets>,
}

/// What this command has learnt of the vault's agent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Agent {
    /// Not asked yet.
    Unknown,
    /// None answers (or `--no-agent`): everything comes from the vault opened here.
    Absent,
    /// It withholds the long-lived secrets; it still serves access tokens.
    TokensOnly,
}

/// The one way a command reaches its grant (see the module's comment).
pub struct GrantAccess<'a> {
    vault: &'a VaultRef,
    http: &'a dyn Http,
    despite_permissions: bool,
    agent: Agent,
    opened: Option<Opened>,
}

impl<'a> GrantAccess<'a> {
    pub fn new(vault: &'a VaultRef, http: &'a dyn Http) -> Self {
        GrantAccess {
            vault,
            http,
            despite_permissions: false,
            agent: if vault.use_agent {
                Agent::Unknown
            } else {
                Agent::Absent
            },
            opened: None,
        }
    }

    /// For `audit` only: a vault that others can read is still opened here.
    pub fn despite_permissions(mut self) -> Self {
        self.despite_permissions = true;
        self
    }

    /// A vault this command has opened already (`unlock`): its passphrase saves a
    /// rotation without asking again.
    pub fn with_opened(mut self, opened: Opened) -> Self {
        self.opened = Some(opened);
        self
    }

    /// The vault opened here, when it was (`unlock` hands its grant to the new agent).
    pub fn into_opened(self) -> Option<Opened> {
        self.opened
    }

    /// The grant's fields without a token (nothing is refreshed or sent): from the agent
    /// when it holds the vault open, else from the vault opened here.
    pub fn fields(&mut self, secrets: Secrets) -> Result<GrantFields> {
        if self.opened.is_none() && self.agent_may_serve(secrets) {
            match crate::agent::info(self.vault, secrets)? {
                AgentAnswer::Served(reply) => {
                    return Ok(GrantFields {
                        info: reply.grant,
                        secrets: reply.secrets,
                    })
                }
                AgentAnswer::Withheld(e) => self.withheld(e)?,
                AgentAnswer::NoAgent => self.agent = Agent::Absent,
            }
        }
        let opened = self.opened()?;
        Ok(GrantFields {
            info: GrantInfo::of(&opened.payload),
            secrets: (secrets == Secrets::Included).then(|| GrantSecrets::of(&opened.payload)),
        })
    }

    /// A session with a token that has at least `want` (a token minted here is fresh; it
    /// is refused, exit 2, only when the endpoint's tokens live less than the floor).
    pub fn session(&mut self, secrets: Secrets, want: Freshness) -> Result<Session> {
        if self.agent_may_serve(secrets) {
            match crate::agent::token(self.vault, secrets, want)? {
                AgentAnswer::Served(served) => {
                    return Ok(self.rotation_saved(Session::from_agent(*served)))
                }
                AgentAnswer::Withheld(e) => self.withheld(e)?,
                AgentAnswer::NoAgent => self.agent = Agent::Absent,
            }
        }
        let (vault, http) = (self.vault, self.http);
        let opened = self.opened()?;
        mint::from_opened(vault, http, opened, secrets, want.min_ttl)
    }

    /// The vault's slots, as its header shows them (no passphrase needed for that).
    pub fn slots(&self) -> Result<Vec<Slot>> {
        match &self.opened {
            Some(opened) => Ok(opened.header.slots()),
            None => Ok(format::read_header(&store::read(&self.vault.path)?)?.slots()),
        }
    }

    /// Saves the refresh token the agent rotated and holds alone (before it is ended or
    /// replaced). Whether there was one to save.
    pub fn save_agent_rotation(&mut self) -> Result<bool> {
        let mut session =
            match crate::agent::token(self.vault, Secrets::Withheld, Freshness::default())? {
                AgentAnswer::Served(served) => Session::from_agent(*served),
                AgentAnswer::Withheld(e) => return Err(e),
                AgentAnswer::NoAgent => return Err(Error::failure("the agent stopped answering")),
            };
        let known = self.opened.as_ref().and_then(|o| o.passphrase.clone());
        let saved = session.save_rotated(self.vault, known.as_ref())?;
        if let (Some(token), Some(opened)) = (&saved, &mut self.opened) {
            opened.payload.refresh_token = token.clone();
        }
        Ok(saved.is_some())
    }

    /// Whether the agent refused the long-lived secrets (it serves tokens still).
    pub fn agent_withholds_secrets(&self) -> bool {
        self.agent == Agent::TokensOnly
    }

    fn agent_may_serve(&self, secrets: Secrets) -> bool {
        match self.agent {
            Agent::Unknown => true,
            Agent::Absent => false,
            Agent::TokensOnly => secrets == Secrets::Withheld,
        }
    }

    /// The agent withholds the secrets: they come from the vault opened here, with a
    /// note, when that is possible; else its refusal (saying what to do) is the error.
    fn withheld(&mut self, refusal: Error) -> Result<()> {
        self.agent = Agent::TokensOnly;
        if self.opened.is_none() {
            if !can_open_here(self.vault) {
                return Err(refusal);
            }
            self.vault.report.note(
                "the agent hands out access tokens only; opening the vault here for the client secret and refresh token",
            );
        }
        Ok(())
    }

    /// The vault opened here, opened now when it was not yet.
    fn opened(&mut self) -> Result<&mut Opened> {
        if self.opened.is_none() {
            self.opened = Some(if self.despite_permissions {
                vault::open_despite_permissions(self.vault)?
            } else {
                vault::open(self.vault)?
            });
        }
        Ok(self.opened.as_mut().expect("opened just above"))
    }

    /// A rotated refresh token the agent holds is saved when this process can open the
    /// vault; when it cannot, that is a warning, not a failure (the agent still has it).
    fn rotation_saved(&mut self, mut session: Session) -> Session {
        if session.has_unsaved_refresh_token() {
            let known = self.opened.as_ref().and_then(|o| o.passphrase.clone());
            match session.save_rotated(self.vault, known.as_ref()) {
                Ok(Some(token)) => {
                    if let Some(opened) = &mut self.opened {
                        opened.payload.refresh_token = token;
                    }
                }
                Ok(None) => {}
                Err(e) => self.vault.report.warning(
                    &format!(
                        "the token endpoint issued a new refresh token that only the agent holds ({})",
                        e.message
                    ),
                    Some(UNSAVED_AGENT_HINT),
                ),
            }
        }
        session
    }
}

/// Whether this process can open the vault without the agent: a passphrase or identity
/// given, or a person the vault's Ui can ask.
fn can_open_here(vault: &VaultRef) -> bool {
    let sources = &vault.unlock;
    sources.passphrase_file.is_some()
        || sources.passphrase_fd.is_some()
        || sources.identity.is_some()
        || crate::settings::get().has_passphrase()
        || vault.ui.can_ask()
}
