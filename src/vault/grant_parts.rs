//! The payload split in two for whoever hands the grant on (a session, the agent's
//! replies): its public fields, and its long-lived secrets, which travel only when asked
//! for (they are what `--long-lived` hands to a program).

use crate::endpoints::Environment;
use crate::secret::{ClientSecret, RefreshToken};
use crate::vault::{Handout, Payload};
use serde::{Deserialize, Serialize};

/// The grant's fields that are not secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrantInfo {
    /// The version of the vault document the grant was read from.
    pub payload_version: u32,
    pub client_id: String,
    pub environment: Environment,
    /// The scopes requested when the grant was made.
    pub scopes: Vec<String>,
    pub redirect_uri: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub rotated_at: Option<String>,
    /// The vault's recipient slots (public keys).
    pub recipients: Vec<String>,
    /// The vault's recorded choice of what programs get by default.
    #[serde(default)]
    pub handout: Handout,
    /// When `import` took the grant from a plaintext file (RFC 3339, UTC).
    #[serde(default)]
    pub imported_at: Option<String>,
}

impl GrantInfo {
    pub fn of(payload: &Payload) -> Self {
        GrantInfo {
            payload_version: payload.version,
            client_id: payload.client_id.clone(),
            environment: payload.environment.clone(),
            scopes: payload.scopes.clone(),
            redirect_uri: payload.redirect_uri.clone(),
            created_at: payload.created_at.clone(),
            rotated_at: payload.rotated_at.clone(),
            recipients: payload.recipients.clone(),
            handout: payload.handout,
            imported_at: payload.imported_at.clone(),
        }
    }
}

/// The grant's long-lived secrets.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrantSecrets {
    pub client_secret: ClientSecret,
    pub refresh_token: RefreshToken,
}

impl GrantSecrets {
    pub fn of(payload: &Payload) -> Self {
        GrantSecrets {
            client_secret: payload.client_secret.clone(),
            refresh_token: payload.refresh_token.clone(),
        }
    }
}
