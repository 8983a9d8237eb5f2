//! The one piece of ttvault that talks HTTP to a server. Every request (token calls, the
//! accounts probe, `api`, `audit`'s checks) is an [`crate::oauth::http::Request`] sent
//! through the one seam, [`crate::oauth::http::Http`], and answered with the one
//! [`Response`]; [`Client`] is the real carrier. Each request has its own body cap and ONE
//! deadline covering connect, send, headers and the complete body: a server that trickles
//! a byte a second cannot keep ttvault waiting past it (reqwest's blocking client restarts
//! its timeout on every read, which is how a trickling token endpoint once held
//! `ttvault token` for minutes).
//!
//! Why async reqwest on a runtime of our own: the whole exchange is one future, so one
//! `tokio::time::timeout` bounds it, and dropping the future on the deadline drops the
//! connection and wipes the partial body (it lives in a `Zeroizing` buffer).

use crate::oauth::http::{
    Http, Method as RequestMethod, Request, TransportError, TransportKind, USER_AGENT,
};
/// The request method, as the HTTP library spells it.
pub use reqwest::Method;
use std::time::Duration;
use zeroize::Zeroizing;

/// Connecting alone may take this long (inside the whole-exchange deadline).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Lowers every whole-exchange deadline to this many seconds (never raises one): for
/// tests against a stalling server, and for people who would rather fail fast.
pub use crate::settings::HTTP_TIMEOUT_SECS as ENV_DEADLINE;

/// The deadline an exchange gets: `default`, or less when [`ENV_DEADLINE`] says so.
pub fn deadline(default: Duration) -> Duration {
    crate::settings::get()
        .http_timeout_secs
        .filter(|&s| s > 0)
        .map_or(default, |s| default.min(Duration::from_secs(s)))
}

/// One request as it goes on the wire. Secrets are borrowed; the body buffer is the
/// caller's (already encoded, wiped by the caller).
pub struct Exchange<'a> {
    pub method: Method,
    pub url: &'a str,
    /// `Authorization: Bearer …` (API calls only, never the token endpoint).
    pub bearer: Option<&'a str>,
    /// Content type and body, for a POST.
    pub body: Option<(&'static str, &'a [u8])>,
    /// The most of an answer's body that is read; more is [`TransportKind::TooLarge`].
    pub cap: usize,
    /// The whole exchange, connect to last body byte.
    pub deadline: Duration,
}

/// What came back, whole.
pub struct Response {
    pub status: u16,
    /// `HTTP/1.1 200 OK`, as `api -i` prints it.
    pub status_line: String,
    /// Names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// May hold tokens: wiped on drop.
    pub body: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    /// A response as a test, a fuzzer or a closure seam builds it.
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

    /// The same with one more header (`name` lowercased, as received ones are).
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// The first header called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Declared JSON, or a body that starts like a JSON object (some servers omit the
    /// header on errors).
    pub fn looks_like_json(&self) -> bool {
        if self
            .content_type()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
        {
            return true;
        }
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace());
        matches!(first, Some(b'{'))
    }
}

/// The real client behind the [`Http`] seam: each request carried by [`Wire`] within the
/// request's own cap and deadline.
pub struct Client {
    wire: Wire,
}

impl Client {
    pub fn new() -> crate::Result<Client> {
        Ok(Client { wire: Wire::new()? })
    }
}

impl Http for Client {
    fn cancel(&self) {
        self.wire.cancel();
    }

    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let body = (request.method == RequestMethod::Post).then(|| request.body());
        self.wire.send(&Exchange {
            method: match request.method {
                RequestMethod::Get => Method::GET,
                RequestMethod::Head => Method::HEAD,
                RequestMethod::Post => Method::POST,
            },
            url: request.url,
            bearer: request.bearer.map(|t| t.expose()),
            body: body
                .as_ref()
                .map(|b| (request.encoding.content_type(), b.as_bytes())),
            cap: request.cap,
            deadline: deadline(request.deadline),
        })
    }
}

/// The real client: one for endpoints elsewhere, one for endpoints on this computer (the
/// stand-in), which a proxy from `HTTPS_PROXY` / `ALL_PROXY` could not reach and has no
/// business seeing.
pub struct Wire {
    direct: reqwest::Client,
    loopback: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// Set by [`Wire::cancel`]: exchanges in flight end at once, new ones are refused.
    cancelled: std::sync::atomic::AtomicBool,
    cancel: tokio::sync::Notify,
}

impl Wire {
    pub fn new() -> crate::Result<Wire> {
        let setup = |e: &dyn std::fmt::Display| {
            crate::Error::failure(format!("could not set up HTTPS: {e}"))
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| setup(&e))?;
        Ok(Wire {
            direct: builder().build().map_err(|e| setup(&e))?,
            loopback: builder().no_proxy().build().map_err(|e| setup(&e))?,
            runtime,
            cancelled: std::sync::atomic::AtomicBool::new(false),
            cancel: tokio::sync::Notify::new(),
        })
    }

    /// Ends every exchange in flight (its future dropped: connection closed, partial body
    /// wiped) and refuses any later one.
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cancel.notify_waiters();
    }

    /// Carries one exchange within its deadline. Blocking; not to be called from inside
    /// an async task (the agent calls it from a blocking thread).
    pub fn send(&self, exchange: &Exchange<'_>) -> Result<Response, TransportError> {
        // The callers check this too; the client is the last line.
        if !crate::endpoints::hosts::is_secure(exchange.url) {
            return Err(TransportError {
                kind: TransportKind::Insecure,
                detail: "plain http to another computer".into(),
            });
        }
        let client = if crate::endpoints::hosts::is_loopback(exchange.url) {
            &self.loopback
        } else {
            &self.direct
        };
        let cancelled = || TransportError {
            kind: TransportKind::Other,
            detail: "abandoned: ttvault is ending".into(),
        };
        // The timer is made inside the runtime: it needs the runtime's clock.
        let whole = async {
            let notified = self.cancel.notified();
            tokio::pin!(notified);
            // Registered before the flag is read, so a cancel in between is not missed.
            notified.as_mut().enable();
            if self.cancelled.load(std::sync::atomic::Ordering::SeqCst) {
                return None;
            }
            tokio::select! {
                outcome = tokio::time::timeout(exchange.deadline, carry(client, exchange)) => Some(outcome),
                () = notified => None,
            }
        };
        match self.runtime.block_on(whole) {
            None => Err(cancelled()),
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => Err(TransportError {
                kind: TransportKind::Timeout,
                detail: format!(
                    "no complete answer within {} s",
                    exchange.deadline.as_secs_f32()
                ),
            }),
        }
    }
}

/// Every client ttvault talks to a server with: the `ttvault/<version>` User-Agent, JSON
/// accepted, and no redirect followed (one could carry a client secret, refresh token or
/// bearer token to another host). No overall timeout here: [`Wire::send`] has its own.
fn builder() -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
}

async fn carry(client: &reqwest::Client, ex: &Exchange<'_>) -> Result<Response, TransportError> {
    let mut request = client.request(ex.method.clone(), ex.url);
    if let Some(token) = ex.bearer {
        request = request.bearer_auth(token);
    }
    if let Some((content_type, body)) = ex.body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_vec());
    }
    let mut response = request.send().await.map_err(transport_error)?;
    let too_large = || TransportError {
        kind: TransportKind::TooLarge,
        detail: format!("the answer is longer than {} KiB", ex.cap / 1024),
    };
    // A declared length is trusted for refusal, never for allocation beyond the cap.
    let declared = response.content_length();
    if declared.is_some_and(|n| n > ex.cap as u64) {
        return Err(too_large());
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
    // Sized once when the length is known, so no reallocation leaves a copy behind.
    let mut body = Zeroizing::new(Vec::with_capacity(declared.unwrap_or(0) as usize));
    while let Some(chunk) = response.chunk().await.map_err(read_error)? {
        if body.len() + chunk.len() > ex.cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status: status.as_u16(),
        status_line,
        headers,
        body,
    })
}

/// A body that broke off while being read.
fn read_error(err: reqwest::Error) -> TransportError {
    let mut e = transport_error(err);
    if e.kind != TransportKind::Timeout {
        e.kind = TransportKind::Reset;
    }
    e.detail = format!("the answer broke off: {}", e.detail);
    e
}

/// Classifies a reqwest error by walking its sources down to the OS error.
fn transport_error(err: reqwest::Error) -> TransportError {
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
mod tests;
