//! Arbitrary bodies as the 200 answer to `GET /customers/me/accounts`, through
//! `api::accounts_with` with a closure `Http` and `retry::NoWait`.
//! Oracles: never a panic; the request is a GET with the bearer token and no form; a
//! refusal is exit status 5; every account number returned is a JSON string value of
//! the body (so also verbatim in it, once JSON-escaped); `mask()` of every returned
//! number, and of the input as text, shows at most its last 4 characters (at most half
//! of a short one, anything but letters, digits and `-` as `?`) and never panics, whatever
//! the Unicode; nicknames and authority levels hold no control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::oauth::accounts::{accounts_with, mask};
use ttvault::oauth::http::{Method, Request, Response, TransportError};
use ttvault::oauth::retry::NoWait;
use ttvault::secret::AccessToken;
use ttvault::Code;

const API: &str = "https://api.cert.tastyworks.com";

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn check_mask(number: &str) {
    let masked = mask(number);
    let tail = masked
        .strip_prefix("••••")
        .expect("a mask starts with the dots");
    let kept: Vec<char> = number.trim().chars().collect();
    let shown = tail.chars().count();
    assert!(shown <= 4, "mask shows {shown} characters");
    assert!(2 * shown <= kept.len(), "mask shows most of a short number");
    // Shown characters are the number's own, or `?` for anything but letters, digits, `-`.
    let tail_chars: Vec<char> = tail.chars().collect();
    let own = &kept[kept.len() - shown..];
    for (t, n) in tail_chars.iter().zip(own) {
        let plain = n.is_ascii_alphanumeric() || *n == '-';
        assert_eq!(*t, if plain { *n } else { '?' }, "mask shows other characters");
    }
}

fuzz_target!(|data: &[u8]| {
    let token = AccessToken::new("at-eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9");
    let calls = std::cell::Cell::new(0u32);
    let http = |req: &Request<'_>| -> Result<Response, TransportError> {
        calls.set(calls.get() + 1);
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.url, format!("{API}/customers/me/accounts"));
        assert!(req.bearer.is_some_and(|b| b.expose() == token.expose()));
        assert!(req.fields.is_empty());
        Ok(Response::new(200, Some("application/json"), data.to_vec()))
    };
    match accounts_with(&http, &NoWait, API, &token) {
        Ok(list) => {
            let value: serde_json::Value =
                serde_json::from_slice(data).expect("an accepted account list is JSON");
            let mut values = Vec::new();
            strings(&value, &mut values);
            for account in &list {
                let n = &account.account_number;
                assert!(values.contains(n), "an account number not in the body");
                let escaped = serde_json::to_string(n).unwrap();
                // Verbatim when the body wrote it the plain way serde writes it.
                if !data.contains(&b'\\') {
                    let raw = String::from_utf8_lossy(data);
                    assert!(raw.contains(escaped.as_str()));
                }
                check_mask(n);
                for text in [&account.nickname, &account.authority_level]
                    .into_iter()
                    .flatten()
                {
                    assert!(!text.chars().any(char::is_control), "{text:?}");
                }
                let debug = format!("{account:?}");
                let named =
                    |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains(n.as_str()));
                if n.trim().chars().count() > 4
                    && !named(&account.nickname)
                    && !named(&account.authority_level)
                {
                    assert!(!debug.contains(n.as_str()), "Debug shows a whole number");
                }
            }
        }
        Err(e) => assert_eq!(e.code, Code::Network, "{}", e.message),
    }
    assert_eq!(calls.get(), 1, "a 200 is not retried");
    check_mask(&String::from_utf8_lossy(data));
});
