//! Arbitrary answers (status, content type, Location, body; or a transport error) from
//! the token endpoint, through `token::refresh_with` and `token::exchange_code_with` with a
//! closure `Http` and `retry::NoWait`. The input is text: bit 0 of the first byte picks the
//! code exchange; then one reply per attempt (the last one repeats), separated by lines
//! `---`, each `STATUS CONTENT-TYPE` (or `! KIND DETAIL` for a transport error), optional
//! `Location: …`, a blank line and the body. `$K`, `$R`, `$C` and `$V` in a body stand for the
//! client secret, refresh token, code and PKCE verifier sent, so echoes are easy to find.
//! Oracles: never a panic; every request is a POST to the token URL without an
//! Authorization header, whose body holds exactly the grant's fields for its encoding, in
//! order, and survives that encoding (a refresh at Tastytrade's host starts as JSON
//! without `client_id`; the code exchange starts as a form); the other encoding is tried
//! only after a 4xx, once; retries stay within the policy (4 calls per encoding; the code
//! exchange only repeats after 429/503); success only for a 200 whose body is a JSON
//! object with a non-empty RFC 6750 `access_token` (the one returned), plus such a refresh
//! token for a code exchange, and a lifetime of at most a day; a 4xx JSON body whose
//! `error_code` or `error` is `invalid_grant` is exit status 4 (when it was the only kind of
//! answer); other failures are 4 or 5; no message or hint contains the client secret,
//! refresh token, code or verifier, nor any 12 characters of them, nor any run of 24 or
//! more token characters, nor a control character (what `sanitize` promises).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use ttvault::oauth::b64token;
use ttvault::oauth::http::{
    BodyEncoding, Method, Request, Response, TransportError, TransportKind, USER_AGENT,
};
use ttvault::oauth::retry::NoWait;
use ttvault::oauth::token::{exchange_code_with, refresh_with};
use ttvault::secret::{AuthCode, ClientSecret, PkceVerifier, RefreshToken};
use ttvault::Code;

const TOKEN_URL: &str = "https://api.tastyworks.com/oauth/token";
const CLIENT_ID: &str = "3f1b0a4e-5c2d-4f6a-9b8e-7d6c5b4a3f2e";
const SECRET: &str = "9c1e4f7a2b5d8e0f3a6c9b2e5f8a1d4c7b0e3f6a";
const REFRESH: &str = "eyJ0eXAiOiJydCtqd3QiLCJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2FwaS50YXN0eXRyYWRlLmNvbSIsImF1ZCI6IjNmMWIwYTRlIn0.Qm9ndXNTaWduYXR1cmVGb3JGdXp6aW5n";
const CODE: &str = "ac_Zx81QvR2mN5pL7kT9wY3hJ6dF4sG0bC";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT: &str = "http://localhost:8000";

#[derive(Debug, Clone)]
enum Reply {
    Answer {
        status: u16,
        content_type: Option<String>,
        location: Option<String>,
        body: Vec<u8>,
    },
    Transport {
        kind: u8,
        detail: String,
    },
}

fn parse_reply(text: &str) -> Reply {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("");
    if let Some(t) = first.strip_prefix('!') {
        let t = t.trim_start();
        let (kind, detail) = t.split_once(' ').unwrap_or((t, ""));
        return Reply::Transport {
            kind: kind.parse().unwrap_or(0),
            detail: detail.to_string(),
        };
    }
    let (status, content_type) = match first.split_once(' ') {
        Some((s, ct)) => (s, Some(ct.to_string())),
        None => (first, None),
    };
    let location = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.trim().to_string());
    Reply::Answer {
        status: status.trim().parse().unwrap_or(200),
        content_type,
        location,
        body: body.as_bytes().to_vec(),
    }
}

fn substitute(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'$' && i + 1 < body.len() {
            let with = match body[i + 1] {
                b'K' => Some(SECRET),
                b'R' => Some(REFRESH),
                b'C' => Some(CODE),
                b'V' => Some(VERIFIER),
                _ => None,
            };
            if let Some(w) = with {
                out.extend_from_slice(w.as_bytes());
                i += 2;
                continue;
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// base64, base64url and hex characters. Not `.`: a host name is not a token, and a
/// JWT's parts are caught one by one (and by the 12-character windows above).
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_~+/=".contains(c)
}

fn check_said(said: &str) {
    assert!(
        !said.chars().any(|c| c.is_control() && c != '\n'),
        "an error holds a control character: {said:?}"
    );
    for secret in [SECRET, REFRESH, CODE, VERIFIER] {
        for w in secret.as_bytes().windows(12) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(
                !said.contains(w),
                "an error repeats a secret sent: {said:?}"
            );
        }
    }
    // `https://host`: the slashes belong to the URL, not to the host name.
    for run in said
        .split(|c: char| !token_char(c))
        .map(|r| r.trim_matches('/'))
    {
        assert!(
            run.len() < 24,
            "an error holds a token-like run {run:?}: {said:?}"
        );
    }
}

fn is_invalid_grant(v: &serde_json::Value, key: &str) -> bool {
    v.get(key)
        .and_then(|c| c.as_str())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("invalid_grant"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let exchange = flags & 1 != 0;
    let text = String::from_utf8_lossy(rest);
    let replies: Vec<Reply> = text
        .split("\n---\n")
        .take(8)
        .map(parse_reply)
        .map(|r| match r {
            Reply::Answer {
                status,
                content_type,
                location,
                body,
            } => Reply::Answer {
                status,
                content_type,
                location,
                body: substitute(&body),
            },
            t => t,
        })
        .collect();
    let calls = Cell::new(0usize);
    let switches = Cell::new(0usize);
    let last: RefCell<Option<Reply>> = RefCell::new(None);
    let last_encoding: Cell<Option<BodyEncoding>> = Cell::new(None);
    let first_encoding = if exchange {
        BodyEncoding::Form
    } else {
        BodyEncoding::Json
    };
    let expected_fields = |encoding: BodyEncoding| -> Vec<(&str, &str)> {
        if exchange {
            vec![
                ("grant_type", "authorization_code"),
                ("code", CODE),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ]
        } else if encoding == BodyEncoding::Json {
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", REFRESH),
                ("client_secret", SECRET),
            ]
        } else {
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", REFRESH),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ]
        }
    };
    let http = |req: &Request<'_>| -> Result<Response, TransportError> {
        let n = calls.get();
        calls.set(n + 1);
        assert!(n < 8, "more than 3 retries in each encoding");
        match last_encoding.get() {
            None => assert_eq!(req.encoding, first_encoding, "the first encoding"),
            Some(before) if before != req.encoding => {
                switches.set(switches.get() + 1);
                assert_eq!(switches.get(), 1, "the encoding switches once");
                match last.borrow().as_ref() {
                    Some(Reply::Answer { status, .. }) => {
                        assert!((400..500).contains(status), "switched after {status}")
                    }
                    _ => panic!("switched encodings after a transport error"),
                }
            }
            Some(_) => {
                if exchange {
                    match last.borrow().as_ref() {
                        Some(Reply::Answer { status, .. }) => assert!(
                            *status == 429 || *status == 503,
                            "code exchange retried after {status}"
                        ),
                        _ => panic!("code exchange retried after a transport error"),
                    }
                }
            }
        }
        last_encoding.set(Some(req.encoding));
        // The User-Agent is the real client's default header, not part of the seam's
        // Request: check the one it sends has Tastytrade's `product/version` form.
        assert!(USER_AGENT
            .split_once('/')
            .is_some_and(|(p, v)| !p.is_empty() && !v.is_empty() && !v.contains(' ')));
        assert_eq!(req.method, Method::Post);
        assert_eq!(req.url, TOKEN_URL);
        assert!(
            req.bearer.is_none(),
            "an Authorization header on the token endpoint"
        );
        let expected_form = expected_fields(req.encoding);
        assert_eq!(req.fields, expected_form);
        let body = req.body();
        let parsed: Vec<(String, String)> = match req.encoding {
            BodyEncoding::Form => url::form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect(),
            BodyEncoding::Json => {
                let v: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&body).expect("a JSON body is an object");
                expected_form
                    .iter()
                    .map(|(k, _)| {
                        let value = v.get(*k).and_then(|x| x.as_str()).expect("every field");
                        (k.to_string(), value.to_string())
                    })
                    .collect()
            }
        };
        let expected: Vec<(String, String)> = expected_form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(parsed, expected);
        let reply = replies
            .get(n)
            .or(replies.last())
            .cloned()
            .unwrap_or(Reply::Transport {
                kind: 0,
                detail: "connection refused".into(),
            });
        *last.borrow_mut() = Some(reply.clone());
        match reply {
            Reply::Answer {
                status,
                content_type,
                location,
                body,
            } => {
                let r = Response::new(status, content_type.as_deref(), body);
                Ok(match location {
                    Some(l) => r.with_header("location", &l),
                    None => r,
                })
            }
            Reply::Transport { kind, detail } => Err(TransportError {
                kind: match kind % 7 {
                    0 => TransportKind::Dns,
                    1 => TransportKind::Refused,
                    2 => TransportKind::Timeout,
                    3 => TransportKind::Reset,
                    4 => TransportKind::TooLarge,
                    5 => TransportKind::Insecure,
                    _ => TransportKind::Other,
                },
                detail,
            }),
        }
    };
    let secret = ClientSecret::new(SECRET);
    let outcome = if exchange {
        exchange_code_with(
            &http,
            &NoWait,
            TOKEN_URL,
            CLIENT_ID,
            &secret,
            &AuthCode::new(CODE),
            REDIRECT,
            &PkceVerifier::new(VERIFIER),
        )
    } else {
        refresh_with(
            &http,
            &NoWait,
            TOKEN_URL,
            CLIENT_ID,
            &secret,
            &RefreshToken::new(REFRESH),
        )
    };
    assert!(calls.get() >= 1);
    let last = last.into_inner().expect("at least one attempt");
    let json = match &last {
        Reply::Answer { body, .. } => serde_json::from_slice::<serde_json::Value>(body).ok(),
        Reply::Transport { .. } => None,
    };
    // The converse, for the plainest success: a 200 JSON object holding only a non-empty
    // string `access_token` (and, for a code exchange, a non-empty `refresh_token`),
    // written the way serde_json writes it (so without duplicate keys).
    if let (
        Reply::Answer {
            status: 200, body, ..
        },
        Some(serde_json::Value::Object(o)),
    ) = (&last, &json)
    {
        let canonical = serde_json::to_vec(&json).is_ok_and(|c| &c == body);
        let text = |k: &str| o.get(k).and_then(|v| v.as_str()).filter(|v| !v.is_empty());
        let token_ok = |k: &str| text(k).is_some_and(|t| b64token::check(t).is_ok());
        let plain = if exchange {
            o.len() == 2 && token_ok("refresh_token")
        } else {
            o.len() == 1
        };
        if canonical && plain && token_ok("access_token") && switches.get() == 0 {
            assert!(outcome.is_ok(), "a plain token answer was refused");
        }
    }
    match outcome {
        Ok(tokens) => {
            let Reply::Answer { status, .. } = last else {
                panic!("success without an answer")
            };
            assert!((200..300).contains(&status), "success from a {status}");
            let json = json.expect("success from a body that is not JSON");
            let access = json
                .as_object()
                .expect("success from a body that is not a JSON object")
                .get("access_token")
                .and_then(|a| a.as_str())
                .expect("success without a string access_token");
            assert!(!access.is_empty());
            assert!(b64token::check(access).is_ok(), "a token outside RFC 6750 was used");
            assert_eq!(tokens.access_token.expose(), access);
            assert_eq!(Some(tokens.encoding), last_encoding.get());
            assert!(tokens.expires_in <= 24 * 60 * 60);
            if exchange {
                assert!(tokens
                    .refresh_token
                    .as_ref()
                    .is_some_and(|r| !r.expose().is_empty()));
            }
            if let Some(r) = &tokens.refresh_token {
                assert!(b64token::check(r.expose()).is_ok());
                assert_eq!(
                    Some(r.expose()),
                    json.get("refresh_token").and_then(|r| r.as_str())
                );
            }
        }
        Err(e) => {
            let said = format!("{}\n{}", e.message, e.hint.as_deref().unwrap_or(""));
            check_said(&said);
            match &last {
                Reply::Answer { status, .. } => {
                    assert!(
                        matches!(e.code, Code::Grant | Code::Network),
                        "{:?}",
                        e.code
                    );
                    let grant = json.as_ref().is_some_and(|v| {
                        is_invalid_grant(v, "error_code") || is_invalid_grant(v, "error")
                    });
                    // With one encoding tried, the answer explained is the last one.
                    if (400..500).contains(status) && grant && switches.get() == 0 {
                        assert_eq!(e.code, Code::Grant, "invalid_grant is exit 4: {said}");
                    }
                }
                Reply::Transport { kind, .. } => {
                    // `Insecure` from the client itself is a usage error (exit 2).
                    if kind % 7 == 5 {
                        assert_eq!(e.code, Code::Usage);
                    } else {
                        assert_eq!(e.code, Code::Network);
                    }
                }
            }
        }
    }
});
