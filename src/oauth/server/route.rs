//! The server's routing, without sockets: the Host check, the one-time start path, the
//! callback, and the credentials form. The server calls [`route`] for every request it
//! reads, and the `oauth_callback` fuzz target calls it the same way.
//!
//! Nothing but the start path, whose name ttvault prints and hands to the browser through
//! a private file, leads to the state, and only once: a second load ends the flow. `/` and
//! every other path answer the same "nothing here" page.

use super::error::LoopbackError;
use super::{callback, form};
use crate::error::Result;
use crate::oauth::pages;
use crate::secret::{AuthCode, ClientSecret, OAuthState};
use std::collections::HashMap;
use zeroize::Zeroizing;

/// Where the start page sends the browser.
pub enum Start<'a> {
    /// The client id and secret are known: on to this authorize URL.
    Authorize(&'a str),
    /// Ask for them on a page; `authorize` turns the client id entered into the
    /// authorize URL (or an error to show on the form).
    Form {
        /// A client id given on the command line, to pre-fill.
        client_id: Option<&'a str>,
        authorize: &'a dyn Fn(&str) -> Result<String>,
    },
}

/// What the server expects of the requests it answers.
pub struct Expect<'a> {
    /// The port the server listens on (the Host header must name it).
    pub port: u16,
    /// The redirect URI's path, where the callback arrives.
    pub callback_path: &'a str,
    /// The one-time start page's path: random, printed and opened, never linked.
    pub start_path: &'a str,
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
    /// Where the start page sends the browser, once known.
    pub authorize_url: Option<String>,
    /// The start page has been served: its address is good for one load.
    pub start_loaded: bool,
}

impl Flow {
    pub fn new(start: &Start<'_>) -> Flow {
        Flow {
            credentials: None,
            authorize_url: match start {
                Start::Authorize(url) => Some(url.to_string()),
                Start::Form { .. } => None,
            },
            start_loaded: false,
        }
    }
}

/// One request, as the routing sees it: read whole, no socket.
pub struct Incoming<'a> {
    /// `GET`, `POST`, … as the client sent it.
    pub method: &'a str,
    /// The request target: path and query.
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    /// The body (the connection reads at most `request::MAX_BODY` bytes).
    pub body: &'a [u8],
}

/// An answer to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A status and an HTML page (served with [`pages::SECURITY_HEADERS`]).
    Page(u16, String),
    /// A status and a `Location`.
    Redirect(u16, String),
}

/// What one request does to the flow: the one outcome type of the server.
pub enum Decision {
    /// Answer, and keep waiting.
    Answer(Answer),
    /// Answer, and end the flow with this error.
    Fail(Answer, LoopbackError),
    /// The real callback: hold its response until the outcome is known.
    Accept {
        code: AuthCode,
        credentials: Option<(String, ClientSecret)>,
    },
}

pub fn route(expect: &Expect<'_>, flow: &mut Flow, incoming: &Incoming<'_>) -> Decision {
    if !header_of(incoming.headers, "Host").is_some_and(|h| allowed_authority(h, expect.port)) {
        return Decision::Answer(refused_host());
    }
    let (path, query) = match incoming.url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (incoming.url, None),
    };
    let params = query.map(first_values).unwrap_or_default();
    let is_callback = path == expect.callback_path
        && ["code", "state", "error"]
            .iter()
            .any(|k| params.contains_key(*k));

    match (incoming.method, path) {
        ("GET", _) if is_callback => callback::interpret(expect, flow, &params),
        // Good for one load: a second means the address reached someone else (or a copy),
        // and whoever loads it would learn the state; the flow ends with nothing written.
        ("GET", p) if p == expect.start_path && flow.start_loaded => Decision::Fail(
            Answer::Page(
                410,
                pages::refused(
                    "Already used",
                    "This sign-in address works once. ttvault has stopped; run it again for a new one.",
                ),
            ),
            LoopbackError::StartReused,
        ),
        ("GET", p) if p == expect.start_path => {
            flow.start_loaded = true;
            Decision::Answer(start_page(expect, flow))
        }
        ("POST", "/credentials") => Decision::Answer(match expect.start {
            Start::Form { authorize, .. } => {
                match form::credentials(expect, *authorize, flow, incoming.headers, incoming.body) {
                    // 303: the browser follows a POST's answer with a GET.
                    Ok(url) => Answer::Redirect(303, url),
                    Err((status, page)) => Answer::Page(status, page),
                }
            }
            Start::Authorize(_) => nothing_here(),
        }),
        (_, p) if p == expect.start_path || p == "/credentials" => Decision::Answer(Answer::Page(
            405,
            pages::refused(
                "Method not allowed",
                "This page does not accept that request.",
            ),
        )),
        _ => Decision::Answer(nothing_here()),
    }
}

/// The start page: the credentials form, or on to the authorize URL once it is known.
fn start_page(expect: &Expect<'_>, flow: &Flow) -> Answer {
    match (expect.start, flow.authorize_url.as_deref()) {
        (_, Some(url)) => Answer::Redirect(302, url.to_string()),
        (Start::Form { client_id, .. }, None) => Answer::Page(
            200,
            pages::credentials_form(expect.csrf.expose(), *client_id, None),
        ),
        (Start::Authorize(url), None) => Answer::Redirect(302, url.to_string()),
    }
}

/// Every path but the start page, the form and a callback: the same page, which says
/// nothing about this run.
pub fn nothing_here() -> Answer {
    Answer::Page(
        404,
        pages::refused("Not found", "There is no such page here."),
    )
}

/// The first value of each query parameter, percent-decoded (later repeats are ignored,
/// so a second `state` cannot override the first).
fn first_values(query: &str) -> HashMap<String, Zeroizing<String>> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        map.entry(k.into_owned())
            .or_insert_with(|| Zeroizing::new(v.into_owned()));
    }
    map
}

/// The first header called `name`, in any case.
pub(super) fn header_of<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// The Host a browser sends for this server; anything else is a DNS-rebinding attempt
/// (a web page whose host name was re-pointed at 127.0.0.1).
pub(super) fn allowed_authority(authority: &str, port: u16) -> bool {
    let a = authority.trim().to_ascii_lowercase();
    let names = ["localhost", "127.0.0.1", "[::1]"];
    names
        .iter()
        .any(|n| a == format!("{n}:{port}") || (port == 80 && a == *n))
}

pub(super) fn origin_allowed(origin: &str, port: u16) -> bool {
    origin
        .trim()
        .to_ascii_lowercase()
        .strip_prefix("http://")
        .is_some_and(|authority| allowed_authority(authority, port))
}

/// The answer to a request whose Host is not this server's.
pub fn refused_host() -> Answer {
    Answer::Page(
        400,
        pages::refused(
            "Wrong address",
            "ttvault's local page only answers at localhost, 127.0.0.1 or [::1].",
        ),
    )
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
