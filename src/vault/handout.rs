//! What programs run by `exec` (and printed by `export`) get by default, as the vault
//! records it (`handout` in the payload, docs/FORMAT.md). Vaults written before the
//! setting existed recorded a boolean `long_lived`; [`Handout::from_legacy`] reads it.

use serde::{Deserialize, Serialize};

/// The vault's recorded hand-out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Handout {
    /// Only the short-lived variables (access token, its expiry, the API base URL). What a
    /// vault without the setting meant.
    #[default]
    Tokens,
    /// The short-lived variables, placeholders under the long-lived names, and ttvault's
    /// broker as the program's HTTPS proxy (`exec` only; docs/BROKER.md).
    Broker,
    /// The real client secret and refresh token too.
    LongLived,
}

impl Handout {
    /// Every value, in the order the question at init lists them.
    pub const ALL: [Handout; 3] = [Handout::Tokens, Handout::Broker, Handout::LongLived];

    /// The word the vault, `set handout` and `--json` use.
    pub fn name(self) -> &'static str {
        match self {
            Handout::Tokens => "tokens",
            Handout::Broker => "broker",
            Handout::LongLived => "long-lived",
        }
    }

    pub fn parse(word: &str) -> Option<Handout> {
        Self::ALL.into_iter().find(|h| h.name() == word)
    }

    /// A vault from before `handout`: `long_lived: true` meant the secrets, absent or
    /// false meant the access token only.
    pub fn from_legacy(long_lived: bool) -> Handout {
        if long_lived {
            Handout::LongLived
        } else {
            Handout::Tokens
        }
    }

    pub fn is_tokens(&self) -> bool {
        *self == Handout::Tokens
    }

    /// One line for `show`: what a program gets, and how to change it.
    pub fn describe(self) -> &'static str {
        match self {
            Handout::Tokens => "access token only (tokens)",
            Handout::Broker => {
                "access token, placeholders and ttvault's broker for SDK refreshes (broker)"
            }
            Handout::LongLived => "access token, client secret and refresh token (long-lived)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_legacy_values_keep_their_meaning() {
        for h in Handout::ALL {
            assert_eq!(Handout::parse(h.name()), Some(h));
            let json = serde_json::to_string(&h).unwrap();
            assert_eq!(json, format!("\"{}\"", h.name()));
        }
        assert_eq!(Handout::parse("long_lived"), None);
        assert_eq!(Handout::from_legacy(true), Handout::LongLived);
        assert_eq!(Handout::from_legacy(false), Handout::Tokens);
    }
}
