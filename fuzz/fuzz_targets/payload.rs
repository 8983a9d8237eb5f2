//! Arbitrary bytes into `Payload::from_bytes`, the reader of the decrypted document.
//! Never a panic; every refusal is exit status 3; what parses survives `to_bytes` →
//! `from_bytes` unchanged (compared as serialized bytes); and no error message or hint
//! repeats a string value of the input longer than 8 characters (values are secrets).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::vault::Payload;
use ttvault::Code;

/// Every string value in a JSON document, at any depth, and every object key.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                strings(x, out);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    match Payload::from_bytes(data) {
        Ok(p) => {
            let bytes = p.to_bytes();
            let again = Payload::from_bytes(&bytes).expect("a serialized payload parses");
            assert_eq!(&bytes[..], &again.to_bytes()[..]);
            assert_eq!(again.version, ttvault::vault::payload::VERSION);
        }
        Err(e) => {
            assert_eq!(e.code, Code::Vault);
            let mut values = Vec::new();
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
                strings(&v, &mut values);
            }
            // Raw text too, for inputs that are not JSON at all.
            if let Ok(text) = std::str::from_utf8(data) {
                values.extend(
                    text.split(|c: char| !c.is_alphanumeric())
                        .map(str::to_string),
                );
            }
            let said = format!("{}\n{}", e.message, e.hint.as_deref().unwrap_or(""));
            // Numbers (the version) are not secrets; text is.
            let secretish =
                |v: &&String| v.chars().count() > 8 && !v.chars().all(|c| c.is_ascii_digit());
            for v in values.iter().filter(secretish) {
                // Our own fixed wording may of course appear in an input too.
                if said.contains(v.as_str()) {
                    assert!(
                        FIXED_WORDS.iter().any(|w| w.contains(&digits_as_hash(v))),
                        "error echoes an input value: {said:?}"
                    );
                }
            }
        }
    }
});

/// Each run of digits (the version) as one `#`.
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

/// The fixed text of payload.rs's messages and hints, numbers as `#`.
const FIXED_WORDS: &[&str] = &[
    "the vault decrypted, but its contents are not a ttvault document",
    "the file was encrypted by something else; restore a backup or run `ttvault init --force`",
    "the vault holds a version # document; this ttvault reads version #",
    "upgrade ttvault to open it",
    "the vault's client id is empty",
    "the vault's client secret is empty",
    "the vault's refresh token is empty",
    "run `ttvault rotate` or `ttvault init --force` to store a complete grant",
    "the vault holds a malformed timestamp",
];
