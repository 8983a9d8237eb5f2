//! The document inside the vault: a small versioned JSON object. Version 1 is the only
//! one; a vault written by a newer ttvault is refused with a clear message, never
//! misread. Unknown fields are ignored so minor additions stay readable.

use super::handout::Handout;
use crate::body_encoding::BodyEncoding;
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::secret::{ClientSecret, RefreshToken};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub version: u32,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub refresh_token: RefreshToken,
    pub environment: Environment,
    /// The scopes requested when the grant was made (space-separated on the wire).
    pub scopes: Vec<String>,
    /// The redirect URI registered on the grant (needed again by `rotate`).
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    #[serde(default)]
    pub rotated_at: Option<String>,
    /// Public recipients (age X25519 / SSH) the vault is encrypted to besides the
    /// passphrase, kept so every rewrite keeps the same slots.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// The body encoding the token endpoint accepted for a refresh (`json` or `form`), so
    /// later refreshes need no second try. Absent in older vaults: the host's default.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_encoding"
    )]
    pub token_encoding: Option<BodyEncoding>,
    /// What programs run by `exec` (and `export`) get by default (README "exec"). Written
    /// only when not `tokens`, so a tokens-only vault's document is what it always was.
    #[serde(default, skip_serializing_if = "Handout::is_tokens")]
    pub handout: Handout,
    /// The boolean older vaults recorded instead (`true`: long-lived); read, folded into
    /// `handout` by [`Payload::from_bytes`], never written.
    #[serde(default, rename = "long_lived", skip_serializing)]
    legacy_long_lived: bool,
    /// RFC 3339, UTC: when `import` took the grant from a plaintext file (the grant sat
    /// unencrypted on disk before, so `audit` asks for a re-created one). `None` for a
    /// grant made by `init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_at: Option<String>,
}

impl Payload {
    /// A new payload, timestamped now.
    pub fn new(
        client_id: String,
        client_secret: ClientSecret,
        refresh_token: RefreshToken,
        environment: Environment,
        scopes: Vec<String>,
    ) -> Self {
        Payload {
            version: VERSION,
            client_id,
            client_secret,
            refresh_token,
            environment,
            scopes,
            redirect_uri: None,
            created_at: now_rfc3339(),
            rotated_at: None,
            recipients: Vec::new(),
            token_encoding: None,
            handout: Handout::Tokens,
            legacy_long_lived: false,
            imported_at: None,
        }
    }

    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        // Serializing plain data with string keys cannot fail.
        Zeroizing::new(serde_json::to_vec_pretty(self).unwrap_or_default())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Versioned {
            version: Option<u64>,
            handout: Option<serde_json::Value>,
        }
        let damaged = || {
            Error::vault("the vault decrypted, but its contents are not a ttvault document")
                .hint("the file was encrypted by something else; restore a backup or run `ttvault init --force`")
        };
        // serde would also accept a JSON array for a struct; the format is an object.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(damaged());
        }
        let versioned: Versioned = serde_json::from_slice(bytes).map_err(|_| damaged())?;
        match versioned.version {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(Error::vault(format!(
                    "the vault holds a version {v} document; this ttvault reads version {VERSION}"
                ))
                .hint("upgrade ttvault to open it"))
            }
            None => return Err(damaged()),
        }
        let recorded = match &versioned.handout {
            None => None,
            Some(value) => Some(known_handout(value)?),
        };
        // serde_json's error text can quote input, so it is not shown.
        let mut payload: Payload = serde_json::from_slice(bytes).map_err(|_| damaged())?;
        payload.handout =
            recorded.unwrap_or_else(|| Handout::from_legacy(payload.legacy_long_lived));
        payload.legacy_long_lived = false;
        payload.check()?;
        Ok(payload)
    }

    fn check(&self) -> Result<()> {
        let missing = [
            ("client id", self.client_id.is_empty()),
            ("client secret", self.client_secret.expose().is_empty()),
            ("refresh token", self.refresh_token.expose().is_empty()),
        ];
        for (name, empty) in missing {
            if empty {
                return Err(Error::vault(format!("the vault's {name} is empty")).hint(
                    "run `ttvault rotate` or `ttvault init --force` to store a complete grant",
                ));
            }
        }
        let stamps = [self.rotated_at.as_ref(), self.imported_at.as_ref()];
        for ts in std::iter::once(&self.created_at).chain(stamps.into_iter().flatten()) {
            humantime::parse_rfc3339(ts)
                .map_err(|_| Error::vault("the vault holds a malformed timestamp"))?;
        }
        Ok(())
    }
}

/// The recorded hand-out, or a clear error for a value this ttvault does not know (a
/// newer one wrote it): guessing could hand a program more than the user chose.
fn known_handout(value: &serde_json::Value) -> Result<Handout> {
    let word = value.as_str().unwrap_or("");
    Handout::parse(word).ok_or_else(|| {
        // Shown only when it looks like a setting's name: the file is not echoed.
        let shown = if !word.is_empty()
            && word.len() <= 24
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            format!(" \"{word}\"")
        } else {
            String::new()
        };
        Error::vault(format!(
            "the vault records a hand-out{shown} this ttvault does not know (tokens, broker \
             or long-lived)"
        ))
        .hint("a newer ttvault wrote it: upgrade ttvault to open this vault")
    })
}

/// A remembered encoding this ttvault does not know (written by a newer one) is only a
/// hint lost, never a vault that will not open.
fn lenient_encoding<'de, D>(deserializer: D) -> std::result::Result<Option<BodyEncoding>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Payload {
        Payload::new(
            "cid".into(),
            ClientSecret::new("csecret"),
            RefreshToken::new("rtoken"),
            Environment::Production,
            vec!["read".into()],
        )
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let back = Payload::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(back.client_id, "cid");
        assert_eq!(back.client_secret.expose(), "csecret");
        assert_eq!(back.refresh_token.expose(), "rtoken");
        assert_eq!(back.environment, Environment::Production);
    }

    #[test]
    fn the_token_encoding_is_kept_and_old_vaults_still_open() {
        let mut p = sample();
        let old = String::from_utf8(p.to_bytes().to_vec()).unwrap();
        assert!(!old.contains("token_encoding"), "absent unless known");
        assert_eq!(
            Payload::from_bytes(old.as_bytes()).unwrap().token_encoding,
            None
        );
        p.token_encoding = Some(BodyEncoding::Json);
        let back = Payload::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(back.token_encoding, Some(BodyEncoding::Json));
        // A value from a newer ttvault is not fatal either: the host's default is used.
        let odd = String::from_utf8(p.to_bytes().to_vec())
            .unwrap()
            .replace("\"json\"", "\"cbor\"");
        assert_eq!(
            Payload::from_bytes(odd.as_bytes()).unwrap().token_encoding,
            None
        );
    }

    #[test]
    fn the_handout_and_import_date_are_kept_and_old_vaults_mean_what_they_meant() {
        let mut p = sample();
        let doc = String::from_utf8(p.to_bytes().to_vec()).unwrap();
        assert!(!doc.contains("handout") && !doc.contains("imported_at"));
        let back = Payload::from_bytes(doc.as_bytes()).unwrap();
        assert_eq!(back.handout, Handout::Tokens, "no setting: tokens only");
        assert_eq!(back.imported_at, None);
        // Vaults from before `handout` recorded `long_lived`.
        let legacy = doc.replacen('{', "{\"long_lived\": true,", 1);
        let back = Payload::from_bytes(legacy.as_bytes()).unwrap();
        assert_eq!(back.handout, Handout::LongLived);
        let rewritten = String::from_utf8(back.to_bytes().to_vec()).unwrap();
        assert!(
            rewritten.contains("\"handout\": \"long-lived\""),
            "{rewritten}"
        );
        assert!(
            !rewritten.contains("long_lived"),
            "the old field is not written"
        );
        for h in Handout::ALL {
            p.handout = h;
            assert_eq!(Payload::from_bytes(&p.to_bytes()).unwrap().handout, h);
        }
        p.imported_at = Some("2025-01-02T03:04:05Z".into());
        let back = Payload::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(back.imported_at.as_deref(), Some("2025-01-02T03:04:05Z"));
        p.imported_at = Some("yesterday".into());
        assert_eq!(
            Payload::from_bytes(&p.to_bytes()).unwrap_err().code,
            crate::Code::Vault
        );
    }

    #[test]
    fn an_unknown_handout_is_named_and_never_guessed() {
        let mut p = sample();
        p.handout = Handout::Broker;
        let doc = String::from_utf8(p.to_bytes().to_vec()).unwrap();
        let newer = doc.replace("\"broker\"", "\"enclave\"");
        let err = Payload::from_bytes(newer.as_bytes()).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.message.contains("\"enclave\""), "{}", err.message);
        assert!(err.hint.unwrap_or_default().contains("upgrade"));
        let odd = doc.replace("\"broker\"", "\"x secret value\"");
        let err = Payload::from_bytes(odd.as_bytes()).unwrap_err();
        assert!(!err.message.contains("secret"), "{}", err.message);
    }

    #[test]
    fn newer_version_is_named() {
        let text = String::from_utf8(sample().to_bytes().to_vec()).unwrap();
        let v2 = text.replace("\"version\": 1", "\"version\": 2");
        let err = Payload::from_bytes(v2.as_bytes()).unwrap_err();
        assert_eq!(err.code, crate::Code::Vault);
        assert!(err.message.contains("version 2"), "{}", err.message);
    }

    #[test]
    fn garbage_is_a_vault_error_without_echo() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"version\":1}",
            b"{\"version\":\"x-secret\"}",
        ] {
            let err = Payload::from_bytes(bad).unwrap_err();
            assert_eq!(err.code, crate::Code::Vault);
            assert!(!err.message.contains("x-secret"));
        }
    }
}
