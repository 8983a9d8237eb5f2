//! Proving a grant works before anything is written: what the token says about itself
//! (offline), then a refresh and an account listing (live).

use super::accounts::{self, Account};
use super::b64token;
use super::http::Http;
use super::jwt;
use super::retry::{Sleep, ThreadSleep};
use super::token::{self, TokenResponse};
use crate::error::{Error, Result};
use crate::secret::{ClientSecret, RefreshToken};

/// What the grant can do, as far as ttvault can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scopes {
    /// From the refresh token's claims and/or the token response.
    Known(Vec<String>),
    /// Neither the token (opaque, or a JWT without a scope claim) nor the token response
    /// names a scope: only the live probe (`read` works) is known.
    Unknown,
}

impl Scopes {
    /// Whether ttvault could tell: `false` means neither the token nor the token
    /// response names a scope (an opaque token, or a JWT without a scope claim).
    pub fn is_known(&self) -> bool {
        matches!(self, Scopes::Known(_))
    }
    pub fn includes(&self, scope: &str) -> bool {
        matches!(self, Scopes::Known(s) if s.iter().any(|x| x == scope))
    }
    /// For the vault's `scopes` field: empty when unknown.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Scopes::Known(s) => s.clone(),
            Scopes::Unknown => Vec::new(),
        }
    }
    /// For people: `read openid`, or `unknown`.
    pub fn describe(&self) -> String {
        match self {
            Scopes::Known(s) if s.is_empty() => "none".into(),
            Scopes::Known(s) => s.join(" "),
            Scopes::Unknown => "unknown (the token does not say; `read` works)".into(),
        }
    }
}

/// A grant that works.
#[derive(Debug)]
pub struct Verified {
    /// The refresh token to store: the server's new one if the refresh rotated it.
    pub refresh_token: RefreshToken,
    /// The refresh's answer; `tokens.encoding` is the body encoding to remember.
    pub tokens: TokenResponse,
    pub scopes: Scopes,
    pub accounts: Vec<Account>,
}

/// What to check a grant against.
pub struct Grant<'a> {
    pub token_url: &'a str,
    pub api_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a ClientSecret,
    pub refresh_token: &'a RefreshToken,
    /// Without it, a grant holding `trade` is refused.
    pub allow_trade: bool,
}

/// Checks the grant: the token's own claims first (so a pasted access token or another
/// application's token gets a clear message, not Tastytrade's "Invalid JWT"), then a
/// refresh and `GET /customers/me/accounts`.
pub fn verify(http: &dyn Http, grant: &Grant<'_>) -> Result<Verified> {
    verify_with(http, &ThreadSleep, grant)
}

/// Like the function without `_with`, sleeping between retries through `sleep`
/// (tests and fuzzers pass one that does not sleep).
pub fn verify_with(http: &dyn Http, sleep: &dyn Sleep, grant: &Grant<'_>) -> Result<Verified> {
    let claims = check_claims(grant.refresh_token.expose(), grant.client_id)?;
    let tokens = token::refresh_with(
        http,
        sleep,
        grant.token_url,
        grant.client_id,
        grant.client_secret,
        grant.refresh_token,
    )?;
    let scopes = scopes_of(claims.as_ref(), &tokens);
    if scopes.includes("trade") && !grant.allow_trade {
        return Err(trade_refused(super::failure::is_sandbox_url(
            grant.token_url,
        )));
    }
    let accounts = accounts::accounts_with(http, sleep, grant.api_url, &tokens.access_token)?;
    let refresh_token = match &tokens.refresh_token {
        Some(new) if !new.ct_eq(grant.refresh_token) => new.clone(),
        _ => grant.refresh_token.clone(),
    };
    Ok(Verified {
        refresh_token,
        tokens,
        scopes,
        accounts,
    })
}

/// The offline checks on a refresh token. `Ok(None)`: not a JWT, nothing to check.
pub fn check_claims(refresh_token: &str, client_id: &str) -> Result<Option<jwt::Claims>> {
    if refresh_token.trim().is_empty() {
        return Err(Error::usage("the refresh token is empty"));
    }
    // A mangled paste costs a failed login at Tastytrade (and enough of those block the
    // address for hours): a token no server could have issued is stopped here.
    if let Err(problem) = b64token::check(refresh_token) {
        return Err(Error::usage(format!(
            "that is not a refresh token: {}",
            problem.describe()
        ))
        .hint(
            "copy the refresh token again whole (it is one line of letters, digits and              -._~+/), then paste it without quotes or spaces",
        ));
    }
    let Some(claims) = jwt::decode(refresh_token) else {
        return Ok(None);
    };
    if claims.is_access_token() {
        return Err(Error::failure(
            "that is an access token, not a refresh token (its type is `at+jwt`)",
        )
        .hint(
            "on tastytrade.com (Manage → My Profile → API → OAuth Applications → Manage → \
               Create Grant) copy the refresh token the new grant shows, not an access token",
        ));
    }
    if claims.audience_matches(client_id) == Some(false) {
        return Err(Error::failure(
            "the refresh token was issued to a different application than the client id given",
        )
        .hint(
            "use the client id and client secret of the application the grant belongs to \
               (Manage → My Profile → API on tastytrade.com)",
        ));
    }
    Ok(Some(claims))
}

/// Scopes from the token's claims and the response's `scope`, together: a scope either
/// names is taken as held.
fn scopes_of(claims: Option<&jwt::Claims>, tokens: &TokenResponse) -> Scopes {
    let from_claims = claims.and_then(|c| c.scopes.clone());
    let from_response = tokens.scopes();
    match (from_claims, from_response) {
        (None, None) => Scopes::Unknown,
        (a, b) => {
            let mut all: Vec<String> = Vec::new();
            for s in a.into_iter().flatten().chain(b.into_iter().flatten()) {
                if !all.contains(&s) {
                    all.push(s);
                }
            }
            Scopes::Known(all)
        }
    }
}

fn trade_refused(sandbox: bool) -> Error {
    let where_ = if sandbox {
        "With the developer sandbox's own tools (sandbox grants are not managed on \
         tastytrade.com)"
    } else {
        "On tastytrade.com (Manage → My Profile → API → OAuth Applications → Manage)"
    };
    Error::failure("this grant holds the `trade` scope: it could place orders on the account").hint(
        format!(
            "the SPX chain fetcher needs Read only. {where_} delete this grant, create a new \
             one with only Read ticked, and run this again; pass --allow-trade only if you \
             really want a trading grant in this vault"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::http::{Request, Response, TransportError};
    use crate::oauth::jwt::tests::jwt;
    use crate::oauth::retry::tests::NoSleep;
    use crate::Code;
    use std::cell::RefCell;

    const ACCOUNTS: &str = r#"{"data":{"items":[{"account":{"account-number":"5WT1234"},"authority-level":"owner"}]}}"#;

    /// A fake Tastytrade: `token_body` for /oauth/token, ACCOUNTS for the API.
    fn server<'a>(
        token_body: &'static str,
        calls: &'a RefCell<Vec<String>>,
    ) -> impl Fn(&Request<'_>) -> std::result::Result<Response, TransportError> + 'a {
        move |r| {
            calls.borrow_mut().push(r.url.to_string());
            if r.url.ends_with("/oauth/token") {
                Ok(Response::new(200, Some("application/json"), token_body))
            } else {
                Ok(Response::new(200, Some("application/json"), ACCOUNTS))
            }
        }
    }

    fn run(
        rt: &str,
        token_body: &'static str,
        allow_trade: bool,
    ) -> (Result<Verified>, Vec<String>) {
        let calls = RefCell::new(Vec::new());
        let secret = ClientSecret::new("cs");
        let rt = RefreshToken::new(rt);
        let grant = Grant {
            token_url: "http://127.0.0.1:9/oauth/token",
            api_url: "http://127.0.0.1:9",
            client_id: "cid",
            client_secret: &secret,
            refresh_token: &rt,
            allow_trade,
        };
        let r = verify_with(&server(token_body, &calls), &NoSleep::default(), &grant);
        (r, calls.into_inner())
    }

    const OK: &str = r#"{"access_token":"at","expires_in":900}"#;

    #[test]
    fn a_read_grant_verifies_with_its_accounts() {
        let rt = jwt(
            r#"{"typ":"rt+jwt"}"#,
            r#"{"aud":"cid","scope":"read openid"}"#,
        );
        let (r, calls) = run(&rt, OK, false);
        let v = r.unwrap();
        assert_eq!(
            v.scopes,
            Scopes::Known(vec!["read".into(), "openid".into()])
        );
        assert_eq!(v.accounts.len(), 1);
        assert_eq!(v.refresh_token.expose(), rt);
        assert_eq!(
            calls,
            vec![
                "http://127.0.0.1:9/oauth/token",
                "http://127.0.0.1:9/customers/me/accounts"
            ]
        );
    }

    #[test]
    fn an_opaque_token_has_unknown_scopes() {
        let (r, _) = run("opaque", OK, false);
        let v = r.unwrap();
        assert_eq!(v.scopes, Scopes::Unknown);
        assert!(v.scopes.describe().contains("unknown"));
    }

    #[test]
    fn response_scope_is_used_when_the_token_says_nothing() {
        let (r, _) = run(
            "opaque",
            r#"{"access_token":"at","scope":"read trade"}"#,
            false,
        );
        assert!(r.unwrap_err().message.contains("trade"));
    }

    #[test]
    fn trade_is_refused_unless_allowed() {
        let rt = jwt(
            r#"{"typ":"rt+jwt"}"#,
            r#"{"aud":"cid","scope":"read trade"}"#,
        );
        let (r, calls) = run(&rt, OK, false);
        let e = r.unwrap_err();
        assert_eq!(e.code, Code::Failure);
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("Read only") && hint.contains("--allow-trade"),
            "{hint}"
        );
        assert_eq!(calls.len(), 1, "no API call once the grant is refused");
        let (r, _) = run(&rt, OK, true);
        assert!(r.unwrap().scopes.includes("trade"));
    }

    #[test]
    fn a_pasted_access_token_is_caught_before_any_request() {
        let at = jwt(r#"{"typ":"at+jwt"}"#, r#"{"aud":"cid","scope":"read"}"#);
        let (r, calls) = run(&at, OK, false);
        let e = r.unwrap_err();
        assert!(
            e.message.contains("access token, not a refresh token"),
            "{}",
            e.message
        );
        assert!(calls.is_empty());
    }

    #[test]
    fn another_applications_token_is_refused() {
        let rt = jwt(
            r#"{"typ":"rt+jwt"}"#,
            r#"{"aud":"other-app","scope":"read"}"#,
        );
        let (r, calls) = run(&rt, OK, false);
        assert!(r.unwrap_err().message.contains("different application"));
        assert!(calls.is_empty());
    }

    #[test]
    fn a_rotated_refresh_token_is_the_one_kept() {
        let (r, _) = run(
            "old",
            r#"{"access_token":"at","refresh_token":"new"}"#,
            false,
        );
        assert_eq!(r.unwrap().refresh_token.expose(), "new");
    }

    #[test]
    fn an_empty_token_is_bad_usage() {
        let (r, _) = run("  ", OK, false);
        assert_eq!(r.unwrap_err().code, Code::Usage);
    }

    #[test]
    fn a_mangled_paste_is_stopped_before_any_request() {
        for pasted in ["\"eyJ.abc.def\"", "eyJ.abc def", "eyJ.abc\u{1b}[2J"] {
            let (r, calls) = run(pasted, OK, false);
            let e = r.unwrap_err();
            assert_eq!(e.code, Code::Usage, "{pasted:?}");
            assert!(!e.message.contains("eyJ"), "{}", e.message);
            assert!(calls.is_empty());
        }
    }

    #[test]
    fn trade_is_refused_whichever_claim_carries_it() {
        for claims in [
            r#"{"aud":"cid","scope":"read trade"}"#,
            r#"{"aud":"cid","scope":["read","trade"]}"#,
            r#"{"aud":"cid","scopes":"read trade"}"#,
            r#"{"aud":"cid","scopes":["read","trade"]}"#,
            r#"{"aud":"cid","scp":["trade"]}"#,
            r#"{"aud":"cid","scope":"read","scp":"trade"}"#,
        ] {
            let rt = jwt(r#"{"alg":"EdDSA","typ":"rt+jwt"}"#, claims);
            let (r, calls) = run(&rt, OK, false);
            let e = r.unwrap_err();
            assert!(
                e.message.contains("`trade` scope"),
                "{claims}: {}",
                e.message
            );
            assert_eq!(calls.len(), 1, "{claims}");
        }
    }

    #[test]
    fn a_jwt_without_a_scope_claim_has_unknown_scopes() {
        let rt = jwt(
            r#"{"alg":"EdDSA","typ":"rt+jwt"}"#,
            r#"{"iss":"https://api.tastytrade.com","aud":"cid","grant_id":"g"}"#,
        );
        let (r, _) = run(&rt, OK, false);
        let v = r.unwrap();
        assert_eq!(v.scopes, Scopes::Unknown);
        assert!(!v.scopes.is_known());
    }
}
