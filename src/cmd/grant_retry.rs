//! A browser round trip that went wrong in a way the person can fix, tried again within
//! the same run (`init`, `rotate`): what was typed is kept, and only what was wrong is
//! asked again.

use super::credentials::Known;
use super::grant::{browser_flow, loopback_error, Bound, Obtained, Options};
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::oauth::server::{LoopbackError, RedirectUri, Server};
use crate::oauth::Http;
use crate::secret::ClientSecret;
use crate::ui::Ui;
use std::time::Duration;

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
            None => bind_again(args)?,
        };
        let (err, question) = match browser_flow(http, args, env, known.clone(), this) {
            Ok(obtained) => return Ok(obtained),
            Err(Missed::Other(err)) => return Err(err),
            Err(Missed::Declined(err)) => (
                err,
                "The sign-in was declined in the browser. Sign in again?",
            ),
            Err(Missed::Client { err, client_id }) => {
                known.client_id = Some(client_id);
                known.client_secret = None;
                (
                    err,
                    "Tastytrade refused the client id or secret. Type the client secret again \
                     and sign in again?",
                )
            }
        };
        if !ui.can_ask() {
            return Err(err);
        }
        // The question says what went wrong; a "no" ends with the full error (once).
        if !ui.confirm(question, true)? {
            return Err(err);
        }
        if known.client_id.is_some() && known.client_secret.is_none() {
            let typed = ui.line("Client secret (input hidden): ", true)?;
            known.client_secret = Some(ClientSecret::new(typed.trim()));
        }
    }
}

/// Binds the redirect URI's port again for the next round. The last round's listeners close
/// on their own threads once woken, so for a moment the port may still be held by this very
/// process: that is waited out (a few seconds at most) before a busy port is reported.
fn bind_again(args: &Options) -> Result<Bound> {
    let redirect = RedirectUri::parse(&args.redirect_uri)
        .map_err(|e| loopback_error(e, &args.redirect_uri))?;
    let mut tries = 0;
    loop {
        match Server::bind(&redirect) {
            Ok(server) => return Ok(Bound { redirect, server }),
            Err(LoopbackError::PortInUse { .. }) if tries < 150 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(loopback_error(e, &redirect.uri)),
        }
    }
}
