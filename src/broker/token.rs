//! The broker's answer to `POST /oauth/token`: the program's SDK "refreshes" with the
//! placeholders it was handed, and gets a real access token from ttvault's token source in
//! Tastytrade's response shape. The placeholders themselves never leave the broker.

use super::reply::{self, Body};
use super::{Event, Placeholders, TokenSource};
use crate::secret::ct_eq;
use hyper::{Response, StatusCode};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Whether a token request carries this run's placeholders. The reason in the error is
/// shown to the program; it names the field, never a value.
pub fn check(
    content_type: Option<&str>,
    body: &[u8],
    placeholders: &Placeholders,
) -> Result<(), String> {
    let fields = parse(content_type, body).ok_or_else(|| {
        "ttvault's broker could not read this token request: send a JSON or form body".to_owned()
    })?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("refresh_token") {
        return Err(
            "ttvault's broker answers only refresh requests (grant_type=refresh_token)".into(),
        );
    }
    let is = |value: Option<&str>, expected: &str| {
        value.is_some_and(|v| ct_eq(v.as_bytes(), expected.as_bytes()))
    };
    if !is(field("refresh_token"), placeholders.refresh_token()) {
        return Err("ttvault's broker: the refresh_token is not this run's placeholder (TT_REFRESH_TOKEN as `ttvault exec --broker` set it)".into());
    }
    if !is(field("client_secret"), placeholders.client_secret()) {
        return Err("ttvault's broker: the client_secret is not this run's placeholder (TT_API_CLIENT_SECRET as `ttvault exec --broker` set it)".into());
    }
    if let Some(id) = field("client_id") {
        let real = placeholders
            .real_client_id()
            .is_some_and(|r| is(Some(id), r));
        if !real && !is(Some(id), placeholders.client_id()) {
            return Err("ttvault's broker: the client_id is neither this run's placeholder nor the vault's client id".into());
        }
    }
    Ok(())
}

/// The request's fields as strings: JSON when it says so (or looks like it), else a form.
fn parse(content_type: Option<&str>, body: &[u8]) -> Option<Vec<(String, String)>> {
    let json = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if json {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        Some(
            object
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect(),
        )
    } else {
        let text = std::str::from_utf8(body).ok()?;
        Some(
            url::form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect(),
        )
    }
}

/// Answers a token request: a real access token when the request carries the placeholders,
/// else 401 naming ttvault.
pub async fn answer(
    content_type: Option<&str>,
    body: &[u8],
    placeholders: &Placeholders,
    min_ttl: Duration,
    tokens: Arc<dyn TokenSource>,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Response<Body> {
    if let Err(reason) = check(content_type, body, placeholders) {
        return reply::token_error(&reason);
    }
    // The source may block (the agent's socket, a refresh over HTTP): off the event loop.
    let got = tokio::task::spawn_blocking(move || tokens.access_token(min_ttl)).await;
    match got {
        Ok(Ok((token, expires))) => {
            let left = expires
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_secs();
            reply::json(
                StatusCode::OK,
                &serde_json::json!({
                    "access_token": token.expose(),
                    "token_type": "Bearer",
                    "expires_in": left,
                    "refresh_token": placeholders.refresh_token(),
                }),
            )
        }
        Ok(Err(e)) => token_failed(e.message, e.hint, on_event),
        Err(_) => token_failed("the token source stopped".to_owned(), None, on_event),
    }
}

fn token_failed(
    reason: String,
    hint: Option<String>,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Response<Body> {
    let message = format!("ttvault could not get an access token: {reason}");
    on_event(Event::TokenFailed { reason, hint });
    reply::token_error(&message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_body(p: &Placeholders, extra: &str) -> String {
        format!(
            r#"{{"grant_type":"refresh_token","refresh_token":"{}","client_secret":"{}"{extra}}}"#,
            p.refresh_token(),
            p.client_secret()
        )
    }

    #[test]
    fn the_placeholders_are_accepted_as_json_and_as_a_form() {
        let p = Placeholders::generate();
        assert_eq!(
            check(Some("application/json"), json_body(&p, "").as_bytes(), &p),
            Ok(())
        );
        // No content type: the body's shape decides.
        assert_eq!(check(None, json_body(&p, "").as_bytes(), &p), Ok(()));
        let form = format!(
            "grant_type=refresh_token&refresh_token={}&client_secret={}&client_id={}",
            p.refresh_token(),
            p.client_secret(),
            p.client_id()
        );
        assert_eq!(
            check(
                Some("application/x-www-form-urlencoded"),
                form.as_bytes(),
                &p
            ),
            Ok(())
        );
    }

    #[test]
    fn the_client_id_may_be_absent_the_placeholder_or_the_real_one() {
        let p = Placeholders::generate().accepting_client_id("real-id");
        let with = |id: &str| json_body(&p, &format!(r#","client_id":"{id}""#));
        assert!(check(None, with(p.client_id()).as_bytes(), &p).is_ok());
        assert!(check(None, with("real-id").as_bytes(), &p).is_ok());
        assert!(check(None, with("other").as_bytes(), &p)
            .unwrap_err()
            .contains("client_id"));
        let plain = Placeholders::generate();
        let body = json_body(&plain, r#","client_id":"real-id""#);
        assert!(check(None, body.as_bytes(), &plain).is_err());
    }

    #[test]
    fn wrong_values_are_refused_naming_ttvault_and_the_field_only() {
        let p = Placeholders::generate();
        let other = Placeholders::generate();
        let swapped = format!(
            r#"{{"grant_type":"refresh_token","refresh_token":"{}","client_secret":"{}"}}"#,
            other.refresh_token(),
            p.client_secret()
        );
        let reason = check(None, swapped.as_bytes(), &p).unwrap_err();
        assert!(reason.contains("ttvault") && reason.contains("refresh_token"));
        assert!(!reason.contains(other.refresh_token()));
        let secret = format!(
            r#"{{"grant_type":"refresh_token","refresh_token":"{}","client_secret":"real"}}"#,
            p.refresh_token()
        );
        assert!(check(None, secret.as_bytes(), &p)
            .unwrap_err()
            .contains("client_secret"));
        let code = r#"{"grant_type":"authorization_code","code":"x"}"#;
        assert!(check(None, code.as_bytes(), &p)
            .unwrap_err()
            .contains("grant_type"));
        assert!(check(Some("application/json"), b"not json", &p).is_err());
    }
}
