//! Sending a request, and repeating it when that is safe and useful.
//!
//! Tastytrade publishes no rate limit, its 429s carry no `Retry-After`, and too many
//! failed logins block the IP for hours (a blocked address sees timeouts): so at most 3
//! retries with exponential backoff plus jitter, a timeout repeated only once, and never
//! a loop.

use super::failure::Failure;
use super::http::{Http, Request, Response, TransportKind};
use crate::endpoints::hosts;
use rand::Rng;
use std::time::Duration;

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 3;
/// Timed-out attempts before giving up: a second timeout in a row looks like a blocked
/// address, and more attempts would only prolong the block.
const MAX_TIMEOUTS: u32 = 2;
const BASE_DELAY: Duration = Duration::from_millis(500);
/// The sandbox's transient refusal clears after a while, not a moment: wait longer.
const TRANSIENT_BASE_DELAY: Duration = Duration::from_secs(1);

/// Which failures a request may be repeated after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// A refresh or a GET: repeating it is harmless.
    Idempotent,
    /// The code exchange: an authorization code works once, so only failures that say
    /// the server did not act on it (429, 503) are retried; a 500, a timeout or a broken
    /// connection may have consumed the code, and a retry would only turn that into a
    /// confusing `invalid_grant`.
    SingleUse,
}

/// How a request's caller sleeps; tests record the delays instead.
pub trait Sleep {
    fn sleep(&self, delay: Duration);

    /// The pause before retry `retry` (from 1) of [`MAX_RETRIES`]; real time shows it.
    fn before_retry(&self, _retry: u32, delay: Duration) {
        self.sleep(delay);
    }
}

/// Real time.
pub struct ThreadSleep;

impl Sleep for ThreadSleep {
    fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }

    fn before_retry(&self, retry: u32, delay: Duration) {
        let _shown = crate::output::Activity::retrying(retry, MAX_RETRIES, delay);
        self.sleep(delay);
    }
}

/// No waiting at all: for tests and fuzzers that drive the retry logic.
pub struct NoWait;

impl Sleep for NoWait {
    fn sleep(&self, _delay: Duration) {}
}

/// Sends `request`, retrying per `policy`. Returns the last response (which may still be
/// a 429 or 5xx for the caller to explain), or why none came. A URL that is plain http to
/// another computer is refused before anything is sent.
pub fn send(
    http: &dyn Http,
    sleep: &dyn Sleep,
    request: &Request<'_>,
    policy: Policy,
) -> Result<Response, Failure> {
    if !hosts::is_secure(request.url) {
        return Err(Failure::Insecure {
            url: request.url.to_string(),
        });
    }
    let mut retry = 0;
    let mut timeouts = 0;
    loop {
        let outcome = http.send(request);
        let wait = match &outcome {
            Ok(r) if policy == Policy::Idempotent && super::token::is_transient_sandbox(r) => {
                Some(TRANSIENT_BASE_DELAY)
            }
            Ok(r) => should_retry_status(r.status, policy).then_some(BASE_DELAY),
            Err(e) => {
                let idempotent = policy == Policy::Idempotent;
                match e.kind {
                    TransportKind::Reset if idempotent => Some(BASE_DELAY),
                    TransportKind::Timeout if idempotent => {
                        timeouts += 1;
                        (timeouts < MAX_TIMEOUTS).then_some(BASE_DELAY)
                    }
                    _ => None,
                }
            }
        };
        match (wait, outcome) {
            (Some(base), _) if retry < MAX_RETRIES => {
                retry += 1;
                sleep.before_retry(retry, delay(base, retry - 1));
            }
            (_, Ok(response)) => return Ok(response),
            (_, Err(e)) => {
                return Err(Failure::Unreachable {
                    url: request.url.to_string(),
                    kind: e.kind,
                    // The one place a transport's words become ttvault's: a library's text
                    // is not trusted to leave out what the request carried.
                    detail: super::sanitize::mask_secrets(&e.detail, &request.secrets()),
                    attempts: retry + 1,
                });
            }
        }
    }
}

fn should_retry_status(status: u16, policy: Policy) -> bool {
    match policy {
        Policy::Idempotent => status == 429 || (500..=599).contains(&status),
        Policy::SingleUse => status == 429 || status == 503,
    }
}

/// The pause before retry number `retry` (from 0) of an ordinary idempotent request.
pub(crate) fn backoff(retry: u32) -> Duration {
    delay(BASE_DELAY, retry)
}

/// `base`, twice that, four times that, each plus up to half again of jitter, so many
/// clients that failed together do not retry together. A debug build that the tests ask
/// (`TTVAULT_TEST_FAST_RETRY`) waits a fiftieth of that: the suite drives hundreds of
/// retries, and the unit tests below check the real delays.
fn delay(base: Duration, retry: u32) -> Duration {
    let base = if crate::settings::get().test_fast_retry {
        base / 50
    } else {
        base
    };
    let base = base * 2u32.pow(retry);
    let jitter_ms = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 2);
    base + Duration::from_millis(jitter_ms)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::oauth::http::TransportError;
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
        Request::get("http://127.0.0.1:1/x", None)
    }

    fn failing(kind: TransportKind) -> Result<Response, TransportError> {
        Err(TransportError {
            kind,
            detail: "x".into(),
        })
    }

    /// The token fuzzer's find (fuzz/seeds/token_response/transport_detail_echo*): a
    /// resolver error whose words hold 12 characters of the PKCE verifier. Nothing of a
    /// secret, sent or not, reaches the error a person reads.
    #[test]
    fn a_transport_error_never_repeats_a_secret() {
        use crate::secret::{AuthCode, ClientSecret, PkceVerifier, RefreshToken};
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let secret = "9c1e4f7a2b5d8e0f3a6c9b2e5f8a1d4c7b0e3f6a";
        let refresh = "eyJ0eXAiOiJydCtqd3QiLCJhbGciOiJFUzI1NiJ9.e30.c2ln";
        let details = [
            "0\u{8}\u{fffd}1r_wW1gFWFOE./".to_string(),
            format!("lookup of {secret} and {verifier} failed"),
            format!("bad {}", &refresh[4..30]),
        ];
        for detail in details {
            let http = |_: &Request<'_>| -> Result<Response, TransportError> {
                Err(TransportError {
                    kind: TransportKind::Dns,
                    detail: detail.clone(),
                })
            };
            let url = "https://api.tastyworks.com/oauth/token";
            let errors = [
                crate::oauth::token::refresh_with(
                    &http,
                    &NoWait,
                    url,
                    "client",
                    &ClientSecret::new(secret),
                    &RefreshToken::new(refresh),
                )
                .unwrap_err(),
                crate::oauth::token::exchange_code_with(
                    &http,
                    &NoWait,
                    url,
                    "client",
                    &ClientSecret::new(secret),
                    &AuthCode::new("ac_Zx81QvR2mN5pL7kT9wY3hJ6dF4sG0bC"),
                    "http://localhost:8000",
                    &PkceVerifier::new(verifier),
                )
                .unwrap_err(),
            ];
            for e in errors {
                let said = format!("{} {}", e.message, e.hint.unwrap_or_default());
                assert!(said.contains("does not resolve"), "{said}");
                for s in [verifier, secret, refresh] {
                    for w in s.as_bytes().windows(12) {
                        let w = std::str::from_utf8(w).unwrap();
                        assert!(!said.contains(w), "{w:?} in {said:?}");
                    }
                }
            }
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
                failing(kind)
            };
            let e = send(&http, &NoSleep::default(), &get(), Policy::Idempotent).unwrap_err();
            assert_eq!(*calls.borrow(), expected_calls, "{kind:?}");
            assert!(
                matches!(e, Failure::Unreachable { attempts, .. } if attempts == expected_calls)
            );
        }
    }

    #[test]
    fn a_second_timeout_stops_the_retries() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            failing(TransportKind::Timeout)
        };
        let e = send(&http, &NoSleep::default(), &get(), Policy::Idempotent).unwrap_err();
        assert_eq!(*calls.borrow(), 2);
        assert!(matches!(
            e,
            Failure::Unreachable {
                kind: TransportKind::Timeout,
                attempts: 2,
                ..
            }
        ));
        // A code exchange that timed out may have used the code: not repeated at all.
        *calls.borrow_mut() = 0;
        let _ = send(&http, &NoSleep::default(), &get(), Policy::SingleUse);
        assert_eq!(*calls.borrow(), 1);
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
    fn plain_http_to_another_computer_is_never_sent() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            Ok(Response::new(200, None, "{}"))
        };
        let request = Request::get("http://api.tastyworks.com/customers/me", None);
        let e = send(&http, &NoSleep::default(), &request, Policy::Idempotent).unwrap_err();
        assert!(matches!(e, Failure::Insecure { .. }));
        assert_eq!(*calls.borrow(), 0);
    }

    #[test]
    fn the_transient_sandbox_refusal_is_retried_with_longer_waits() {
        let calls = RefCell::new(0);
        let http = |_: &Request<'_>| {
            *calls.borrow_mut() += 1;
            if *calls.borrow() < 3 {
                Ok(Response::new(
                    400,
                    Some("application/json"),
                    r#"{"error_code":"invalid_request","error_description":"User is not a TastyTrade customer"}"#,
                ))
            } else {
                Ok(Response::new(200, None, "{}"))
            }
        };
        let sleep = NoSleep::default();
        let r = send(&http, &sleep, &get(), Policy::Idempotent).unwrap();
        assert_eq!(r.status, 200);
        let delays = sleep.0.borrow();
        assert_eq!(delays.len(), 2);
        assert!(delays[0] >= Duration::from_secs(1) && delays[1] >= Duration::from_secs(2));
    }
}
