//! Carrying one API request: GET or HEAD with the bearer token, the status line and every
//! header back (for `-i`), and a body read up to [`MAX_BODY`]. Behind the [`Transport`]
//! seam so the call logic is tested with a closure; [`Client`] is the real one, the shared
//! [`crate::http::Wire`] with `api`'s limits (64 MiB, 120 s for the whole exchange).

use super::request::Method;
use crate::http::{deadline, Exchange, Wire};
use crate::oauth::http::{TransportError, TransportKind};
use crate::secret::AccessToken;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest answer read. Tastytrade's biggest (the full SPX chain, every expiration
/// and strike) is a few MiB; a server streaming without end must not eat the memory.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Connect, send, headers and the whole answer: generous, since a chain download on a slow
/// line takes a while, but one bound whatever the server trickles.
pub const DEADLINE: Duration = Duration::from_secs(120);

pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub bearer: &'a AccessToken,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("bearer", &"[REDACTED]")
            .finish()
    }
}

pub struct Response {
    pub status: u16,
    /// `HTTP/1.1 200 OK`, as `-i` prints it.
    pub status_line: String,
    /// Names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    /// A response as a test or fuzzer builds it.
    pub fn new(status: u16, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            status_line: format!("HTTP/1.1 {status}"),
            headers: content_type
                .map(|ct| vec![("content-type".to_string(), ct.to_string())])
                .unwrap_or_default(),
            body: Zeroizing::new(body.into()),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Declared JSON, or a body that starts like a JSON object (some servers omit the
    /// header on errors).
    pub fn looks_like_json(&self) -> bool {
        if self
            .header("content-type")
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
        {
            return true;
        }
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace());
        matches!(first, Some(b'{'))
    }
}

/// Why no usable response came back.
#[derive(Debug, Clone)]
pub enum Failure {
    Unreachable(TransportError),
    /// The answer is larger than [`MAX_BODY`].
    TooLarge,
}

/// The seam: anything that can carry one request.
pub trait Transport {
    fn send(&self, request: &Request<'_>) -> Result<Response, Failure>;
}

impl<F> Transport for F
where
    F: Fn(&Request<'_>) -> Result<Response, Failure>,
{
    fn send(&self, request: &Request<'_>) -> Result<Response, Failure> {
        self(request)
    }
}

pub struct Client {
    wire: Wire,
}

impl Client {
    pub fn new() -> crate::Result<Client> {
        Ok(Client { wire: Wire::new()? })
    }
}

impl Transport for Client {
    fn send(&self, request: &Request<'_>) -> Result<Response, Failure> {
        let answer = self
            .wire
            .send(&Exchange {
                method: match request.method {
                    Method::Get => reqwest::Method::GET,
                    Method::Head => reqwest::Method::HEAD,
                },
                url: request.url,
                bearer: Some(request.bearer.expose()),
                body: None,
                cap: MAX_BODY as usize,
                deadline: deadline(DEADLINE),
            })
            .map_err(|e| match e.kind {
                TransportKind::TooLarge => Failure::TooLarge,
                _ => Failure::Unreachable(e),
            })?;
        Ok(Response {
            status: answer.status,
            status_line: answer.status_line,
            headers: answer.headers,
            body: answer.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let token = AccessToken::new("at-hunter2");
        let r = Request {
            method: Method::Get,
            url: "http://x/",
            bearer: &token,
        };
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    #[test]
    fn json_is_recognised_by_header_or_body() {
        assert!(Response::new(404, Some("application/json; charset=utf-8"), "").looks_like_json());
        assert!(Response::new(404, None, " {\"error\":{}}").looks_like_json());
        assert!(!Response::new(401, Some("text/html"), "<html>").looks_like_json());
    }
}
