//! Arbitrary API answers through `ttvault api`'s readers: the first byte picks the status
//! (200, 401, 404, 429, 503, 302, 403, 204) and the page offset asked for (0–31); the rest
//! is the body, answered by a closure `Transport` to `Api::call` with `retry::NoWait`.
//! Oracles: never a panic; at most two tokens (one fresh after a JSON 401) and at most 4
//! attempts per token; an accepted answer is 2xx with an empty or strictly JSON body; an
//! error is exit 1 (a 4xx carrying the API's `error` object), 4 (a JSON 401 twice) or 5;
//! no message shows a control character, the bearer token, or a whole account number of
//! the path; `pagination::next` only ever moves to the next offset, below `total-pages` and
//! `MAX_PAGES`; the piped body is the bytes as received, and the terminal body holds no
//! control character but newline and tab.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use ttvault::api::call::{Api, Tokens};
use ttvault::api::output::{self, Style};
use ttvault::api::pagination::{self, Next, MAX_PAGES};
use ttvault::oauth::http::{Request, Response, TransportError};
use ttvault::api::Method;
use ttvault::oauth::retry::NoWait;
use ttvault::secret::AccessToken;
use ttvault::Code;

const TOKEN: &str = "at-eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9";
const ACCOUNT: &str = "5WT00001";

struct Counted(u32);

impl Tokens for Counted {
    fn access_token(&mut self, fresh: bool) -> ttvault::Result<AccessToken> {
        if fresh {
            self.0 += 1;
        }
        Ok(AccessToken::new(TOKEN))
    }
}

fn clean(text: &str) {
    assert!(!text.chars().any(char::is_control), "control character: {text:?}");
    assert!(!text.contains(TOKEN), "the token: {text}");
    assert!(!text.contains(ACCOUNT), "a whole account number: {text}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = [200, 401, 404, 429, 503, 302, 403, 204][usize::from(first & 7)];
    let asked = u64::from(first >> 3);
    let json_type = first & 0x80 != 0;
    let attempts = Cell::new(0u32);
    let transport = |r: &Request<'_>| -> Result<Response, TransportError> {
        attempts.set(attempts.get() + 1);
        assert_eq!(r.bearer.map(|b| b.expose()), Some(TOKEN));
        let ct = if json_type { "application/json" } else { "text/html" };
        let mut response = Response::new(status, Some(ct), body.to_vec());
        if status == 302 {
            response
                .headers
                .push(("location".into(), String::from_utf8_lossy(body).into_owned()));
        }
        Ok(response)
    };
    let mut tokens = Counted(0);
    let url = url::Url::parse(&format!(
        "https://api.tastyworks.com/accounts/{ACCOUNT}/transactions?page-offset={asked}"
    ))
    .unwrap();
    let result = Api {
        transport: &transport,
        sleep: &NoWait,
        tokens: &mut tokens,
        report: &ttvault::output::Quiet,
    }
    .call(Method::Get, &url);
    assert!(tokens.0 <= 1, "more than one fresh token");
    assert!(attempts.get() <= 4 * (tokens.0 + 1), "too many attempts");
    match &result {
        Ok(r) => {
            assert!((200..300).contains(&r.status));
            let blank = body.iter().all(u8::is_ascii_whitespace);
            // Strict JSON in UTF-8; serde_json's Value refuses only numbers past f64 range,
            // which RFC 8259 allows.
            let text = std::str::from_utf8(body).expect("an accepted body is UTF-8");
            let strict = match serde_json::from_str::<serde_json::Value>(text) {
                Ok(_) => true,
                Err(e) => e.to_string().starts_with("number out of range"),
            };
            assert!(blank || strict, "accepted a body that is not JSON");
        }
        Err(e) => {
            match e.code {
                Code::Failure => {
                    assert!((400..500).contains(&status) && status != 429);
                    assert!(ttvault::api::errors::api_error(body).is_some());
                }
                Code::Grant => assert!(status == 401 && tokens.0 == 1),
                Code::Network => {}
                other => panic!("exit status {other:?}"),
            }
            clean(&e.message);
            if let Some(hint) = &e.hint {
                clean(hint);
            }
        }
    }

    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        match pagination::next(asked, &value) {
            Ok(Next::Page(n)) => {
                let at = pagination::position(&value).unwrap().unwrap();
                assert_eq!(n, asked + 1);
                assert!(n < at.total_pages && at.total_pages <= MAX_PAGES);
            }
            Ok(Next::Done) | Err(_) => {}
        }
    }

    let mut piped = Vec::new();
    output::body(&mut piped, Style { terminal: false }, body).unwrap();
    assert_eq!(piped, body);
    let mut shown = Vec::new();
    output::body(&mut shown, Style { terminal: true }, body).unwrap();
    let shown = String::from_utf8_lossy(&shown);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
        "a control character reaches the terminal"
    );
});
