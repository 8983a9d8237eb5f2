//! The one HTTP client ttvault uses to talk to Tastytrade, behind a small seam.
//!
//! Everything above this module speaks [`Request`] / [`Response`] through the [`Http`]
//! trait, so token and API logic is unit-tested with a closure instead of a network
//! (the pattern of oauth2-rs's HTTP client seam). The real client is [`Client`].

use crate::secret::AccessToken;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// Every request says who we are: Tastytrade answers a request without a
/// `product/version` User-Agent with a 401 nginx HTML page instead of JSON.
pub const USER_AGENT: &str = concat!("ttvault/", env!("CARGO_PKG_VERSION"));

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One request. It borrows its secrets (form values, bearer token) instead of copying
/// them, and its `Debug` shows only field names.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// `Authorization: Bearer …`, for API calls only: never on `/oauth/token`, where it
    /// breaks later refreshes (tastyware PR #255).
    pub bearer: Option<&'a AccessToken>,
    /// A form-encoded (`application/x-www-form-urlencoded`) body.
    pub form: Vec<(&'a str, &'a str)>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.form.iter().map(|(k, _)| *k).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("bearer", &self.bearer.map(|_| "[REDACTED]"))
            .field("form_keys", &keys)
            .finish()
    }
}

impl Request<'_> {
    /// The form body as it goes on the wire, in a buffer wiped on drop.
    pub fn form_body(&self) -> Zeroizing<String> {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.form {
            ser.append_pair(k, v);
        }
        Zeroizing::new(ser.finish())
    }
}

/// What came back. The body may hold tokens: it is wiped on drop.
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    pub fn new(status: u16, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            content_type: content_type.map(str::to_string),
            location: None,
            body: Zeroizing::new(body.into()),
        }
    }

    /// A JSON answer (by content type, or by a body that starts like JSON: some servers
    /// omit the header on errors).
    pub fn looks_like_json(&self) -> bool {
        if let Some(ct) = &self.content_type {
            if ct.to_ascii_lowercase().contains("json") {
                return true;
            }
        }
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace());
        matches!(first, Some(b'{'))
    }

    pub fn looks_like_html(&self) -> bool {
        if let Some(ct) = &self.content_type {
            if ct.to_ascii_lowercase().contains("html") {
                return true;
            }
        }
        let head: Vec<u8> = self
            .body
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .take(15)
            .map(u8::to_ascii_lowercase)
            .collect();
        head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
    }
}

/// Why no response came back. Each kind leads to different advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens there (or a firewall says no).
    Refused,
    /// No answer in time.
    Timeout,
    /// The connection broke mid-way: worth a retry.
    Reset,
    /// TLS or anything else.
    Other,
}

#[derive(Clone, Debug)]
pub struct TransportError {
    pub kind: TransportKind,
    /// A short description from the OS or TLS layer, never a request body.
    pub detail: String,
}

/// The seam: anything that can carry one request.
pub trait Http {
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError>;
}

impl<F> Http for F
where
    F: Fn(&Request<'_>) -> Result<Response, TransportError>,
{
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        self(request)
    }
}

/// The real client: reqwest (blocking, rustls so fresh machines need no OpenSSL).
pub struct Client {
    inner: reqwest::blocking::Client,
    /// For endpoints on this computer (the stand-in): a proxy from `HTTPS_PROXY` /
    /// `ALL_PROXY` could not reach them, and has no business seeing their traffic.
    loopback: reqwest::blocking::Client,
}

impl Client {
    pub fn new() -> crate::Result<Self> {
        Ok(Client {
            inner: Self::builder()
                .build()
                .map_err(|e| crate::Error::failure(format!("could not set up HTTPS: {e}")))?,
            loopback: Self::builder()
                .no_proxy()
                .build()
                .map_err(|e| crate::Error::failure(format!("could not set up HTTP: {e}")))?,
        })
    }

    fn builder() -> reqwest::blocking::ClientBuilder {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        reqwest::blocking::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            // A redirect from the token endpoint is never right: following one could
            // carry the form (client secret, refresh token) to another host.
            .redirect(reqwest::redirect::Policy::none())
    }
}

/// Whether a URL points at this computer.
pub(crate) fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Http for Client {
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let client = if is_loopback(request.url) {
            &self.loopback
        } else {
            &self.inner
        };
        let mut builder = match request.method {
            Method::Get => client.get(request.url),
            Method::Post => client.post(request.url),
        };
        if let Some(token) = request.bearer {
            builder = builder.bearer_auth(token.expose());
        }
        if request.method == Method::Post {
            let body = request.form_body();
            builder = builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.as_bytes().to_vec());
        }
        let response = builder.send().map_err(transport_error)?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let location = header(reqwest::header::LOCATION);
        let body = response.bytes().map_err(transport_error)?;
        Ok(Response {
            status,
            content_type,
            location,
            body: Zeroizing::new(body.to_vec()),
        })
    }
}

/// Classifies a reqwest error by walking its sources down to the OS error.
pub(crate) fn transport_error(err: reqwest::Error) -> TransportError {
    let mut io_kind = None;
    let mut texts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&err);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        texts.push(s.to_string());
        source = s.source();
    }
    let all = texts.join(": ").to_ascii_lowercase();
    use std::io::ErrorKind as K;
    let kind = if err.is_timeout() || matches!(io_kind, Some(K::TimedOut)) {
        TransportKind::Timeout
    } else if all.contains("dns error")
        || all.contains("failed to lookup")
        || all.contains("name or service not known")
        || all.contains("no such host")
    {
        TransportKind::Dns
    } else if matches!(io_kind, Some(K::ConnectionRefused)) {
        TransportKind::Refused
    } else if matches!(
        io_kind,
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof)
    ) || all.contains("connection closed")
        || all.contains("connection reset")
    {
        TransportKind::Reset
    } else if err.is_connect() {
        TransportKind::Refused
    } else {
        TransportKind::Other
    };
    // The innermost cause is the OS/TLS sentence; it names no URL and no body.
    let detail = texts
        .last()
        .cloned()
        .unwrap_or_else(|| "request failed".into());
    TransportError { kind, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_is_product_slash_version() {
        assert_eq!(USER_AGENT, format!("ttvault/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn form_body_is_percent_encoded() {
        let req = Request {
            method: Method::Post,
            url: "http://x/oauth/token",
            bearer: None,
            form: vec![
                ("grant_type", "refresh_token"),
                ("client_secret", "a b&c=d+é"),
            ],
        };
        assert_eq!(
            req.form_body().as_str(),
            "grant_type=refresh_token&client_secret=a+b%26c%3Dd%2B%C3%A9"
        );
    }

    #[test]
    fn request_debug_shows_no_values() {
        let token = AccessToken::new("tok-hunter2");
        let req = Request {
            method: Method::Post,
            url: "http://x/oauth/token",
            bearer: Some(&token),
            form: vec![("client_secret", "hunter2")],
        };
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("client_secret"));
    }

    #[test]
    fn html_and_json_are_told_apart() {
        let html = Response::new(
            401,
            None,
            "<html><body>401 Authorization Required</body></html>",
        );
        assert!(html.looks_like_html() && !html.looks_like_json());
        let json = Response::new(400, Some("application/json; charset=utf-8"), "{}");
        assert!(json.looks_like_json() && !json.looks_like_html());
        let bare = Response::new(400, None, "  {\"error\":\"x\"}");
        assert!(bare.looks_like_json());
    }

    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:9/oauth/token"));
        assert!(is_loopback("http://[::1]:9/x"));
        assert!(is_loopback("http://LOCALHOST:9/x"));
        assert!(!is_loopback("https://api.tastyworks.com/oauth/token"));
        assert!(!is_loopback("https://127.0.0.1.example.com/"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn refused_connection_is_classified() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let client = Client::new().unwrap();
        let url = format!("http://127.0.0.1:{port}/oauth/token");
        let err = client
            .send(&Request {
                method: Method::Get,
                url: &url,
                bearer: None,
                form: vec![],
            })
            .unwrap_err();
        assert_eq!(err.kind, TransportKind::Refused, "{err:?}");
    }
}
