//! The credential broker behind `ttvault exec --broker`.
//!
//! Why it exists: programs built on Tastytrade SDKs refresh their own tokens, so they want
//! the client secret and the never-expiring refresh token in their environment, where any
//! library they import can copy them and keep the account for good. The broker lets those
//! programs run unchanged while holding nothing that outlives 15 minutes:
//! - the program gets per-run *placeholders* under the long-lived names ([`Placeholders`]);
//! - its `HTTPS_PROXY` points at this loopback proxy, which only a client holding the
//!   per-run credential in [`Broker::proxy_url`] may use (everyone else gets 407);
//! - `CONNECT` to a Tastytrade API host is TLS-terminated with a leaf from a CA made for this
//!   run ([`Broker::ca_pem`]), name-constrained to those hosts and valid a day at most; the
//!   CA's key is dropped as soon as the leaves are made, at start, so no key that can sign
//!   a certificate exists while the program runs;
//! - inside, `POST /oauth/token` with the placeholders is answered by ttvault from a
//!   [`TokenSource`]; a placeholder anywhere else is refused (401), writes are refused (403)
//!   unless `allow_trade`, and everything else is forwarded to the vault's own API endpoint;
//! - `CONNECT` to any other host is tunnelled byte for byte, never looked into.
//!
//! The files, one job each: `ca` (CA and leaves), `listener` (accept loop, caps, the proxy
//! credential and `CONNECT`), `terminate` (TLS and the HTTP inside it), `policy` (what a
//! request inside is: token request, misuse, refused write, or forwarded), `token` (the token
//! answer), `forward` (to the vault's endpoint), `tunnel` (other hosts, and the user's own
//! proxy), `reply` (the broker's own JSON answers), `deadline` (a write deadline for the
//! program's side of a connection).

mod ca;
mod deadline;
mod forward;
mod listener;
mod policy;
mod reply;
mod terminate;
mod token;
mod tunnel;

pub use ca::BUILT_IN_HOSTS;

use crate::secret::AccessToken;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;

/// The values handed to the program under the long-lived names: random per run, useless
/// anywhere but at this broker, and self-describing for a person who finds one in a traceback.
pub struct Placeholders {
    client_id: String,
    client_secret: String,
    refresh_token: String,
    /// A client id the token answer accepts besides the placeholder (the real one, which is
    /// public), when the command layer chose to hand the real id to the program.
    real_client_id: Option<String>,
}

/// Every placeholder starts with this, so a person (or a log scrubber) can recognise one.
pub const PLACEHOLDER_PREFIX: &str = "ttvault-broker-placeholder-";

impl Placeholders {
    /// Fresh random values, self-describing: "ttvault-broker-placeholder-<43 b64url>".
    pub fn generate() -> Self {
        Placeholders {
            client_id: random_placeholder(),
            client_secret: random_placeholder(),
            refresh_token: random_placeholder(),
            real_client_id: None,
        }
    }
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }
    /// Also accept `id` (the grant's real client id, which is public) as the `client_id`
    /// of a token request, for a command layer that hands the real id to the program.
    pub fn accepting_client_id(mut self, id: &str) -> Self {
        self.real_client_id = Some(id.to_owned());
        self
    }
    /// The real client id accepted besides the placeholder, if any.
    pub fn real_client_id(&self) -> Option<&str> {
        self.real_client_id.as_deref()
    }
    /// The three values that must never leave the broker.
    pub(crate) fn all(&self) -> [&str; 3] {
        [&self.client_id, &self.client_secret, &self.refresh_token]
    }
}

impl std::fmt::Debug for Placeholders {
    // Placeholders are worthless outside the broker, yet a program's logs are no place for
    // them either: keep them out of Debug like secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Placeholders([REDACTED])")
    }
}

/// 32 random bytes, base64url without padding (43 characters), after the prefix.
fn random_placeholder() -> String {
    format!("{PLACEHOLDER_PREFIX}{}", random_b64())
}

/// 32 random bytes from the OS generator, base64url without padding.
pub(crate) fn random_b64() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    text
}

/// Where the broker gets real access tokens (implemented by the command layer: the agent
/// when one runs, else the session opened in this process).
pub trait TokenSource: Send + Sync {
    /// An access token with at least `min_ttl` left, and when it expires. The error's text
    /// is shown to the program in a 401 body and on ttvault's stderr: no secret in it.
    fn access_token(&self, min_ttl: Duration) -> Result<(AccessToken, SystemTime), crate::Error>;
}

/// Something the person should see on ttvault's stderr (the command layer prints it
/// through output/; the library never prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A write refused by the read-only policy: method and path (no query string, no body).
    Refused {
        method: String,
        host: String,
        path: String,
    },
    /// A request that carried a placeholder where only ttvault's token answer may take it.
    PlaceholderMisused { host: String, path: String },
    /// The token source failed; the program got a 401 with this reason.
    TokenFailed {
        reason: String,
        /// What to do about it, when the source said (e.g. how to give the passphrase).
        hint: Option<String>,
    },
    /// Forwarding to the vault's endpoint failed (unreachable, timed out).
    UpstreamFailed { host: String, reason: String },
}

pub struct Config {
    /// Where requests for Tastytrade's API hosts are forwarded: the vault's API base URL
    /// (https://api.tastyworks.com in production, http://127.0.0.1:PORT for the stand-in).
    pub upstream_api: url::Url,
    /// Host names terminated besides the built-in ones (api.tastyworks.com,
    /// api.tastytrade.com, api.cert.tastyworks.com, api.sandbox.tastytrade.com): the vault's
    /// own API host when it is a DNS name.
    pub extra_hosts: Vec<String>,
    /// `--allow-trade`: writes pass (the command layer checks the grant holds `trade`).
    pub allow_trade: bool,
    /// `--min-ttl`: the floor asked of the TokenSource.
    pub min_ttl: Duration,
    pub placeholders: Placeholders,
    /// The user's own proxy for everything the broker sends out (tunnels, forwarded
    /// requests), from HTTPS_PROXY/https_proxy and NO_PROXY as the user had them; None = direct.
    pub upstream_proxy: Option<url::Url>,
    pub no_proxy: Vec<String>,
    pub on_event: Box<dyn Fn(Event) + Send + Sync>,
}

/// What every connection task shares.
struct Shared {
    config: Config,
    tokens: Arc<dyn TokenSource>,
    /// The per-run proxy credential (the password in [`Broker::proxy_url`]).
    credential: String,
    /// One TLS configuration per terminated host, each presenting its leaf.
    tls: HashMap<String, Arc<rustls::ServerConfig>>,
    upstream: forward::Upstream,
    route: tunnel::Route,
    gate: Arc<listener::Gate>,
}

impl Shared {
    /// Everything but the listener: the terminated hosts, their leaves (the CA key is
    /// dropped when this returns), the upstream client and route, a fresh proxy credential.
    /// Returns the CA's PEM and the terminated hosts beside.
    fn prepare(
        config: Config,
        tokens: Arc<dyn TokenSource>,
    ) -> crate::Result<(Shared, String, Vec<String>)> {
        let mut hosts: Vec<String> = BUILT_IN_HOSTS.iter().map(|h| h.to_string()).collect();
        for extra in &config.extra_hosts {
            let extra = ca::normalize_host(extra)?;
            if !hosts.contains(&extra) {
                hosts.push(extra);
            }
        }
        let now = SystemTime::now();
        let authority = ca::Ca::new(&hosts, now)?;
        let mut tls = HashMap::new();
        for host in &hosts {
            let leaf = authority.leaf(host, now)?;
            tls.insert(host.clone(), terminate::server_config(leaf)?);
        }
        let ca_pem = authority.pem().to_owned();
        drop(authority);
        let upstream = forward::Upstream::new(
            config.upstream_api.clone(),
            config.upstream_proxy.as_ref(),
            &config.no_proxy,
        )?;
        let route = tunnel::Route {
            proxy: config.upstream_proxy.clone(),
            no_proxy: config.no_proxy.clone(),
        };
        let shared = Shared {
            config,
            tokens,
            credential: random_b64(),
            tls,
            upstream,
            route,
            gate: Arc::new(listener::Gate::new()),
        };
        Ok((shared, ca_pem, hosts))
    }
}

/// The running broker: a listener on 127.0.0.1 served by a thread with its own tokio
/// runtime. Dropping it (or [`Broker::shutdown`]) stops everything.
pub struct Broker {
    proxy_url: String,
    ca_pem: String,
    terminated_hosts: Vec<String>,
    gate: Arc<listener::Gate>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Broker {
    /// Binds 127.0.0.1:0, makes the per-run CA (rcgen, name-constrained to the terminated
    /// hosts, valid one day at most), starts serving on a background thread.
    ///
    /// The CA's key lives only inside this call: every terminated host's leaf is made here,
    /// then the key is dropped, so nothing that can sign a new certificate outlives it.
    pub fn start(config: Config, tokens: Arc<dyn TokenSource>) -> crate::Result<Broker> {
        let (shared, ca_pem, hosts) = Shared::prepare(config, tokens)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("ttvault-broker")
            .build()
            .map_err(|e| crate::Error::failure(format!("could not start the broker: {e}")))?;
        let listener = {
            let _inside = runtime.enter();
            listener::bind()
        }
        .map_err(|e| {
            crate::Error::failure(format!("the broker could not listen on 127.0.0.1: {e}"))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| crate::Error::failure(format!("the broker's listener: {e}")))?
            .port();
        let proxy_url = format!("http://ttvault:{}@127.0.0.1:{port}", shared.credential);
        let gate = Arc::clone(&shared.gate);
        let shared = Arc::new(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("ttvault-broker".into())
            .spawn(move || {
                runtime.block_on(async {
                    tokio::select! {
                        _ = listener::serve(listener, shared) => {}
                        _ = stopped => {}
                    }
                });
                // Drops every task (and so every connection) without waiting for a token
                // request still blocked in the token source.
                runtime.shutdown_background();
            })
            .map_err(|e| crate::Error::failure(format!("could not start the broker: {e}")))?;
        Ok(Broker {
            proxy_url,
            ca_pem,
            terminated_hosts: hosts,
            gate,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
    /// `http://ttvault:<per-run credential>@127.0.0.1:<port>` for HTTPS_PROXY (requests
    /// without the credential get 407 and are refused).
    pub fn proxy_url(&self) -> &str {
        &self.proxy_url
    }
    /// The CA certificate, PEM (public; the key never leaves memory).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    /// The host names the CA is constrained to (for NO_PROXY clean-up by the caller).
    pub fn terminated_hosts(&self) -> &[String] {
        &self.terminated_hosts
    }
    /// Connections open right now (tunnels and terminated connections): for tests and
    /// diagnostics that nothing leaks.
    pub fn open_connections(&self) -> usize {
        self.gate.open()
    }
    /// Stops serving, closes the listener and every connection, and drops the leaves' keys
    /// (the CA's key was dropped at start). Also on Drop. Returns once all of that is done.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Joined, so when this returns the port is closed and every connection with it.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// A token source for unit tests that never hands out a token.
#[cfg(test)]
struct NoTokens;

#[cfg(test)]
impl TokenSource for NoTokens {
    fn access_token(&self, _: Duration) -> crate::Result<(AccessToken, SystemTime)> {
        Err(crate::Error::grant("no tokens in this test"))
    }
}

/// What connection tasks share, for unit tests, with the CA's PEM.
#[cfg(test)]
fn test_shared() -> (Shared, String) {
    let (shared, pem, _) = Shared::prepare(test_config(), Arc::new(NoTokens)).unwrap();
    (shared, pem)
}

/// A configuration for unit tests: forwarding to a closed port, events dropped.
#[cfg(test)]
fn test_config() -> Config {
    Config {
        upstream_api: url::Url::parse("http://127.0.0.1:9").unwrap(),
        extra_hosts: Vec::new(),
        allow_trade: false,
        min_ttl: Duration::from_secs(60),
        placeholders: Placeholders::generate(),
        upstream_proxy: None,
        no_proxy: Vec::new(),
        on_event: Box::new(|_| {}),
    }
}
