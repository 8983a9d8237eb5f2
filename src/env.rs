//! The variables handed to programs by `exec` and printed by `export`, per preset
//! (README "exec" and "export and token"): the short-lived set always, the long-lived set
//! only on request.

use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use std::time::SystemTime;
use zeroize::Zeroizing;

/// Which variable names a program gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// `TT_ACCESS_TOKEN`, `TT_API_BASE_URL`; long-lived `TT_API_CLIENT_ID`,
    /// `TT_API_CLIENT_SECRET`, `TT_REFRESH_TOKEN`.
    #[default]
    Tt,
    /// Like `Tt`; long-lived `TT_SECRET`, `TT_REFRESH` (the tastyware SDK).
    Tastyware,
    /// `TASTYTRADE_ACCESS_TOKEN`, `TASTYTRADE_API_BASE_URL`; long-lived `TASTYTRADE_*`.
    Tastytrade,
}

/// What a program may be given.
pub struct Credentials<'a> {
    pub access_token: &'a AccessToken,
    pub expires_at: SystemTime,
    pub api_base_url: &'a str,
    pub client_id: &'a str,
    /// The client secret and refresh token, when the program is to get them.
    pub long_lived: Option<(&'a ClientSecret, &'a RefreshToken)>,
}

/// One variable; the value is wiped when dropped.
pub struct Var {
    pub name: &'static str,
    pub value: Zeroizing<String>,
    /// Long-lived secrets (client secret, refresh token) get extra care in `export`.
    pub long_lived_secret: bool,
}

fn var(name: &'static str, value: &str, long_lived_secret: bool) -> Var {
    Var {
        name,
        value: Zeroizing::new(value.to_string()),
        long_lived_secret,
    }
}

/// The variables of `preset`, in a stable order; the long-lived ones when `c` has them.
pub fn variables(preset: Preset, c: &Credentials<'_>) -> Vec<Var> {
    let expires = humantime::format_rfc3339_seconds(c.expires_at).to_string();
    let token = c.access_token.expose();
    let mut vars = match preset {
        Preset::Tt | Preset::Tastyware => vec![
            var("TT_ACCESS_TOKEN", token, false),
            var("TT_ACCESS_TOKEN_EXPIRES_AT", &expires, false),
            var("TT_API_BASE_URL", c.api_base_url, false),
        ],
        Preset::Tastytrade => vec![
            var("TASTYTRADE_ACCESS_TOKEN", token, false),
            var("TASTYTRADE_API_BASE_URL", c.api_base_url, false),
        ],
    };
    if let Some((secret, refresh)) = c.long_lived {
        let secret = secret.expose();
        let refresh = refresh.expose();
        vars.extend(match preset {
            Preset::Tt => vec![
                var("TT_API_CLIENT_ID", c.client_id, false),
                var("TT_API_CLIENT_SECRET", secret, true),
                var("TT_REFRESH_TOKEN", refresh, true),
            ],
            // The tastyware SDK: Session(provider_secret, refresh_token).
            Preset::Tastyware => vec![
                var("TT_SECRET", secret, true),
                var("TT_REFRESH", refresh, true),
            ],
            Preset::Tastytrade => vec![
                var("TASTYTRADE_CLIENT_ID", c.client_id, false),
                var("TASTYTRADE_CLIENT_SECRET", secret, true),
                var("TASTYTRADE_REFRESH_TOKEN", refresh, true),
            ],
        });
    }
    vars
}

/// Every variable name any preset may set, so `exec` can tell a child nothing it did not ask
/// for: stale values of the other names are removed from the child's environment.
pub const ALL_NAMES: &[&str] = &[
    "TT_ACCESS_TOKEN",
    "TT_ACCESS_TOKEN_EXPIRES_AT",
    "TT_API_BASE_URL",
    "TT_API_CLIENT_ID",
    "TT_API_CLIENT_SECRET",
    "TT_REFRESH_TOKEN",
    "TT_SECRET",
    "TT_REFRESH",
    "TASTYTRADE_ACCESS_TOKEN",
    "TASTYTRADE_API_BASE_URL",
    "TASTYTRADE_CLIENT_ID",
    "TASTYTRADE_CLIENT_SECRET",
    "TASTYTRADE_REFRESH_TOKEN",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn names(preset: Preset, long: bool) -> Vec<&'static str> {
        let token = AccessToken::new("at");
        let secret = ClientSecret::new("cs");
        let refresh = RefreshToken::new("rt");
        let c = Credentials {
            access_token: &token,
            expires_at: SystemTime::UNIX_EPOCH,
            api_base_url: "https://api.tastyworks.com",
            client_id: "id",
            long_lived: long.then_some((&secret, &refresh)),
        };
        variables(preset, &c).iter().map(|v| v.name).collect()
    }

    #[test]
    fn presets_match_the_contract() {
        assert_eq!(
            names(Preset::Tt, false),
            [
                "TT_ACCESS_TOKEN",
                "TT_ACCESS_TOKEN_EXPIRES_AT",
                "TT_API_BASE_URL"
            ]
        );
        assert_eq!(
            names(Preset::Tt, true)[3..],
            [
                "TT_API_CLIENT_ID",
                "TT_API_CLIENT_SECRET",
                "TT_REFRESH_TOKEN"
            ]
        );
        assert_eq!(
            names(Preset::Tastyware, true)[3..],
            ["TT_SECRET", "TT_REFRESH"]
        );
        assert_eq!(
            names(Preset::Tastytrade, false),
            ["TASTYTRADE_ACCESS_TOKEN", "TASTYTRADE_API_BASE_URL"]
        );
        assert_eq!(
            names(Preset::Tastytrade, true)[2..],
            [
                "TASTYTRADE_CLIENT_ID",
                "TASTYTRADE_CLIENT_SECRET",
                "TASTYTRADE_REFRESH_TOKEN"
            ]
        );
        for preset in [Preset::Tt, Preset::Tastyware, Preset::Tastytrade] {
            assert!(names(preset, true).iter().all(|n| ALL_NAMES.contains(n)));
        }
    }
}
