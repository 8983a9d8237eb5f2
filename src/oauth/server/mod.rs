//! The loopback server that receives the browser's callback (`init`, `rotate`).
//!
//! Bound to 127.0.0.1 and ::1 only (browsers resolve `localhost` either way), on the port
//! of the grant's registered redirect URI. The start page lives at a one-time random path
//! that ttvault prints and opens; nothing else reveals the state. It refuses foreign Host
//! headers (DNS rebinding), checks `state` and the form's CSRF token in constant time,
//! ends after one good callback or the timeout, and holds the callback's response until
//! the caller knows the outcome, so the page tells the truth.
//!
//! The parts, by job: [`redirect_uri`] checks the URI; [`listener`] accepts connections
//! under a cap; [`connection`] reads requests ([`request`]) under deadlines and writes
//! answers ([`response`]); [`route`] decides, with [`callback`] and [`form`]; this module
//! runs the flow. docs/OAUTH.md describes the whole.

mod callback;
mod connection;
pub mod error;
mod form;
mod listener;
pub mod port_holder;
pub mod redirect_uri;
pub mod request;
mod response;
pub mod route;

pub use error::LoopbackError;
pub use redirect_uri::RedirectUri;
pub use route::{route, Answer, Decision, Expect, Flow, Incoming, Start};

use crate::oauth::pages;
use crate::secret::{AuthCode, ClientSecret, OAuthState};
use connection::{Event, Exchange, Reply};
use listener::Listeners;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// The longest wait for the browser, whatever `--timeout` says (no clock overflows).
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

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
    reply: Option<Sender<Reply>>,
}

impl Responder {
    pub fn success(mut self, detail: &str) {
        self.send(200, pages::success(detail));
    }

    /// `message` must be fit for a page: an [`crate::Error`]'s message is (it never holds
    /// secrets). Sent with 200: the browser's request was served as it should be, and
    /// the page says how the sign-in ended (Tastytrade refused the client, say); a 500
    /// would call it a fault of ttvault's server.
    pub fn failure(mut self, message: &str) {
        self.send(200, pages::failure(message));
    }

    /// Sends the page and waits until it is written, so the caller may exit right after.
    fn send(&mut self, status: u16, html: String) {
        if let Some(reply) = self.reply.take() {
            connection::send_and_wait(&reply, Answer::Page(status, html));
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.send(500, pages::failure("ttvault stopped before it finished."));
    }
}

pub struct Server {
    port: u16,
    callback_path: String,
    /// The host name the browser is told to use (the redirect URI's).
    host: String,
    /// The start page's path: `/start/` and 256 random bits.
    start_path: String,
    csrf: OAuthState,
    events: Option<Receiver<Event>>,
    /// The listeners' and connections' side of `events`, for tests to speak as one.
    #[cfg_attr(not(test), allow(dead_code))]
    events_in: Sender<Event>,
    _listeners: Listeners,
}

impl Server {
    /// Listens on 127.0.0.1 and ::1 at the redirect URI's port.
    pub fn bind(redirect: &RedirectUri) -> Result<Server, LoopbackError> {
        let mut server = Self::bind_port(redirect.port, &redirect.path)?;
        server.host = redirect.host.clone();
        Ok(server)
    }

    fn bind_port(port: u16, callback_path: &str) -> Result<Server, LoopbackError> {
        // Every connection costs a descriptor: take all the process may have.
        crate::harden::raise_fd_limit();
        let (events_in, events) = mpsc::channel();
        let (listeners, port) = Listeners::bind(port, &events_in)?;
        let csrf = {
            let mut raw = random_token();
            let csrf = OAuthState::new(raw.as_str());
            zeroize::Zeroize::zeroize(&mut raw);
            csrf
        };
        Ok(Server {
            port,
            callback_path: callback_path.to_string(),
            host: "localhost".to_string(),
            start_path: format!("/start/{}", random_token()),
            csrf,
            events: Some(events),
            events_in,
            _listeners: listeners,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address to print and open: the one-time start page, on the redirect URI's
    /// host name.
    pub fn start_url(&self) -> String {
        format!("http://{}:{}{}", self.host, self.port, self.start_path)
    }

    /// Serves requests until the real callback arrives, the flow fails, a listener dies,
    /// or `timeout` passes, whatever any connection does. Afterwards, until the server is
    /// dropped, every request (a replay, a reload) gets a page saying the run is over.
    pub fn wait(
        &mut self,
        start: Start<'_>,
        state: &OAuthState,
        timeout: Duration,
    ) -> Result<Callback, LoopbackError> {
        let events = self.events.take().ok_or(LoopbackError::Finished)?;
        let deadline = Instant::now() + timeout.min(MAX_WAIT);
        let expect = Expect {
            port: self.port,
            callback_path: &self.callback_path,
            start_path: &self.start_path,
            state,
            csrf: &self.csrf,
            start: &start,
        };
        let mut flow = Flow::new(&start);
        let outcome = loop {
            // Checked before every request too: a stream of requests must not keep the
            // flow past its timeout.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(LoopbackError::TimedOut(timeout));
            }
            let exchange = match events.recv_timeout(left) {
                Ok(Event::Request(exchange)) => exchange,
                Ok(Event::ListenerDied { address, reason }) => {
                    break Err(LoopbackError::ListenerDied { address, reason })
                }
                Err(RecvTimeoutError::Timeout) => break Err(LoopbackError::TimedOut(timeout)),
                Err(RecvTimeoutError::Disconnected) => break Err(LoopbackError::Finished),
            };
            if let Some(end) = decide(&expect, &mut flow, exchange) {
                break end;
            }
        };
        let page = if outcome.is_ok() {
            pages::already_used()
        } else {
            pages::failure("This ttvault run has ended.")
        };
        answer_the_rest(events, self.port, page);
        outcome
    }
}

/// Routes one request and answers it, except the real callback, whose answer is held.
fn decide(
    expect: &Expect<'_>,
    flow: &mut Flow,
    exchange: Exchange,
) -> Option<Result<Callback, LoopbackError>> {
    let request = &exchange.request;
    let incoming = Incoming {
        method: &request.method,
        url: &request.target,
        headers: &request.headers,
        body: &request.body,
    };
    match route(expect, flow, &incoming) {
        Decision::Answer(answer) => {
            exchange.answer(answer);
            None
        }
        Decision::Fail(answer, err) => {
            // The browser's page says how the run ended: written before ttvault exits.
            exchange.answer_and_wait(answer);
            Some(Err(err))
        }
        Decision::Accept { code, credentials } => Some(Ok(Callback {
            code,
            credentials,
            responder: Responder {
                reply: Some(exchange.reply),
            },
        })),
    }
}

/// After the flow: every request gets `page` (410), or the wrong-address page for a
/// foreign Host, until the listeners and connections are gone.
fn answer_the_rest(events: Receiver<Event>, port: u16, page: String) {
    let answer = move |exchange: Exchange| {
        let host_ok = exchange
            .request
            .header("Host")
            .is_some_and(|h| route::allowed_authority(h, port));
        let answer = if host_ok {
            Answer::Page(410, page.clone())
        } else {
            route::refused_host()
        };
        exchange.answer(answer);
    };
    let _ = thread::Builder::new()
        .name("ttvault-after".into())
        .spawn(move || {
            while let Ok(event) = events.recv() {
                if let Event::Request(exchange) = event {
                    answer(exchange);
                }
            }
        });
}

/// 256 random bits from the OS, base64url: unguessable, and safe in a URL path.
fn random_token() -> String {
    oauth2::CsrfToken::new_random_len(32).into_secret()
}

#[cfg(test)]
mod tests;
