//! What ttvault knows about the hosts it talks to: Tastytrade's own (production and
//! sandbox), the crossed names people write that do not exist, this computer (loopback),
//! and the rule that plain http is for this computer only.

use crate::error::{Error, Result};

/// Tastytrade's production hosts: the API (`api.tastyworks.com`; `api.tastytrade.com` is
/// the issuer of real refresh tokens and serves the same API) and the authorize page.
const PRODUCTION: &[&str] = &[
    "api.tastyworks.com",
    "api.tastytrade.com",
    "my.tastytrade.com",
];
/// The sandbox ("cert"). Tastytrade's documents name only `api.cert.tastyworks.com` (and the
/// authorize page); `api.sandbox.tastytrade.com` is seen only in third-party code: accepted,
/// never called confirmed ([`UNCONFIRMED`]).
const SANDBOX: &[&str] = &[
    "api.cert.tastyworks.com",
    "api.sandbox.tastytrade.com",
    "cert-my.staging-tasty.works",
];
/// Hosts accepted as Tastytrade's without Tastytrade's own documents naming them, with the
/// documented host of the same environment.
const UNCONFIRMED: &[(&str, &str)] = &[(
    "api.sandbox.tastytrade.com",
    "https://api.cert.tastyworks.com",
)];

/// Names that cross production and sandbox spellings and do not resolve, with the host
/// that was meant.
const CROSSED: &[(&str, &str)] = &[
    (
        "api.sandbox.tastyworks.com",
        "https://api.cert.tastyworks.com",
    ),
    ("api.cert.tastytrade.com", "https://api.cert.tastyworks.com"),
    ("cert.api.tastyworks.com", "https://api.cert.tastyworks.com"),
    ("cert.api.tastytrade.com", "https://api.cert.tastyworks.com"),
];

/// Whose host a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    Production,
    Sandbox,
    /// A crossed spelling that does not exist; the URL of the host that was meant.
    Crossed(&'static str),
    /// This computer (the stand-in, tests).
    Loopback,
    /// Anything else, including URLs that do not parse.
    Other,
}

impl HostKind {
    /// Tastytrade's own hosts (the crossed names look like them too: same quirks expected).
    pub fn is_tastytrade(self) -> bool {
        matches!(
            self,
            HostKind::Production | HostKind::Sandbox | HostKind::Crossed(_)
        )
    }
}

/// The kind of host `url` names.
pub fn kind_of(url: &str) -> HostKind {
    let Ok(parsed) = url::Url::parse(url) else {
        return HostKind::Other;
    };
    if host_is_loopback(&parsed) {
        return HostKind::Loopback;
    }
    let Some(host) = parsed
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
    else {
        return HostKind::Other;
    };
    if let Some((_, meant)) = CROSSED.iter().find(|(name, _)| *name == host) {
        return HostKind::Crossed(meant);
    }
    if PRODUCTION.contains(&host.as_str()) {
        HostKind::Production
    } else if SANDBOX.contains(&host.as_str()) {
        HostKind::Sandbox
    } else {
        HostKind::Other
    }
}

/// Whether a URL points at this computer: `localhost`, 127.0.0.0/8, `[::1]`.
pub fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| host_is_loopback(&u))
}

fn host_is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]` of a URL (no path, query or credentials), or a short sanitized
/// form of the text when it does not parse.
pub fn origin_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("?");
            match u.port() {
                Some(p) => format!("{}://{host}:{p}", u.scheme()),
                None => format!("{}://{host}", u.scheme()),
            }
        }
        Err(_) => crate::oauth::sanitize::sanitize(url, 80),
    }
}

/// Whether secrets may be sent to `url`: https anywhere, plain http only to this computer.
pub fn is_secure(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(u) => u.scheme() == "https" || (u.scheme() == "http" && host_is_loopback(&u)),
        Err(_) => false,
    }
}

/// Refuses (exit 2) an endpoint that is not https, unless it is plain http on this
/// computer: the client secret and refresh token must never cross a network unencrypted.
pub fn require_secure(url: &str) -> Result<()> {
    if is_secure(url) {
        return Ok(());
    }
    let origin = origin_of(url);
    let what = if url.starts_with("http://") {
        format!("the endpoint {origin} is plain http to another computer: the client secret and refresh token would cross the network unencrypted")
    } else {
        format!("the endpoint `{origin}` is not an https URL")
    };
    Err(Error::usage(what).hint(
        "use https:// (plain http is allowed only for this computer: localhost, 127.0.0.1, \
         [::1]); check TTVAULT_API_URL and TTVAULT_AUTHORIZE_URL",
    ))
}

/// For a crossed host name: which host was meant.
pub fn crossed_hint(url: &str) -> Option<String> {
    let HostKind::Crossed(meant) = kind_of(url) else {
        return None;
    };
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    Some(format!(
        "`{host}` does not exist (it crosses production and sandbox names): the sandbox API \
         is {meant}, production is https://api.tastyworks.com"
    ))
}

/// For a host seen only in third-party code: which host Tastytrade documents.
pub fn unconfirmed_hint(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let (_, documented) = UNCONFIRMED.iter().find(|(name, _)| *name == host)?;
    Some(format!(
        "`{host}` appears only in third-party code, never in Tastytrade's documents: the \
         documented sandbox API is {documented}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tastytrade_hosts_are_known() {
        for url in [
            "https://api.tastyworks.com/oauth/token",
            "https://api.tastytrade.com",
            "https://API.TASTYTRADE.COM./x",
            "https://my.tastytrade.com/auth.html",
        ] {
            assert_eq!(kind_of(url), HostKind::Production, "{url}");
        }
        for url in [
            "https://api.cert.tastyworks.com/oauth/token",
            "https://api.sandbox.tastytrade.com/oauth/token",
            "https://cert-my.staging-tasty.works/auth.html",
        ] {
            assert_eq!(kind_of(url), HostKind::Sandbox, "{url}");
        }
        assert_eq!(kind_of("https://example.com"), HostKind::Other);
        assert_eq!(
            kind_of("https://api.tastyworks.com.evil.example"),
            HostKind::Other
        );
        assert_eq!(kind_of("http://127.0.0.1:9"), HostKind::Loopback);
        assert_eq!(kind_of("not a url"), HostKind::Other);
    }

    #[test]
    fn the_real_sandbox_host_is_no_typo_but_crossed_names_are() {
        assert_eq!(
            crossed_hint("https://api.sandbox.tastytrade.com/oauth/token"),
            None
        );
        assert_eq!(crossed_hint("https://api.tastytrade.com/oauth/token"), None);
        for url in [
            "https://api.sandbox.tastyworks.com/oauth/token",
            "https://api.cert.tastytrade.com/oauth/token",
            "https://cert.api.tastyworks.com",
        ] {
            let hint = crossed_hint(url).unwrap();
            assert!(hint.contains("https://api.cert.tastyworks.com"), "{hint}");
            assert!(kind_of(url).is_tastytrade());
        }
    }

    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:9/oauth/token"));
        assert!(is_loopback("http://127.8.0.1:9/oauth/token"));
        assert!(is_loopback("http://[::1]:9/x"));
        assert!(is_loopback("http://LOCALHOST:9/x"));
        assert!(!is_loopback("https://api.tastyworks.com/oauth/token"));
        assert!(!is_loopback("https://127.0.0.1.example.com/"));
        assert!(!is_loopback("http://localhost.example.com/"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn plain_http_only_for_this_computer() {
        for ok in [
            "https://api.tastyworks.com",
            "https://10.0.0.1:8443/x",
            "http://127.0.0.1:8001",
            "http://localhost:8001/auth.html",
            "http://[::1]:8001",
        ] {
            assert!(require_secure(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.tastyworks.com",
            "http://10.0.0.1:8001",
            "http://127.0.0.1.nip.io",
            "ftp://127.0.0.1/x",
            "api.tastyworks.com",
            "",
        ] {
            let e = require_secure(bad).unwrap_err();
            assert_eq!(e.code, crate::Code::Usage, "{bad}");
        }
    }

    #[test]
    fn origins_drop_paths_queries_and_credentials() {
        assert_eq!(
            origin_of("https://user:pw@api.tastyworks.com/oauth/token?x=1"),
            "https://api.tastyworks.com"
        );
        assert_eq!(origin_of("http://127.0.0.1:9/x"), "http://127.0.0.1:9");
    }
}
