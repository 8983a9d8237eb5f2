//! A browser round trip that went wrong in a way the person can fix, tried again within
//! the same run (`init`, `rotate`): what was typed is kept, and only what was wrong is
//! asked again.

use super::credentials::Known;
use super::grant::{bind, browser_flow, Bound, Obtained, Options};
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::oauth::Http;
use crate::output;
use crate::secret::ClientSecret;
use crate::ui::Ui;

/// Why a browser round trip ended without a grant.
pub(super) enum Missed {
    /// Declined on the consent page: the same credentials may simply sign in again.
    Declined(Error),
    /// Tastytrade refused the client id or secret (`invalid_client`); `client_id` is the
    /// one used, so a retry asks only the secret again.
    Client {
        err: Error,
        client_id: String,
    },
    Other(Error),
}

impl From<Error> for Missed {
    fn from(err: Error) -> Self {
        Missed::Other(err)
    }
}

/// The browser flow, again within the same run when the person can fix what went wrong
/// at the terminal: a declined consent signs in again with what was typed, a refused
/// client secret asks only the secret again. Nothing typed is asked twice otherwise.
pub(super) fn browser_until_granted(
    http: &dyn Http,
    args: &Options,
    env: &Environment,
    mut known: Known,
    mut bound: Option<Bound>,
    ui: &dyn Ui,
) -> Result<Obtained> {
    loop {
        let this = match bound.take() {
            Some(b) => b,
            None => {
                bind(args)?.ok_or_else(|| Error::failure("the loopback server is not bound"))?
            }
        };
        let (err, question) = match browser_flow(http, args, env, known.clone(), this) {
            Ok(obtained) => return Ok(obtained),
            Err(Missed::Other(err)) => return Err(err),
            Err(Missed::Declined(err)) => (err, "Sign in again?"),
            Err(Missed::Client { err, client_id }) => {
                known.client_id = Some(client_id);
                known.client_secret = None;
                (err, "Type the client secret again and sign in again?")
            }
        };
        if !ui.can_ask() {
            return Err(err);
        }
        output::warning(&err.message, err.hint.as_deref());
        if !ui.confirm(question, true)? {
            return Err(err);
        }
        if known.client_id.is_some() && known.client_secret.is_none() {
            let typed = ui.line("Client secret (input hidden): ", true)?;
            known.client_secret = Some(ClientSecret::new(typed.trim()));
        }
    }
}
