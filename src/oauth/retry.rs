//! Retrying a request, and explaining one that could not be delivered.
//!
//! Tastytrade publishes no rate limit, its 429s carry no `Retry-After`, and too many
//! failed logins block the IP for hours: so at most 3 retries, with exponential backoff
//! plus jitter (about 5 s in all at worst), and never a loop.

use super::http::{Http, Request, Response, TransportError, TransportKind};
use crate::error::Error;
use rand::Rng;
use std::time::Duration;

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 3;
const BASE_DELAY: Duration = Duration::from_millis(500);

/// Which failures a request may be repeated after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// A refresh or a GET: repeating it is harmless.
    Idempotent,
    /// The code exchange: an authorization code works once, so only failures that say
    /// the server did not act on it (429, 503) are retried; a 500 or a broken
    /// connection may have consumed the code, and a retry would only turn that into a
    /// confusing `invalid_grant`.
    SingleUse,
}

/// How a request's caller sleeps; tests record the delays instead.
pub trait Sleep {
    fn sleep(&self, delay: Duration);
}

/// Real time.
pub struct ThreadSleep;

impl Sleep for ThreadSleep {
    fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }
}

/// No waiting at all: for tests and fuzzers that drive the retry logic.
pub struct NoWait;

impl Sleep for NoWait {
    fn sleep(&self, _delay: Duration) {}
}

/// Sends `request`, retrying per `policy`. Returns the last response (which may still be
/// a 429 or 5xx for the caller to explain) or the last transport error.
pub fn send(
    http: &dyn Http,
    sleep: &dyn Sleep,
    request: &Request<'_>,
    policy: Policy,
) -> Result<Response, TransportError> {
    let mut retry = 0;
    loop {
        let outcome = http.send(request);
        let again = match &outcome {
            Ok(r) => should_retry_status(r.status, policy),
            Err(e) => e.kind == TransportKind::Reset && policy == Policy::Idempotent,
        };
        if !again || retry >= MAX_RETRIES {
            return outcome;
        }
        sleep.sleep(delay(retry));
        retry += 1;
    }
}

fn should_retry_status(status: u16, policy: Policy) -> bool {
    match policy {
        Policy::Idempotent => status == 429 || (500..=599).contains(&status),
        Policy::SingleUse => status == 429 || status == 503,
    }
}

/// 0.5 s, 1 s, 2 s, each plus up to half again of jitter, so many clients that failed
/// together do not retry together.
pub(crate) fn delay(retry: u32) -> Duration {
    let base = BASE_DELAY * 2u32.pow(retry);
    let jitter_ms = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 2);
    base + Duration::from_millis(jitter_ms)
}

/// The error for a request that got no answer: names the endpoint, and the usual typo
/// when the host looks like a crossed sandbox name.
pub fn unreachable(url: &str, err: &TransportError) -> Error {
    let endpoint = endpoint_of(url);
    let what = match err.kind {
        TransportKind::Dns => "its host name does not resolve",
        TransportKind::Refused => "the connection was refused",
        TransportKind::Timeout => "it did not answer in time",
        TransportKind::Reset => "the connection kept breaking",
        TransportKind::Other => "the connection failed",
    };
    let mut e = Error::network(format!(
        "could not reach {endpoint}: {what} ({})",
        sanitize(&err.detail, 120)
    ));
    e = if let Some(hint) = typo_hint(url) {
        e.hint(hint)
    } else if err.kind == TransportKind::Dns || err.kind == TransportKind::Refused {
        e.hint("check the network connection, and TTVAULT_API_URL if it is set")
    } else {
        e.hint("check the network connection and try again")
    };
    e
}

/// `scheme://host[:port]` of a URL, or the URL itself when it does not parse.
pub fn endpoint_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("?");
            match u.port() {
                Some(p) => format!("{}://{host}:{p}", u.scheme()),
                None => format!("{}://{host}", u.scheme()),
            }
        }
        Err(_) => sanitize(url, 80),
    }
}

/// Host names people write for the sandbox that do not exist (shared/tastytrade.md).
fn typo_hint(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    let crossed = host == "api.sandbox.tastytrade.com"
        || host == "cert.api.tastyworks.com"
        || (host.contains("sandbox") && host.contains("tastytrade.com"))
        || host.starts_with("cert.api.");
    crossed.then(|| {
        format!(
            "`{host}` is a common typo and does not exist: the sandbox API is \
             https://api.cert.tastyworks.com, production is https://api.tastyworks.com"
        )
    })
}

/// Text from the other side, made fit for a terminal line: printable ASCII only,
/// bounded length, and no token-like words (a server could echo what it was sent).
pub fn sanitize(text: &str, max: usize) -> String {
    let printable: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<String> = printable
        .split_whitespace()
        .map(|w| {
            // Long unbroken runs are what tokens, codes and secrets look like.
            if w.len() >= 24 {
                "[…]".to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    let mut out = words.join(" ");
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::oauth::http::Method;
    use std::cell::RefCell;

    /// Records sleeps instead of sleeping.
    #[derive(Default)]
    pub struct NoSleep(pub RefCell<Vec<Duration>>);
    impl Sleep for NoSleep {
        fn sleep(&self, delay: Duration) {
            self.0.borrow_mut().push(delay);
        }
    }

    fn get() -> Request<'static> {
        Request {
            method: Method::Get,
            url: "http://127.0.0.1:1/x",
            bearer: None,
            form: vec![],
        }
    }

    #[test]
    fn retries_429_three_times_with_growing_bounded_delays() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            Ok(Response::new(429, None, ""))
        };
        let sleep = NoSleep::default();
        let r = send(&http, &sleep, &get(), Policy::Idempotent).unwrap();
        assert_eq!(r.status, 429);
        assert_eq!(*calls.borrow(), 4);
        let delays = sleep.0.borrow();
        assert_eq!(delays.len(), 3);
        assert!(delays[0] >= Duration::from_millis(500) && delays[0] <= Duration::from_millis(750));
        assert!(delays[2] >= Duration::from_secs(2));
        let total: Duration = delays.iter().sum();
        assert!(total <= Duration::from_secs(10), "{total:?}");
    }

    #[test]
    fn stops_retrying_once_it_works() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            if *calls.borrow() < 3 {
                Ok(Response::new(502, None, ""))
            } else {
                Ok(Response::new(200, None, "{}"))
            }
        };
        let r = send(&http, &NoSleep::default(), &get(), Policy::Idempotent).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(*calls.borrow(), 3);
    }

    #[test]
    fn connection_reset_is_retried_but_refused_is_not() {
        for (kind, expected_calls) in [(TransportKind::Reset, 4), (TransportKind::Refused, 1)] {
            let calls = RefCell::new(0);
            let http = |_: &Request<'_>| {
                *calls.borrow_mut() += 1;
                Err(TransportError {
                    kind,
                    detail: "x".into(),
                })
            };
            let _ = send(&http, &NoSleep::default(), &get(), Policy::Idempotent);
            assert_eq!(*calls.borrow(), expected_calls, "{kind:?}");
        }
    }

    #[test]
    fn a_single_use_code_is_not_resent_after_a_500() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            Ok(Response::new(500, None, ""))
        };
        let _ = send(&http, &NoSleep::default(), &get(), Policy::SingleUse);
        assert_eq!(*calls.borrow(), 1);
    }

    #[test]
    fn unreachable_names_the_endpoint_and_the_sandbox_typo() {
        let err = TransportError {
            kind: TransportKind::Dns,
            detail: "failed to lookup address information".into(),
        };
        let e = unreachable("https://api.sandbox.tastytrade.com/oauth/token", &err);
        assert_eq!(e.code, crate::Code::Network);
        assert!(
            e.message.contains("https://api.sandbox.tastytrade.com"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("api.cert.tastyworks.com"));
        let e = unreachable("https://api.tastyworks.com/oauth/token", &err);
        assert!(!e.hint.unwrap().contains("typo"));
    }

    #[test]
    fn sanitize_drops_token_like_words_and_control_characters() {
        let s = sanitize(
            "bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc\x1b[31m here",
            200,
        );
        assert!(!s.contains("eyJ"), "{s}");
        assert!(!s.contains('\x1b'));
        assert!(s.starts_with("bad token"));
        assert!(sanitize(&"word ".repeat(100), 20).chars().count() <= 21);
    }
}
