//! The legacy plaintext `.secrets` parser. Two oracles on every input:
//! 1. the input as a file: no panic, refusals are usage errors (exit 2) that never repeat
//!    a value, and whatever parses renders (`dotenv::render`) to a file that parses to
//!    exactly the same keys and values, in order;
//! 2. the input as pairs (keys from the dotenv key alphabet, values any string): render
//!    then parse returns them unchanged; `render_sourceable` (export's single-quoted form)
//!    either refuses a value holding `'`, `\`, `${` or a control character, naming only
//!    the key, or writes `KEY='value'` lines that parse back unchanged.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ttvault::dotenv;
use ttvault::Code;

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.";

fn round_trip(pairs: &[(&str, &str)]) {
    let text = dotenv::render(pairs);
    let back = dotenv::parse(text.as_bytes()).expect("a rendered file parses");
    let back: Vec<(&str, &str)> = back.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(pairs, &back[..], "render: {:?}", &*text);

    let unsafe_value = |v: &str| {
        v.contains('\'') || v.contains('\\') || v.contains("${") || v.chars().any(char::is_control)
    };
    match dotenv::render_sourceable(pairs) {
        Ok(text) => {
            assert!(pairs.iter().all(|(_, v)| !unsafe_value(v)));
            for (line, (k, v)) in text.lines().zip(pairs) {
                assert_eq!(line, format!("{k}='{v}'"));
            }
            let back = dotenv::parse(text.as_bytes()).expect("a sourceable file parses");
            let back: Vec<(&str, &str)> =
                back.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(pairs, &back[..]);
        }
        Err(e) => {
            let bad = pairs
                .iter()
                .find(|(_, v)| unsafe_value(v))
                .expect("refused only for a value the readers disagree on");
            assert!(e.message.starts_with(bad.0), "{}", e.message);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match dotenv::parse(data) {
        Ok(pairs) => {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            round_trip(&pairs);
        }
        Err(e) => {
            assert_eq!(e.code, Code::Usage);
            // Errors name lines and keys; a value after `=` is never quoted back. The
            // key a message names is taken out first, and the fuzzer may of course copy
            // our own wording into a value.
            let said = match e.message.strip_prefix("the value of ") {
                Some(rest) => rest
                    .split_once(' ')
                    .map_or("", |(_, tail)| tail)
                    .to_string(),
                None => e.message.clone(),
            };
            if let Ok(text) = std::str::from_utf8(data) {
                for line in text.lines() {
                    if let Some((_, value)) = line.split_once('=') {
                        let value = value.trim().trim_matches(['"', '\'']);
                        let secretish = value.chars().count() > 8
                            && !value.chars().all(|c| c.is_ascii_digit() || c == ' ');
                        if secretish && said.contains(value) {
                            assert!(
                                FIXED_WORDS
                                    .iter()
                                    .any(|w| w.contains(&digits_as_hash(value))),
                                "{}",
                                e.message
                            );
                        }
                    }
                }
            }
        }
    }

    let mut u = Unstructured::new(data);
    let mut pairs: Vec<(String, String)> = Vec::new();
    while !u.is_empty() && pairs.len() < 16 {
        let len = u.int_in_range(1..=12u8).unwrap_or(1);
        let key: String = (0..len)
            .map(|_| char::from(*u.choose(KEY_ALPHABET).unwrap_or(&b'K')))
            .collect();
        let Ok(value) = String::arbitrary(&mut u) else {
            break;
        };
        pairs.push((key, value));
    }
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    round_trip(&pairs);
});

/// Each run of digits (line numbers) as one `#`.
fn digits_as_hash(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

/// The fixed text of dotenv.rs's parse errors (key left out, line numbers as `#`).
const FIXED_WORDS: &[&str] = &[
    "line # of the plaintext file is not KEY=value",
    "(line #) has no closing quote",
    "the plaintext file is not UTF-8 text",
];
