//! One API call with the grant's access token: retried like every idempotent request
//! (429, 5xx, a broken connection), asked again once with a fresh token when the API
//! refuses the token (401), and turned into an error a person can act on otherwise.
//!
//! Exit statuses (README "Exit status"): 4 when the token is still refused after a fresh
//! refresh (the grant is gone), 5 when the endpoint cannot be reached or answers something
//! that is not Tastytrade's JSON, 1 for the API's own error (its message shown).

use super::errors::{accounts_in_path, api_error, mask_accounts, shown_path};
use super::request::Method;
use crate::endpoints::hosts::origin_of as endpoint_of;
use crate::error::{Error, Result};
use crate::oauth::failure::{redirect_target, Failure as OAuthFailure};
use crate::oauth::http::{self, Http, Request, Response, TransportKind};
use crate::oauth::retry::{self, Sleep, MAX_RETRIES};
use crate::output::Reporter;
use crate::secret::AccessToken;
use std::time::Duration;
use url::Url;

/// The largest answer read. Tastytrade's biggest (the full SPX chain, every expiration
/// and strike) is a few MiB; a server streaming without end must not eat the memory.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Connect, send, headers and the whole answer: generous, since a chain download on a slow
/// line takes a while, but one bound whatever the server trickles.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Where access tokens come from (the agent, or the vault opened by the command).
pub trait Tokens {
    /// The access token to use; with `fresh`, a newly obtained one, because the API
    /// refused the last.
    fn access_token(&mut self, fresh: bool) -> Result<AccessToken>;
}

/// What an API call needs besides the request itself.
pub struct Api<'a> {
    pub transport: &'a dyn Http,
    pub sleep: &'a dyn Sleep,
    pub tokens: &'a mut dyn Tokens,
    /// Says (with `-v`) which request goes out, account numbers masked.
    pub report: &'a dyn Reporter,
}

impl Api<'_> {
    /// Sends `method url` and returns a 2xx answer whose body (if any, for GET) is JSON;
    /// every other outcome is an error.
    pub fn call(&mut self, method: Method, url: &Url) -> Result<Response> {
        let shown = Shown::new(method, url);
        let token = self.tokens.access_token(false)?;
        let mut response = self.send(method, url, &token, &shown)?;
        if token_refused(&response) {
            self.report
                .detail("the API refused the access token (401); getting a fresh one");
            let token = self.tokens.access_token(true)?;
            response = self.send(method, url, &token, &shown)?;
            if token_refused(&response) {
                return Err(grant_refused(&response, &shown));
            }
        }
        check(response, method, url, &shown)
    }

    fn send(
        &self,
        method: Method,
        url: &Url,
        token: &AccessToken,
        shown: &Shown,
    ) -> Result<Response> {
        self.report.detail(&shown.text);
        let mut request = Request::get(url.as_str(), Some(token)).limits(MAX_BODY, DEADLINE);
        if method == Method::Head {
            request.method = http::Method::Head;
        }
        let mut attempt = 0;
        loop {
            let outcome = self.transport.send(&request);
            let again = match &outcome {
                Ok(r) => r.status == 429 || (500..=599).contains(&r.status),
                Err(e) => e.kind == TransportKind::Reset,
            };
            if !again || attempt >= MAX_RETRIES {
                return outcome.map_err(|e| match e.kind {
                    TransportKind::TooLarge => Error::network(format!(
                        "{} answered {} with more than {} MiB; ttvault stopped reading",
                        endpoint_of(url.as_str()),
                        shown.text,
                        MAX_BODY / (1024 * 1024)
                    ))
                    .hint("ask for less: a narrower path, or -F per-page=N with --paginate"),
                    kind => OAuthFailure::Unreachable {
                        url: url.as_str().to_string(),
                        kind,
                        detail: crate::oauth::sanitize::mask_secrets(&e.detail, &request.secrets()),
                        attempts: attempt + 1,
                    }
                    .into(),
                });
            }
            self.sleep.sleep(retry::backoff(attempt));
            attempt += 1;
        }
    }
}

/// The request as messages show it: method and path, account numbers masked.
struct Shown {
    text: String,
    accounts: Vec<String>,
}

impl Shown {
    fn new(method: Method, url: &Url) -> Shown {
        let accounts = accounts_in_path(url.path());
        let text = mask_accounts(
            &format!("{} {}", method.as_str(), shown_path(url.path(), 120)),
            &accounts,
        );
        Shown { text, accounts }
    }

    /// The API's own words for a failure, masked: ": message (code)".
    fn api_words(&self, response: &Response) -> String {
        match api_error(&response.body) {
            Some((code, message)) => {
                let words = match (message, code) {
                    (Some(m), Some(c)) => format!(": {m} ({c})"),
                    (Some(m), None) => format!(": {m}"),
                    (None, Some(c)) => format!(": {c}"),
                    (None, None) => String::new(),
                };
                mask_accounts(&words, &self.accounts)
            }
            None => String::new(),
        }
    }
}

/// A 401 in the API's JSON: the token was refused. (An HTML 401 comes from a proxy or
/// nginx in front, not from the API: a fresh token would not change it.)
fn token_refused(response: &Response) -> bool {
    response.status == 401 && response.looks_like_json()
}

fn grant_refused(response: &Response, shown: &Shown) -> Error {
    Error::grant(format!(
        "Tastytrade refused a freshly issued access token for {} (401{})",
        shown.text,
        shown.api_words(response)
    ))
    .hint(
        "the grant may have been revoked: re-create it on tastytrade.com (Manage → My \
         Profile → API), then run `ttvault rotate`; `ttvault audit` checks the grant",
    )
}

fn check(response: Response, method: Method, url: &Url, shown: &Shown) -> Result<Response> {
    let endpoint = endpoint_of(url.as_str());
    let status = response.status;
    match status {
        200..=299 => {
            let body_ok = method == Method::Head
                || response.body.iter().all(u8::is_ascii_whitespace)
                || is_json(&response.body);
            if body_ok {
                Ok(response)
            } else {
                Err(Error::network(format!(
                    "{endpoint} answered {} with something that is not JSON",
                    shown.text
                ))
                .hint("check the vault's API endpoint (`ttvault show`); if it is Tastytrade's, try again later"))
            }
        }
        300..=399 => {
            // The server chooses the Location: only a plain http(s) host is repeated.
            let to = response
                .header("location")
                .and_then(|l| url.join(l).ok())
                .and_then(|target| redirect_target(target.as_str()))
                .map(|target| format!(" to {target}"))
                .unwrap_or_default();
            Err(Error::network(format!(
                "{endpoint} answered {} with a redirect ({status}){to}; ttvault does not follow \
                 redirects with an access token",
                shown.text
            ))
            .hint("check the vault's API endpoint (`ttvault show`)"))
        }
        429 | 500..=599 => Err(Error::network(format!(
            "{endpoint} answered {} with {status}{} after {} tries",
            shown.text,
            shown.api_words(&response),
            MAX_RETRIES + 1
        ))
        .hint("Tastytrade is busy or down: try again later")),
        _ if response.looks_like_json() && api_error(&response.body).is_some() => {
            let e = Error::failure(format!(
                "Tastytrade answered {} with {status}{}",
                shown.text,
                shown.api_words(&response)
            ));
            Err(match status {
                403 => e.hint(
                    "the grant lacks the scope or the authority over the account for this \
                     (`ttvault audit` shows its scopes)",
                ),
                404 => e.hint("check the path against Tastytrade's API reference"),
                _ => e,
            })
        }
        401 => Err(Error::network(format!(
            "{endpoint} answered {} with a 401 page that is not Tastytrade's JSON (a proxy, \
             or a request without a product/version User-Agent)",
            shown.text
        ))
        .hint("check the vault's API endpoint (`ttvault show`) and any proxy settings")),
        _ => Err(Error::network(format!(
            "{endpoint} answered {} with {status} and no Tastytrade error",
            shown.text
        ))
        .hint("check the vault's API endpoint (`ttvault show`); if it is Tastytrade's, try again later")),
    }
}

/// Strict JSON (RFC 8259: UTF-8 text), checked without building the value: serde_json
/// skips over strings it is not asked to keep without checking their UTF-8 itself.
fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::http::TransportError;
    use crate::oauth::retry::NoWait;
    use crate::Code;
    use std::cell::RefCell;

    /// Hands out `at-1`, then `at-2`, … on each fresh request; counts them.
    #[derive(Default)]
    struct Counter {
        fresh: u32,
    }
    impl Tokens for Counter {
        fn access_token(&mut self, fresh: bool) -> Result<AccessToken> {
            if fresh {
                self.fresh += 1;
            }
            Ok(AccessToken::new(format!("at-{}", self.fresh + 1)))
        }
    }

    fn run(
        replies: &[(u16, &'static str, &'static str)],
        method: Method,
        path: &str,
    ) -> (Result<Response>, Vec<String>, u32) {
        let seen = RefCell::new(Vec::new());
        let replies = RefCell::new(replies.to_vec());
        let transport = |r: &Request<'_>| -> std::result::Result<Response, TransportError> {
            let bearer = r.bearer.map(|b| b.expose()).unwrap_or_default();
            seen.borrow_mut()
                .push(format!("{:?} {} {bearer}", r.method, r.url));
            assert_eq!((r.cap, r.deadline), (MAX_BODY, DEADLINE));
            let mut list = replies.borrow_mut();
            let (status, ct, body) = if list.len() > 1 {
                list.remove(0)
            } else {
                list[0]
            };
            Ok(Response::new(status, Some(ct), body))
        };
        let mut tokens = Counter::default();
        let url = Url::parse(&format!("http://127.0.0.1:9{path}")).unwrap();
        let result = Api {
            transport: &transport,
            sleep: &NoWait,
            tokens: &mut tokens,
            report: &crate::output::Quiet,
        }
        .call(method, &url);
        (result, seen.into_inner(), tokens.fresh)
    }

    const JSON: &str = "application/json";

    #[test]
    fn a_json_answer_comes_back() {
        let (r, seen, fresh) = run(
            &[(200, JSON, r#"{"data":{}}"#)],
            Method::Get,
            "/customers/me",
        );
        assert_eq!(r.unwrap().status, 200);
        assert_eq!(seen, ["Get http://127.0.0.1:9/customers/me at-1"]);
        assert_eq!(fresh, 0);
    }

    #[test]
    fn a_refused_token_is_replaced_once() {
        let refused = (
            401,
            JSON,
            r#"{"error":{"code":"invalid_credentials","message":"Token has expired"}}"#,
        );
        let (r, seen, fresh) = run(&[refused, (200, JSON, "{}")], Method::Get, "/x");
        assert!(r.is_ok());
        assert_eq!(fresh, 1);
        assert!(seen[1].ends_with("at-2"), "{seen:?}");
        // Refused again: the grant is gone (exit 4), after exactly one fresh token.
        let (r, seen, fresh) = run(&[refused], Method::Get, "/x");
        let e = r.unwrap_err();
        assert_eq!(e.code, Code::Grant);
        assert!(e.message.contains("Token has expired"), "{}", e.message);
        assert!(e.hint.unwrap().contains("ttvault rotate"));
        assert_eq!((seen.len(), fresh), (2, 1));
    }

    #[test]
    fn api_errors_are_exit_1_with_the_api_message_and_masked_accounts() {
        let (r, _, _) = run(
            &[(
                404,
                JSON,
                r#"{"error":{"code":"not_found","message":"Account 5WT00001 not found"}}"#,
            )],
            Method::Get,
            "/accounts/5WT00001/transactions",
        );
        let e = r.unwrap_err();
        assert_eq!(e.code, Code::Failure);
        assert!(e.message.contains("not_found"), "{}", e.message);
        assert!(e.message.contains("••••0001"), "{}", e.message);
        assert!(!e.message.contains("5WT00001"), "{}", e.message);
    }

    #[test]
    fn nonsense_and_trouble_are_exit_5() {
        for replies in [
            vec![(200, "text/html", "<html>hi</html>")],
            vec![(401, "text/html", "<html>401 Authorization Required</html>")],
            vec![(404, "text/html", "<html>404</html>")],
            vec![(302, JSON, "")],
            vec![(503, "text/html", "<html>503</html>")],
        ] {
            let (r, seen, _) = run(&replies, Method::Get, "/x");
            assert_eq!(r.unwrap_err().code, Code::Network, "{replies:?}");
            let expected = if replies[0].0 == 503 { 4 } else { 1 };
            assert_eq!(seen.len(), expected, "{replies:?}");
        }
    }

    #[test]
    fn a_redirect_names_only_a_plain_host() {
        let url = Url::parse("http://127.0.0.1:9/x").unwrap();
        let shown = Shown::new(Method::Get, &url);
        let redirect = |location: &str| {
            let mut r = Response::new(302, None, "");
            r.headers.push(("location".into(), location.into()));
            check(r, Method::Get, &url, &shown).unwrap_err()
        };
        let e = redirect("https://api.example.com/login");
        assert_eq!(e.code, Code::Network);
        assert!(
            e.message.contains("to https://api.example.com"),
            "{}",
            e.message
        );
        for hostile in [
            "hs://at-eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9/x",
            "https://at-eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.example/",
        ] {
            let e = redirect(hostile);
            assert!(!e.message.contains("eyJ"), "{}", e.message);
        }
    }

    #[test]
    fn json_means_strict_utf8_json() {
        assert!(is_json(br#"{"a":["b",1]}"#));
        assert!(
            !is_json(b"{\"a\":\"\xff\"}"),
            "invalid UTF-8 inside a string"
        );
        assert!(!is_json(b"{\"a\":NaN}"));
        assert!(!is_json(b"{} # comment"));
    }

    #[test]
    fn head_answers_need_no_body() {
        let (r, seen, _) = run(&[(200, JSON, "")], Method::Head, "/customers/me");
        assert!(r.is_ok());
        assert!(seen[0].starts_with("Head "));
    }

    #[test]
    fn unreachable_and_oversized_answers_are_exit_5() {
        let mut tokens = Counter::default();
        let url = Url::parse("http://127.0.0.1:9/x").unwrap();
        for kind in [TransportKind::Refused, TransportKind::TooLarge] {
            let failure = TransportError {
                kind,
                detail: "connection refused".into(),
            };
            let transport = |_: &Request<'_>| Err(failure.clone());
            let e = Api {
                transport: &transport,
                sleep: &NoWait,
                tokens: &mut tokens,
                report: &crate::output::Quiet,
            }
            .call(Method::Get, &url)
            .unwrap_err();
            assert_eq!(e.code, Code::Network, "{}", e.message);
        }
    }
}
