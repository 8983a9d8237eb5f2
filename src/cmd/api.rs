//! `ttvault api PATH`: a read-only API call with the vault's access token (README "api").
//! The words are checked first (a refused method costs no passphrase and sends nothing),
//! then the token comes from [`Tokens`], the one place that knows where tokens come from.

use super::Context;
use crate::api::{self, Plan, Sink, Style, Words};
use crate::cli::ApiArgs;
use crate::error::Result;
use crate::secret::{AccessToken, Passphrase};
use crate::session::{GrantSource, Secrets, Session};
use crate::vault::{self, VaultRef};
use std::io::IsTerminal;

pub fn run(ctx: &Context, args: &ApiArgs) -> Result<i32> {
    let plan = Plan::new(&Words {
        method: &args.method,
        path: &args.path,
        fields: &args.fields,
        jq: args.jq.as_deref(),
        paginate: args.paginate,
        include: args.include,
    })?;
    let mut tokens = Tokens::open(&ctx.vault)?;
    let api_base = tokens.session.grant.environment.api_url().to_string();
    let transport = api::Client::new()?;
    let style = Style {
        terminal: std::io::stdout().is_terminal(),
    };
    let mut out = Sink::new(std::io::stdout().lock());
    api::run(
        &plan,
        &api_base,
        &mut api::Api {
            transport: &transport,
            sleep: &crate::oauth::retry::ThreadSleep,
            tokens: &mut tokens,
            report: &*ctx.vault.report,
        },
        &mut out,
        style,
    )?;
    Ok(0)
}

/// The grant's access tokens for `api`: the agent's when one holds the vault open, else
/// minted from the vault opened here.
struct Tokens<'v> {
    vault: &'v VaultRef,
    session: Session,
    /// Opened here: the passphrase that opened the vault (when one did), so a fresh token
    /// costs no second prompt.
    opened_here: Option<Option<Passphrase>>,
}

impl<'v> Tokens<'v> {
    fn open(vault: &'v VaultRef) -> Result<Self> {
        match GrantSource::find(vault, Secrets::Withheld)? {
            GrantSource::Agent(session) => Ok(Tokens {
                vault,
                session,
                opened_here: None,
            }),
            GrantSource::Vault { opened, secrets } => {
                let passphrase = opened.passphrase.clone();
                let session = GrantSource::Vault { opened, secrets }
                    .session(vault, &crate::oauth::Client::new()?)?;
                Ok(Tokens {
                    vault,
                    session,
                    opened_here: Some(passphrase),
                })
            }
        }
    }
}

impl api::Tokens for Tokens<'_> {
    fn access_token(&mut self, fresh: bool) -> Result<AccessToken> {
        if fresh {
            self.session = match &self.opened_here {
                // A new refresh from the vault, read again with what opened it.
                Some(passphrase) => GrantSource::Vault {
                    opened: vault::open_using(self.vault, passphrase.as_ref())?,
                    secrets: Secrets::Withheld,
                }
                .session(self.vault, &crate::oauth::Client::new()?)?,
                // The agent's cached token was refused: ask it for one refreshed now.
                None => crate::session::open_with(
                    self.vault,
                    Secrets::Withheld,
                    crate::session::Freshness::fresh(),
                )?,
            };
        }
        Ok(self.session.access_token.clone())
    }
}
