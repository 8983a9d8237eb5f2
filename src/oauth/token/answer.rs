//! Reading the token endpoint's answer: a token response whose tokens are checked at the
//! boundary, or an OAuth error (`error_code` at Tastytrade, `error` in RFC 6749, with
//! `error_description` or `message`), or something else to explain.

use super::TokenResponse;
use crate::oauth::b64token;
use crate::oauth::failure::{self, Endpoint, Failure, Refusal, TokenKind};
use crate::oauth::http::{BodyEncoding, Response};
use crate::oauth::sanitize::sanitize;
use crate::secret::{AccessToken, RefreshToken};
use serde::Deserialize;

/// The access tokens' documented lifetime, used when a response omits `expires_in`.
pub(super) const DEFAULT_EXPIRES_IN: u64 = 900;
/// A day: longer claimed lifetimes are capped, so `now + expires_in` can never overflow a
/// clock (a hostile or broken endpoint could send `u64::MAX`).
pub(super) const MAX_EXPIRES_IN: u64 = 24 * 60 * 60;

/// Which request was answered, so its errors can say the right thing.
pub(super) enum Grant<'a> {
    Refresh,
    Code { redirect_uri: &'a str },
}

/// The wire shape; secrets land straight in their newtypes.
#[derive(Deserialize)]
struct Wire {
    access_token: AccessToken,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default)]
    scope: Option<serde_json::Value>,
    #[serde(default)]
    token_type: Option<String>,
}

pub(super) fn interpret(
    response: &Response,
    token_url: &str,
    grant: Grant<'_>,
    encoding: BodyEncoding,
) -> Result<TokenResponse, Failure> {
    if response.status == 200 {
        return parse_success(response, token_url, encoding);
    }
    if let Some(oauth) = OAuthError::parse(response) {
        if oauth.is_transient_sandbox() {
            return Err(Failure::TransientSandbox { said: oauth.said() });
        }
        return Err(oauth.refusal(&grant, failure::is_sandbox_url(token_url)));
    }
    Err(status_failure(response, token_url, Endpoint::Token))
}

/// A non-OAuth failure: rate limit, outage, a proxy's HTML, a redirect, a wrong URL.
pub(crate) fn status_failure(response: &Response, url: &str, endpoint: Endpoint) -> Failure {
    Failure::Status {
        endpoint,
        url: url.to_string(),
        status: response.status,
        html_401: response.status == 401 && !response.looks_like_json(),
        redirect_to: response.location().and_then(failure::redirect_target),
    }
}

/// Whether a 4xx answer says the server did not understand the request's body, so the
/// other encoding is worth one try. A refusal of the grant or the client was understood;
/// rate limits, a refused User-Agent, a wrong URL and the sandbox's transient refusal are
/// not about the body.
pub(super) fn body_not_understood(response: &Response) -> bool {
    if !(400..500).contains(&response.status) || matches!(response.status, 404 | 405 | 429) {
        return false;
    }
    if response.status == 401 && !response.looks_like_json() {
        return false;
    }
    match OAuthError::parse(response) {
        Some(e) => {
            let code = e.code.to_ascii_lowercase();
            !matches!(
                code.as_str(),
                "invalid_grant" | "invalid_client" | "unauthorized_client"
            ) && !e.is_transient_sandbox()
        }
        None => true,
    }
}

/// The sandbox's `invalid_request` "User is not a TastyTrade customer", which it sometimes
/// answers to a healthy refresh and not minutes later (tastyware issue #351).
pub(crate) fn is_transient_sandbox(response: &Response) -> bool {
    OAuthError::parse(response).is_some_and(|e| e.is_transient_sandbox())
}

fn parse_success(
    response: &Response,
    url: &str,
    encoding: BodyEncoding,
) -> Result<TokenResponse, Failure> {
    let nonsense = || Failure::Nonsense {
        endpoint: Endpoint::Token,
        url: url.to_string(),
        what: "answered 200 without a usable access token",
    };
    let wire: Wire = serde_json::from_slice(&response.body).map_err(|_| nonsense())?;
    if wire.access_token.expose().is_empty() {
        return Err(nonsense());
    }
    let bad = |which, problem| Failure::BadToken {
        url: url.to_string(),
        which,
        problem,
    };
    b64token::check(wire.access_token.expose()).map_err(|p| bad(TokenKind::Access, p))?;
    let refresh_token = wire.refresh_token.filter(|t| !t.expose().is_empty());
    if let Some(rt) = &refresh_token {
        b64token::check(rt.expose()).map_err(|p| bad(TokenKind::Refresh, p))?;
    }
    let expires_in = match wire.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(DEFAULT_EXPIRES_IN)
    .min(MAX_EXPIRES_IN);
    let scope = match wire.scope {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    };
    Ok(TokenResponse {
        access_token: wire.access_token,
        expires_in,
        refresh_token,
        scope,
        token_type: wire
            .token_type
            .map(|t| sanitize(&t, 20))
            .unwrap_or_else(|| "Bearer".into()),
        encoding,
    })
}

/// An OAuth error body: `error_code` or `error`, `error_description` or `message`.
#[derive(Debug)]
struct OAuthError {
    code: String,
    /// Already sanitized: short, printable, no token-like words.
    description: String,
}

impl OAuthError {
    fn parse(response: &Response) -> Option<OAuthError> {
        if !(400..500).contains(&response.status) {
            return None;
        }
        let value: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
        // The API's own error shape, `{"error":{"code":…,"message":…}}`, is tolerated too.
        let nested = value.get("error").filter(|e| e.is_object());
        let code = text(value.get("error_code"))
            .or_else(|| text(value.get("error")))
            .or_else(|| nested.and_then(|e| text(e.get("code"))))?;
        let description = text(value.get("error_description"))
            .or_else(|| text(value.get("message")))
            .or_else(|| nested.and_then(|e| text(e.get("message"))))
            .unwrap_or_default();
        Some(OAuthError {
            code: sanitize(&code, 40),
            description: sanitize(&description, 160),
        })
    }

    fn is_transient_sandbox(&self) -> bool {
        self.code.eq_ignore_ascii_case("invalid_request")
            && self
                .description
                .to_ascii_lowercase()
                .contains("not a tastytrade customer")
    }

    fn said(&self) -> String {
        if self.description.is_empty() {
            format!("`{}`", self.code)
        } else {
            format!("`{}`: {}", self.code, self.description)
        }
    }

    fn refusal(&self, grant: &Grant<'_>, sandbox: bool) -> Failure {
        let code = self.code.to_ascii_lowercase();
        let desc = self.description.to_ascii_lowercase();
        let refusal = match (grant, code.as_str()) {
            (Grant::Code { redirect_uri }, _)
                if code.contains("redirect") || desc.contains("redirect") =>
            {
                Refusal::RedirectMismatch {
                    redirect_uri: redirect_uri.to_string(),
                }
            }
            (Grant::Refresh, "invalid_grant") if desc.contains("invalid jwt") => {
                Refusal::MalformedToken
            }
            // Captured from Tastytrade (2026-09): the right refresh token with another
            // application's secret. Re-creating the grant would not help.
            (Grant::Refresh, "invalid_grant") if desc.contains("client secret mismatch") => {
                Refusal::SecretMismatch
            }
            (Grant::Refresh, "invalid_grant") => Refusal::Grant,
            (Grant::Code { .. }, "invalid_grant") => Refusal::Code,
            (_, "invalid_client" | "unauthorized_client") => Refusal::Client,
            _ => Refusal::Other,
        };
        Failure::Refused {
            refusal,
            said: self.said(),
            sandbox,
        }
    }
}
