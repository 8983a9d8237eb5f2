//! Forwarding a request for a Tastytrade host to the vault's own API endpoint (production,
//! sandbox, or the stand-in in tests), with the program's own headers (its Authorization
//! included) and the Host rewritten. The broker adds no credential of its own: what the
//! program can do here is what its access token allows.

use super::reply::{self, Body};
use super::Event;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Method, Response, StatusCode};
use std::time::Duration;

/// One request and its whole answer, connection included.
pub const EXCHANGE_DEADLINE: Duration = Duration::from_secs(60);
/// The largest answer passed back (SPX's nested chain is a few MiB).
pub const MAX_RESPONSE: usize = 64 * 1024 * 1024;

pub struct Upstream {
    client: reqwest::Client,
    base: url::Url,
}

impl Upstream {
    pub fn new(
        base: url::Url,
        proxy: Option<&url::Url>,
        no_proxy: &[String],
    ) -> crate::Result<Upstream> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(EXCHANGE_DEADLINE)
            .connect_timeout(super::tunnel::CONNECT_DEADLINE);
        builder = match proxy {
            // Only the proxy the command layer passed: never one read from this process's
            // own environment behind its back.
            None => builder.no_proxy(),
            // reqwest is built without SOCKS: say so now rather than fail every request.
            Some(url) if !matches!(url.scheme(), "http" | "https") => {
                return Err(crate::Error::usage(format!(
                    "the broker can use an http:// or https:// proxy, not {}://",
                    url.scheme()
                )));
            }
            Some(url) => {
                let proxy = reqwest::Proxy::all(url.as_str())
                    .map_err(|e| crate::Error::usage(format!("the upstream proxy: {e}")))?
                    .no_proxy(reqwest::NoProxy::from_string(&no_proxy.join(",")));
                builder.proxy(proxy)
            }
        };
        let client = builder
            .build()
            .map_err(|e| crate::Error::failure(format!("the broker's HTTP client: {e}")))?;
        Ok(Upstream { client, base })
    }

    /// The upstream host, for events.
    pub fn host(&self) -> String {
        self.base.host_str().unwrap_or("").to_owned()
    }

    /// `path_and_query` under the base URL's own path.
    fn url(&self, path_and_query: &str) -> String {
        let mut base = self.base.clone();
        base.set_query(None);
        base.set_fragment(None);
        let root = base.as_str().trim_end_matches('/');
        format!("{root}{path_and_query}")
    }

    /// Sends the request on and returns the answer; any failure is a 502 naming ttvault
    /// (and an event), never a half answer.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
        on_event: &(dyn Fn(Event) + Send + Sync),
    ) -> Response<Body> {
        match self.exchange(method, path_and_query, headers, body).await {
            Ok(response) => response,
            Err(reason) => {
                on_event(Event::UpstreamFailed {
                    host: self.host(),
                    reason: reason.clone(),
                });
                reply::api_error(
                    StatusCode::BAD_GATEWAY,
                    "ttvault_upstream_failed",
                    &format!("ttvault's broker could not reach {}: {reason}", self.host()),
                )
            }
        }
    }

    async fn exchange(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response<Body>, String> {
        let method_is_head = method == Method::HEAD;
        let mut request = self
            .client
            .request(method, self.url(path_and_query))
            .headers(end_to_end(headers));
        if !body.is_empty() {
            request = request.body(body);
        }
        let mut answer = request.send().await.map_err(describe)?;
        let status = answer.status();
        let mut headers = end_to_end(answer.headers());
        // A HEAD answer's length describes the GET's body, not this empty one: keep it.
        if method_is_head {
            if let Some(length) = answer.headers().get(header::CONTENT_LENGTH) {
                headers.insert(header::CONTENT_LENGTH, length.clone());
            }
        }
        let mut collected = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(describe)? {
            if collected.len() + chunk.len() > MAX_RESPONSE {
                return Err(format!("its answer is larger than {MAX_RESPONSE} bytes"));
            }
            collected.extend_from_slice(&chunk);
        }
        let mut response = Response::new(Full::new(Bytes::from(collected)));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

/// What an error says without its URL (the URL is ours; the reason is what a person needs).
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the exchange failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    match detail {
        Some(detail) => format!("{kind} ({detail})"),
        None => kind.to_owned(),
    }
}

/// The headers without hop-by-hop ones (RFC 9110 7.6.1, and those the Connection header
/// names), Host (set from the upstream URL), the proxy's credential, and the length
/// (recomputed from the body as sent).
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        if is_hop_by_hop(name) || named.iter().any(|n| n == name.as_str()) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn hop_by_hop_headers_and_the_proxy_credential_are_dropped() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("authorization", "Bearer at"),
            ("proxy-authorization", "Basic x"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("host", "api.tastyworks.com"),
            ("user-agent", "sdk/1"),
            ("transfer-encoding", "chunked"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let out = end_to_end(&h);
        let names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["authorization", "user-agent"]);
    }

    #[test]
    fn an_upstream_that_never_answers_is_a_502_at_the_deadline() {
        // Paused time: the clock jumps ahead whenever every task waits.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = url::Url::parse(&format!("http://{}", silent.local_addr().unwrap()));
            let upstream = Upstream::new(base.unwrap(), None, &[]).unwrap();
            let held = tokio::spawn(async move { silent.accept().await });
            let events = std::sync::Mutex::new(Vec::new());
            let on_event = |e: Event| events.lock().unwrap().push(e);
            let answer = upstream
                .send(Method::GET, "/customers/me", &HeaderMap::new(), Bytes::new(), &on_event)
                .await;
            assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
            let events = events.lock().unwrap();
            assert!(
                matches!(&events[..], [Event::UpstreamFailed { reason, .. }] if reason.contains("timed out")),
                "{events:?}"
            );
            held.abort();
        });
    }

    #[test]
    fn a_socks_proxy_is_refused_at_start() {
        let socks = url::Url::parse("socks5://127.0.0.1:1080").unwrap();
        let base = url::Url::parse("https://api.tastyworks.com").unwrap();
        assert!(Upstream::new(base, Some(&socks), &[]).is_err());
    }

    #[test]
    fn the_base_url_path_is_a_prefix() {
        let up = |base: &str| Upstream::new(url::Url::parse(base).unwrap(), None, &[]).unwrap();
        assert_eq!(
            up("http://127.0.0.1:9/").url("/a?b=1"),
            "http://127.0.0.1:9/a?b=1"
        );
        assert_eq!(
            up("https://h.example/api/").url("/a"),
            "https://h.example/api/a"
        );
        assert_eq!(
            up("https://h.example/api").url("/a"),
            "https://h.example/api/a"
        );
    }
}
