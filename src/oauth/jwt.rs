//! Reading what a token says about itself, WITHOUT verifying it.
//!
//! Tastytrade's refresh tokens are (by community evidence) JWTs whose claims name the
//! client (`aud`) and the scopes. Decoding them unverified is a hint, not proof: it lets
//! ttvault catch a pasted access token or a token of another application before asking
//! Tastytrade, and report scopes. A token that is not a JWT is fine: its claims are
//! simply unknown. Nothing here may panic, whatever the input.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::Value;

/// base64url, with or without padding (JWTs omit it; some encoders do not).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Refuse to decode absurd inputs (a paste of a whole file, say): no token is longer.
const MAX_TOKEN_LEN: usize = super::b64token::MAX_TOKEN_LEN;

/// The claims a scope list may hide in: `scope` (RFC 8693/9068, space separated), `scopes`,
/// and `scp` (Azure, Okta). Tastytrade's name for it is unconfirmed (a public sample shows
/// only `sco…`), so all are read, each as a string or an array.
const SCOPE_CLAIMS: [&str; 3] = ["scope", "scopes", "scp"];

/// What a JWT's header and payload claim. Claim values are not secret (no signature,
/// no key); the token itself is never kept here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// The header's `typ`: `rt+jwt` for Tastytrade refresh tokens, `at+jwt` for access.
    pub typ: Option<String>,
    /// `aud`, a string or an array in the token; the client id for Tastytrade.
    pub aud: Vec<String>,
    /// Every scope any of `scope`, `scopes` or `scp` names (strings split on blanks and
    /// commas, or arrays of them); `None` when the token names no scope claim at all.
    pub scopes: Option<Vec<String>>,
    pub iss: Option<String>,
    pub iat: Option<i64>,
    pub exp: Option<i64>,
}

impl Claims {
    /// The token says it is an access token (`typ` `at+jwt` and the like).
    pub fn is_access_token(&self) -> bool {
        self.typ
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("at+"))
    }

    /// Whether the token was issued to `client_id`; `None` when it names no audience.
    pub fn audience_matches(&self, client_id: &str) -> Option<bool> {
        if self.aud.is_empty() {
            None
        } else {
            Some(self.aud.iter().any(|a| a == client_id))
        }
    }
}

/// Decodes a JWT's header and claims; `None` for anything that is not a JWT.
pub fn decode(token: &str) -> Option<Claims> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (header, payload) = (parts.next()?, parts.next()?);
    // A JWS has exactly three parts (the signature may be empty for `alg: none`). An
    // encrypted JWE (five parts) says nothing readable: unknown, like any opaque token.
    if parts.count() != 1 {
        return None;
    }
    let header = decode_object(header)?;
    let payload = decode_object(payload)?;

    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_string);
    let aud = match payload.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let scopes = scopes_of(&payload);
    Some(Claims {
        typ,
        aud,
        scopes,
        iss: payload
            .get("iss")
            .and_then(Value::as_str)
            .map(str::to_string),
        iat: payload.get("iat").and_then(number),
        exp: payload.get("exp").and_then(number),
    })
}

/// The union of every scope claim: whichever form carries `trade` must be seen.
fn scopes_of(payload: &serde_json::Map<String, Value>) -> Option<Vec<String>> {
    let mut found = false;
    let mut all: Vec<String> = Vec::new();
    let mut add = |text: &str| {
        for s in text.split(|c: char| c.is_whitespace() || c == ',') {
            if !s.is_empty() && !all.iter().any(|x| x == s) {
                all.push(s.to_string());
            }
        }
    };
    for name in SCOPE_CLAIMS {
        match payload.get(name) {
            Some(Value::String(s)) => {
                found = true;
                add(s);
            }
            Some(Value::Array(items)) => {
                found = true;
                items.iter().filter_map(Value::as_str).for_each(&mut add);
            }
            _ => {}
        }
    }
    found.then_some(all)
}

fn decode_object(part: &str) -> Option<serde_json::Map<String, Value>> {
    let bytes = zeroize::Zeroizing::new(B64.decode(part).ok()?);
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// NumericDate: an integer, or a float some issuers write.
fn number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds an unsigned JWT with the given header and claims (test fixture).
    pub fn jwt(header: &str, claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.c2ln", e.encode(header), e.encode(claims))
    }

    #[test]
    fn reads_a_tastytrade_style_refresh_token() {
        let t = jwt(
            r#"{"alg":"ES256","typ":"rt+jwt"}"#,
            r#"{"iss":"https://api.tastyworks.com","aud":"cid-1","scope":"read openid","iat":1700000000}"#,
        );
        let c = decode(&t).unwrap();
        assert_eq!(c.typ.as_deref(), Some("rt+jwt"));
        assert!(!c.is_access_token());
        assert_eq!(c.aud, vec!["cid-1"]);
        assert_eq!(c.audience_matches("cid-1"), Some(true));
        assert_eq!(c.audience_matches("other"), Some(false));
        assert_eq!(
            c.scopes,
            Some(vec!["read".to_string(), "openid".to_string()])
        );
        assert_eq!(c.iat, Some(1_700_000_000));
        assert_eq!(c.exp, None);
    }

    #[test]
    fn an_access_token_is_recognised() {
        let t = jwt(r#"{"typ":"at+jwt"}"#, r#"{"aud":["a","cid"]}"#);
        let c = decode(&t).unwrap();
        assert!(c.is_access_token());
        assert_eq!(c.audience_matches("cid"), Some(true));
    }

    #[test]
    fn scp_arrays_and_padding_are_tolerated() {
        let e = base64::engine::general_purpose::URL_SAFE;
        let t = format!(
            "{}.{}.",
            e.encode(r#"{"typ":"JWT"}"#),
            e.encode(r#"{"scp":["read","trade"],"exp":1.7e9}"#)
        );
        let c = decode(&t).unwrap();
        assert_eq!(
            c.scopes,
            Some(vec!["read".to_string(), "trade".to_string()])
        );
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.audience_matches("x"), None);
    }

    #[test]
    fn every_scope_claim_form_is_read() {
        let scopes = |claims: &str| decode(&jwt(r#"{"typ":"rt+jwt"}"#, claims)).unwrap().scopes;
        let v = |s: &[&str]| Some(s.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(scopes(r#"{"scope":"read trade"}"#), v(&["read", "trade"]));
        assert_eq!(
            scopes(r#"{"scope":["read","trade"]}"#),
            v(&["read", "trade"])
        );
        assert_eq!(scopes(r#"{"scopes":"read,trade"}"#), v(&["read", "trade"]));
        assert_eq!(
            scopes(r#"{"scopes":["read trade"]}"#),
            v(&["read", "trade"])
        );
        assert_eq!(scopes(r#"{"scp":"trade"}"#), v(&["trade"]));
        // Two claims: their union, so `trade` cannot hide in the second.
        assert_eq!(
            scopes(r#"{"scope":"read","scp":["trade"]}"#),
            v(&["read", "trade"])
        );
        // A claim that names nothing is an empty list, not unknown; no claim is unknown.
        assert_eq!(scopes(r#"{"scope":""}"#), v(&[]));
        assert_eq!(scopes(r#"{"scope":1}"#), None);
        assert_eq!(scopes(r#"{"aud":"x"}"#), None);
    }

    #[test]
    fn the_real_sample_shape_is_read() {
        let t = jwt(
            r#"{"alg":"EdDSA","typ":"rt+jwt"}"#,
            r#"{"iss":"https://api.tastytrade.com","sub":"U0001","iat":1700000000,"aud":"3f1b0a4e-5c2d-4f6a-9b8e-7d6c5b4a3f2e","grant_id":"g-1","scopes":["read"]}"#,
        );
        let c = decode(&t).unwrap();
        assert_eq!(c.typ.as_deref(), Some("rt+jwt"));
        assert_eq!(c.iss.as_deref(), Some("https://api.tastytrade.com"));
        assert_eq!(c.scopes, Some(vec!["read".to_string()]));
        assert_eq!(
            c.audience_matches("3f1b0a4e-5c2d-4f6a-9b8e-7d6c5b4a3f2e"),
            Some(true)
        );
    }

    #[test]
    fn arbitrary_input_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let valid = jwt(
            r#"{"typ":"rt+jwt"}"#,
            r#"{"aud":["a"],"scope":"read","iat":1}"#,
        );
        for _ in 0..5_000 {
            // Random bytes, and a valid token with a few bytes changed or cut.
            let len = rng.gen_range(0..200);
            let noise: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let _ = decode(&String::from_utf8_lossy(&noise));
            let mut t = valid.clone().into_bytes();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..t.len());
                t[i] = *b"A_-.=!{}\"/+".get(rng.gen_range(0..12)).unwrap_or(&b'A');
            }
            t.truncate(rng.gen_range(0..=t.len()));
            let _ = decode(&String::from_utf8_lossy(&t));
        }
    }

    #[test]
    fn non_jwts_are_unknown_not_errors() {
        for t in [
            "",
            ".",
            "..",
            "opaque-refresh-token",
            "a.b.c",
            "!!!.???.x",
            "e30.e30",      // two parts only
            "e30.e30.x.y",  // four parts
            "W10.e30.x",    // header is an array
            "e30.bnVsbA.x", // payload is `null`
            "\u{0}\u{ffff}.\u{1F600}.x",
        ] {
            assert_eq!(decode(t), None, "{t:?}");
        }
        assert_eq!(decode("e30.e30.a.b.c"), None); // JWE-shaped
        assert!(decode("e30.e30.").is_some()); // `{}` header and claims: a JWT saying nothing
        assert_eq!(decode(&"e30.".repeat(10_000)), None);
    }
}
