//! A local stand-in for Tastytrade's OAuth and API endpoints.
//!
//! ttvault's integration tests start one in-process; `cargo run --example standin` runs one
//! for trying ttvault without a Tastytrade account. It reproduces the documented quirks:
//!
//! - every request needs a `User-Agent: product/version`, else a 401 nginx HTML page;
//! - `/oauth/token` takes form-encoded or JSON bodies (or only one: [`Config::token_bodies`]),
//!   refuses an `Authorization` header, and answers errors as `{"error_code",
//!   "error_description"}`; [`Config::transient_not_customer`] reproduces the sandbox's
//!   transient refusal of healthy refreshes;
//! - refresh tokens are shaped like a real one (header `{"alg":"EdDSA","typ":"rt+jwt"}`;
//!   claims `iss` `https://api.tastytrade.com`, `sub`, `iat`, `aud` (the client id),
//!   `grant_id`, the scope claim, and a `jti` so each is unique), never expire, and die when
//!   revoked; [`Config::opaque_refresh_tokens`] and [`Config::scope_claim`] vary that shape;
//!   access tokens (`at+jwt`) last [`Config::access_token_ttl`];
//! - API routes need a live bearer token and use the `{"data", "context"}` envelope; as the
//!   sandbox ([`Config::sandbox`]) they break (404) when an `Accept-Version` header is sent,
//!   which production accepts (tastyware's SDK sends it outside the sandbox).
//!
//! # Endpoints
//!
//! | route | |
//! |---|---|
//! | `GET /auth.html?client_id&redirect_uri&response_type=code[&scope][&state][&code_challenge&code_challenge_method=S256]` | consent page |
//! | `POST /auth.html` | the user's decision (see below) |
//! | `POST /oauth/token` | `grant_type=authorization_code` or `refresh_token` |
//! | `GET /customers/me` | the customer |
//! | `GET /customers/me/accounts` | two accounts; needs the `read` scope (else 403 `not_permitted`) |
//! | `GET /accounts/{n}/transactions[?per-page&page-offset]` | paginated (`pagination` object); needs `read` |
//! | `GET /option-chains/SPX/nested` | two roots: `SPX` (AM monthlies) and `SPXW` (PM weeklies) |
//! | `GET /api-quote-tokens` | a DXLink quote token |
//! | `POST /sessions/validate` | 201 with the user when the bearer token works (no scope needed) |
//!
//! # The authorize page
//!
//! `GET /auth.html` validates the request first. An unknown `client_id` or a `redirect_uri`
//! that is not byte-for-byte one of the application's registered URIs gets a 400 HTML page
//! (for the latter, saying "redirect_uri mismatch"); nothing is redirected to an unverified
//! address. Once those are good, other problems are sent back to the client as
//! `redirect_uri?error=…&state=…` (`unsupported_response_type`, `invalid_scope`,
//! `invalid_request` for a bad or non-`S256` PKCE challenge). `scope` defaults to `read`.
//!
//! A valid request shows an HTML page with a form that POSTs to `/auth.html`. Its fields,
//! which a test may also send directly (form-encoded):
//!
//! | field | value |
//! |---|---|
//! | `client_id` | as in the request |
//! | `redirect_uri` | as in the request |
//! | `response_type` | `code` |
//! | `scope` | the normalised scopes, space separated |
//! | `state` | as in the request (omitted when it had none) |
//! | `code_challenge` | as in the request (omitted when it had none) |
//! | `code_challenge_method` | `S256` (omitted when there is no challenge) |
//! | `decision` | `approve` or `deny`: the two submit buttons |
//!
//! A POST may also keep the original query string in its URL and send only `decision=approve`
//! in its body: query and body are merged, the body winning. The answer is a 302 to
//! `redirect_uri?code=…&state=…` on approval, `redirect_uri?error=access_denied&state=…` on
//! denial (`state` echoed exactly, percent-encoded; `?` or `&` chosen as the URI needs).
//! Codes are single-use, live five minutes ([`StandIn::set_code_ttl`]) and are bound to the
//! client, the redirect URI, the scopes and the PKCE challenge.
//!
//! [`StandIn::decide`] (or [`StandIn::auto_decide`]) makes `GET /auth.html` redirect at once,
//! as if the user had pressed a button; [`StandIn::decide_url`] turns an authorize URL into
//! the location the browser would be sent to, without HTTP.
//!
//! # Token endpoint errors
//!
//! | status | `error_code` | `error_description` | when |
//! |---|---|---|---|
//! | 400 | `invalid_request` | `Authorization header is not accepted` | any `Authorization` header |
//! | 400 | `invalid_request` | `Missing parameter: NAME`, … | missing/repeated parameter, malformed body |
//! | 415 | `invalid_request` | `Request body must be JSON` | a form body with [`TokenBodies::JsonOnly`] |
//! | 400 | `invalid_request` | `Request body must be form-encoded` | a JSON body with [`TokenBodies::FormOnly`] |
//! | 400 | `invalid_request` | `User is not a TastyTrade customer` | the first [`Config::transient_not_customer`] refreshes |
//! | 400 | `unsupported_grant_type` | … | `grant_type` other than the two below |
//! | 400 | `invalid_grant` | `Invalid authorization code` | unknown, used, expired or other client's code |
//! | 400 | `invalid_grant` | … | `redirect_uri` differs from the authorize request; PKCE verifier missing or wrong |
//! | 401 | `invalid_client` | … | unknown client, wrong secret on a code exchange, `client_id` not the grant's |
//! | 400 | `invalid_grant` | `Client secret mismatch` | a refresh with another application's (or any wrong) secret |
//! | 400 | `invalid_grant` | `Invalid JWT` | refresh token not issued by this server (garbage, truncated, an access token) |
//! | 400 | `invalid_grant` | `Grant revoked` | [`StandIn::revoke`], [`StandIn::revoke_all`] |
//! | 400 | `invalid_grant` | `Refresh token was replaced by a newer one` | old token after rotation |
//!
//! A refresh is checked in this order: token known, client, revocation. Access tokens already
//! issued stay valid until they expire, even after revocation. [`StandIn::refuse_refreshes`]
//! makes every refresh answer one of Tastytrade's captured `invalid_grant` refusals
//! ([`RefreshRefusal`]), for trying a client's advice by hand.
//!
//! # Example
//!
//! ```
//! use tt_standin::{Config, StandIn};
//!
//! let standin = StandIn::start(Config::default()).unwrap();
//! standin.register_app("id", "secret", &["http://localhost:8000"]);
//! let refresh_token = standin.personal_grant("id", "read");
//! let access_token = standin.access_token(&refresh_token);
//! assert_eq!(access_token.split('.').count(), 3);
//! assert!(standin.base_url().starts_with("http://127.0.0.1:"));
//! ```

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

mod api;
mod data;
mod http;
mod jwt;
mod oauth;
mod pages;
mod router;
mod server;
mod state;

pub use data::{ACCOUNT_NUMBERS, CUSTOMER_ID};
pub use jwt::decode_unverified;

use state::{Issuer, RefreshLookup, State};

/// How the stand-in behaves where Tastytrade's behaviour is uncertain or slow to observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Lifetime of access tokens, reported as `expires_in`. Tastytrade: 15 minutes.
    pub access_token_ttl: Duration,
    /// Whether refresh responses carry a new `refresh_token` (the old one then stops working).
    /// Off by default: whether Tastytrade rotates is unknown, and it never seems to.
    pub rotate_refresh_tokens: bool,
    /// Whether token responses carry a `scope` field (undocumented at Tastytrade).
    pub scope_in_response: bool,
    /// Port to listen on at 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Behave as the sandbox ("cert") where it differs from production: API routes answer
    /// 404 to requests that carry `Accept-Version`.
    pub sandbox: bool,
    /// Refresh tokens that are not JWTs (random base64url), so clients cannot read scopes.
    pub opaque_refresh_tokens: bool,
    /// How a JWT refresh token names its scopes (Tastytrade's claim name is unconfirmed).
    pub scope_claim: ScopeClaim,
    /// Which body encodings `/oauth/token` understands.
    pub token_bodies: TokenBodies,
    /// This many refreshes (counted from the start) answer the sandbox's transient
    /// `invalid_request` "User is not a TastyTrade customer" before they work again.
    pub transient_not_customer: usize,
}

/// The scope claim of a JWT refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeClaim {
    /// `"scope": "read trade"`, space separated.
    #[default]
    Scope,
    /// `"scopes": ["read", "trade"]`.
    Scopes,
    /// No scope claim at all.
    None,
}

/// One of Tastytrade's captured `invalid_grant` answers to a refresh (all 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// `Client secret mismatch`: a good refresh token with another application's secret.
    ClientSecretMismatch,
    /// `Grant revoked`: the grant was deleted, or its application's secret regenerated.
    GrantRevoked,
    /// `Invalid JWT`: a damaged token, or one of the other environment.
    InvalidJwt,
}

impl RefreshRefusal {
    /// The `error_description` Tastytrade sends.
    pub fn description(self) -> &'static str {
        match self {
            RefreshRefusal::ClientSecretMismatch => "Client secret mismatch",
            RefreshRefusal::GrantRevoked => "Grant revoked",
            RefreshRefusal::InvalidJwt => "Invalid JWT",
        }
    }
}

/// What `/oauth/token` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenBodies {
    /// Form-encoded and JSON bodies.
    #[default]
    Both,
    /// JSON only: a form body gets 415 `invalid_request` (as a server following
    /// Tastytrade's quickstart alone might answer).
    JsonOnly,
    /// Form only: a JSON body gets 400 `invalid_request` (as an RFC 6749 server might).
    FormOnly,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            access_token_ttl: Duration::from_secs(900),
            rotate_refresh_tokens: false,
            scope_in_response: false,
            port: 0,
            sandbox: false,
            opaque_refresh_tokens: false,
            scope_claim: ScopeClaim::Scope,
            token_bodies: TokenBodies::Both,
            transient_not_customer: 0,
        }
    }
}

/// One request as the stand-in received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string (without `?`), empty when there was none.
    pub query: String,
    /// Header names lowercased, values as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body (non-UTF-8 bytes replaced).
    pub body: String,
}

impl Recorded {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's fields: a form-encoded body decoded, or a JSON object's fields as strings.
    /// Empty when the body is neither.
    pub fn form(&self) -> Vec<(String, String)> {
        http::parse_body(self.header("content-type"), &self.body)
            .map(|p| p.0)
            .unwrap_or_default()
    }

    /// The query string decoded. Empty when it is malformed.
    pub fn query_params(&self) -> Vec<(String, String)> {
        http::parse_form(&self.query)
            .map(|p| p.0)
            .unwrap_or_default()
    }
}

/// What the request threads share with the `StandIn` handle.
pub(crate) struct Shared {
    pub config: Config,
    pub state: Mutex<State>,
    /// Every request with its arrival number.
    pub log: Mutex<Vec<(u64, Recorded)>>,
    /// `(status, remaining)` set by `fail_next`.
    pub failures: Mutex<Option<(u16, usize)>>,
    pub token_delay: Mutex<Duration>,
    pub auto_decision: Mutex<Option<bool>>,
    /// Transient "not a customer" refusals still to give.
    pub transient_left: Mutex<usize>,
    /// Set by `refuse_refreshes`: every refresh answers this.
    pub refuse_refreshes: Mutex<Option<RefreshRefusal>>,
    shutdown: AtomicBool,
}

impl Shared {
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// Locks a mutex, ignoring poisoning: the data stays usable (every update is a single
/// insert or flag), and one panicking request must not take the server down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running stand-in. Dropping it stops the server and its threads.
pub struct StandIn {
    shared: Arc<Shared>,
    threads: server::Threads,
    base_url: String,
}

impl StandIn {
    /// Starts serving on 127.0.0.1 (port from the config, 0 for any free one).
    pub fn start(config: Config) -> io::Result<StandIn> {
        let server =
            tiny_http::Server::http(("127.0.0.1", config.port)).map_err(io::Error::other)?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| io::Error::other("the server is not listening on TCP"))?;
        let base_url = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(Issuer::new(
                base_url.clone(),
                config.access_token_ttl,
                state::RefreshShape {
                    opaque: config.opaque_refresh_tokens,
                    scope_claim: config.scope_claim,
                },
            ))),
            transient_left: Mutex::new(config.transient_not_customer),
            refuse_refreshes: Mutex::new(None),
            config,
            log: Mutex::new(Vec::new()),
            failures: Mutex::new(None),
            token_delay: Mutex::new(Duration::ZERO),
            auto_decision: Mutex::new(None),
            shutdown: AtomicBool::new(false),
        });
        let threads = server::Threads::spawn(Arc::clone(&shared), Arc::new(server))?;
        Ok(StandIn {
            shared,
            threads,
            base_url,
        })
    }

    /// `http://127.0.0.1:PORT`: the API base. The token endpoint is `base_url() + "/oauth/token"`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// `base_url() + "/auth.html"`.
    pub fn authorize_url(&self) -> String {
        format!("{}/auth.html", self.base_url)
    }

    /// `base_url() + "/oauth/token"`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url)
    }

    /// Registers (or replaces) an OAuth application.
    pub fn register_app(&self, client_id: &str, client_secret: &str, redirect_uris: &[&str]) {
        lock(&self.shared.state).register_app(client_id, client_secret, redirect_uris);
    }

    /// Creates a grant as tastytrade.com's "Create Grant" page does and returns its refresh
    /// token (what a user pastes into `ttvault init --paste`). `scopes` is space separated.
    ///
    /// # Panics
    /// If `client_id` was not registered: that is a mistake in the calling test.
    pub fn personal_grant(&self, client_id: &str, scopes: &str) -> String {
        let mut state = lock(&self.shared.state);
        assert!(
            state.app(client_id).is_some(),
            "personal_grant: client_id {client_id:?} is not registered"
        );
        let scope = scopes.split_whitespace().collect::<Vec<_>>().join(" ");
        state.new_grant(client_id, &scope).1
    }

    /// Revokes the grant this refresh token belongs to (as deleting it on the web page does).
    /// Its refresh tokens then get `Grant revoked`; access tokens already issued stay valid
    /// until they expire. Unknown tokens are ignored.
    pub fn revoke(&self, refresh_token: &str) {
        lock(&self.shared.state).revoke(refresh_token);
    }

    /// Forgets every grant, token and code as a restart does (the stand-in keeps nothing on
    /// disk); registered applications stay. A refresh token from before then gets
    /// `Invalid JWT`, as one this server never issued.
    pub fn forget_grants(&self) {
        lock(&self.shared.state).forget_grants();
    }

    /// Revokes every grant of the application and its unused codes, as regenerating the
    /// client secret does (the secret itself is kept, so tests can start a new grant).
    pub fn revoke_all(&self, client_id: &str) {
        lock(&self.shared.state).revoke_all(client_id);
    }

    /// Mints an access token for the grant of a refresh token, without HTTP.
    ///
    /// # Panics
    /// If the refresh token is unknown, replaced or revoked: a mistake in the calling test.
    pub fn access_token(&self, refresh_token: &str) -> String {
        let mut state = lock(&self.shared.state);
        let grant = match state.lookup_refresh(refresh_token) {
            RefreshLookup::Found(grant) => grant,
            _ => panic!("access_token: unknown or replaced refresh token"),
        };
        assert!(
            state.grant(grant).is_some_and(|g| !g.revoked),
            "access_token: the grant is revoked"
        );
        state.mint_access(grant).0
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        let mut log = lock(&self.shared.log).clone();
        log.sort_by_key(|(seq, _)| *seq);
        log.into_iter().map(|(_, r)| r).collect()
    }

    /// Only the `POST /oauth/token` requests, in arrival order.
    pub fn token_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/oauth/token")
            .collect()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// The next `count` token requests (that pass the User-Agent check) answer `status` with
    /// an nginx-style HTML page and no extra headers: 429 carries no `Retry-After`.
    pub fn fail_next(&self, status: u16, count: usize) {
        *lock(&self.shared.failures) = (count > 0).then_some((status, count));
    }

    /// From now on every refresh (whatever its token and secret) answers `400 invalid_grant`
    /// with this refusal's description; `None` ends it. Code exchanges are not affected.
    pub fn refuse_refreshes(&self, refusal: Option<RefreshRefusal>) {
        *lock(&self.shared.refuse_refreshes) = refusal;
    }

    /// Every token request waits this long before being handled. Other routes are served by
    /// other threads and are not slowed. Requests already waiting follow a change: a long
    /// delay holds them until `set_token_delay(Duration::ZERO)` releases them.
    pub fn set_token_delay(&self, delay: Duration) {
        *lock(&self.shared.token_delay) = delay;
    }

    /// How long authorization codes stay exchangeable (five minutes by default).
    pub fn set_code_ttl(&self, ttl: Duration) {
        lock(&self.shared.state).code_ttl = ttl;
    }

    /// Makes `GET /auth.html` skip the consent page: `Some(true)` approves at once,
    /// `Some(false)` denies, `None` shows the page again. Invalid requests still get their
    /// error page or error redirect.
    pub fn auto_decide(&self, decision: Option<bool>) {
        *lock(&self.shared.auto_decision) = decision;
    }

    /// From now on `GET /auth.html` answers as if the user pressed Approve (`true`) or Deny
    /// (`false`), without showing the page: for tests that drive a client whose "browser" is a
    /// plain HTTP GET. Same as `auto_decide(Some(approve))`.
    pub fn decide(&self, approve: bool) {
        self.auto_decide(Some(approve));
    }

    /// Decides an authorize URL (the one a client would open in a browser) as the user would,
    /// without HTTP and without recording a request. Returns the location the browser would
    /// be redirected to (with `code` or `error`), or the error page's message when the request
    /// is refused outright (unknown client, redirect_uri mismatch).
    pub fn decide_url(&self, authorize_url: &str, approve: bool) -> Result<String, String> {
        oauth::decide_url(&self.shared, authorize_url, approve)
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.threads.stop();
    }
}
