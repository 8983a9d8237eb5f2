//! What a request inside a terminated connection is, decided before anything leaves the
//! broker: a token request (answered here), a misused placeholder (refused), a write under
//! the read-only policy (refused), or a request to forward. Pure, so every rule is tested
//! without a socket.

use super::Placeholders;
use hyper::{HeaderMap, Method};

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// `POST /oauth/token`: never forwarded, answered from the token source.
    Token,
    /// A placeholder outside a token request: 401, never forwarded.
    PlaceholderMisused,
    /// A write while trading is not allowed: 403, never forwarded.
    ReadOnly,
    Forward,
}

/// Decides what to do with one request. `path` is the request's path without the query.
pub fn decide(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    placeholders: &Placeholders,
    allow_trade: bool,
) -> Decision {
    // Every token request is ttvault's to answer, right or wrong: the program holds no
    // real secret to send, so forwarding one could only leak a placeholder upstream.
    if method == Method::POST && is_token_path(path) {
        return Decision::Token;
    }
    if carries_placeholder(path, query, headers, body, placeholders) {
        return Decision::PlaceholderMisused;
    }
    if !allow_trade && !is_read(method, path) {
        return Decision::ReadOnly;
    }
    Decision::Forward
}

fn is_token_path(path: &str) -> bool {
    path.trim_end_matches('/') == "/oauth/token"
}

/// What the read-only policy lets through: reads, the token check, and order dry-runs
/// (which place nothing).
fn is_read(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    method == Method::GET
        || method == Method::HEAD
        || (method == Method::POST
            && (path == "/sessions/validate" || path.ends_with("/orders/dry-run")))
}

/// A placeholder in the path, the query, any header value, or the body. Placeholders are
/// made of characters that percent-encoding and JSON escaping leave alone, so a plain
/// byte search finds them however the program encoded its request.
fn carries_placeholder(
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    placeholders: &Placeholders,
) -> bool {
    placeholders.all().iter().any(|p| {
        let p = p.as_bytes();
        contains(path.as_bytes(), p)
            || query.is_some_and(|q| contains(q.as_bytes(), p))
            || headers.values().any(|v| contains(v.as_bytes(), p))
            || contains(body, p)
    })
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderValue, AUTHORIZATION};

    fn decide_simple(method: Method, path: &str, allow_trade: bool) -> Decision {
        let p = Placeholders::generate();
        decide(&method, path, None, &HeaderMap::new(), b"", &p, allow_trade)
    }

    #[test]
    fn reads_validation_and_dry_runs_pass_and_other_writes_are_refused() {
        assert_eq!(
            decide_simple(Method::GET, "/customers/me", false),
            Decision::Forward
        );
        assert_eq!(decide_simple(Method::HEAD, "/", false), Decision::Forward);
        assert_eq!(
            decide_simple(Method::POST, "/sessions/validate", false),
            Decision::Forward
        );
        assert_eq!(
            decide_simple(Method::POST, "/accounts/5WT0001/orders/dry-run", false),
            Decision::Forward
        );
        for (method, path) in [
            (Method::POST, "/accounts/5WT0001/orders"),
            (Method::PUT, "/accounts/5WT0001/orders/1"),
            (Method::DELETE, "/accounts/5WT0001/orders/1"),
            (Method::PATCH, "/customers/me"),
            (Method::OPTIONS, "/customers/me"),
            (Method::POST, "/sessions"),
            (Method::PUT, "/accounts/5WT0001/orders/dry-run"),
        ] {
            assert_eq!(
                decide_simple(method.clone(), path, false),
                Decision::ReadOnly,
                "{method} {path}"
            );
            assert_eq!(decide_simple(method, path, true), Decision::Forward);
        }
    }

    #[test]
    fn every_token_request_is_answered_here() {
        assert_eq!(
            decide_simple(Method::POST, "/oauth/token", false),
            Decision::Token
        );
        assert_eq!(
            decide_simple(Method::POST, "/oauth/token/", true),
            Decision::Token
        );
        assert_eq!(
            decide_simple(Method::GET, "/oauth/token", false),
            Decision::Forward
        );
    }

    #[test]
    fn a_placeholder_anywhere_else_is_misuse() {
        let p = Placeholders::generate();
        let secret = p.client_secret().to_owned();
        let get = |path: &str, query: Option<&str>, headers: &HeaderMap, body: &[u8]| {
            decide(&Method::GET, path, query, headers, body, &p, true)
        };
        let none = HeaderMap::new();
        assert_eq!(get("/x", None, &none, b""), Decision::Forward);
        assert_eq!(
            get(&format!("/x/{secret}"), None, &none, b""),
            Decision::PlaceholderMisused
        );
        assert_eq!(
            get(
                "/x",
                Some(&format!("a=1&t={}", p.refresh_token())),
                &none,
                b""
            ),
            Decision::PlaceholderMisused
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", p.refresh_token())).unwrap(),
        );
        assert_eq!(get("/x", None, &headers, b""), Decision::PlaceholderMisused);
        let body = format!("{{\"id\":\"{}\"}}", p.client_id());
        assert_eq!(
            get("/x", None, &none, body.as_bytes()),
            Decision::PlaceholderMisused
        );
        // Checked before the read-only policy, so a refused write still reports misuse.
        assert_eq!(
            decide(
                &Method::POST,
                "/orders",
                None,
                &none,
                body.as_bytes(),
                &p,
                false
            ),
            Decision::PlaceholderMisused
        );
    }
}
