//! The variables handed to programs by `exec` and printed by `export`, per preset
//! (README "exec" and "export and token"): the short-lived set always, the long-lived set
//! when the vault's choice or the command line asks for it.

use crate::error::Error;
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
    /// Like `Tt`; long-lived `TT_SECRET`, `TT_REFRESH` (the tastyware SDK). Long-lived only.
    Tastyware,
    /// `TASTYTRADE_ACCESS_TOKEN`, `TASTYTRADE_API_BASE_URL` and `TASTYTRADE_API_URL`;
    /// long-lived `TASTYTRADE_*`.
    Tastytrade,
    /// Like `Tt`; long-lived `TT_CLIENT_ID`, `TT_CLIENT_SECRET`, `TT_REFRESH_TOKEN` and
    /// `API_BASE_URL` (Tastytrade's own Python SDK, tastytrade-sdk-python).
    TastytradePython,
    /// Like `Tt`; long-lived `OAUTH_CLIENT_SECRET`, `OAUTH_REFRESH_TOKEN` (Tastytrade's own
    /// JavaScript SDK, tastytrade-api-js).
    TastytradeJs,
}

impl Preset {
    /// Whether the programs this preset serves cannot work from an access token alone.
    /// tastyware's SDK builds its session from the client secret and refresh token and
    /// refreshes by itself; it has no way to take an access token (README "exec").
    pub fn needs_long_lived(self) -> bool {
        self == Preset::Tastyware
    }
}

/// `--preset tastyware` on a run that hands out only an access token: refused before
/// anything starts, because the SDK would fail (12.x+: `KeyError: 'TT_SECRET'`) or, in
/// 10.x, send an empty secret to Tastytrade, a failed login that can get the IP blocked.
pub fn short_lived_tastyware() -> Error {
    // The broker, not --long-lived: the same program runs, and no secret is exposed.
    Error::usage(
        "--preset tastyware needs the long-lived secrets, and this run hands out only an \
         access token",
    )
    .hint(
        "tastyware's SDK reads TT_SECRET and TT_REFRESH and cannot use an access token: add \
         --broker for this run (the SDK gets placeholders and ttvault answers its token \
         requests; no secret reaches it), or record it once with `ttvault set handout broker`",
    )
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
        Preset::Tt | Preset::Tastyware | Preset::TastytradePython | Preset::TastytradeJs => vec![
            var("TT_ACCESS_TOKEN", token, false),
            var("TT_ACCESS_TOKEN_EXPIRES_AT", &expires, false),
            var("TT_API_BASE_URL", c.api_base_url, false),
        ],
        // TASTYTRADE_API_URL is the name tastytrade's own MCP server reads.
        Preset::Tastytrade => vec![
            var("TASTYTRADE_ACCESS_TOKEN", token, false),
            var("TASTYTRADE_API_BASE_URL", c.api_base_url, false),
            var("TASTYTRADE_API_URL", c.api_base_url, false),
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
            // The official Python SDK reads the API's base URL beside its OAuth settings.
            Preset::TastytradePython => vec![
                var("TT_CLIENT_ID", c.client_id, false),
                var("TT_CLIENT_SECRET", secret, true),
                var("TT_REFRESH_TOKEN", refresh, true),
                var("API_BASE_URL", c.api_base_url, false),
            ],
            // The official JavaScript SDK's tests: it takes no client id.
            Preset::TastytradeJs => vec![
                var("OAUTH_CLIENT_SECRET", secret, true),
                var("OAUTH_REFRESH_TOKEN", refresh, true),
            ],
        });
    }
    vars
}

/// Every variable name any preset may set, so `exec` can tell a child nothing it did not ask
/// for: stale values of the other names are removed from the child's environment. Except
/// `API_BASE_URL` (the official Python SDK's): a name too generic to take from programs
/// that use it for something else, and no secret.
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
    "TASTYTRADE_API_URL",
    "TASTYTRADE_CLIENT_ID",
    "TASTYTRADE_CLIENT_SECRET",
    "TASTYTRADE_REFRESH_TOKEN",
    "TT_CLIENT_ID",
    "TT_CLIENT_SECRET",
    "OAUTH_CLIENT_SECRET",
    "OAUTH_REFRESH_TOKEN",
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
            [
                "TASTYTRADE_ACCESS_TOKEN",
                "TASTYTRADE_API_BASE_URL",
                "TASTYTRADE_API_URL"
            ]
        );
        assert_eq!(
            names(Preset::Tastytrade, true)[3..],
            [
                "TASTYTRADE_CLIENT_ID",
                "TASTYTRADE_CLIENT_SECRET",
                "TASTYTRADE_REFRESH_TOKEN"
            ]
        );
        assert_eq!(
            names(Preset::TastytradePython, true)[3..],
            [
                "TT_CLIENT_ID",
                "TT_CLIENT_SECRET",
                "TT_REFRESH_TOKEN",
                "API_BASE_URL"
            ]
        );
        assert_eq!(
            names(Preset::TastytradeJs, true)[3..],
            ["OAUTH_CLIENT_SECRET", "OAUTH_REFRESH_TOKEN"]
        );
        for preset in [
            Preset::Tt,
            Preset::Tastyware,
            Preset::Tastytrade,
            Preset::TastytradePython,
            Preset::TastytradeJs,
        ] {
            let short = names(preset, false);
            assert_eq!(short, names(preset, true)[..short.len()]);
            let long = names(preset, true);
            let generic = |n: &&str| *n == "API_BASE_URL";
            assert!(long
                .iter()
                .filter(|n| !generic(n))
                .all(|n| ALL_NAMES.contains(n)));
        }
    }

    #[test]
    fn only_tastyware_needs_the_long_lived_secrets() {
        assert!(Preset::Tastyware.needs_long_lived());
        assert!(!Preset::Tt.needs_long_lived() && !Preset::Tastytrade.needs_long_lived());
        let err = short_lived_tastyware();
        assert_eq!(err.code, crate::Code::Usage);
        let hint = err.hint.unwrap_or_default();
        assert!(
            hint.contains("TT_SECRET") && hint.contains("--broker") && !hint.contains("--long"),
            "{hint}"
        );
    }
}
