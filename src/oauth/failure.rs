//! Why a conversation with Tastytrade (or the configured endpoint) failed, as a type, and
//! the one place that turns each case into what a person reads: what happened and what to
//! do next, with the documented exit status.

use super::b64token::Problem;
use super::http::{TransportKind, MAX_BODY, USER_AGENT};
use crate::endpoints::hosts::{self, HostKind};
use crate::error::{Code, Error};

/// The advice for a redirect URI the grant does not know, written once.
pub const REGISTER_REDIRECT_URI: &str = "the grant's redirect URI must match byte for byte: \
     register exactly http://localhost:8000 (http, port 8000, no trailing slash) on \
     tastytrade.com, or pass the registered one with --redirect-uri";

/// Which endpoint answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Api,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token endpoint",
            Endpoint::Api => "API",
        }
    }
}

/// What the authorization server refused (exit 4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `invalid_grant` "Invalid JWT": the refresh token is damaged or mistyped.
    MalformedToken,
    /// `invalid_grant` "Client secret mismatch" on a refresh: the refresh token is good,
    /// but the client secret is another application's. Not a dead grant.
    SecretMismatch,
    /// `invalid_grant` on a refresh: revoked ("Grant revoked"), deleted, or not this
    /// server's.
    Grant,
    /// `invalid_grant` on a code exchange: used, expired, or another client's code.
    Code,
    /// `invalid_client` / `unauthorized_client`.
    Client,
    /// The redirect URI is not the one registered on the grant.
    RedirectMismatch { redirect_uri: String },
    /// Any other OAuth error.
    Other,
}

/// Which token an answer carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The URL is plain http to another computer; nothing was sent (exit 2).
    Insecure { url: String },
    /// No answer (exit 5). `attempts` counts the tries made.
    Unreachable {
        url: String,
        kind: TransportKind,
        detail: String,
        attempts: u32,
    },
    /// An OAuth error answer (exit 4). `said` is the server's code and description,
    /// sanitized.
    Refused {
        refusal: Refusal,
        said: String,
        sandbox: bool,
    },
    /// The sandbox's transient "User is not a TastyTrade customer" (exit 5), still after
    /// retries.
    TransientSandbox { said: String },
    /// An HTTP status that is no OAuth answer: 401 HTML, 429, 5xx, a redirect… (exit 5).
    Status {
        endpoint: Endpoint,
        url: String,
        status: u16,
        html_401: bool,
        redirect_to: Option<String>,
    },
    /// A token that is not an RFC 6750 token (exit 5); never repeated.
    BadToken {
        url: String,
        which: TokenKind,
        problem: Problem,
    },
    /// A 200 that is not what was asked for (exit 5).
    Nonsense {
        endpoint: Endpoint,
        url: String,
        what: &'static str,
    },
    /// The API refused the freshly issued access token: 403 (exit 4).
    ApiForbidden { sandbox: bool },
    /// The API refused the freshly issued access token: 401 JSON (exit 4).
    ApiUnauthorized { sandbox: bool },
}

impl Failure {
    pub fn code(&self) -> Code {
        match self {
            Failure::Insecure { .. }
            | Failure::Unreachable {
                kind: TransportKind::Insecure,
                ..
            } => Code::Usage,
            Failure::Refused { .. }
            | Failure::ApiForbidden { .. }
            | Failure::ApiUnauthorized { .. } => Code::Grant,
            _ => Code::Network,
        }
    }
}

/// Where a grant is made and deleted: tastytrade.com, or the sandbox's own tools.
fn grants_live(sandbox: bool) -> &'static str {
    if sandbox {
        "with the developer sandbox's own tools (sandbox applications and grants are not \
         managed on tastytrade.com)"
    } else {
        "on tastytrade.com (Manage → My Profile → API)"
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        let code = f.code();
        let (message, hint) = words(f);
        let mut e = Error::new(code, message);
        if let Some(h) = hint {
            e = e.hint(h);
        }
        e
    }
}

fn words(f: Failure) -> (String, Option<String>) {
    match f {
        Failure::Insecure { url } => {
            let e = hosts::require_secure(&url)
                .err()
                .unwrap_or_else(|| Error::usage("the endpoint is not https"));
            (e.message, e.hint)
        }
        Failure::Unreachable {
            url,
            kind,
            detail,
            attempts,
        } => unreachable(&url, kind, &detail, attempts),
        Failure::Refused {
            refusal,
            said,
            sandbox,
        } => refused(&refusal, &said, sandbox),
        Failure::TransientSandbox { said } => (
            format!("the sandbox refused a refresh with {said}, still after retrying"),
            Some(
                "this is a known transient error of Tastytrade's sandbox, not a problem with \
                 the grant: try again in a few minutes"
                    .into(),
            ),
        ),
        Failure::Status {
            endpoint,
            url,
            status,
            html_401,
            redirect_to,
        } => status_words(endpoint, &url, status, html_401, redirect_to),
        Failure::BadToken {
            url,
            which,
            problem,
        } => (
            format!(
                "the token endpoint {} answered with an {} ttvault will not use: {}",
                hosts::origin_of(&url),
                match which {
                    TokenKind::Access => "access token",
                    TokenKind::Refresh => "refresh token",
                },
                problem.describe()
            ),
            Some(check_endpoint()),
        ),
        Failure::Nonsense {
            endpoint,
            url,
            what,
        } => {
            let hint = if endpoint == Endpoint::Token && what.contains("no refresh token") {
                "ttvault needs a refresh token to keep; try `--paste` with a grant created on \
                 tastytrade.com"
                    .to_string()
            } else {
                check_endpoint()
            };
            (
                format!("the {} {} {what}", endpoint.name(), hosts::origin_of(&url)),
                Some(hint),
            )
        }
        Failure::ApiForbidden { sandbox } => (
            "Tastytrade refused to list the accounts (403): the grant lacks the `read` scope or \
             authority over the account"
                .into(),
            Some(format!(
                "re-create the grant {} with Read ticked, then run `ttvault rotate`",
                grants_live(sandbox)
            )),
        ),
        Failure::ApiUnauthorized { sandbox } => (
            "Tastytrade refused the access token it had just issued (401)".into(),
            Some(format!(
                "the grant may have been revoked a moment ago: re-create it {}, then run \
                 `ttvault rotate`; if it persists, the API and token endpoints may belong to \
                 different environments (production vs sandbox)",
                grants_live(sandbox)
            )),
        ),
    }
}

fn check_endpoint() -> String {
    "check that this is the right endpoint; otherwise Tastytrade may be having trouble: try \
     again later"
        .into()
}

/// Adds where the endpoint of a network failure (exit 5) came from to its hint, so the
/// advice points at the setting that chose it: `from` is e.g. "stored in the vault".
pub fn endpoint_came_from(err: Error, url: &str, from: &str) -> Error {
    if err.code != Code::Network {
        return err;
    }
    let said = format!("the endpoint {} is {from}", hosts::origin_of(url));
    let hint = match &err.hint {
        Some(h) => format!("{h} ({said})"),
        None => said,
    };
    err.hint(hint)
}

/// The hint for a saved vault whose client secret is not the grant's application's: the
/// right secret goes into the same vault with `rotate`, which asks for it.
pub const SAVED_SECRET_MISMATCH: &str = "the client secret saved in the vault is not the one \
     of the application this grant was created for (applications mixed up?): run `ttvault \
     rotate --paste`, give that application's client secret when asked (or in \
     TTVAULT_CLIENT_SECRET) and paste the same refresh token; the grant itself need not be \
     re-created. If that application's secret was regenerated, its grants ended with it: \
     create a new grant and paste that instead";

/// The hint for a saved vault's refresh token that Tastytrade calls malformed: a new grant
/// goes into the same vault with `rotate` (`init` refuses an existing vault).
pub const SAVED_TOKEN_MALFORMED: &str = "the refresh token saved in the vault is damaged or \
     was mistyped when it was saved: put a working one in with `ttvault rotate --paste` (or \
     `ttvault rotate` for the browser flow)";

/// A saved token Tastytrade calls malformed ("Invalid JWT") that ttvault itself received
/// from the browser flow (the vault records its redirect URI): nobody typed it, so it is
/// not "damaged or mistyped"; the endpoint no longer knows it.
pub fn issued_token_unknown(err: Error, from_browser: bool) -> Error {
    if !from_browser || err.hint.as_deref() != Some(SAVED_TOKEN_MALFORMED) {
        return err;
    }
    let said = err
        .message
        .strip_prefix("Tastytrade refused the refresh token as malformed ")
        .unwrap_or_default();
    Error::new(
        err.code,
        format!("Tastytrade no longer recognises the refresh token saved in the vault {said}")
            .trim_end()
            .to_string(),
    )
    .hint(
        "ttvault saved it as the browser sign-in issued it, so it was not mistyped: the grant \
         was deleted or replaced, or (a test server) the endpoint was restarted; get a new one \
         with `ttvault rotate`",
    )
}

fn unreachable(
    url: &str,
    kind: TransportKind,
    detail: &str,
    attempts: u32,
) -> (String, Option<String>) {
    let origin = hosts::origin_of(url);
    let host = hosts::kind_of(url);
    let what = match kind {
        TransportKind::Dns => "its host name does not resolve",
        TransportKind::Refused => "the connection was refused",
        TransportKind::Timeout if attempts > 1 => "it did not answer in time, again",
        TransportKind::Timeout => "it did not answer in time",
        TransportKind::Reset => "the connection kept breaking",
        TransportKind::TooLarge => {
            return (
                format!(
                    "{origin} answered with more than {} KiB; ttvault stopped reading there",
                    MAX_BODY / 1024
                ),
                Some(check_endpoint()),
            )
        }
        TransportKind::Insecure => return words(Failure::Insecure { url: url.into() }),
        TransportKind::Other => "the connection failed",
    };
    let message = format!(
        "could not reach {origin}: {what} ({})",
        super::sanitize::sanitize(detail, 120)
    );
    let hint = if let Some(h) = hosts::crossed_hint(url) {
        h
    } else if let Some(h) = hosts::unconfirmed_hint(url)
        .filter(|_| matches!(kind, TransportKind::Dns | TransportKind::Refused))
    {
        h
    } else if kind == TransportKind::Timeout && host.is_tastytrade() {
        // Tastytrade blocks an address for hours after too many failed logins, and a
        // blocked address sees timeouts, not 429s.
        "if the network is otherwise fine, this address may be blocked: Tastytrade blocks an \
         IP address for about 8 hours after too many failed logins, and a blocked address \
         sees requests time out. ttvault stopped retrying so as not to prolong it; check the \
         client secret and refresh token, and try again in several hours (or from another \
         network)"
            .into()
    } else if matches!(kind, TransportKind::Dns | TransportKind::Refused) {
        "check the network connection, and that this is the right endpoint".into()
    } else {
        "check the network connection and try again".into()
    };
    (message, Some(hint))
}

fn refused(refusal: &Refusal, said: &str, sandbox: bool) -> (String, Option<String>) {
    let where_ = grants_live(sandbox);
    match refusal {
        Refusal::MalformedToken => (
            format!("Tastytrade refused the refresh token as malformed ({said})"),
            Some(
                "the token was probably damaged or mistyped: paste it again whole (`--paste`), \
                 or run `ttvault init` (or `rotate`) to get a new one"
                    .into(),
            ),
        ),
        Refusal::SecretMismatch => (
            format!(
                "Tastytrade refused the client secret for this grant ({said}): the secret \
                 belongs to another application than the one the grant was created for"
            ),
            Some(format!(
                "do not re-create the grant for this: use the client secret of the \
                 application the grant was created for (look {where_}) with the same refresh \
                 token. Only if that application's secret was regenerated did its grants end \
                 with it: then create a new grant"
            )),
        ),
        Refusal::Grant => (
            format!("Tastytrade refused the grant ({said})"),
            Some(format!("re-create the grant {where_}, then run `ttvault rotate`")),
        ),
        Refusal::Code => (
            format!("Tastytrade refused the authorization code ({said})"),
            Some(
                "codes work once and only for a short while: run the command again and approve \
                 in the browser promptly"
                    .into(),
            ),
        ),
        Refusal::Client => (
            format!("Tastytrade refused the client id or client secret ({said})"),
            Some(format!(
                "check both {where_}; regenerating the client secret ends every grant of the \
                 application"
            )),
        ),
        Refusal::RedirectMismatch { redirect_uri } => (
            format!(
                "Tastytrade says the redirect URI `{}` is not the one registered on the grant ({said})",
                super::sanitize::sanitize(redirect_uri, 200)
            ),
            Some(REGISTER_REDIRECT_URI.into()),
        ),
        Refusal::Other => (
            format!("Tastytrade refused the request ({said})"),
            Some(format!(
                "check the client id, client secret and grant {where_}"
            )),
        ),
    }
}

fn status_words(
    endpoint: Endpoint,
    url: &str,
    status: u16,
    html_401: bool,
    redirect_to: Option<String>,
) -> (String, Option<String>) {
    let what = endpoint.name();
    let origin = hosts::origin_of(url);
    match status {
        401 if html_401 => (
            format!(
                "the {what} {origin} answered 401 with an HTML page instead of JSON: it did not \
                 accept the request's User-Agent (`{USER_AGENT}`)"
            ),
            Some(
                "Tastytrade refuses requests without a `product/version` User-Agent; a proxy or \
                 firewall that strips or rewrites User-Agent headers causes this"
                    .into(),
            ),
        ),
        429 => (
            format!(
                "the {what} {origin} is rate-limiting requests (429), still after {} retries",
                super::retry::MAX_RETRIES
            ),
            Some(
                "wait a few minutes before trying again; repeated failed logins can block this \
                 IP address for hours"
                    .into(),
            ),
        ),
        500..=599 => (
            format!("the {what} {origin} is failing ({status})"),
            Some("Tastytrade may be having trouble: try again later".into()),
        ),
        300..=399 => (
            format!(
                "the {what} {origin} answered with a redirect ({status}) to {}, which ttvault \
                 does not follow",
                redirect_to.as_deref().unwrap_or("elsewhere")
            ),
            Some("check the endpoint URL; http:// where https:// is expected causes this".into()),
        ),
        _ => (
            format!("the {what} {origin} answered {status}, which ttvault does not understand"),
            Some("check that this is the right endpoint; otherwise try again later".into()),
        ),
    }
}

/// Where a redirect points, fit to print: `scheme://host[:port]` of an http(s) URL whose
/// host names look like host names. The server chooses this text, so anything else (a long
/// scheme, a token-length label: found by fuzzing) is not repeated.
pub fn redirect_target(location: &str) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    if host.len() > 253 || host.split(['.', ':']).any(|label| label.len() >= 24) {
        return None;
    }
    Some(hosts::origin_of(location))
}

/// Whether the host is Tastytrade's sandbox (for hints about where grants live).
pub fn is_sandbox_url(url: &str) -> bool {
    hosts::kind_of(url) == HostKind::Sandbox
}

mod masking;
#[cfg(test)]
mod tests;
