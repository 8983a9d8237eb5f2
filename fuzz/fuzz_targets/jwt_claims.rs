//! `jwt::decode` on arbitrary strings, and a structured round trip: a JWT built from
//! fuzzer-chosen claims (typ, aud as a string or an array, any of the scope claims
//! `scope`, `scopes`, `scp` as a string or an array, iss, iat, exp) with base64url, padded
//! or not, decodes to exactly those claims.
//! Oracles: never a panic; decoding ignores surrounding whitespace; a `typ` starting
//! `at+` (any case) ⇔ `is_access_token()`; every built field comes back unchanged; the
//! scopes are the union of every scope claim's words (blanks and commas separate), so a
//! `trade` in any claim is seen.
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use ttvault::oauth::jwt::{decode, Claims};

#[derive(Arbitrary, Debug)]
enum Aud {
    Absent,
    One(String),
    Many(Vec<String>),
}

#[derive(Arbitrary, Debug)]
enum ScopeValue {
    Absent,
    /// Space (or comma) separated.
    Text(String),
    Array(Vec<String>),
}

/// The three claims a scope list may be in.
#[derive(Arbitrary, Debug)]
struct Scope {
    scope: ScopeValue,
    scopes: ScopeValue,
    scp: ScopeValue,
}

#[derive(Arbitrary, Debug)]
struct Built {
    typ: Option<String>,
    /// Force `typ` to start `at+` / `rt+` (the fuzzer rarely finds those by itself).
    prefix: Option<bool>,
    aud: Aud,
    scope: Scope,
    iss: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    padded: bool,
    signature: String,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(String),
    Built(Built),
}

fn check_typ(claims: &Claims) {
    let at = claims
        .typ
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("at+"));
    assert_eq!(claims.is_access_token(), at, "{:?}", claims.typ);
}

fn encode(value: &Value, padded: bool) -> String {
    let bytes = serde_json::to_vec(value).unwrap();
    if padded {
        base64::engine::general_purpose::URL_SAFE.encode(bytes)
    } else {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Raw(text) => {
            let claims = decode(&text);
            if let Some(c) = &claims {
                check_typ(c);
                assert!(text.trim().split('.').count() == 3);
            }
            assert_eq!(decode(&format!(" \n{text}\t ")), claims);
        }
        Input::Built(b) => {
            let typ = match (b.prefix, b.typ) {
                (Some(true), t) => Some(format!("at+{}", t.unwrap_or_default())),
                (Some(false), t) => Some(format!("rt+{}", t.unwrap_or_default())),
                (None, t) => t,
            };
            let mut header = Map::new();
            header.insert("alg".into(), json!("RS256"));
            if let Some(t) = &typ {
                header.insert("typ".into(), json!(t));
            }
            let mut claims = Map::new();
            let aud = match &b.aud {
                Aud::Absent => vec![],
                Aud::One(a) => {
                    claims.insert("aud".into(), json!(a));
                    vec![a.clone()]
                }
                Aud::Many(a) => {
                    claims.insert("aud".into(), json!(a));
                    a.clone()
                }
            };
            let mut scopes: Option<Vec<String>> = None;
            for (name, value) in [
                ("scope", &b.scope.scope),
                ("scopes", &b.scope.scopes),
                ("scp", &b.scope.scp),
            ] {
                let words: Vec<&str> = match value {
                    ScopeValue::Absent => continue,
                    ScopeValue::Text(s) => {
                        claims.insert(name.into(), json!(s));
                        vec![s.as_str()]
                    }
                    ScopeValue::Array(a) => {
                        claims.insert(name.into(), json!(a));
                        a.iter().map(String::as_str).collect()
                    }
                };
                let list = scopes.get_or_insert_with(Vec::new);
                for w in words
                    .iter()
                    .flat_map(|t| t.split(|c: char| c.is_whitespace() || c == ','))
                    .filter(|w| !w.is_empty())
                {
                    if !list.iter().any(|x| x == w) {
                        list.push(w.to_string());
                    }
                }
            }
            if let Some(iss) = &b.iss {
                claims.insert("iss".into(), json!(iss));
            }
            if let Some(iat) = b.iat {
                claims.insert("iat".into(), json!(iat));
            }
            if let Some(exp) = b.exp {
                claims.insert("exp".into(), json!(exp));
            }
            // The signature part is never decoded: anything without a dot.
            let sig = b.signature.replace('.', "");
            let token = format!(
                "{}.{}.{}",
                encode(&Value::Object(header), b.padded),
                encode(&Value::Object(claims), b.padded),
                sig.trim()
            );
            let decoded = decode(&token);
            if token.trim().len() > ttvault::oauth::b64token::MAX_TOKEN_LEN {
                assert_eq!(decoded, None, "over the length cap");
                return;
            }
            let decoded = decoded.expect("a well-formed JWT decodes");
            check_typ(&decoded);
            let trade = scopes.as_ref().is_some_and(|s| s.iter().any(|x| x == "trade"));
            assert_eq!(
                decoded.scopes.as_ref().is_some_and(|s| s.iter().any(|x| x == "trade")),
                trade,
                "trade in any claim is seen"
            );
            let expected = Claims {
                typ: typ.clone(),
                aud,
                scopes,
                iss: b.iss,
                iat: b.iat,
                exp: b.exp,
            };
            assert_eq!(decoded, expected);
            if typ.is_some_and(|t| t.starts_with("at+")) {
                assert!(decoded.is_access_token());
            }
        }
    }
});
