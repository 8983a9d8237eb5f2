//! The loopback server that receives the browser's callback.
//!
//! Bound to 127.0.0.1 and ::1 only (browsers resolve `localhost` either way; the seed's
//! helper listened on every interface), on the port of the grant's registered redirect
//! URI. It refuses foreign Host headers (DNS rebinding), checks `state` and the form's
//! CSRF token in constant time, ends after one good callback or a timeout, and holds the
//! callback's response until the caller knows the outcome, so the page tells the truth.

use super::pages;
use crate::error::{Error, Result};
use crate::secret::{AuthCode, ClientSecret, OAuthState};
use std::collections::HashMap;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The longest wait for the browser, whatever `--timeout` says.
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A credentials form larger than this is not a client id and secret.
const MAX_FORM_BYTES: u64 = 16 * 1024;

/// The redirect URI, checked: it must point at this computer over plain http, because
/// this server is what answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri {
    /// Exactly as given: sent to Tastytrade byte for byte.
    pub uri: String,
    pub port: u16,
    /// The path the callback arrives on (`/` for `http://localhost:8000`).
    pub path: String,
    /// `localhost`, `127.0.0.1` or `[::1]`, as written.
    pub host: String,
}

impl RedirectUri {
    pub fn parse(uri: &str) -> Result<Self> {
        let advice = "register exactly http://localhost:8000 on the grant (http, port 8000, no \
                      trailing slash), or pass the registered loopback URI with --redirect-uri";
        let parsed = url::Url::parse(uri).map_err(|e| {
            Error::usage(format!("the redirect URI `{uri}` is not a URL: {e}")).hint(advice)
        })?;
        if parsed.scheme() != "http" {
            return Err(Error::usage(format!(
                "the redirect URI `{uri}` must use http://: ttvault's local server answers it, \
                 and it speaks plain http on this computer only"
            ))
            .hint(advice));
        }
        let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();
        if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err(Error::usage(format!(
                "the redirect URI `{uri}` does not point at this computer (localhost)"
            ))
            .hint(advice));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::usage(format!(
                "the redirect URI `{uri}` has a query or fragment, which ttvault does not support"
            ))
            .hint(advice));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(
                Error::usage(format!("the redirect URI `{uri}` carries a user name")).hint(advice),
            );
        }
        Ok(RedirectUri {
            uri: uri.to_string(),
            port: parsed.port_or_known_default().unwrap_or(80),
            path: parsed.path().to_string(),
            host,
        })
    }
}

/// What `GET /` does.
pub enum Start<'a> {
    /// The client id and secret are known: send the browser to this authorize URL.
    Authorize(&'a str),
    /// Ask for them on a page; `authorize` turns the client id entered into the
    /// authorize URL (or an error to show on the form).
    Form {
        /// A client id given on the command line, to pre-fill.
        client_id: Option<&'a str>,
        authorize: &'a dyn Fn(&str) -> Result<String>,
    },
}

/// The callback, with the browser still waiting for its answer.
pub struct Callback {
    pub code: AuthCode,
    /// The client id and secret entered on the page, when the form was used.
    pub credentials: Option<(String, ClientSecret)>,
    pub responder: Responder,
}

/// The held response to the callback. Answer it once the outcome is known; dropped
/// unanswered, it tells the browser to look at the terminal.
pub struct Responder {
    request: Option<tiny_http::Request>,
}

impl Responder {
    pub fn success(mut self, detail: &str) {
        if let Some(r) = self.request.take() {
            respond(r, 200, pages::success(detail));
        }
    }
    /// `message` must be fit for a page: an [`Error`]'s message is (it never holds secrets).
    pub fn failure(mut self, message: &str) {
        if let Some(r) = self.request.take() {
            respond(r, 500, pages::failure(message));
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(r) = self.request.take() {
            respond(
                r,
                500,
                pages::failure("ttvault stopped before it finished."),
            );
        }
    }
}

pub struct Server {
    port: u16,
    callback_path: String,
    /// The host name the browser is told to use (the redirect URI's).
    host: String,
    csrf: OAuthState,
    servers: Vec<Arc<tiny_http::Server>>,
    stop: Arc<AtomicBool>,
    rx: Option<Receiver<tiny_http::Request>>,
    /// Whether ::1 is served too (not on machines without IPv6).
    pub ipv6: bool,
}

enum Step {
    Continue,
    Done(Callback),
    Fail(Error),
}

impl Server {
    /// Listens on 127.0.0.1 and ::1 at the redirect URI's port.
    pub fn bind(redirect: &RedirectUri) -> Result<Server> {
        let mut server = Self::bind_port(redirect.port, &redirect.path, Some(&redirect.uri))?;
        server.host = redirect.host.clone();
        Ok(server)
    }

    fn bind_port(port: u16, callback_path: &str, uri: Option<&str>) -> Result<Server> {
        let busy = |port: u16| {
            Error::failure(format!(
                "port {port} on this computer is already in use by another program"
            ))
            .hint(format!(
                "the grant's registered redirect URI ({}) decides the port: stop the program \
                 using it, or pass --redirect-uri with another loopback URI registered on the grant",
                uri.unwrap_or("http://localhost:8000")
            ))
        };
        let v4 = tiny_http::Server::http(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).map_err(
            |e| {
                if is_addr_in_use(&*e) {
                    busy(port)
                } else {
                    Error::failure(format!("could not listen on 127.0.0.1:{port}: {e}"))
                }
            },
        )?;
        let port = match v4.server_addr().to_ip() {
            Some(a) => a.port(),
            None => port,
        };
        let mut servers = vec![Arc::new(v4)];
        let mut ipv6 = false;
        match tiny_http::Server::http(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            Ok(v6) => {
                servers.push(Arc::new(v6));
                ipv6 = true;
            }
            // Another program on [::1]:port would receive the browser's callback whenever
            // `localhost` resolves to ::1: as bad as a busy 127.0.0.1.
            Err(e) if is_addr_in_use(&*e) => return Err(busy(port)),
            // No IPv6 on this machine: browsers will use 127.0.0.1.
            Err(_) => {}
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        for server in &servers {
            let (server, tx, stop) = (Arc::clone(server), tx.clone(), Arc::clone(&stop));
            thread::spawn(move || loop {
                match server.recv() {
                    Ok(request) => {
                        if tx.send(request).is_err() {
                            break;
                        }
                    }
                    Err(_) if stop.load(Ordering::SeqCst) => break,
                    // An accept error (say, out of file descriptors): keep serving.
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            });
        }
        let csrf = {
            let mut raw = oauth2::CsrfToken::new_random_len(32).into_secret();
            let csrf = OAuthState::new(raw.as_str());
            zeroize::Zeroize::zeroize(&mut raw);
            csrf
        };
        Ok(Server {
            port,
            callback_path: callback_path.to_string(),
            host: "localhost".to_string(),
            csrf,
            servers,
            stop,
            rx: Some(rx),
            ipv6,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address to open for the credentials form, on the redirect URI's host name.
    pub fn start_url(&self) -> String {
        format!("http://{}:{}/", self.host, self.port)
    }

    /// Serves requests until the real callback arrives, the flow fails, or `timeout`.
    /// After the callback, later requests (a replay) get an "already used" page.
    pub fn wait(
        &mut self,
        start: Start<'_>,
        state: &OAuthState,
        timeout: Duration,
    ) -> Result<Callback> {
        let Some(rx) = self.rx.take() else {
            return Err(Error::failure("the local server has already finished"));
        };
        // A day at most: `--timeout 1000years` must not overflow the clock.
        let deadline = Instant::now() + timeout.min(MAX_WAIT);
        let mut flow = Flow::new(&start);
        let outcome = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let request = match rx.recv_timeout(left) {
                Ok(r) => r,
                Err(RecvTimeoutError::Timeout) => break Err(timed_out(timeout)),
                Err(RecvTimeoutError::Disconnected) => {
                    break Err(Error::failure("the local server stopped unexpectedly"))
                }
            };
            match self.handle(request, &start, state, &mut flow) {
                Step::Continue => continue,
                Step::Done(cb) => break Ok(cb),
                Step::Fail(e) => break Err(e),
            }
        };
        // Whatever comes now (a replayed callback, a reload) gets a page saying it is over.
        let (port, stop) = (self.port, Arc::clone(&self.stop));
        let page = if outcome.is_ok() {
            pages::already_used()
        } else {
            pages::failure("This ttvault run has ended.")
        };
        thread::spawn(move || {
            while let Ok(request) = rx.recv() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if !host_allowed(&request, port) {
                    refuse_host(request);
                } else {
                    respond(request, 410, page.clone());
                }
            }
        });
        outcome
    }

    /// Answers one request through [`route`], holding the real callback's response.
    fn handle(
        &self,
        mut request: tiny_http::Request,
        start: &Start<'_>,
        state: &OAuthState,
        flow: &mut Flow,
    ) -> Step {
        let url = request.url().to_string();
        let method = request.method().as_str().to_string();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
            .collect();
        let expect = Expect {
            port: self.port,
            callback_path: &self.callback_path,
            state,
            csrf: &self.csrf,
            start,
        };
        let incoming = Incoming {
            method: &method,
            url: &url,
            headers: &headers,
            body: request.as_reader(),
        };
        match route(&expect, flow, incoming) {
            Decision::Answer(answer) => {
                answer.send(request);
                Step::Continue
            }
            Decision::Fail(answer, err) => {
                answer.send(request);
                Step::Fail(err)
            }
            Decision::Accept { code, credentials } => Step::Done(Callback {
                code,
                credentials,
                responder: Responder {
                    request: Some(request),
                },
            }),
        }
    }
}

/// What the server expects of the requests it answers.
pub struct Expect<'a> {
    /// The port the server listens on (the Host header must name it).
    pub port: u16,
    /// The redirect URI's path, where the callback arrives.
    pub callback_path: &'a str,
    /// The `state` sent in the authorize request.
    pub state: &'a OAuthState,
    /// The credentials form's per-run CSRF token.
    pub csrf: &'a OAuthState,
    pub start: &'a Start<'a>,
}

/// What the flow has learned from earlier requests.
pub struct Flow {
    /// The client id and secret entered on the form.
    pub credentials: Option<(String, ClientSecret)>,
    /// Where `GET /` sends the browser, once known.
    pub authorize_url: Option<String>,
}

impl Flow {
    pub fn new(start: &Start<'_>) -> Flow {
        Flow {
            credentials: None,
            authorize_url: match start {
                Start::Authorize(url) => Some(url.to_string()),
                Start::Form { .. } => None,
            },
        }
    }
}

/// One request, as the routing sees it: no socket.
pub struct Incoming<'a> {
    /// `GET`, `POST`, … as tiny_http names it.
    pub method: &'a str,
    /// The request target: path and query.
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    /// The body; read only for the credentials form, and at most `MAX_FORM_BYTES + 1`.
    pub body: &'a mut dyn Read,
}

/// An answer to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A status and an HTML page (served with [`pages::SECURITY_HEADERS`]).
    Page(u16, String),
    /// A status and a `Location`.
    Redirect(u16, String),
}

impl Answer {
    fn send(self, request: tiny_http::Request) {
        match self {
            Answer::Page(status, html) => respond(request, status, html),
            Answer::Redirect(status, location) => redirect(request, status, &location),
        }
    }
}

/// What to do with one request.
pub enum Decision {
    /// Answer, and keep waiting.
    Answer(Answer),
    /// Answer, and end the flow with this error.
    Fail(Answer, Error),
    /// The real callback: hold its response until the outcome is known.
    Accept {
        code: AuthCode,
        credentials: Option<(String, ClientSecret)>,
    },
}

fn not_found() -> Answer {
    Answer::Page(
        404,
        pages::refused("Not found", "There is no such page here."),
    )
}

/// The server's routing, without sockets: the Host check, the callback's `state` and
/// `code`, the authorize page's errors, and the credentials form with its CSRF token.
pub fn route(expect: &Expect<'_>, flow: &mut Flow, incoming: Incoming<'_>) -> Decision {
    if !header_of(incoming.headers, "Host").is_some_and(|h| allowed_authority(h, expect.port)) {
        return Decision::Answer(Answer::Page(400, refused_host_page()));
    }
    let (path, query) = match incoming.url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (incoming.url, None),
    };
    let params: HashMap<String, Zeroizing<String>> = query
        .map(|q| {
            let mut map = HashMap::new();
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                map.entry(k.into_owned())
                    .or_insert_with(|| Zeroizing::new(v.into_owned()));
            }
            map
        })
        .unwrap_or_default();
    let is_callback = path == expect.callback_path
        && ["code", "state", "error"]
            .iter()
            .any(|k| params.contains_key(*k));

    match (incoming.method, path) {
        ("GET", _) if is_callback => callback(expect, flow, &params),
        ("GET", "/") => Decision::Answer(match (expect.start, flow.authorize_url.as_deref()) {
            (_, Some(url)) => Answer::Redirect(302, url.to_string()),
            (Start::Form { client_id, .. }, None) => Answer::Page(
                200,
                pages::credentials_form(expect.csrf.expose(), *client_id, None),
            ),
            (Start::Authorize(url), None) => Answer::Redirect(302, url.to_string()),
        }),
        ("POST", "/credentials") => Decision::Answer(match expect.start {
            Start::Form { authorize, .. } => {
                match credentials(expect, *authorize, flow, incoming.headers, incoming.body) {
                    // 303: the browser follows a POST's answer with a GET.
                    Ok(url) => Answer::Redirect(303, url),
                    Err((status, page)) => Answer::Page(status, page),
                }
            }
            Start::Authorize(_) => not_found(),
        }),
        (_, p) if p == "/" || p == "/credentials" || p == expect.callback_path => {
            Decision::Answer(Answer::Page(
                405,
                pages::refused(
                    "Method not allowed",
                    "This page does not accept that request.",
                ),
            ))
        }
        _ => Decision::Answer(not_found()),
    }
}

fn callback(
    expect: &Expect<'_>,
    flow: &mut Flow,
    params: &HashMap<String, Zeroizing<String>>,
) -> Decision {
    let returned = params.get("state").map(|s| OAuthState::new(s.as_str()));
    let state_ok = returned.as_ref().map(|s| s.ct_eq(expect.state));
    if state_ok == Some(false) {
        // Not the answer to our request (a stale tab, or a forged link): keep waiting.
        return Decision::Answer(Answer::Page(
            400,
            pages::refused(
                "This answer does not belong to this sign-in",
                "Its state does not match the one ttvault sent (an old tab, or a link from \
                 somewhere else).",
            ),
        ));
    }
    if let Some(error) = params.get("error") {
        // An error ends the flow even without a state: servers that omit it on errors
        // exist, and the worst a forged one can do is make the user start again.
        let code = super::sanitize::sanitize(error, 40);
        let description = params
            .get("error_description")
            .map(|d| super::sanitize::sanitize(d, 160))
            .filter(|d| !d.is_empty());
        let err = if code == "access_denied" {
            Error::failure("the authorization was declined in the browser (access_denied)")
                .hint("run the command again and approve ttvault's request on the Tastytrade page")
        } else {
            Error::failure(format!(
                "Tastytrade's authorize page answered with an error: `{code}`{}",
                description.map(|d| format!(": {d}")).unwrap_or_default()
            ))
            .hint(
                "check the client id and the redirect URI registered on the grant \
                   (exactly http://localhost:8000), then run the command again",
            )
        };
        let page = pages::failure(&err.message);
        return Decision::Fail(Answer::Page(400, page), err);
    }
    if state_ok.is_none() {
        return Decision::Answer(Answer::Page(
            400,
            pages::refused(
                "This answer carries no state",
                "ttvault only accepts the answer to the request it sent, which carries its state.",
            ),
        ));
    }
    let code = params
        .get("code")
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let Some(code) = code else {
        let err = Error::network("the authorize page answered without an authorization code")
            .hint("run the command again; if it keeps happening, check TTVAULT_AUTHORIZE_URL");
        let page = pages::failure(&err.message);
        return Decision::Fail(Answer::Page(400, page), err);
    };
    let credentials = match expect.start {
        Start::Form { .. } => match flow.credentials.take() {
            Some(c) => Some(c),
            None => {
                return Decision::Answer(Answer::Page(
                    400,
                    pages::refused(
                        "No credentials yet",
                        "Enter the client id and secret first.",
                    ),
                ));
            }
        },
        Start::Authorize(_) => None,
    };
    Decision::Accept {
        code: AuthCode::new(code),
        credentials,
    }
}

/// `POST /credentials`: the Ok value is where to send the browser next; the Err value
/// the status and page to show.
fn credentials(
    expect: &Expect<'_>,
    authorize: &dyn Fn(&str) -> Result<String>,
    flow: &mut Flow,
    headers: &[(String, String)],
    body_reader: &mut dyn Read,
) -> std::result::Result<String, (u16, String)> {
    if let Some(origin) = header_of(headers, "Origin") {
        if !origin_allowed(origin, expect.port) {
            return Err((
                403,
                pages::refused(
                    "Refused",
                    "This form can only be sent from ttvault's own page.",
                ),
            ));
        }
    }
    let mut body = Zeroizing::new(Vec::new());
    let read = body_reader.take(MAX_FORM_BYTES + 1).read_to_end(&mut body);
    if read.is_err() || body.len() as u64 > MAX_FORM_BYTES {
        return Err((
            413,
            pages::refused("Too large", "That form is larger than expected."),
        ));
    }
    let mut csrf = None;
    let mut client_id = None;
    let mut secret = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        let v = Zeroizing::new(v.into_owned());
        match k.as_ref() {
            "csrf" if csrf.is_none() => csrf = Some(OAuthState::new(v.as_str())),
            "client_id" if client_id.is_none() => client_id = Some(v.trim().to_string()),
            "client_secret" if secret.is_none() => secret = Some(ClientSecret::new(v.trim())),
            _ => {}
        }
    }
    if !csrf.is_some_and(|c| c.ct_eq(expect.csrf)) {
        return Err((
            403,
            pages::refused(
                "This form has expired",
                "It was not sent from the page of this ttvault run. Reload the page and try again.",
            ),
        ));
    }
    let form_error = |msg: &str| {
        (
            400,
            pages::credentials_form(expect.csrf.expose(), None, Some(msg)),
        )
    };
    let client_id = client_id.filter(|c| !c.is_empty());
    let secret = secret.filter(|s| !s.expose().is_empty());
    let (Some(client_id), Some(secret)) = (client_id, secret) else {
        return Err(form_error(
            "Enter both the client id and the client secret.",
        ));
    };
    let url = authorize(&client_id).map_err(|e| form_error(&e.message))?;
    flow.credentials = Some((client_id, secret));
    flow.authorize_url = Some(url.clone());
    Ok(url)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for server in &self.servers {
            server.unblock();
        }
    }
}

fn timed_out(timeout: Duration) -> Error {
    Error::failure(format!(
        "no answer from the browser within {}; nothing was written",
        humantime::format_duration(timeout)
    ))
    .hint(
        "run the command again (--timeout to wait longer), or use --paste with a refresh \
         token from a grant created on tastytrade.com. If Tastytrade's page said the redirect \
         URI does not match, register exactly http://localhost:8000 (http, port 8000, no \
         trailing slash) on the grant, or pass the registered one with --redirect-uri",
    )
}

fn is_addr_in_use(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
}

fn header(request: &tiny_http::Request, name: &'static str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str().to_string())
}

/// The first header called `name` (any case), as tiny_http's `equiv` finds it.
fn header_of<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// The Host a browser sends for this server; anything else is a DNS-rebinding attempt
/// (a web page whose host name was re-pointed at 127.0.0.1).
fn host_allowed(request: &tiny_http::Request, port: u16) -> bool {
    header(request, "Host").is_some_and(|h| allowed_authority(&h, port))
}

fn allowed_authority(authority: &str, port: u16) -> bool {
    let a = authority.trim().to_ascii_lowercase();
    let names = ["localhost", "127.0.0.1", "[::1]"];
    names
        .iter()
        .any(|n| a == format!("{n}:{port}") || (port == 80 && a == *n))
}

fn origin_allowed(origin: &str, port: u16) -> bool {
    origin
        .trim()
        .to_ascii_lowercase()
        .strip_prefix("http://")
        .is_some_and(|authority| allowed_authority(authority, port))
}

fn refused_host_page() -> String {
    pages::refused(
        "Wrong address",
        "ttvault's local page only answers at localhost, 127.0.0.1 or [::1].",
    )
}

fn refuse_host(request: tiny_http::Request) {
    respond(request, 400, refused_host_page());
}

fn with_headers<R: Read>(mut response: tiny_http::Response<R>) -> tiny_http::Response<R> {
    for (name, value) in pages::SECURITY_HEADERS {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    response
}

fn respond(request: tiny_http::Request, status: u16, html: String) {
    let response = with_headers(tiny_http::Response::from_string(html).with_status_code(status));
    // The browser may have gone away; nothing to do about it.
    let _ = request.respond(response);
}

fn redirect(request: tiny_http::Request, status: u16, location: &str) {
    let mut response =
        with_headers(tiny_http::Response::from_string(String::new()).with_status_code(status));
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Location"[..], location.as_bytes()) {
        response.add_header(h);
    }
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpStream;
    use std::sync::mpsc::Sender;

    /// A raw HTTP/1.1 exchange (no client library: Host and Origin are ours to forge).
    fn raw(port: u16, request: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let status = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, out)
    }

    fn get(port: u16, target: &str) -> (u16, String) {
        get_host(port, target, &format!("localhost:{port}"))
    }

    fn get_host(port: u16, target: &str, host: &str) -> (u16, String) {
        raw(
            port,
            &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    }

    fn post(port: u16, body: &str, origin: Option<&str>) -> (u16, String) {
        let origin = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        raw(
            port,
            &format!(
                "POST /credentials HTTP/1.1\r\nHost: localhost:{port}\r\n{origin}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    const STATE: &str = "st-abc-123";
    const AUTH: &str = "http://127.0.0.1:1/auth.html?client_id=c&state=st-abc-123";

    type Outcome = Result<(AuthCode, Option<(String, ClientSecret)>, Responder)>;

    /// Runs `wait` on a server thread; returns the port and the outcome channel.
    fn serve(form: bool, timeout: Duration) -> (u16, mpsc::Receiver<Outcome>, String) {
        let server = Server::bind_port(0, "/", None).unwrap();
        let port = server.port();
        let csrf = server.csrf.expose().to_string();
        let (tx, rx): (Sender<_>, _) = mpsc::channel();
        thread::spawn(move || {
            let mut server = server;
            let authorize = |id: &str| -> Result<String> {
                if id == "bad" {
                    Err(Error::usage("the client id is empty"))
                } else {
                    Ok(AUTH.to_string())
                }
            };
            let start = if form {
                Start::Form {
                    client_id: None,
                    authorize: &authorize,
                }
            } else {
                Start::Authorize(AUTH)
            };
            let r = server.wait(start, &OAuthState::new(STATE), timeout);
            let r = r.map(|cb| (cb.code, cb.credentials, cb.responder));
            let _ = tx.send(r);
            // Keep the server (and its replay answers) alive a little longer.
            thread::sleep(Duration::from_secs(3));
            drop(server);
        });
        (port, rx, csrf)
    }

    fn secret_free(page: &str) {
        for s in ["hunter2", "code-xyz"] {
            // The page is not printed: it would show the secret.
            assert!(!page.contains(s), "a secret leaked into a page");
        }
    }

    fn route_get(flow: &mut Flow, start: &Start<'_>, target: &str, host: &str) -> Decision {
        let (state, csrf) = (OAuthState::new(STATE), OAuthState::new("csrf-tok"));
        let expect = Expect {
            port: 8000,
            callback_path: "/",
            state: &state,
            csrf: &csrf,
            start,
        };
        let headers = vec![("host".to_string(), host.to_string())];
        route(
            &expect,
            flow,
            Incoming {
                method: "GET",
                url: target,
                headers: &headers,
                body: &mut std::io::empty(),
            },
        )
    }

    #[test]
    fn route_accepts_only_the_exact_state_on_an_allowed_host() {
        let start = Start::Authorize(AUTH);
        let mut flow = Flow::new(&start);
        for (target, host) in [
            (format!("/?code=c&state={STATE}x"), "localhost:8000"),
            (
                format!("/?state=nope&state={STATE}&code=c"),
                "localhost:8000",
            ),
            (format!("/?code=c&state={STATE}"), "localhost:8001"),
            (format!("/?code=c&state={STATE}"), "evil.example:8000"),
        ] {
            let d = route_get(&mut flow, &start, &target, host);
            assert!(
                matches!(d, Decision::Answer(Answer::Page(400, _))),
                "{target} {host}"
            );
        }
        let d = route_get(
            &mut flow,
            &start,
            &format!("/?code=a%2Bb+c&state={STATE}"),
            "[::1]:8000",
        );
        let Decision::Accept { code, credentials } = d else {
            panic!("the real callback was not accepted")
        };
        assert_eq!(code.expose(), "a+b c");
        assert!(credentials.is_none());
    }

    #[test]
    fn redirect_uri_rules() {
        let r = RedirectUri::parse("http://localhost:8000").unwrap();
        assert_eq!(
            (r.port, r.path.as_str(), r.uri.as_str()),
            (8000, "/", "http://localhost:8000")
        );
        let r = RedirectUri::parse("http://127.0.0.1:9000/callback").unwrap();
        assert_eq!((r.port, r.path.as_str()), (9000, "/callback"));
        assert_eq!(r.host, "127.0.0.1");
        assert_eq!(RedirectUri::parse("http://[::1]/").unwrap().port, 80);
        for bad in [
            "https://localhost:8000",
            "http://example.com:8000",
            "localhost:8000",
            "http://localhost:8000/?x=1",
            "http://0.0.0.0:8000",
        ] {
            let e = RedirectUri::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::Code::Usage, "{bad}");
            assert!(e.hint.unwrap().contains("http://localhost:8000"));
        }
    }

    #[test]
    fn host_and_origin_checks() {
        assert!(allowed_authority("localhost:8000", 8000));
        assert!(allowed_authority("127.0.0.1:8000", 8000));
        assert!(allowed_authority("[::1]:8000", 8000));
        assert!(allowed_authority("LocalHost:8000", 8000));
        assert!(!allowed_authority("localhost:8001", 8000));
        assert!(!allowed_authority("evil.example:8000", 8000));
        assert!(!allowed_authority("localhost", 8000));
        assert!(allowed_authority("localhost", 80));
        assert!(origin_allowed("http://localhost:8000", 8000));
        assert!(!origin_allowed("https://localhost:8000", 8000));
        assert!(!origin_allowed("null", 8000));
        assert!(!origin_allowed("http://evil.example", 8000));
    }

    #[test]
    fn callback_flow_refuses_forgeries_and_holds_the_answer() {
        let (port, rx, _) = serve(false, Duration::from_secs(20));
        // GET / sends the browser on to Tastytrade.
        let (status, resp) = get(port, "/");
        assert_eq!(status, 302);
        assert!(
            resp.contains(&format!("Location: {AUTH}"))
                || resp.contains(&format!("location: {AUTH}")),
            "{resp}"
        );
        // A foreign Host (DNS rebinding) is refused.
        let (status, page) = get_host(
            port,
            &format!("/?code=code-xyz&state={STATE}"),
            &format!("evil.example:{port}"),
        );
        assert_eq!(status, 400);
        secret_free(&page);
        // Wrong and missing state: refused, and the server keeps waiting.
        let (status, page) = get(port, "/?code=code-xyz&state=nope");
        assert_eq!(status, 400);
        secret_free(&page);
        let (status, _) = get(port, "/?code=code-xyz");
        assert_eq!(status, 400);
        // Unknown paths and methods.
        assert_eq!(get(port, "/favicon.ico").0, 404);
        assert_eq!(
            raw(
                port,
                &format!(
                    "DELETE / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
                )
            )
            .0,
            405
        );
        assert!(rx.try_recv().is_err(), "still waiting");

        // The real callback (with an extra RFC 9207 `iss`): held until the caller answers.
        let real = thread::spawn(move || {
            get(
                port,
                &format!("/?code=code-xyz&state={STATE}&iss=https%3A%2F%2Fx"),
            )
        });
        let (code, creds, responder) = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        assert_eq!(code.expose(), "code-xyz");
        assert!(creds.is_none());
        // A replay while the caller verifies gets "already used".
        let (status, page) = get(port, &format!("/?code=code-xyz&state={STATE}"));
        assert_eq!(status, 410);
        assert!(page.contains("already used"));
        responder.success("The grant works.");
        let (status, page) = real.join().unwrap();
        assert_eq!(status, 200);
        assert!(page.contains("The grant works."));
        secret_free(&page);
    }

    #[test]
    fn denied_consent_ends_the_flow() {
        let (port, rx, _) = serve(false, Duration::from_secs(20));
        let (status, page) = get(port, &format!("/?error=access_denied&state={STATE}"));
        assert_eq!(status, 400);
        assert!(page.contains("declined"));
        let e = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .err()
            .unwrap();
        assert!(e.message.contains("access_denied"));
    }

    #[test]
    fn a_foreign_error_with_wrong_state_does_not_end_the_flow() {
        let (port, rx, _) = serve(false, Duration::from_secs(2));
        assert_eq!(get(port, "/?error=access_denied&state=forged").0, 400);
        let e = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .err()
            .unwrap();
        assert!(
            e.message.contains("no answer from the browser within 2s"),
            "{}",
            e.message
        );
    }

    #[test]
    fn credentials_form_with_csrf_and_origin_checks() {
        let (port, rx, csrf) = serve(true, Duration::from_secs(20));
        let (status, page) = get(port, "/");
        assert_eq!(status, 200);
        assert!(page.contains("action=\"/credentials\""));
        // Wrong CSRF token, foreign origin: refused.
        assert_eq!(
            post(port, "csrf=wrong&client_id=cid&client_secret=hunter2", None).0,
            403
        );
        let good = format!("csrf={csrf}&client_id=cid&client_secret=hunter2");
        assert_eq!(post(port, &good, Some("http://evil.example")).0, 403);
        // Missing secret: the form again, with a message.
        let (status, page) = post(port, &format!("csrf={csrf}&client_id=cid"), None);
        assert_eq!(status, 400);
        assert!(page.contains("Enter both"));
        let (status, page) = post(
            port,
            &format!("csrf={csrf}&client_id=bad&client_secret=hunter2"),
            None,
        );
        assert_eq!(status, 400);
        secret_free(&page);
        // Good: on to Tastytrade.
        let (status, resp) = post(port, &good, Some(&format!("http://localhost:{port}")));
        assert_eq!(status, 303, "{resp}");
        secret_free(&resp);
        // GET / now goes to the authorize URL too.
        assert_eq!(get(port, "/").0, 302);
        let real = thread::spawn(move || get(port, &format!("/?code=code-xyz&state={STATE}")));
        let (_, creds, responder) = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        let (id, secret) = creds.unwrap();
        assert_eq!((id.as_str(), secret.expose()), ("cid", "hunter2"));
        responder.failure("Tastytrade refused the grant.");
        let (status, page) = real.join().unwrap();
        assert_eq!(status, 500);
        assert!(page.contains("refused the grant"));
        secret_free(&page);
    }

    #[test]
    fn an_unanswered_responder_tells_the_browser_to_look_at_the_terminal() {
        let (port, rx, _) = serve(false, Duration::from_secs(20));
        let real = thread::spawn(move || get(port, &format!("/?code=code-xyz&state={STATE}")));
        let (_, _, responder) = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        drop(responder);
        let (status, page) = real.join().unwrap();
        assert_eq!(status, 500);
        assert!(page.contains("stopped before it finished"));
    }

    #[test]
    fn not_reachable_from_other_interfaces() {
        let server = Server::bind_port(0, "/", None).unwrap();
        // The address this machine would use towards the network (a UDP "connect" sends
        // nothing). Without one (no network at all) there is nothing to check.
        let Some(ip) = std::net::UdpSocket::bind(("0.0.0.0", 0))
            .and_then(|s| s.connect(("10.255.255.255", 1)).map(|_| s))
            .and_then(|s| s.local_addr())
            .ok()
            .map(|a| a.ip())
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        else {
            return;
        };
        let reach = TcpStream::connect_timeout(
            &std::net::SocketAddr::new(ip, server.port()),
            Duration::from_secs(2),
        );
        assert!(reach.is_err(), "the server answered on {ip}");
        // While loopback works.
        assert!(TcpStream::connect(("127.0.0.1", server.port())).is_ok());
    }

    #[test]
    fn a_busy_port_is_named() {
        let holder = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = holder.local_addr().unwrap().port();
        let e = Server::bind(&RedirectUri::parse(&format!("http://localhost:{port}")).unwrap())
            .err()
            .unwrap();
        assert!(e.message.contains(&format!("port {port}")), "{}", e.message);
        assert!(e.hint.unwrap().contains("--redirect-uri"));
    }

    #[test]
    fn pages_are_served_with_protective_headers() {
        let (port, _rx, _) = serve(true, Duration::from_secs(5));
        let (_, resp) = get(port, "/");
        let lower = resp.to_ascii_lowercase();
        assert!(lower.contains("cache-control: no-store"));
        assert!(lower.contains("referrer-policy: same-origin"));
        assert!(lower.contains("content-security-policy: default-src 'none'"));
    }
}
