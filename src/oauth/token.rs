//! The token endpoint: refreshing a grant and exchanging an authorization code.
//!
//! Bodies are form-encoded with the client id and secret in the body, never in an
//! `Authorization` header (Tastytrade's later refreshes fail after one: tastyware PR
//! #255). Errors are read from `error_code` (Tastytrade) or `error` (RFC 6749), with
//! `error_description` or `message`, and explained as what to do next.

use super::http::{Http, Method, Request, Response};
use super::retry::{self, Policy, Sleep, ThreadSleep};
use crate::error::{Error, Result};
use crate::secret::{AccessToken, AuthCode, ClientSecret, PkceVerifier, RefreshToken};
use serde::Deserialize;
use std::fmt;

/// The access tokens' documented lifetime, used when a response omits `expires_in`.
const DEFAULT_EXPIRES_IN: u64 = 900;
/// A day: longer claimed lifetimes are capped, so `now + expires_in` can never overflow a
/// clock (a hostile or broken endpoint could send `u64::MAX`).
const MAX_EXPIRES_IN: u64 = 24 * 60 * 60;

/// What the token endpoint gave.
pub struct TokenResponse {
    pub access_token: AccessToken,
    /// Seconds the access token lives (about 900 at Tastytrade).
    pub expires_in: u64,
    /// Always on a code exchange; on a refresh only if the server rotates it (UNCERTAIN
    /// at Tastytrade): when one comes back and differs, store it.
    pub refresh_token: Option<RefreshToken>,
    /// Granted scopes, when the server says (not documented at Tastytrade).
    pub scope: Option<String>,
    pub token_type: String,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .finish()
    }
}

impl TokenResponse {
    /// The scopes the response names, split; `None` when it names none.
    pub fn scopes(&self) -> Option<Vec<String>> {
        self.scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
    }
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

/// Which request failed, so its errors can say the right thing.
enum Grant<'a> {
    Refresh,
    Code { redirect_uri: &'a str },
}

/// `grant_type=refresh_token`: a fresh access token for the grant.
pub fn refresh(
    http: &dyn Http,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    refresh_token: &RefreshToken,
) -> Result<TokenResponse> {
    refresh_with(
        http,
        &ThreadSleep,
        token_url,
        client_id,
        client_secret,
        refresh_token,
    )
}

/// Like the function without `_with`, sleeping between retries through `sleep`
/// (tests and fuzzers pass one that does not sleep).
pub fn refresh_with(
    http: &dyn Http,
    sleep: &dyn Sleep,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    refresh_token: &RefreshToken,
) -> Result<TokenResponse> {
    let request = Request {
        method: Method::Post,
        url: token_url,
        bearer: None,
        form: vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
        ],
    };
    let response = retry::send(http, sleep, &request, Policy::Idempotent)
        .map_err(|e| retry::unreachable(token_url, &e))?;
    interpret(&response, token_url, Grant::Refresh)
}

/// `grant_type=authorization_code`: the browser callback's code for the grant's tokens.
/// `redirect_uri` must be the one sent in the authorize request, byte for byte.
pub fn exchange_code(
    http: &dyn Http,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    code: &AuthCode,
    redirect_uri: &str,
    verifier: &PkceVerifier,
) -> Result<TokenResponse> {
    exchange_code_with(
        http,
        &ThreadSleep,
        token_url,
        client_id,
        client_secret,
        code,
        redirect_uri,
        verifier,
    )
}

/// Like the function without `_with`, sleeping between retries through `sleep`
/// (tests and fuzzers pass one that does not sleep).
#[allow(clippy::too_many_arguments)]
pub fn exchange_code_with(
    http: &dyn Http,
    sleep: &dyn Sleep,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    code: &AuthCode,
    redirect_uri: &str,
    verifier: &PkceVerifier,
) -> Result<TokenResponse> {
    let request = Request {
        method: Method::Post,
        url: token_url,
        bearer: None,
        form: vec![
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
        ],
    };
    let response = retry::send(http, sleep, &request, Policy::SingleUse)
        .map_err(|e| retry::unreachable(token_url, &e))?;
    let tokens = interpret(&response, token_url, Grant::Code { redirect_uri })?;
    if tokens.refresh_token.is_none() {
        return Err(Error::network(format!(
            "the token endpoint {} issued no refresh token for the authorization code",
            retry::endpoint_of(token_url)
        ))
        .hint("ttvault needs a refresh token to keep; try `--paste` with a grant created on tastytrade.com"));
    }
    Ok(tokens)
}

fn interpret(response: &Response, token_url: &str, grant: Grant<'_>) -> Result<TokenResponse> {
    let endpoint = retry::endpoint_of(token_url);
    if response.status == 200 {
        return parse_success(response).ok_or_else(|| {
            Error::network(format!(
                "the token endpoint {endpoint} answered 200 without a usable access token"
            ))
            .hint("check TTVAULT_API_URL if it is set; otherwise Tastytrade may be having trouble: try again later")
        });
    }
    if let Some(oauth) = OAuthError::parse(response) {
        return Err(oauth.explain(&grant));
    }
    Err(http_failure(response, &endpoint, "token endpoint"))
}

/// A non-OAuth failure: rate limit, outage, a proxy's HTML, a redirect, a wrong URL.
pub(crate) fn http_failure(response: &Response, endpoint: &str, what: &str) -> Error {
    let status = response.status;
    match status {
        401 if !response.looks_like_json() => Error::network(format!(
            "the {what} {endpoint} answered 401 with an HTML page instead of JSON: it did not \
             accept the request's User-Agent (`{}`)",
            super::http::USER_AGENT
        ))
        .hint(
            "Tastytrade refuses requests without a `product/version` User-Agent; a proxy or \
               firewall that strips or rewrites User-Agent headers causes this",
        ),
        429 => Error::network(format!(
            "the {what} {endpoint} is rate-limiting requests (429), still after {} retries",
            retry::MAX_RETRIES
        ))
        .hint(
            "wait a few minutes before trying again; repeated failed logins can block this \
               IP address for hours",
        ),
        500..=599 => Error::network(format!("the {what} {endpoint} is failing ({status})"))
            .hint("Tastytrade may be having trouble: try again later"),
        300..=399 => {
            let to = response
                .location
                .as_deref()
                .and_then(redirect_target)
                .unwrap_or_else(|| "elsewhere".into());
            Error::network(format!(
                "the {what} {endpoint} answered with a redirect ({status}) to {to}, which ttvault does not follow"
            ))
            .hint("check the endpoint URL (TTVAULT_API_URL); http:// where https:// is expected causes this")
        }
        _ => Error::network(format!(
            "the {what} {endpoint} answered {status}, which ttvault does not understand"
        ))
        .hint("check TTVAULT_API_URL if it is set; otherwise try again later"),
    }
}

/// Where a redirect points, fit to print: `scheme://host[:port]` of an http(s) URL
/// whose host names look like host names. The server chooses this text, so anything
/// else (a long scheme, a token-length label: found by fuzzing) is not repeated.
pub(crate) fn redirect_target(location: &str) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    if host.len() > 253 || host.split(['.', ':']).any(|label| label.len() >= 24) {
        return None;
    }
    Some(retry::endpoint_of(location))
}

fn parse_success(response: &Response) -> Option<TokenResponse> {
    let wire: Wire = serde_json::from_slice(&response.body).ok()?;
    if wire.access_token.expose().is_empty() {
        return None;
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
    Some(TokenResponse {
        access_token: wire.access_token,
        expires_in,
        refresh_token: wire.refresh_token.filter(|t| !t.expose().is_empty()),
        scope,
        token_type: wire.token_type.unwrap_or_else(|| "Bearer".into()),
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
            code: retry::sanitize(&code, 40),
            description: retry::sanitize(&description, 160),
        })
    }

    fn said(&self) -> String {
        if self.description.is_empty() {
            format!("`{}`", self.code)
        } else {
            format!("`{}`: {}", self.code, self.description)
        }
    }

    fn explain(&self, grant: &Grant<'_>) -> Error {
        let code = self.code.to_ascii_lowercase();
        let desc = self.description.to_ascii_lowercase();
        if let Grant::Code { redirect_uri } = grant {
            if code.contains("redirect") || desc.contains("redirect") {
                return redirect_mismatch(redirect_uri, &self.said());
            }
        }
        match code.as_str() {
            "invalid_grant" => match grant {
                Grant::Refresh if desc.contains("invalid jwt") => Error::grant(format!(
                    "Tastytrade refused the refresh token as malformed ({})",
                    self.said()
                ))
                .hint(
                    "the token was probably damaged or mistyped: paste it again whole \
                       (`--paste`), or run `ttvault init` (or `rotate`) to get a new one",
                ),
                Grant::Refresh => {
                    Error::grant(format!("Tastytrade refused the grant ({})", self.said())).hint(
                        "re-create the grant on tastytrade.com (Manage → My Profile → API), \
                       then run `ttvault rotate`",
                    )
                }
                Grant::Code { .. } => Error::grant(format!(
                    "Tastytrade refused the authorization code ({})",
                    self.said()
                ))
                .hint(
                    "codes work once and only for a short while: run the command again and \
                       approve in the browser promptly",
                ),
            },
            "invalid_client" | "unauthorized_client" => Error::grant(format!(
                "Tastytrade refused the client id or client secret ({})",
                self.said()
            ))
            .hint(
                "check both on tastytrade.com (Manage → My Profile → API); regenerating the \
                   client secret ends every grant of the application",
            ),
            _ => Error::grant(format!("Tastytrade refused the request ({})", self.said())).hint(
                "check the client id, client secret and grant on tastytrade.com \
                       (Manage → My Profile → API)",
            ),
        }
    }
}

/// The redirect URI in the request is not the one registered on the grant.
fn redirect_mismatch(redirect_uri: &str, said: &str) -> Error {
    Error::grant(format!(
        "Tastytrade says the redirect URI `{redirect_uri}` is not the one registered on the grant ({said})"
    ))
    .hint("the grant's redirect URI must match byte for byte: register exactly \
           http://localhost:8000 (http, port 8000, no trailing slash) on tastytrade.com, or pass \
           the registered one with --redirect-uri")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::http::{TransportError, TransportKind};
    use crate::oauth::retry::tests::NoSleep;
    use crate::Code;
    use std::cell::RefCell;

    const URL: &str = "https://api.tastyworks.com/oauth/token";

    fn secret() -> ClientSecret {
        ClientSecret::new("cs-hunter2")
    }
    fn rt() -> RefreshToken {
        RefreshToken::new("rt-hunter2")
    }

    fn answer(
        status: u16,
        ct: &'static str,
        body: &'static str,
    ) -> impl Fn(&Request<'_>) -> std::result::Result<Response, TransportError> {
        move |_| Ok(Response::new(status, Some(ct), body))
    }

    fn refresh_err(status: u16, ct: &'static str, body: &'static str) -> Error {
        refresh_with(
            &answer(status, ct, body),
            &NoSleep::default(),
            URL,
            "cid",
            &secret(),
            &rt(),
        )
        .unwrap_err()
    }

    #[test]
    fn refresh_sends_a_form_with_client_credentials_and_no_authorization() {
        let seen = RefCell::new(None);
        let http = |r: &Request<'_>| {
            assert_eq!(r.method, Method::Post);
            assert_eq!(r.url, URL);
            assert!(
                r.bearer.is_none(),
                "never an Authorization header on /oauth/token"
            );
            *seen.borrow_mut() = Some(r.form_body().to_string());
            Ok(Response::new(
                200,
                Some("application/json"),
                r#"{"access_token":"at-1","token_type":"Bearer","expires_in":900}"#,
            ))
        };
        let t = refresh_with(&http, &NoSleep::default(), URL, "cid", &secret(), &rt()).unwrap();
        assert_eq!(t.access_token.expose(), "at-1");
        assert_eq!(t.expires_in, 900);
        assert!(t.refresh_token.is_none());
        assert_eq!(
            seen.borrow().as_deref(),
            Some("grant_type=refresh_token&refresh_token=rt-hunter2&client_id=cid&client_secret=cs-hunter2")
        );
    }

    #[test]
    fn exchange_sends_code_redirect_uri_and_verifier() {
        let seen = RefCell::new(None);
        let http = |r: &Request<'_>| {
            assert!(r.bearer.is_none());
            *seen.borrow_mut() = Some(r.form_body().to_string());
            Ok(Response::new(
                200,
                Some("application/json"),
                r#"{"access_token":"at","refresh_token":"rt-new","expires_in":"900","scope":"read"}"#,
            ))
        };
        let t = exchange_code_with(
            &http,
            &NoSleep::default(),
            URL,
            "cid",
            &secret(),
            &AuthCode::new("code 1"),
            "http://localhost:8000",
            &PkceVerifier::new("v-1"),
        )
        .unwrap();
        assert_eq!(t.refresh_token.unwrap().expose(), "rt-new");
        assert_eq!(t.scope.as_deref(), Some("read"));
        assert_eq!(
            seen.borrow().as_deref(),
            Some("grant_type=authorization_code&code=code+1&redirect_uri=http%3A%2F%2Flocalhost%3A8000&code_verifier=v-1&client_id=cid&client_secret=cs-hunter2")
        );
    }

    #[test]
    fn absurd_lifetimes_are_capped() {
        let e = refresh_with(
            &answer(
                200,
                "application/json",
                r#"{"access_token":"a","expires_in":18446744073709551615}"#,
            ),
            &NoSleep::default(),
            URL,
            "cid",
            &secret(),
            &rt(),
        )
        .unwrap();
        assert_eq!(e.expires_in, MAX_EXPIRES_IN);
    }

    #[test]
    fn token_response_debug_is_redacted() {
        let t = TokenResponse {
            access_token: AccessToken::new("at-hunter2"),
            expires_in: 900,
            refresh_token: Some(RefreshToken::new("rt-hunter2")),
            scope: Some("read".into()),
            token_type: "Bearer".into(),
        };
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("read"));
    }

    #[test]
    fn invalid_jwt_means_a_damaged_token() {
        let e = refresh_err(
            400,
            "application/json",
            r#"{"error_code":"invalid_grant","error_description":"Invalid JWT"}"#,
        );
        assert_eq!(e.code, Code::Grant);
        assert!(e.message.contains("Invalid JWT"), "{}", e.message);
        assert!(e.hint.unwrap().contains("paste it again"));
    }

    #[test]
    fn revoked_grant_says_recreate_then_rotate() {
        for body in [
            r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
            r#"{"error":"invalid_grant","message":"Grant revoked"}"#,
            r#"{"error":"invalid_grant"}"#,
        ] {
            let e = refresh_err(401, "application/json", body);
            assert_eq!(e.code, Code::Grant, "{body}");
            let hint = e.hint.unwrap();
            assert!(
                hint.contains("ttvault rotate") && hint.contains("tastytrade.com"),
                "{hint}"
            );
        }
    }

    #[test]
    fn html_401_names_the_user_agent() {
        let e = refresh_err(401, "text/html", "<html><head><title>401 Authorization Required</title></head><body><center>nginx</center></body></html>");
        assert_eq!(e.code, Code::Network);
        assert!(e.message.contains("User-Agent"), "{}", e.message);
        assert!(!e.message.contains("nginx"));
    }

    #[test]
    fn error_bodies_are_never_echoed_whole() {
        let e = refresh_err(
            400,
            "application/json",
            r#"{"error":"invalid_grant","error_description":"token rt-hunter2-hunter2-hunter2-hunter2 is bad"}"#,
        );
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        let e = refresh_err(418, "text/plain", "rt-hunter2 teapot");
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert_eq!(e.code, Code::Network);
    }

    #[test]
    fn rate_limit_is_retried_then_reported() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            Ok(Response::new(429, None, ""))
        };
        let sleep = NoSleep::default();
        let e = refresh_with(&http, &sleep, URL, "cid", &secret(), &rt()).unwrap_err();
        assert_eq!(*calls.borrow(), 4);
        assert_eq!(e.code, Code::Network);
        assert!(e.message.contains("429"));
    }

    #[test]
    fn server_errors_are_retried_then_succeed() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            if *calls.borrow() == 1 {
                Ok(Response::new(503, Some("text/html"), "<html>down</html>"))
            } else {
                Ok(Response::new(200, None, r#"{"access_token":"a"}"#))
            }
        };
        let t = refresh_with(&http, &NoSleep::default(), URL, "cid", &secret(), &rt()).unwrap();
        assert_eq!(t.expires_in, DEFAULT_EXPIRES_IN);
        assert_eq!(t.token_type, "Bearer");
    }

    #[test]
    fn unreachable_endpoint_is_exit_5_naming_it() {
        let http = |_: &Request<'_>| {
            Err(TransportError {
                kind: TransportKind::Refused,
                detail: "Connection refused (os error 111)".into(),
            })
        };
        let e = refresh_with(
            &http,
            &NoSleep::default(),
            "http://127.0.0.1:9/oauth/token",
            "c",
            &secret(),
            &rt(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Network);
        assert!(e.message.contains("http://127.0.0.1:9"), "{}", e.message);
    }

    #[test]
    fn redirect_mismatch_quotes_the_uri_and_the_advice() {
        let http = answer(
            400,
            "application/json",
            r#"{"error_code":"invalid_grant","error_description":"redirect_uri does not match"}"#,
        );
        let e = exchange_code_with(
            &http,
            &NoSleep::default(),
            URL,
            "cid",
            &secret(),
            &AuthCode::new("c"),
            "http://localhost:8000/",
            &PkceVerifier::new("v"),
        )
        .unwrap_err();
        assert!(
            e.message.contains("`http://localhost:8000/`"),
            "{}",
            e.message
        );
        assert!(e
            .hint
            .unwrap()
            .contains("exactly http://localhost:8000 (http, port 8000, no trailing slash)"));
    }

    #[test]
    fn success_without_access_token_is_nonsense() {
        let e = refresh_err(200, "application/json", r#"{"token":"x"}"#);
        assert_eq!(e.code, Code::Network);
        let e = refresh_err(200, "text/html", "<html>login</html>");
        assert_eq!(e.code, Code::Network);
    }

    #[test]
    fn arbitrary_answers_never_panic_nor_echo() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let shapes = [
            r#"{"access_token":"x"}"#,
            r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
            r#"{"error":{"code":"c","message":"m"}}"#,
            r#"{"access_token":"a","expires_in":-1,"scope":["read",1,null]}"#,
        ];
        for _ in 0..2_000 {
            let mut body = shapes[rng.gen_range(0..shapes.len())].as_bytes().to_vec();
            for _ in 0..rng.gen_range(0..4) {
                if body.is_empty() {
                    break;
                }
                let i = rng.gen_range(0..body.len());
                body[i] = rng.gen();
            }
            let status = [200u16, 400, 401, 403, 418, 302][rng.gen_range(0..6)];
            let ct = ["application/json", "text/html", ""][rng.gen_range(0..3)];
            let http = move |_: &Request<'_>| Ok(Response::new(status, Some(ct), body.clone()));
            if let Err(e) = refresh_with(&http, &NoSleep::default(), URL, "cid", &secret(), &rt()) {
                assert!(!e.message.contains("hunter2"));
            }
        }
    }

    #[test]
    fn a_redirect_is_not_followed() {
        let http = |_: &Request<'_>| {
            let mut r = Response::new(301, None, "");
            r.location = Some("https://evil.example/steal?x=1".into());
            Ok(r)
        };
        let e = refresh_with(&http, &NoSleep::default(), URL, "c", &secret(), &rt()).unwrap_err();
        assert_eq!(e.code, Code::Network);
        assert!(e.message.contains("https://evil.example") && !e.message.contains("steal"));
    }

    #[test]
    fn a_redirect_target_that_looks_like_a_token_is_not_repeated() {
        let long = "eyJhbGciOiJFUzI1NiJ9eyJzdWIiOiJ4In0";
        for location in [
            format!("{long}hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhtps:/"),
            format!("https://{long}.example.com/"),
            format!("x-{long}://host/"),
        ] {
            let http = move |_: &Request<'_>| {
                let mut r = Response::new(302, Some("text/html"), "");
                r.location = Some(location.clone());
                Ok(r)
            };
            let e =
                refresh_with(&http, &NoSleep::default(), URL, "c", &secret(), &rt()).unwrap_err();
            assert_eq!(e.code, Code::Network);
            assert!(!e.message.contains(long), "{}", e.message);
            assert!(e.message.contains("to elsewhere"), "{}", e.message);
        }
    }
}
