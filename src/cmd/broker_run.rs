//! `exec --broker`: the program runs as ttvault's child with placeholders under the
//! preset's long-lived names, ttvault's broker as its HTTPS proxy, and a CA bundle that
//! trusts the broker's per-run CA (docs/BROKER.md). The broker, the bundle and its
//! directory end with the program.

use super::Context;
use crate::broker::{self, Broker, Event, Placeholders, TokenSource};
use crate::bundle::{self, CaBundle};
use crate::env::{self, Credentials, Preset, Var};
use crate::error::{Error, Result};
use crate::output;
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::session::{GrantAccess, Session};
use crate::vault::{Opened, VaultRef};
use crate::want::{Freshness, Secrets};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The variables that name a CA bundle, for the HTTP stacks that read one (Python's ssl
/// and httpx, requests, curl, Node).
pub const BUNDLE_NAMES: [&str; 4] = [
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
];

/// What `exec` settled before the program starts.
pub struct Plan<'a> {
    pub session: Session,
    pub opened: Option<Opened>,
    pub preset: Preset,
    pub min_ttl: Duration,
    pub allow_trade: bool,
    pub command: Command,
    pub program: &'a str,
}

/// Starts the broker, hands the program its variables, runs it, and ends the broker.
pub fn run(ctx: &Context, mut plan: Plan<'_>) -> Result<i32> {
    if plan.allow_trade && !holds_trade(&plan.session) {
        return Err(Error::usage("--allow-trade, but this grant does not hold `trade`")
            .hint("the broker passes orders only for a grant with trade; without the flag it stays read-only"));
    }
    // The client id is public: a program that sends the real one is answered too.
    let placeholders = Placeholders::generate().accepting_client_id(&plan.session.grant.client_id);
    let mut vars = variables(&plan.session, plan.preset, &placeholders);
    let api = plan.session.grant.environment.api_url().to_string();
    let upstream_api = url::Url::parse(&api)
        .map_err(|_| Error::failure(format!("the vault's API URL {api} is not a URL")))?;
    let extra_hosts = upstream_api
        .domain()
        .map(|d| vec![d.to_string()])
        .unwrap_or_default();
    let user_proxy = user_proxy()?;
    let user_no_proxy = no_proxy_list();
    let config = broker::Config {
        upstream_api,
        extra_hosts,
        allow_trade: plan.allow_trade,
        min_ttl: plan.min_ttl,
        placeholders,
        upstream_proxy: user_proxy,
        no_proxy: user_no_proxy.clone(),
        on_event: Box::new(say),
    };
    let tokens = Arc::new(SessionTokens::new(
        &ctx.vault,
        &plan.session,
        plan.opened.take(),
    ));
    let started = Broker::start(config, tokens)?;
    let user_bundle = crate::settings::get().ssl_cert_file.clone();
    let bundle = CaBundle::write(
        &bundle::parent_dir()?,
        started.ca_pem(),
        user_bundle.as_deref(),
    )?;
    drop(plan.session);
    let command = &mut plan.command;
    for var in vars.drain(..) {
        command.env(var.name, var.value.as_str());
    }
    for name in ["HTTPS_PROXY", "https_proxy"] {
        command.env(name, started.proxy_url());
    }
    for name in BUNDLE_NAMES {
        command.env(name, bundle.path());
    }
    let kept = without_hosts(&user_no_proxy, started.terminated_hosts());
    for name in ["NO_PROXY", "no_proxy"] {
        let was_set = crate::settings::get()
            .no_proxy
            .iter()
            .any(|(n, _)| *n == name);
        match (&kept, was_set) {
            (Some(list), true) => command.env(name, list),
            (None, _) | (_, false) => command.env_remove(name),
        };
    }
    ctx.vault.report.detail(&format!(
        "running {} through ttvault's broker (CA bundle {})",
        plan.program,
        bundle.path().display()
    ));
    let status = crate::supervise::run(plan.command);
    started.shutdown();
    drop(bundle);
    status.or_else(|err| Ok(super::exec::not_started(plan.program, &err)))
}

/// The preset's variables with placeholders under its long-lived names, whatever they are:
/// the preset fills them from these values as it would from the real secrets.
fn variables(session: &Session, preset: Preset, ph: &Placeholders) -> Vec<Var> {
    let secret = ClientSecret::new(ph.client_secret());
    let refresh = RefreshToken::new(ph.refresh_token());
    env::variables(
        preset,
        &Credentials {
            access_token: &session.access_token,
            expires_at: session.expires_at,
            api_base_url: session.grant.environment.api_url(),
            client_id: ph.client_id(),
            long_lived: Some((&secret, &refresh)),
        },
    )
}

/// Whether the grant holds `trade`: requested at init, or named by the access token.
fn holds_trade(session: &Session) -> bool {
    session.grant.scopes.iter().any(|s| s == "trade")
        || crate::oauth::jwt::decode(session.access_token.expose())
            .and_then(|c| c.scopes)
            .is_some_and(|s| s.iter().any(|x| x == "trade"))
}

/// One line on ttvault's stderr per event (the program's own output stays its own), and
/// under a failed token, what to do about it.
fn say(event: Event) {
    let mut advice = None;
    let line = match event {
        Event::Refused { method, host, path } => format!(
            "broker: refused {method} https://{host}{path} (read-only; `exec --allow-trade` \
             lets orders through on a grant with trade)"
        ),
        Event::PlaceholderMisused { host, path } => format!(
            "broker: refused a placeholder sent to https://{host}{path} (only ttvault's token \
             answer takes them)"
        ),
        Event::TokenFailed { reason, hint } => {
            advice = hint;
            format!("broker: could not get an access token for the program: {reason}")
        }
        Event::UpstreamFailed { host, reason } => {
            format!("broker: could not reach {host}: {reason}")
        }
    };
    output::warning(&line, advice.as_deref());
}

/// The user's own HTTPS proxy, for the broker's outgoing connections.
fn user_proxy() -> Result<Option<url::Url>> {
    let Some(value) = crate::settings::get().https_proxy.clone() else {
        return Ok(None);
    };
    let value = value.trim();
    // curl and most clients take `host:port` as an http:// proxy.
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    url::Url::parse(&with_scheme).map(Some).map_err(|_| {
        Error::usage("HTTPS_PROXY is set but is not a proxy URL")
            .hint("fix or unset HTTPS_PROXY (e.g. http://proxy.example:3128)")
    })
}

/// `NO_PROXY` (or `no_proxy`) as a list.
fn no_proxy_list() -> Vec<String> {
    crate::settings::get()
        .no_proxy
        .first()
        .map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The user's NO_PROXY without any entry that would send a terminated host around the
/// broker (`*`, the host, or a domain it is in); None when nothing is left.
fn without_hosts(list: &[String], hosts: &[String]) -> Option<String> {
    let bypasses = |entry: &str| {
        let domain = entry.trim_start_matches("*.").trim_start_matches('.');
        entry == "*"
            || hosts
                .iter()
                .any(|h| h == domain || h.ends_with(&format!(".{domain}")))
    };
    let kept: Vec<&str> = list
        .iter()
        .map(String::as_str)
        .filter(|e| !bypasses(e))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// The broker's token source over ttvault's own session code: the token this run started
/// with while it lasts, then the agent (when the run began with one), or a token minted from
/// the vault opened in this process. When the agent has ended, the vault is opened again
/// only where that can be done (a passphrase source, or a terminal to ask at); otherwise the
/// error says why, and the broker answers the program 401 with it.
struct SessionTokens {
    vault: VaultRef,
    state: Mutex<State>,
}

struct State {
    token: AccessToken,
    expires_at: SystemTime,
    opened: Option<Opened>,
}

impl SessionTokens {
    fn new(vault: &VaultRef, session: &Session, opened: Option<Opened>) -> Self {
        SessionTokens {
            vault: vault.clone(),
            state: Mutex::new(State {
                token: session.access_token.clone(),
                expires_at: session.expires_at,
                opened,
            }),
        }
    }
}

impl TokenSource for SessionTokens {
    fn access_token(&self, min_ttl: Duration) -> Result<(AccessToken, SystemTime)> {
        // One refresh at a time: the program's parallel requests share its answer.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let left = state
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        if left >= min_ttl {
            return Ok((state.token.clone(), state.expires_at));
        }
        let want = Freshness::at_least(min_ttl);
        // The vault this run opened mints it (saving a rotated refresh token, asking
        // nothing); else the agent, or the vault opened now where that can be done.
        let http = crate::oauth::Client::new()?;
        let mut grant = GrantAccess::new(&self.vault, &http);
        if let Some(opened) = state.opened.take() {
            grant = grant.with_opened(opened);
        }
        let session = grant.session(Secrets::Withheld, want);
        state.opened = grant.into_opened();
        let session = session?;
        state.token = session.access_token.clone();
        state.expires_at = session.expires_at;
        Ok((state.token.clone(), state.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tastytrades_hosts_leave_no_proxy_and_the_rest_stays() {
        let hosts = vec![
            "api.tastyworks.com".to_string(),
            "api.tastytrade.com".into(),
        ];
        let list = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            without_hosts(&list("localhost,.tastyworks.com,10.0.0.0/8"), &hosts).as_deref(),
            Some("localhost,10.0.0.0/8")
        );
        assert_eq!(without_hosts(&list("*,api.tastytrade.com"), &hosts), None);
        assert_eq!(
            without_hosts(&list("example.com,tastytrade.com.evil"), &hosts).as_deref(),
            Some("example.com,tastytrade.com.evil")
        );
    }

    #[test]
    fn every_long_lived_name_of_every_preset_gets_a_placeholder() {
        let ph = Placeholders::generate();
        let payload = crate::vault::Payload::new(
            "id-real".into(),
            ClientSecret::new("cs-real"),
            RefreshToken::new("rt-real"),
            crate::endpoints::Environment::Production,
            vec![],
        );
        let session = Session::from_agent(crate::agent::Served {
            grant: crate::vault::GrantInfo::of(&payload),
            secrets: None,
            access_token: AccessToken::new("at-real"),
            expires_at: SystemTime::UNIX_EPOCH,
            unsaved_refresh_token: false,
        });
        for preset in [
            Preset::Tt,
            Preset::Tastyware,
            Preset::Tastytrade,
            Preset::TastytradePython,
            Preset::TastytradeJs,
        ] {
            let short: Vec<_> = session.variables(preset).iter().map(|v| v.name).collect();
            let brokered = variables(&session, preset, &ph);
            assert!(
                brokered.len() > short.len(),
                "{preset:?} has long-lived names"
            );
            for var in &brokered {
                if short.contains(&var.name) || var.name == "API_BASE_URL" {
                    // The short-lived set, and the official Python SDK's API_BASE_URL (the
                    // endpoint, no secret), hold their real values.
                    assert!(!var.value.starts_with(broker::PLACEHOLDER_PREFIX));
                } else {
                    assert!(
                        var.value.starts_with(broker::PLACEHOLDER_PREFIX),
                        "{}",
                        var.name
                    );
                }
                assert!(!["cs-real", "rt-real", "id-real"].contains(&var.value.as_str()));
            }
        }
    }
}
