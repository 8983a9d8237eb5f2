//! JWT-shaped tokens. Tastytrade's refresh tokens are JWTs (`typ` `rt+jwt`) and clients peek at
//! their claims for hints such as `scope`; the stand-in issues the same shape so that code path
//! is exercised. The signature is real HMAC-SHA256 with a per-server key, but nothing relies on
//! it: the stand-in looks tokens up in its own tables, and clients never verify signatures.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// `base64url(header).base64url(claims).base64url(HMAC-SHA256(key, first two parts))`.
pub fn sign(key: &[u8], typ: &str, claims: &Value) -> String {
    sign_with_header(
        key,
        &serde_json::json!({ "alg": "HS256", "typ": typ }),
        claims,
    )
}

/// The same with a header of the caller's choosing (refresh tokens copy a real one's
/// `EdDSA` header; the signature stays HMAC, which nobody verifies).
pub fn sign_with_header(key: &[u8], header: &Value, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty MAC rather
    // than panic if the hmac crate ever changed that.
    let signature = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Decodes a token's header and claims without checking anything, as a client would.
/// For tests and diagnostics only.
pub fn decode_unverified(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let header = parts.next()?;
    let claims = parts.next()?;
    parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?;
    Some((header, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_decodes() {
        let token = sign(b"key", "rt+jwt", &serde_json::json!({ "scope": "read" }));
        let (header, claims) = decode_unverified(&token).unwrap();
        assert_eq!(header["typ"], "rt+jwt");
        assert_eq!(header["alg"], "HS256");
        assert_eq!(claims["scope"], "read");
        // Same input and key, same token; another key, another signature.
        assert_eq!(
            token,
            sign(b"key", "rt+jwt", &serde_json::json!({ "scope": "read" }))
        );
        assert_ne!(
            token,
            sign(b"other", "rt+jwt", &serde_json::json!({ "scope": "read" }))
        );
    }

    #[test]
    fn garbage_does_not_decode() {
        assert!(decode_unverified("abc").is_none());
        assert!(decode_unverified("a.b.c").is_none());
        assert!(decode_unverified("a.b.c.d").is_none());
    }
}
