//! `POST /credentials`: the client id and secret typed on the start page, accepted only
//! with the page's CSRF token and from the page's own origin.

use super::route::{header_of, origin_allowed, Expect, Flow};
use crate::error::Result;
use crate::oauth::pages;
use crate::secret::{ClientSecret, OAuthState};
use zeroize::Zeroizing;

/// A credentials form larger than this is not a client id and secret.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The Ok value is where to send the browser next; the Err value the status and page to
/// show.
pub(super) fn credentials(
    expect: &Expect<'_>,
    authorize: &dyn Fn(&str) -> Result<String>,
    flow: &mut Flow,
    headers: &[(String, String)],
    body: &[u8],
) -> std::result::Result<String, (u16, String)> {
    if let Some(origin) = header_of(headers, "Origin") {
        if !origin_allowed(origin, expect.port) {
            return Err((
                403,
                pages::refused(
                    "Refused",
                    "This form can only be sent from ttvault's own page.",
                ),
            ));
        }
    }
    if body.len() > MAX_FORM_BYTES {
        return Err((
            413,
            pages::refused("Too large", "That form is larger than expected."),
        ));
    }
    let mut csrf = None;
    let mut client_id = None;
    let mut secret = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        let v = Zeroizing::new(v.into_owned());
        match k.as_ref() {
            "csrf" if csrf.is_none() => csrf = Some(OAuthState::new(v.as_str())),
            "client_id" if client_id.is_none() => client_id = Some(v.trim().to_string()),
            "client_secret" if secret.is_none() => secret = Some(ClientSecret::new(v.trim())),
            _ => {}
        }
    }
    if !csrf.is_some_and(|c| c.ct_eq(expect.csrf)) {
        return Err((
            403,
            pages::refused(
                "This form has expired",
                "It was not sent from the page of this ttvault run. Reload the page and try again.",
            ),
        ));
    }
    let form_error = |msg: &str| {
        (
            400,
            pages::credentials_form(expect.csrf.expose(), None, Some(msg)),
        )
    };
    let client_id = client_id.filter(|c| !c.is_empty());
    let secret = secret.filter(|s| !s.expose().is_empty());
    let (Some(client_id), Some(secret)) = (client_id, secret) else {
        return Err(form_error(
            "Enter both the client id and the client secret.",
        ));
    };
    let url = authorize(&client_id).map_err(|e| form_error(&e.message))?;
    flow.credentials = Some((client_id, secret));
    flow.authorize_url = Some(url.clone());
    Ok(url)
}
