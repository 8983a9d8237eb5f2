//! Newtypes for every secret ttvault handles. Each one zeroizes its memory on drop, has
//! a redacted `Debug`, and no `Display`, so a secret cannot reach a log line or an error
//! message by accident: reading one takes an explicit `.expose()`.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! secret_string {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(SecretString::from(value.into()))
            }
            /// The secret itself. Every call site is a place a secret leaves this type.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
            /// Constant-time equality, for states, confirmations and tokens.
            pub fn ct_eq(&self, other: &Self) -> bool {
                ct_eq(self.expose().as_bytes(), other.expose().as_bytes())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([REDACTED])"))
            }
        }

        // Serialization exists only to build the vault's plaintext payload and the agent's
        // replies, which are themselves held in zeroizing buffers.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.expose())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let mut value = String::deserialize(d)?;
                let secret = $name::new(value.as_str());
                zeroize::Zeroize::zeroize(&mut value);
                Ok(secret)
            }
        }
    )*};
}

secret_string! {
    /// The vault passphrase.
    Passphrase,
    /// The OAuth client secret, shown once on tastytrade.com.
    ClientSecret,
    /// The long-lived refresh token of the grant.
    RefreshToken,
    /// A 15-minute access token.
    AccessToken,
    /// The authorization code from the browser callback.
    AuthCode,
    /// The PKCE code verifier.
    PkceVerifier,
    /// The OAuth `state` (and the form's CSRF token).
    OAuthState,
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let values = [
            format!("{:?}", Passphrase::new("hunter2-pass")),
            format!("{:?}", ClientSecret::new("hunter2-pass")),
            format!("{:?}", RefreshToken::new("hunter2-pass")),
            format!("{:?}", AccessToken::new("hunter2-pass")),
            format!("{:?}", AuthCode::new("hunter2-pass")),
            format!("{:?}", PkceVerifier::new("hunter2-pass")),
            format!("{:?}", OAuthState::new("hunter2-pass")),
            format!("{:?}", Some(ClientSecret::new("hunter2-pass"))),
        ];
        for v in values {
            assert!(!v.contains("hunter2"), "{v}");
            assert!(v.contains("REDACTED"), "{v}");
        }
    }

    #[test]
    fn constant_time_compare_is_exact() {
        assert!(OAuthState::new("abc").ct_eq(&OAuthState::new("abc")));
        assert!(!OAuthState::new("abc").ct_eq(&OAuthState::new("abd")));
        assert!(!OAuthState::new("abc").ct_eq(&OAuthState::new("abcd")));
        assert!(!ct_eq(b"", b"x"));
    }

    #[test]
    fn serde_round_trip_keeps_the_value() {
        let json = serde_json::to_string(&RefreshToken::new("r\"t")).unwrap();
        let back: RefreshToken = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), "r\"t");
    }
}
