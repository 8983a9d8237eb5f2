//! The browser's return from the authorize page: `code` and `state`, or `error`. Only the
//! exact state counts, for an error as much as for a code: a forged error link (an
//! `<img>` on any web page) must not end the flow.

use super::error::LoopbackError;
use super::route::{Answer, Decision, Expect, Flow, Start};
use crate::oauth::pages;
use crate::oauth::sanitize::sanitize;
use crate::secret::{AuthCode, OAuthState};
use std::collections::HashMap;
use zeroize::Zeroizing;

pub(super) fn interpret(
    expect: &Expect<'_>,
    flow: &mut Flow,
    params: &HashMap<String, Zeroizing<String>>,
) -> Decision {
    let returned = params.get("state").map(|s| OAuthState::new(s.as_str()));
    match returned.map(|s| s.ct_eq(expect.state)) {
        // Not the answer to our request (a stale tab, or a forged link): keep waiting.
        Some(false) => {
            return keep_waiting(
                "This answer does not belong to this sign-in",
                "Its state does not match the one ttvault sent (an old tab, or a link from \
                 somewhere else).",
            )
        }
        None => {
            return keep_waiting(
                "This answer carries no state",
                "ttvault only accepts the answer to the request it sent, which carries its \
                 state.",
            )
        }
        Some(true) => {}
    }
    if let Some(error) = params.get("error") {
        let code = sanitize(error, 40);
        let err = if code == "access_denied" {
            LoopbackError::Declined
        } else {
            LoopbackError::AuthorizeError {
                code,
                description: params
                    .get("error_description")
                    .map(|d| sanitize(d, 160))
                    .filter(|d| !d.is_empty()),
            }
        };
        return fail(err);
    }
    let code = params
        .get("code")
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let Some(code) = code else {
        return fail(LoopbackError::NoCode);
    };
    let credentials = match expect.start {
        Start::Form { .. } => match flow.credentials.take() {
            Some(c) => Some(c),
            None => {
                return keep_waiting(
                    "No credentials yet",
                    "Enter the client id and secret first.",
                )
            }
        },
        Start::Authorize(_) => None,
    };
    Decision::Accept {
        code: AuthCode::new(code),
        credentials,
    }
}

fn keep_waiting(title: &str, message: &str) -> Decision {
    Decision::Answer(Answer::Page(400, pages::refused(title, message)))
}

fn fail(err: LoopbackError) -> Decision {
    let page = pages::failure(&err.to_string());
    Decision::Fail(Answer::Page(400, page), err)
}
