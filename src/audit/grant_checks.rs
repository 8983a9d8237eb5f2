//! Checks on the grant: endpoints, scopes (requested and in the token), its age, and the
//! live probes (a refresh, the account list).

use super::Report;
use crate::endpoints::Environment;
use crate::error::{Code, Error};
use crate::oauth::{self, jwt, Http};
use crate::secret::RefreshToken;
use crate::session::Session;
use crate::vault::GrantInfo;
use std::time::{Duration, SystemTime};

pub fn endpoints(report: &mut Report, env: &Environment) {
    match env {
        Environment::Production => {
            report.ok("endpoints", "production endpoints (api.tastyworks.com)")
        }
        Environment::Sandbox => {
            report.ok("endpoints", "sandbox endpoints (api.cert.tastyworks.com)")
        }
        Environment::Custom { .. } => {
            for url in [env.api_url(), env.authorize_url()] {
                use crate::endpoints::hosts::{self, HostKind};
                let tastytrade = match hosts::kind_of(url) {
                    HostKind::Production => Some("production"),
                    HostKind::Sandbox => Some("sandbox"),
                    _ => None,
                };
                // Tastytrade's own host is no custom endpoint, even when only the other
                // endpoint was overridden (an import with TTVAULT_API_URL alone).
                if let (Some(which), EndpointKind::Https) = (tastytrade, endpoint_kind(url)) {
                    report.ok("endpoints", format!("{url}: Tastytrade's {which} host"));
                    continue;
                }
                match endpoint_kind(url) {
                    EndpointKind::Https => report.warn(
                        "endpoints.custom",
                        format!("custom endpoint {url}: the client secret and refresh token are sent there"),
                        "make sure you trust it, or re-create the vault with the default endpoints",
                    ),
                    EndpointKind::Loopback => report.ok(
                        "endpoints.custom",
                        format!("custom endpoint {url} on this machine (the stand-in?)"),
                    ),
                    EndpointKind::Foreign => report.error(
                        "endpoints.insecure",
                        format!("custom endpoint {url} is plain http to another host: the client secret and refresh token would cross the network unencrypted"),
                        "re-create the vault (`ttvault init --force`) without TTVAULT_API_URL / TTVAULT_AUTHORIZE_URL, or with https URLs",
                    ),
                }
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum EndpointKind {
    Https,
    Loopback,
    Foreign,
}

pub fn endpoint_kind(url: &str) -> EndpointKind {
    let Ok(parsed) = url::Url::parse(url) else {
        return EndpointKind::Foreign;
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match (parsed.scheme(), loopback) {
        (_, true) => EndpointKind::Loopback,
        ("https", false) => EndpointKind::Https,
        _ => EndpointKind::Foreign,
    }
}

/// Which scopes the grant asked for and which its refresh token carries.
pub struct ScopeView {
    pub requested: Vec<String>,
    pub in_token: Option<Vec<String>>,
}

pub fn scopes(report: &mut Report, p: &GrantInfo, refresh_token: &RefreshToken) -> ScopeView {
    let claims = jwt::decode(refresh_token.expose());
    let in_token = claims.as_ref().and_then(|c| c.scopes.clone());
    let trade = p
        .scopes
        .iter()
        .chain(in_token.iter().flatten())
        .any(|s| s == "trade");
    let unknown_fix = "check on tastytrade.com (Manage → My Profile → API → OAuth Applications) that only Read is ticked for this grant; if not, create a Read-only grant and run `ttvault rotate`";
    match &claims {
        None => report.warn("scopes.token", "the refresh token is not a JWT: its scopes are unknown, so ttvault cannot tell whether it holds `trade` (the live probe shows whether `read` works)", unknown_fix),
        Some(c) => {
            if c.is_access_token() {
                report.error(
                    "grant.token_type",
                    "the stored refresh token is an access token (typ at+…): it stops working within 15 minutes",
                    "run `ttvault rotate --paste` with the grant's refresh token",
                );
            }
            if c.audience_matches(&p.client_id) == Some(false) {
                report.error(
                    "grant.audience",
                    "the refresh token was issued to a different client id than the one stored",
                    "the client id and token come from different grants: run `ttvault rotate`",
                );
            }
            match &in_token {
                Some(s) => report.ok("scopes.token", format!("the refresh token carries: {}", s.join(" "))),
                None => report.warn("scopes.token", "the refresh token names no scope, so ttvault cannot tell whether it holds `trade`", unknown_fix),
            }
        }
    }
    if !p.scopes.is_empty() {
        report.ok(
            "scopes.requested",
            format!("requested at init: {}", p.scopes.join(" ")),
        );
    }
    if trade {
        report.warn(
            "scopes.trade",
            "the grant holds `trade`: anyone with this vault's secrets can place orders in your account; the SPX chain fetcher needs Read only",
            "on tastytrade.com (Manage → My Profile → API) create a grant with Read only, then `ttvault rotate` and delete the old grant",
        );
    } else if in_token.is_some() || !p.scopes.is_empty() {
        report.ok("scopes.trade", "no `trade` scope");
    }
    ScopeView {
        requested: p.scopes.clone(),
        in_token,
    }
}

pub fn age(report: &mut Report, p: &GrantInfo) {
    // An imported grant's creation date is unknown (the import date is not it):
    // `handout::imported` reports it instead.
    if p.imported_at.is_some() && p.rotated_at.is_none() {
        return;
    }
    let last = p.rotated_at.as_deref().unwrap_or(&p.created_at);
    let Ok(when) = humantime::parse_rfc3339(last) else {
        return;
    };
    let days = SystemTime::now()
        .duration_since(when)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        / 86_400;
    let what = if p.rotated_at.is_some() {
        "rotated"
    } else {
        "created"
    };
    if days > 365 {
        report.warn(
            "grant.age",
            format!("the grant was {what} {days} days ago; refresh tokens never expire, so an old leak stays useful"),
            "create a fresh grant on tastytrade.com and run `ttvault rotate` once a year",
        );
    } else {
        report.ok(
            "grant.age",
            format!("the grant was {what} {days} days ago ({last})"),
        );
    }
}

/// What the live checks learned, for the JSON report.
#[derive(Default, serde::Serialize)]
pub struct Live {
    pub token_ok: bool,
    pub accounts: Vec<serde_json::Value>,
}

/// The live probes, with a session (or the error getting one gave). Returns the error
/// that decides the exit status when the grant is refused (4) or the endpoint is
/// unreachable (5).
pub fn live(
    report: &mut Report,
    http: &dyn Http,
    api_url: &str,
    session: crate::Result<Session>,
) -> (Live, Option<Error>) {
    let mut live = Live::default();
    let session = match session {
        Ok(m) => m,
        Err(e) => {
            let check = if e.code == Code::Grant {
                "live.token"
            } else {
                "live.endpoint"
            };
            report.error(check, e.message.clone(), e.hint.clone().unwrap_or_default());
            return (live, Some(e));
        }
    };
    // Whether the token works, apart from what it may read: a grant without `read`
    // still validates, and then the account listing below says what is missing.
    if let Err(e) = oauth::validate(http, api_url, &session.access_token) {
        report.error(
            "live.token",
            e.message.clone(),
            e.hint.clone().unwrap_or_default(),
        );
        return (live, Some(e));
    }
    live.token_ok = true;
    report.ok(
        "live.token",
        "the grant mints an access token, and Tastytrade accepts it",
    );
    match oauth::accounts(http, api_url, &session.access_token) {
        Ok(accounts) => {
            let masked: Vec<String> = accounts
                .iter()
                .map(|a| oauth::mask(&a.account_number))
                .collect();
            report.ok(
                "live.accounts",
                format!(
                    "the grant can read {} account(s): {}",
                    accounts.len(),
                    masked.join(", ")
                ),
            );
            live.accounts = accounts
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "account": oauth::mask(&a.account_number),
                        "nickname": a.nickname,
                        "authority": a.authority_level,
                    })
                })
                .collect();
        }
        Err(e) if e.code == Code::Network => {
            report.error(
                "live.accounts",
                e.message.clone(),
                e.hint.clone().unwrap_or_default(),
            );
            return (live, Some(e));
        }
        Err(e) => report.warn(
            "live.accounts",
            e.message.clone(),
            e.hint.clone().unwrap_or_default(),
        ),
    }
    (live, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_kinds() {
        assert_eq!(
            endpoint_kind("https://api.tastyworks.com"),
            EndpointKind::Https
        );
        assert_eq!(
            endpoint_kind("http://127.0.0.1:8001"),
            EndpointKind::Loopback
        );
        assert_eq!(endpoint_kind("http://[::1]:8001"), EndpointKind::Loopback);
        assert_eq!(
            endpoint_kind("http://localhost:8001/auth.html"),
            EndpointKind::Loopback
        );
        assert_eq!(
            endpoint_kind("http://evil.example.com"),
            EndpointKind::Foreign
        );
        assert_eq!(endpoint_kind("http://10.0.0.1"), EndpointKind::Foreign);
        assert_eq!(endpoint_kind("not a url"), EndpointKind::Foreign);
    }

    #[test]
    fn api_tastytrade_com_is_production_not_a_custom_risk() {
        let mut report = Report::default();
        endpoints(
            &mut report,
            &Environment::Custom {
                api_url: "https://api.tastytrade.com".into(),
                authorize_url: "https://my.tastytrade.com/auth.html".into(),
            },
        );
        let text = format!("{report:?}");
        assert!(text.contains("Tastytrade's production host"), "{text}");
        assert!(!text.contains("make sure you trust it"), "{text}");
        assert!(!text.contains("custom"), "{text}");
    }
}
