//! The loopback server's request handling, through the same `server::route` the server
//! calls for every request, without sockets. The input is a short sequence of HTTP
//! requests in text form (`METHOD TARGET`, header lines, a blank line, the body;
//! requests separated by a line `---`); the first byte picks the mode (credentials form
//! or a known authorize URL), the callback path and the port. `$S`, `$C`, `$K`, `$P` and
//! `$T` stand for the expected state, the form's CSRF token, the client secret, the port
//! and the one-time start path.
//! Oracles, checked against an independent reading of each request:
//! - never a panic;
//! - an accepted callback is a GET on the callback path whose Host is localhost,
//!   127.0.0.1 or [::1] with the server's port, whose first `state` is exactly the
//!   expected state, and whose code is the first `code` parameter, percent-decoded (and
//!   trimmed); in form mode it carries the credentials of the last accepted form post,
//!   and in authorize mode none;
//! - only such a callback, or one with exactly the expected state and an `error`, ends
//!   the flow; a wrong or missing state never does;
//! - a foreign Host is always a 400; a redirect only ever goes to the authorize URL, and
//!   only from a GET of the start path (302) or an accepted form post (303): nothing but
//!   the start path leads to the state; a form post is only accepted with the right CSRF
//!   token and an allowed Origin (or none);
//! - no page contains the expected state, the client secret or the CSRF token, except
//!   the credentials form's hidden field, and a GET of the start path in form mode (before
//!   a form was accepted) is exactly `pages::credentials_form`; the CSRF token is only
//!   ever on a page answering the start path or a form post.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::oauth::pages;
use ttvault::oauth::server::{
    route, Answer, Decision, Expect, Flow, Incoming, LoopbackError, Start,
};
use ttvault::secret::OAuthState;
use ttvault::{Error, Result};

const STATE: &str = "Xq7vR2mN5pL8kT1wY4hJ9dF6sG3bC0zAeUiOoPaSdFg";
const CSRF: &str = "Kd83nBv7QpLm2XcZ9wRt5YhJ1fGs6AeUoIpNbVcXzQw";
const SECRET: &str = "9c1e4f7a2b5d8e0f3a6c9b2e5f8a1d4c7b0e3f6a";
const CLIENT_ID: &str = "3f1b0a4e-5c2d-4f6a-9b8e-7d6c5b4a3f2e";
const START: &str = "/start/Qm9vdHN0cmFwLXN0YXJ0LXBhdGgtdG9rZW4tMzI";

fn authorize_url() -> String {
    format!(
        "https://my.tastytrade.com/auth.html?response_type=code&client_id={CLIENT_ID}\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8000&state={STATE}"
    )
}

/// `application/x-www-form-urlencoded` decoding, written independently of the `url`
/// crate: `+` is a space, `%XX` a byte, anything else itself; invalid UTF-8 is replaced.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of `key` in a query or form body.
fn first(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn host_ok(value: Option<&str>, port: u16) -> bool {
    let Some(v) = value else { return false };
    let v = v.trim().to_ascii_lowercase();
    ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|n| v == format!("{n}:{port}") || (port == 80 && v == *n))
}

fn origin_ok(value: Option<&str>, port: u16) -> bool {
    match value {
        None => true,
        Some(o) => {
            let o = o.trim().to_ascii_lowercase();
            o.strip_prefix("http://")
                .is_some_and(|a| host_ok(Some(a), port))
        }
    }
}

struct Parsed {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse(text: &str) -> Parsed {
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h, b),
        None => (text, ""),
    };
    let mut lines = head.lines();
    let first_line = lines.next().unwrap_or("");
    let (method, target) = first_line.split_once(' ').unwrap_or((first_line, "/"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Parsed {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn check_page(html: &str) {
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains(STATE), "a page shows the state");
    assert!(!html.contains(SECRET), "a page shows the client secret");
    let field = format!("<input type=\"hidden\" name=\"csrf\" value=\"{CSRF}\">");
    let rest = html.replacen(&field, "", 1);
    assert!(
        !rest.contains(CSRF),
        "a page shows the CSRF token outside its field"
    );
    if rest.len() != html.len() {
        assert!(
            html.contains("action=\"/credentials\""),
            "the CSRF token outside the form"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let form = flags & 1 != 0;
    let callback_path = if flags & 2 != 0 { "/callback" } else { "/" };
    let port: u16 = if flags & 4 != 0 { 80 } else { 8000 };
    let prefill = (flags & 8 != 0).then_some(CLIENT_ID);
    let text = String::from_utf8_lossy(rest)
        .replace("$S", STATE)
        .replace("$C", CSRF)
        .replace("$K", SECRET)
        .replace("$P", &port.to_string())
        .replace("$T", START);

    let auth = authorize_url();
    let authorize = |id: &str| -> Result<String> {
        if id == "bad" {
            Err(Error::usage("the client id is empty"))
        } else {
            Ok(authorize_url())
        }
    };
    let start = if form {
        Start::Form {
            client_id: prefill,
            authorize: &authorize,
        }
    } else {
        Start::Authorize(&auth)
    };
    let state = OAuthState::new(STATE);
    let csrf = OAuthState::new(CSRF);
    let expect = Expect {
        port,
        callback_path,
        start_path: START,
        state: &state,
        csrf: &csrf,
        start: &start,
    };
    let mut flow = Flow::new(&start);
    // The credentials of the last form post that was let through.
    let mut posted: Option<(String, String)> = None;
    // The start address works once: a second load ends the flow (StartReused).
    let mut start_loaded = false;

    for request in text.split("\n---\n").take(8) {
        let req = parse(request);
        let (path, query) = match req.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req.target.as_str(), None),
        };
        let q = query.unwrap_or("");
        let has = |k: &str| first(q, k).is_some();
        let state_param = first(q, "state");
        let host = host_ok(header(&req.headers, "Host"), port);
        let had_url = flow.authorize_url.is_some();
        let decision = route(
            &expect,
            &mut flow,
            &Incoming {
                method: &req.method,
                url: &req.target,
                headers: &req.headers,
                body: &req.body,
            },
        );
        let answer = match &decision {
            Decision::Answer(a) | Decision::Fail(a, _) => Some(a.clone()),
            Decision::Accept { .. } => None,
        };
        if !host {
            assert!(
                matches!(&decision, Decision::Answer(Answer::Page(400, _))),
                "a foreign Host was served"
            );
        }
        match &answer {
            Some(Answer::Page(_, html)) => {
                check_page(html);
                if html.contains(CSRF) {
                    assert!(
                        path == START || (req.method == "POST" && path == "/credentials"),
                        "the CSRF token answered {path}"
                    );
                }
            }
            Some(Answer::Redirect(status, location)) => {
                assert_eq!(location, &auth, "a redirect elsewhere");
                assert!(host);
                match status {
                    302 => assert!(
                        req.method == "GET" && path == START,
                        "the authorize URL answered {path}"
                    ),
                    303 => {
                        assert!(form && req.method == "POST" && path == "/credentials");
                        let b = String::from_utf8_lossy(&req.body);
                        assert_eq!(first(&b, "csrf").as_deref(), Some(CSRF), "a forged form");
                        assert!(origin_ok(header(&req.headers, "Origin"), port));
                        let id = first(&b, "client_id").unwrap_or_default();
                        let secret = first(&b, "client_secret").unwrap_or_default();
                        assert!(!id.trim().is_empty() && !secret.trim().is_empty());
                        posted = Some((id.trim().to_string(), secret.trim().to_string()));
                    }
                    s => panic!("redirect status {s}"),
                }
            }
            None => {}
        }
        if form
            && req.method == "GET"
            && path == START
            && host
            && !had_url
            && !start_loaded
            && !(path == callback_path && (has("code") || has("state") || has("error")))
        {
            assert_eq!(
                answer,
                Some(Answer::Page(
                    200,
                    pages::credentials_form(CSRF, prefill, None)
                ))
            );
        }
        match decision {
            Decision::Accept { code, credentials } => {
                assert!(host, "a callback accepted from a foreign Host");
                assert_eq!(req.method, "GET");
                assert_eq!(path, callback_path);
                assert_eq!(
                    state_param.as_deref(),
                    Some(STATE),
                    "a callback with the wrong state"
                );
                let param = first(q, "code").expect("a callback without a code");
                assert_eq!(code.expose(), param.trim());
                assert!(!code.expose().is_empty());
                assert!(first(q, "error").is_none());
                if form {
                    let (id, secret) = credentials.expect("form mode without credentials");
                    let posted = posted.as_ref().expect("credentials that were never posted");
                    assert_eq!(
                        (id.as_str(), secret.expose()),
                        (posted.0.as_str(), posted.1.as_str())
                    );
                } else {
                    assert!(credentials.is_none());
                }
                return;
            }
            Decision::Fail(_, e) if req.method == "GET" && path == START => {
                assert!(
                    host && start_loaded,
                    "the first load of the start address failed"
                );
                assert!(matches!(e, LoopbackError::StartReused), "{e}");
                return;
            }
            Decision::Fail(_, e) => {
                assert!(host && req.method == "GET" && path == callback_path);
                assert_eq!(
                    state_param.as_deref(),
                    Some(STATE),
                    "an answer without the state ended the flow"
                );
                let said = e.to_string();
                assert!(!said.contains(STATE) && !said.contains(SECRET) && !said.contains(CSRF));
                return;
            }
            Decision::Answer(_) => {
                if host && req.method == "GET" && path == START {
                    start_loaded = true;
                }
            }
        }
    }
});
