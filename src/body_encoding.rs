//! How a token request's fields go on the wire: a type the token client uses and the
//! vault's payload records (the encoding that worked), kept apart so the payload needs
//! nothing of oauth/.

use serde::{Deserialize, Serialize};

/// How a token request's fields go on the wire. Tastytrade documents JSON for the refresh
/// (its quickstart and tastyware's SDK send it); RFC 6749 says form, which Tastytrade also
/// takes for the code exchange. The one that worked is remembered in the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// `application/json`: an object of string fields.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

impl BodyEncoding {
    pub fn other(self) -> BodyEncoding {
        match self {
            BodyEncoding::Json => BodyEncoding::Form,
            BodyEncoding::Form => BodyEncoding::Json,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            BodyEncoding::Json => "application/json",
            BodyEncoding::Form => "application/x-www-form-urlencoded",
        }
    }

    /// For people: `JSON` or `form`.
    pub fn name(self) -> &'static str {
        match self {
            BodyEncoding::Json => "JSON",
            BodyEncoding::Form => "form",
        }
    }
}
