//! `ttvault api PATH`: a read-only API call with the vault's access token (README "api").
//! The words are checked first (a refused method costs no passphrase and sends nothing),
//! then the token comes from [`Grant`], the one place that knows where tokens come from.

use crate::api::{self, Plan, Sink, Style, Words};
use crate::cli::{ApiArgs, Global};
use crate::error::Result;
use crate::mint::{self, Minted};
use crate::secret::AccessToken;
use std::io::IsTerminal;

pub fn run(global: &Global, args: &ApiArgs) -> Result<i32> {
    let plan = Plan::new(&Words {
        method: &args.method,
        path: &args.path,
        fields: &args.fields,
        jq: args.jq.as_deref(),
        paginate: args.paginate,
        include: args.include,
    })?;
    let mut grant = Grant::open(global)?;
    let api_base = grant.api_base();
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
            tokens: &mut grant,
            verbose: global.verbose,
        },
        &mut out,
        style,
    )?;
    Ok(0)
}

/// The grant's access tokens for `api`: from the agent when one holds the vault open,
/// else from the vault opened here. This is the only code of `api` that knows today's
/// `agent` / `mint` functions.
struct Grant<'g> {
    global: &'g Global,
    /// Always `Some` between calls; taken while a fresh token is minted.
    minted: Option<Minted>,
    from_agent: bool,
}

impl<'g> Grant<'g> {
    fn open(global: &'g Global) -> Result<Grant<'g>> {
        let (minted, from_agent) = match crate::agent::from_agent(global, false)? {
            Some(m) => (m, true),
            None => (
                mint::from_vault(global, &crate::oauth::Client::new()?)?,
                false,
            ),
        };
        Ok(Grant {
            global,
            minted: Some(minted),
            from_agent,
        })
    }

    fn api_base(&self) -> String {
        self.minted
            .as_ref()
            .map(|m| m.opened.payload.environment.api_url().to_string())
            .unwrap_or_default()
    }
}

impl api::Tokens for Grant<'_> {
    fn access_token(&mut self, fresh: bool) -> Result<AccessToken> {
        if fresh {
            let minted = if self.from_agent {
                // The agent hands out its cached token while it looks fresh; asking again
                // still gives it a chance to have refreshed it meanwhile.
                match crate::agent::from_agent(self.global, false)? {
                    Some(m) => m,
                    None => {
                        self.from_agent = false;
                        mint::from_vault(self.global, &crate::oauth::Client::new()?)?
                    }
                }
            } else {
                // The vault is open already: a new refresh, no second passphrase prompt.
                let opened = match self.minted.take() {
                    Some(m) => m.opened,
                    None => crate::vault::open(self.global)?,
                };
                mint::mint(self.global, &crate::oauth::Client::new()?, opened)?
            };
            self.minted = Some(minted);
        }
        match &self.minted {
            Some(m) => Ok(m.access_token.clone()),
            None => Err(crate::Error::failure("no access token")),
        }
    }
}
