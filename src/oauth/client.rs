//! The real HTTP client: reqwest (blocking, rustls so fresh machines need no OpenSSL),
//! with Tastytrade's required headers, timeouts, no redirects, and a cap on what it reads.

use super::http::{
    Http, Method, Request, Response, TransportError, TransportKind, MAX_BODY, USER_AGENT,
};
use crate::endpoints::hosts;
use std::io::Read;
use std::time::Duration;
use zeroize::Zeroizing;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    inner: reqwest::blocking::Client,
    /// For endpoints on this computer (the stand-in): a proxy from `HTTPS_PROXY` /
    /// `ALL_PROXY` could not reach them, and has no business seeing their traffic.
    loopback: reqwest::blocking::Client,
}

impl Client {
    pub fn new() -> crate::Result<Self> {
        Ok(Client {
            inner: builder(TOTAL_TIMEOUT)
                .build()
                .map_err(|e| crate::Error::failure(format!("could not set up HTTPS: {e}")))?,
            loopback: builder(TOTAL_TIMEOUT)
                .no_proxy()
                .build()
                .map_err(|e| crate::Error::failure(format!("could not set up HTTP: {e}")))?,
        })
    }
}

/// Every client ttvault talks to Tastytrade with (the token client here, `api`'s): the
/// `ttvault/<version>` User-Agent, JSON accepted, timeouts, and no redirect followed (one
/// could carry a client secret, refresh token or bearer token to another host).
pub(crate) fn builder(total_timeout: Duration) -> reqwest::blocking::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    reqwest::blocking::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(total_timeout)
        .redirect(reqwest::redirect::Policy::none())
}

impl Http for Client {
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        // The callers check this too; the client is the last line.
        if !hosts::is_secure(request.url) {
            return Err(TransportError {
                kind: TransportKind::Insecure,
                detail: "plain http to another computer".into(),
            });
        }
        let client = if hosts::is_loopback(request.url) {
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
            let body = request.body();
            builder = builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    request.encoding.content_type(),
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
        let body = read_capped(response, MAX_BODY)?;
        Ok(Response {
            status,
            content_type,
            location,
            body,
        })
    }
}

/// Reads at most `cap` bytes of the body; a longer one is an error, found without reading
/// it all (a declared length is trusted for refusal, never for allocation).
fn read_capped(
    response: reqwest::blocking::Response,
    cap: usize,
) -> Result<Zeroizing<Vec<u8>>, TransportError> {
    let too_large = || TransportError {
        kind: TransportKind::TooLarge,
        detail: format!("the answer is longer than {} KiB", cap / 1024),
    };
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let mut body = Zeroizing::new(Vec::new());
    let mut limited = response.take(cap as u64 + 1);
    limited.read_to_end(&mut body).map_err(|e| {
        let kind = match e.kind() {
            std::io::ErrorKind::TimedOut => TransportKind::Timeout,
            _ => TransportKind::Reset,
        };
        TransportError {
            kind,
            detail: e.to_string(),
        }
    })?;
    if body.len() > cap {
        return Err(too_large());
    }
    Ok(body)
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
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A one-connection server: reads the request head, writes `head`, then `body_len`
    /// bytes of `x` (or until the client goes away). Returns the URL and a handle giving
    /// the number of body bytes it managed to write.
    fn server(head: String, body_len: u64) -> (String, std::thread::JoinHandle<u64>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut out = stream;
            if out.write_all(head.as_bytes()).is_err() {
                return 0;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0u64;
            while sent < body_len {
                match out.write(&chunk) {
                    Ok(n) if n > 0 => sent += n as u64,
                    _ => break,
                }
            }
            sent
        });
        (url, handle)
    }

    #[test]
    fn an_endless_answer_is_cut_at_the_cap() {
        // No Content-Length: the body ends when the connection does, which is never.
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
        let (url, written) = server(head.into(), 3000 * 1024 * 1024);
        let client = Client::new().unwrap();
        let err = client.send(&Request::get(&url, None)).unwrap_err();
        assert_eq!(err.kind, TransportKind::TooLarge, "{err:?}");
        drop(client);
        // The server gave up long before 3000 MiB: ttvault stopped reading and hung up.
        let sent = written.join().unwrap();
        assert!(sent < 256 * 1024 * 1024, "{sent} bytes were taken");
    }

    #[test]
    fn a_declared_huge_length_is_refused_unread() {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            3000u64 * 1024 * 1024
        );
        let (url, written) = server(head, 3000 * 1024 * 1024);
        let err = Client::new()
            .unwrap()
            .send(&Request::get(&url, None))
            .unwrap_err();
        assert_eq!(err.kind, TransportKind::TooLarge);
        assert!(written.join().unwrap() < 256 * 1024 * 1024);
    }

    #[test]
    fn an_answer_at_the_cap_is_read_whole() {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {MAX_BODY}\r\n\r\n"
        );
        let (url, written) = server(head, MAX_BODY as u64);
        let response = Client::new()
            .unwrap()
            .send(&Request::get(&url, None))
            .unwrap();
        assert_eq!(response.body.len(), MAX_BODY);
        assert_eq!(written.join().unwrap(), MAX_BODY as u64);
    }

    #[test]
    fn plain_http_to_another_computer_is_not_sent() {
        let err = Client::new()
            .unwrap()
            .send(&Request::get("http://192.0.2.1:9/oauth/token", None))
            .unwrap_err();
        assert_eq!(err.kind, TransportKind::Insecure);
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
        let err = client.send(&Request::get(&url, None)).unwrap_err();
        assert_eq!(err.kind, TransportKind::Refused, "{err:?}");
    }
}
