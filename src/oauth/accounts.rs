//! The API calls the OAuth code needs: the accounts a grant can see, the live probe of a
//! grant where accounts are shown (`GET /customers/me/accounts` needs the `read` scope);
//! and `POST /sessions/validate`, where only whether an access token works matters.

use super::failure::{self, Endpoint, Failure};
use super::http::{Http, Request};
use super::retry::{self, Policy, Sleep, ThreadSleep};
use super::sanitize::sanitize;
use super::token::answer::status_failure;
use crate::error::Result;
use crate::secret::AccessToken;
use serde_json::Value;
use std::fmt;

/// One account the grant can see. The number is sensitive (never print it whole: use
/// [`mask`]); `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub account_number: String,
    pub nickname: Option<String>,
    /// `authority-level`: `owner`, `trading-authority`, `read-only`, …
    pub authority_level: Option<String>,
    pub is_closed: bool,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("account_number", &mask(&self.account_number))
            .field("nickname", &self.nickname)
            .field("authority_level", &self.authority_level)
            .field("is_closed", &self.is_closed)
            .finish()
    }
}

/// An account number as it may be shown: only its last characters (`••••1234`), fewer
/// for short numbers so most of it stays hidden.
pub fn mask(account_number: &str) -> String {
    // The number comes from the server: anything but letters, digits and `-` is shown as
    // `?`, so even the visible tail cannot carry an escape sequence.
    let chars: Vec<char> = account_number
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '?'
            }
        })
        .collect();
    let shown = match chars.len() {
        0..=3 => 0,
        4..=5 => 2,
        6..=7 => 3,
        _ => 4,
    };
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("••••{tail}")
}

/// `GET {api_url}/customers/me/accounts`.
pub fn accounts(
    http: &dyn Http,
    api_url: &str,
    access_token: &AccessToken,
) -> Result<Vec<Account>> {
    accounts_with(http, &ThreadSleep, api_url, access_token)
}

/// Like the function without `_with`, sleeping between retries through `sleep`
/// (tests and fuzzers pass one that does not sleep).
pub fn accounts_with(
    http: &dyn Http,
    sleep: &dyn Sleep,
    api_url: &str,
    access_token: &AccessToken,
) -> Result<Vec<Account>> {
    Ok(accounts_typed(http, sleep, api_url, access_token)?)
}

/// The same, with the failure as a type.
pub fn accounts_typed(
    http: &dyn Http,
    sleep: &dyn Sleep,
    api_url: &str,
    access_token: &AccessToken,
) -> std::result::Result<Vec<Account>, Failure> {
    let url = format!("{}/customers/me/accounts", api_url.trim_end_matches('/'));
    let request = Request::get(&url, Some(access_token));
    let response = retry::send(http, sleep, &request, Policy::Idempotent)?;
    let sandbox = failure::is_sandbox_url(&url);
    match response.status {
        200 => parse(&response.body).ok_or(Failure::Nonsense {
            endpoint: Endpoint::Api,
            url,
            what: "answered /customers/me/accounts with something that is not an account list",
        }),
        403 => Err(Failure::ApiForbidden { sandbox }),
        401 if response.looks_like_json() => Err(Failure::ApiUnauthorized { sandbox }),
        _ => Err(status_failure(&response, &url, Endpoint::Api)),
    }
}

/// `POST {api_url}/sessions/validate`: whether Tastytrade accepts the access token (2xx).
/// It needs no scope and no account number, so it tells a token that works apart from a
/// grant that may not read accounts.
pub fn validate(http: &dyn Http, api_url: &str, access_token: &AccessToken) -> Result<()> {
    let url = format!("{}/sessions/validate", api_url.trim_end_matches('/'));
    let mut request = Request::post(&url, Vec::new(), super::http::BodyEncoding::Form);
    request.bearer = Some(access_token);
    // Validating changes nothing at Tastytrade: repeating it is harmless.
    let response = retry::send(http, &ThreadSleep, &request, Policy::Idempotent)?;
    match response.status {
        200..=299 => Ok(()),
        401 if response.looks_like_json() => Err(Failure::ApiUnauthorized {
            sandbox: failure::is_sandbox_url(&url),
        }
        .into()),
        _ => Err(status_failure(&response, &url, Endpoint::Api).into()),
    }
}

fn parse(body: &[u8]) -> Option<Vec<Account>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let items = value.get("data")?.get("items")?.as_array()?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let mut accounts = Vec::with_capacity(items.len());
    for item in items {
        let Some(account) = item.get("account") else {
            continue;
        };
        let Some(number) = text(account.get("account-number")) else {
            continue;
        };
        // Nicknames are the account holder's text, shown on terminals and pages: control
        // characters and escape sequences go here, once.
        accounts.push(Account {
            account_number: number,
            nickname: text(account.get("nickname"))
                .map(|n| sanitize(&n, 60))
                .filter(|n| !n.is_empty()),
            authority_level: text(item.get("authority-level")).map(|a| sanitize(&a, 40)),
            is_closed: account
                .get("is-closed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    Some(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::http::Response;
    use crate::oauth::retry::tests::NoSleep;
    use crate::Code;

    const BODY: &str = r#"{"data":{"items":[
        {"account":{"account-number":"5WT00001","nickname":"Main","account-type-name":"Individual","is-closed":false},"authority-level":"owner"},
        {"account":{"account-number":"5WT00002","nickname":"","is-closed":true},"authority-level":"read-only"},
        {"something-else":{}}
    ]},"context":"/customers/me/accounts"}"#;

    fn call(status: u16, ct: &'static str, body: &'static str) -> Result<Vec<Account>> {
        let http = move |r: &Request<'_>| {
            assert_eq!(r.url, "http://127.0.0.1:9/customers/me/accounts");
            assert_eq!(r.bearer.map(|t| t.expose()), Some("at-1"));
            Ok(Response::new(status, Some(ct), body))
        };
        accounts_with(
            &http,
            &NoSleep::default(),
            "http://127.0.0.1:9/",
            &AccessToken::new("at-1"),
        )
    }

    #[test]
    fn lists_accounts_with_authority() {
        let a = call(200, "application/json", BODY).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].account_number, "5WT00001");
        assert_eq!(a[0].nickname.as_deref(), Some("Main"));
        assert_eq!(a[0].authority_level.as_deref(), Some("owner"));
        assert_eq!(a[1].nickname, None);
        assert!(a[1].is_closed);
        assert!(!format!("{a:?}").contains("5WT0000"), "Debug masks numbers");
    }

    #[test]
    fn nicknames_reach_the_terminal_without_control_characters() {
        let a = call(
            200,
            "application/json",
            r#"{"data":{"items":[{"account":{"account-number":"5WT00001","nickname":"Main\u001b[2J\u001b]0;owned\u0007 — IRA\u202e"},"authority-level":"owner\r\nX"}]}}"#,
        )
        .unwrap();
        let nick = a[0].nickname.as_deref().unwrap();
        assert!(!nick.chars().any(char::is_control), "{nick:?}");
        assert_eq!(nick, "Main [2J ]0;owned — IRA");
        assert_eq!(a[0].authority_level.as_deref(), Some("owner X"));
    }

    #[test]
    fn masks_show_only_the_tail() {
        assert_eq!(mask("5WT12345"), "••••2345");
        assert_eq!(mask("123456"), "••••456");
        assert_eq!(mask("1234"), "••••34");
        assert_eq!(mask("12"), "••••");
        assert_eq!(mask(""), "••••");
        assert_eq!(mask("5WT1\u{1b}[2J"), "••••??2J");
    }

    #[test]
    fn forbidden_means_missing_read_scope() {
        let e = call(
            403,
            "application/json",
            r#"{"error":{"code":"not_permitted","message":"no"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Grant);
        assert!(e.message.contains("read"));
    }

    #[test]
    fn unauthorized_means_the_token_was_refused() {
        let e = call(
            401,
            "application/json",
            r#"{"error":{"code":"token_invalid"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Grant);
        assert!(e.message.contains("access token"));
        let e = call(401, "text/html", "<html>nginx</html>").unwrap_err();
        assert_eq!(e.code, Code::Network);
        assert!(e.message.contains("User-Agent"));
    }

    #[test]
    fn nonsense_is_exit_5() {
        assert_eq!(
            call(200, "application/json", r#"{"data":{}}"#)
                .unwrap_err()
                .code,
            Code::Network
        );
        assert_eq!(
            call(404, "text/plain", "nope").unwrap_err().code,
            Code::Network
        );
    }

    #[test]
    fn validate_posts_the_bearer_to_sessions_validate() {
        let seen = std::cell::RefCell::new(Vec::new());
        let answer = |status: u16| {
            let seen = &seen;
            move |r: &Request<'_>| {
                seen.borrow_mut()
                    .push((r.method, r.url.to_string(), r.bearer.is_some()));
                Ok(Response::new(status, Some("application/json"), "{}"))
            }
        };
        let token = AccessToken::new("at-1");
        validate(&answer(201), "http://127.0.0.1:9/", &token).unwrap();
        assert_eq!(
            seen.borrow()[0],
            (
                crate::oauth::http::Method::Post,
                "http://127.0.0.1:9/sessions/validate".to_string(),
                true
            )
        );
        let e = validate(&answer(401), "http://127.0.0.1:9", &token).unwrap_err();
        assert_eq!(e.code, Code::Grant);
    }
}
