//! `ttvault api PATH`: a read-only API call with the vault's access token (README "api").
//! The words are checked first (a refused method costs no passphrase and sends nothing),
//! then the token comes from the command's one way to its grant ([`Tokens`]).

use super::Context;
use crate::api::{self, Plan, Sink, Style, Words};
use crate::cli::ApiArgs;
use crate::error::Result;
use crate::secret::AccessToken;
use crate::session::{GrantAccess, Session};
use crate::want::{Freshness, Secrets};
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
    let http = crate::oauth::Client::new()?;
    let mut grant = ctx.grant(&http);
    let session = grant.session(Secrets::Withheld, Freshness::default())?;
    let mut tokens = Tokens { grant, session };
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

/// The grant's access tokens for `api`, through the command's one way to its grant: the
/// agent's when one holds the vault open, else minted from the vault opened here (once:
/// a fresh token costs no second prompt).
struct Tokens<'a> {
    grant: GrantAccess<'a>,
    session: Session,
}

impl api::Tokens for Tokens<'_> {
    fn access_token(&mut self, fresh: bool) -> Result<AccessToken> {
        if fresh {
            // The token was refused: one refreshed now (by the agent, or here).
            self.session = self.grant.session(Secrets::Withheld, Freshness::fresh())?;
        }
        Ok(self.session.access_token.clone())
    }
}
