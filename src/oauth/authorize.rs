//! The browser's first stop: the authorize URL, its `state`, and the PKCE pair.
//!
//! Built with the `oauth2` crate so every parameter is percent-encoded the standard way
//! (a client id or scope with a space or `&` must not break the URL). PKCE is not documented at Tastytrade, but
//! servers ignore unknown parameters (RFC 6749 §3.1), so an S256 challenge costs nothing
//! and protects the code wherever it is supported.

use crate::error::{Error, Result};
use crate::secret::{OAuthState, PkceVerifier};
use oauth2::{
    AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use zeroize::Zeroize;

/// The per-run secrets of one authorization: the `state` the callback must return and
/// the PKCE verifier the code exchange must send.
pub struct Pending {
    pub state: OAuthState,
    pub verifier: PkceVerifier,
}

impl Pending {
    /// Fresh random values (256 bits each, from the OS's CSPRNG via `oauth2`).
    pub fn new() -> Self {
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut verifier = verifier.into_secret();
        let mut state = CsrfToken::new_random_len(32).into_secret();
        let pending = Pending {
            state: OAuthState::new(state.as_str()),
            verifier: PkceVerifier::new(verifier.as_str()),
        };
        state.zeroize();
        verifier.zeroize();
        pending
    }

    /// The authorize URL for this run: client_id, redirect_uri, response_type=code,
    /// scope, state, code_challenge and code_challenge_method=S256.
    pub fn url(
        &self,
        authorize_url: &str,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
    ) -> Result<String> {
        let auth = AuthUrl::new(authorize_url.to_string()).map_err(|e| {
            Error::usage(format!(
                "the authorize URL `{authorize_url}` is not a URL: {e}"
            ))
        })?;
        // RedirectUrl keeps the string as given: it must match the registered one byte
        // for byte, so it is never normalized (no trailing slash added).
        let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|e| {
            Error::usage(format!(
                "the redirect URI `{redirect_uri}` is not a URL: {e}"
            ))
        })?;
        if client_id.trim().is_empty() {
            return Err(Error::usage("the client id is empty"));
        }
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            self.verifier.expose().to_string(),
        ));
        let client = oauth2::basic::BasicClient::new(ClientId::new(client_id.to_string()))
            .set_auth_uri(auth)
            .set_redirect_uri(redirect);
        let (url, _) = client
            .authorize_url(|| CsrfToken::new(self.state.expose().to_string()))
            .add_scopes(scope.split_whitespace().map(|s| Scope::new(s.to_string())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }
}

impl Default for Pending {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn query(url: &str) -> HashMap<String, String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn url_carries_every_parameter_encoded() {
        let p = Pending::new();
        let url = p
            .url(
                "https://my.tastytrade.com/auth.html",
                "id with&odd=chars",
                "http://localhost:8000",
                "read",
            )
            .unwrap();
        assert!(url.starts_with("https://my.tastytrade.com/auth.html?"));
        assert!(url.contains("client_id=id+with%26odd%3Dchars"), "{url}");
        assert!(
            url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A8000&"),
            "{url}"
        );
        let q = query(&url);
        assert_eq!(q["client_id"], "id with&odd=chars");
        assert_eq!(q["redirect_uri"], "http://localhost:8000");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["scope"], "read");
        assert_eq!(q["state"], p.state.expose());
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(
            !q.values().any(|v| v == p.verifier.expose()),
            "the verifier never travels in the URL"
        );
    }

    #[test]
    fn challenge_is_the_s256_of_the_verifier() {
        use base64::Engine;
        use sha2::Digest;
        let p = Pending::new();
        let url = p
            .url(
                "https://a.example/auth.html",
                "c",
                "http://localhost:8000",
                "read",
            )
            .unwrap();
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(p.verifier.expose().as_bytes()));
        assert_eq!(query(&url)["code_challenge"], expected);
    }

    #[test]
    fn each_run_gets_new_secrets() {
        let (a, b) = (Pending::new(), Pending::new());
        assert!(!a.state.ct_eq(&b.state));
        assert!(a.state.expose().len() >= 40);
        assert!(a.verifier.expose().len() >= 43);
    }

    #[test]
    fn several_scopes_and_a_query_in_the_authorize_url() {
        let p = Pending::new();
        let url = p
            .url(
                "http://127.0.0.1:9/auth.html?tenant=x",
                "c",
                "http://localhost:8000",
                "read  trade",
            )
            .unwrap();
        let q = query(&url);
        assert_eq!(q["scope"], "read trade");
        assert_eq!(q["tenant"], "x");
        assert!(p
            .url("not a url", "c", "http://localhost:8000", "read")
            .is_err());
        assert!(p
            .url("https://a.example/", " ", "http://localhost:8000", "read")
            .is_err());
    }
}
