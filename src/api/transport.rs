//! Carrying one API request: GET or HEAD with the bearer token, the status line and every
//! header back (for `-i`), and a body read up to [`MAX_BODY`]. Behind the [`Transport`]
//! seam so the call logic is tested with a closure; [`Client`] is the real one (reqwest,
//! set up as the token client is: `ttvault/<version>` User-Agent, `Accept:
//! application/json`, timeouts, no redirects followed, no proxy for loopback).

use super::request::Method;
use crate::endpoints::hosts::is_loopback;
use crate::oauth::client::{builder, transport_error};
use crate::oauth::http::{TransportError, TransportKind};
use crate::secret::AccessToken;
use std::fmt;
use std::io::Read;
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest answer read. Tastytrade's biggest (the full SPX chain, every expiration
/// and strike) is a few MiB; a server streaming without end must not eat the memory.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Whole-request bound: generous, since a chain download on a slow line takes a while.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(120);

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
    inner: reqwest::blocking::Client,
    loopback: reqwest::blocking::Client,
}

impl Client {
    pub fn new() -> crate::Result<Client> {
        let build = |b: reqwest::blocking::ClientBuilder| {
            b.build()
                .map_err(|e| crate::Error::failure(format!("could not set up HTTPS: {e}")))
        };
        // A redirect is reported instead of followed (see `call`).
        Ok(Client {
            inner: build(builder(TOTAL_TIMEOUT))?,
            loopback: build(builder(TOTAL_TIMEOUT).no_proxy())?,
        })
    }
}

impl Transport for Client {
    fn send(&self, request: &Request<'_>) -> Result<Response, Failure> {
        let client = if is_loopback(request.url) {
            &self.loopback
        } else {
            &self.inner
        };
        let builder = match request.method {
            Method::Get => client.get(request.url),
            Method::Head => client.head(request.url),
        };
        let response = builder
            .bearer_auth(request.bearer.expose())
            .send()
            .map_err(|e| Failure::Unreachable(transport_error(e)))?;
        if response.content_length().is_some_and(|n| n > MAX_BODY) {
            return Err(Failure::TooLarge);
        }
        let status = response.status();
        let status_line = format!(
            "{:?} {} {}",
            response.version(),
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_string();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Zeroizing::new(Vec::new());
        response
            .take(MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| Failure::Unreachable(read_error(&e)))?;
        if body.len() as u64 > MAX_BODY {
            return Err(Failure::TooLarge);
        }
        Ok(Response {
            status: status.as_u16(),
            status_line,
            headers,
            body,
        })
    }
}

/// A body that broke off while being read.
fn read_error(err: &std::io::Error) -> TransportError {
    let kind = match err.kind() {
        std::io::ErrorKind::TimedOut => TransportKind::Timeout,
        _ => TransportKind::Reset,
    };
    TransportError {
        kind,
        detail: format!("the answer broke off: {}", err.kind()),
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
