//! The token endpoint: refreshing a grant and exchanging an authorization code.
//!
//! The client id and secret go in the body, never in an `Authorization` header
//! (Tastytrade's later refreshes fail after one: tastyware PR #255). Tastytrade's own
//! hosts get what Tastytrade documents for a refresh, a JSON body without `client_id`;
//! other servers get RFC 6749's form body. When an endpoint answers a 4xx that says it did
//! not understand the body (anything but `invalid_grant` / `invalid_client`), the request
//! is sent once more in the other encoding, and the answer says which one worked so the
//! vault can remember it. See docs/OAUTH.md.

pub(crate) mod answer;
#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod tests;

use super::failure::Failure;
use super::http::{BodyEncoding, Http, Request, Response};
use super::retry::{self, Policy, Sleep, ThreadSleep};
use crate::endpoints::hosts;
use crate::error::Result;
use crate::secret::{AccessToken, AuthCode, ClientSecret, PkceVerifier, RefreshToken};
use std::fmt;

pub(crate) use answer::is_transient_sandbox;

/// What the token endpoint gave.
pub struct TokenResponse {
    pub access_token: AccessToken,
    /// Seconds the access token lives (about 900 at Tastytrade).
    pub expires_in: u64,
    /// Always on a code exchange; on a refresh only if the server rotates it (not known
    /// to happen at Tastytrade): when one comes back and differs, store it.
    pub refresh_token: Option<RefreshToken>,
    /// Granted scopes, when the server says (not documented at Tastytrade).
    pub scope: Option<String>,
    pub token_type: String,
    /// The body encoding the endpoint accepted: worth remembering for the next refresh.
    pub encoding: BodyEncoding,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("encoding", &self.encoding)
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

/// The encoding a refresh starts with when the vault remembers none: JSON for
/// Tastytrade's hosts (what its quickstart and SDKs send), RFC 6749 form elsewhere.
pub fn default_refresh_encoding(token_url: &str) -> BodyEncoding {
    if hosts::kind_of(token_url).is_tastytrade() {
        BodyEncoding::Json
    } else {
        BodyEncoding::Form
    }
}

/// A token endpoint and the client that talks to it.
pub struct TokenEndpoint<'a> {
    pub url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a ClientSecret,
    /// The refresh encoding the vault remembers; `None` for the host's default.
    pub encoding: Option<BodyEncoding>,
}

impl TokenEndpoint<'_> {
    /// `grant_type=refresh_token`: a fresh access token for the grant.
    pub fn refresh(
        &self,
        http: &dyn Http,
        sleep: &dyn Sleep,
        refresh_token: &RefreshToken,
    ) -> std::result::Result<TokenResponse, Failure> {
        let first = self
            .encoding
            .unwrap_or_else(|| default_refresh_encoding(self.url));
        let fields = |encoding| {
            let mut f = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
            ];
            // Tastytrade documents the JSON refresh without `client_id` (if sent it must
            // match); RFC 6749 clients authenticate with both in a form.
            if encoding == BodyEncoding::Form {
                f.push(("client_id", self.client_id));
            }
            f.push(("client_secret", self.client_secret.expose()));
            f
        };
        // Every answer's words, also the one `post` explains when no encoding worked, are
        // masked for what this request carried.
        let secrets = [refresh_token.expose(), self.client_secret.expose()];
        let (response, encoding) = self
            .post(http, sleep, first, fields, Policy::Idempotent)
            .map_err(|f| f.masking(&secrets))?;
        answer::interpret(&response, self.url, answer::Grant::Refresh, encoding)
            .map_err(|f| f.masking(&secrets))
    }

    /// `grant_type=authorization_code`: the browser callback's code for the grant's
    /// tokens. `redirect_uri` must be the one sent in the authorize request, byte for byte.
    pub fn exchange_code(
        &self,
        http: &dyn Http,
        sleep: &dyn Sleep,
        code: &AuthCode,
        redirect_uri: &str,
        verifier: &PkceVerifier,
    ) -> std::result::Result<TokenResponse, Failure> {
        let fields = |_| {
            vec![
                ("grant_type", "authorization_code"),
                ("code", code.expose()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier.expose()),
                ("client_id", self.client_id),
                ("client_secret", self.client_secret.expose()),
            ]
        };
        // Form works for the exchange at Tastytrade and is the rule everywhere else.
        let secrets = [
            code.expose(),
            verifier.expose(),
            self.client_secret.expose(),
        ];
        let (response, encoding) = self
            .post(http, sleep, BodyEncoding::Form, fields, Policy::SingleUse)
            .map_err(|f| f.masking(&secrets))?;
        let grant = answer::Grant::Code { redirect_uri };
        let tokens = answer::interpret(&response, self.url, grant, encoding)
            .map_err(|f| f.masking(&secrets))?;
        if tokens.refresh_token.is_none() {
            return Err(Failure::Nonsense {
                endpoint: super::failure::Endpoint::Token,
                url: self.url.to_string(),
                what: "issued no refresh token for the authorization code",
            });
        }
        Ok(tokens)
    }

    /// Sends the fields in `first`, and once more in the other encoding when the answer
    /// says the body was not understood.
    fn post<'f>(
        &self,
        http: &dyn Http,
        sleep: &dyn Sleep,
        first: BodyEncoding,
        fields: impl Fn(BodyEncoding) -> Vec<(&'f str, &'f str)>,
        policy: Policy,
    ) -> std::result::Result<(Response, BodyEncoding), Failure> {
        let send = |encoding| {
            let request = Request::post(self.url, fields(encoding), encoding);
            retry::send(http, sleep, &request, policy)
        };
        let response = send(first)?;
        if !answer::body_not_understood(&response) {
            return Ok((response, first));
        }
        let second = first.other();
        let again = send(second)?;
        if answer::body_not_understood(&again) {
            // Neither worked: the first answer is the one to explain.
            return Ok((response, first));
        }
        Ok((again, second))
    }
}

/// A refresh with the host's default encoding, sleeping for real between retries.
pub fn refresh(
    http: &dyn Http,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    refresh_token: &RefreshToken,
) -> Result<TokenResponse> {
    refresh_remembered(
        http,
        token_url,
        client_id,
        client_secret,
        refresh_token,
        None,
    )
}

/// A refresh starting with the encoding the vault remembers (`None`: the host's default).
/// The answer's `encoding` is the one that worked: store it when it differs. For a saved
/// vault's grant: the advice names the vault's stored endpoint and `rotate`.
pub fn refresh_remembered(
    http: &dyn Http,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    refresh_token: &RefreshToken,
    encoding: Option<BodyEncoding>,
) -> Result<TokenResponse> {
    let endpoint = TokenEndpoint {
        url: token_url,
        client_id,
        client_secret,
        encoding,
    };
    endpoint
        .refresh(http, &ThreadSleep, refresh_token)
        .map_err(|f| saved_grant_advice(f, token_url))
}

/// A saved grant's failure in the words that fit it: the endpoint is the vault's own
/// (TTVAULT_API_URL does not change it), and a malformed token or a wrong secret is
/// replaced by `rotate`.
fn saved_grant_advice(failure: super::failure::Failure, token_url: &str) -> crate::Error {
    use super::failure::{self, Failure, Refusal};
    let saved_hint = match &failure {
        Failure::Refused {
            refusal: Refusal::MalformedToken,
            ..
        } => Some(failure::SAVED_TOKEN_MALFORMED),
        Failure::Refused {
            refusal: Refusal::SecretMismatch,
            ..
        } => Some(failure::SAVED_SECRET_MISMATCH),
        _ => None,
    };
    let err = crate::Error::from(failure);
    if let Some(hint) = saved_hint {
        return err.hint(hint);
    }
    failure::endpoint_came_from(
        err,
        token_url,
        "the one stored in the vault; TTVAULT_API_URL does not change it (`ttvault rotate` \
         with it set moves the vault)",
    )
}

/// Like [`refresh`], sleeping between retries through `sleep` (tests and fuzzers pass
/// one that does not sleep).
pub fn refresh_with(
    http: &dyn Http,
    sleep: &dyn Sleep,
    token_url: &str,
    client_id: &str,
    client_secret: &ClientSecret,
    refresh_token: &RefreshToken,
) -> Result<TokenResponse> {
    let endpoint = TokenEndpoint {
        url: token_url,
        client_id,
        client_secret,
        encoding: None,
    };
    Ok(endpoint.refresh(http, sleep, refresh_token)?)
}

/// The code exchange, sleeping between retries through `sleep` (the fuzz target passes one
/// that does not sleep).
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
    let endpoint = TokenEndpoint {
        url: token_url,
        client_id,
        client_secret,
        encoding: None,
    };
    Ok(endpoint.exchange_code(http, sleep, code, redirect_uri, verifier)?)
}
