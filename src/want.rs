//! What a command wants of a grant: whether the long-lived secrets too ([`Secrets`]),
//! and how fresh the access token ([`Freshness`]). Shared by the session (the one way to
//! a grant) and the agent, which therefore need nothing of each other.
//!
//! `--min-ttl`: the least life a handed-out access token has left. SDKs refresh on their
//! own when their token has under a minute left, which fails without the long-lived
//! secrets; a floor of a few minutes keeps a short program from ever reaching that point.

use crate::error::{Error, Result};
use std::time::Duration;

/// Tastytrade's access tokens live 15 minutes (docs/OAUTH.md); a floor above that can
/// never be met.
pub const MAX_MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// The default floor, as clap reads it.
pub const DEFAULT_MIN_TTL: &str = "5m";

/// `--min-ttl`: a duration of at most [`MAX_MIN_TTL`] (zero allowed: any unexpired
/// token). The text is clap's error message (exit 2), shown before anything is done.
pub fn parse_min_ttl(text: &str) -> std::result::Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 0s, 90s, 5m)"))?;
    if d > MAX_MIN_TTL {
        return Err(
            "at most 15m: Tastytrade's access tokens live 15 minutes, so no token could have more left"
                .into(),
        );
    }
    Ok(d)
}

/// Whether a caller needs the grant's secrets, or only an access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    /// An access token and the public fields are enough.
    Withheld,
    /// The client secret and refresh token too (`--long-lived`, `audit`).
    Included,
}

/// What a caller needs of the access token it is handed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Freshness {
    /// At least this much life left when handed out.
    pub min_ttl: Duration,
    /// A token refreshed after the request was made (`audit`, `api` after a 401).
    pub fresh: bool,
}

impl Freshness {
    pub fn at_least(min_ttl: Duration) -> Self {
        Freshness {
            min_ttl,
            fresh: false,
        }
    }

    pub fn fresh() -> Self {
        Freshness {
            min_ttl: Duration::ZERO,
            fresh: true,
        }
    }
}

/// The refusal when the endpoint's tokens live less than the floor asked for (a custom
/// endpoint can issue shorter tokens than Tastytrade's 15 minutes).
pub fn longer_than_lifetime(min_ttl: Duration, lifetime: Duration) -> Error {
    Error::usage(format!(
        "--min-ttl {} is longer than the access tokens' whole lifetime ({}); no token can have that much left",
        humantime::format_duration(min_ttl),
        humantime::format_duration(lifetime)
    ))
    .hint("pass a smaller --min-ttl (e.g. --min-ttl 0s for any unexpired token)")
}

/// Checks a token just minted by this process: its whole life must cover the floor.
pub fn check_minted(min_ttl: Duration, lifetime: Duration) -> Result<()> {
    if lifetime < min_ttl {
        return Err(longer_than_lifetime(min_ttl, lifetime));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_bounded_by_tastytrades_token_lifetime() {
        assert_eq!(parse_min_ttl("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_min_ttl("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_min_ttl("15m"), Ok(MAX_MIN_TTL));
        assert!(parse_min_ttl("16m").unwrap_err().contains("15"));
        assert!(parse_min_ttl("10000years").is_err());
        assert!(parse_min_ttl("soon").is_err());
        let e = check_minted(Duration::from_secs(120), Duration::from_secs(60)).unwrap_err();
        assert_eq!(e.code, crate::error::Code::Usage);
        assert!(check_minted(Duration::from_secs(60), Duration::from_secs(60)).is_ok());
    }
}
