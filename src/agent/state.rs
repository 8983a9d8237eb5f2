//! What the agent holds: the grant (in locked memory), the current access token, and the
//! single flight that refreshes it.
//!
//! Single flight: the token cache sits behind one async mutex, held across the refresh.
//! However many clients ask at once, the first one finds no fresh token and refreshes;
//! the others queue on the mutex and then find the token it stored. A failed refresh is
//! remembered with the instant it ended; every client that was already waiting gets that
//! same failure instead of starting another refresh, so a refused grant or a dead
//! endpoint costs one request, not one per client. A client arriving later tries again.
//!
//! Floors and freshness: a client may ask for a token with at least `min_ttl` left, or one
//! refreshed after its request arrived (`fresh`). Under the same mutex, the cached token
//! is handed out only while it has more than both the margin and the asker's floor left,
//! so the refresh happens early enough for the largest floor asked; a token refreshed
//! after a request arrived always serves it (it is as fresh as any could be), so clients
//! asking at once with any floor still cause one refresh.

use super::limits::MAX_AGENT_DURATION;
use super::locked::Locked;
use super::paths::{VaultCheck, VaultStamp};
use super::protocol::{ErrorKind, StatusReply, WireError};
use crate::oauth::{self, Http};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::vault::Payload;
use crate::want::Freshness;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Refresh this long before expiry at most...
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// ...and at most a quarter of the token's lifetime, so short-lived tokens (the stand-in
/// in tests) are still used for most of their life.
pub fn margin(lifetime: Duration) -> Duration {
    MAX_MARGIN.min(lifetime / 4)
}

struct Cached {
    token: Locked,
    expires_at: SystemTime,
    lifetime: Duration,
    /// When the refresh that got it ended.
    obtained: Instant,
}

impl Cached {
    /// Whether it may be handed to a request that arrived at `arrival` asking `want`.
    fn serves(&self, now: SystemTime, arrival: Instant, want: Freshness) -> bool {
        if self.obtained >= arrival {
            return true;
        }
        if want.fresh {
            return false;
        }
        match self.expires_at.duration_since(now) {
            Ok(left) => left > margin(self.lifetime).max(want.min_ttl),
            Err(_) => false,
        }
    }
}

/// The token cache as `status` sees it.
#[derive(Default, Clone, Copy)]
struct Shown {
    token_expires: Option<u64>,
    refreshing: bool,
}

#[derive(Default)]
struct TokenCache {
    current: Option<Cached>,
    failure: Option<(Instant, WireError)>,
}

pub struct State {
    /// The vault's canonical path (a link there later is a swap, not followed).
    pub vault: PathBuf,
    pub until: SystemTime,
    pub deadline: Instant,
    pub idle: Option<Duration>,
    grant: Mutex<Locked>,
    /// The refresh token the vault file holds: the one handed over, or the rotated one
    /// once a client saved it. A client that sends it has opened the vault.
    vault_refresh_token: Mutex<Locked>,
    /// Whether the client secret and refresh token are handed to whoever asks: the
    /// vault's recorded choice or `unlock --long-lived`.
    long_lived: bool,
    stamp: Mutex<VaultStamp>,
    token: tokio::sync::Mutex<TokenCache>,
    /// What `status` shows of the token cache, kept beside it: `status` and `lock` must
    /// answer at once, never wait behind a refresh that holds the cache's mutex.
    shown: Mutex<Shown>,
    http: Arc<dyn Http + Send + Sync>,
    last_request: Mutex<Instant>,
    unsaved: AtomicBool,
    memory_locked: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked mid-update of plain data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl State {
    pub fn new(
        vault: PathBuf,
        payload: &Payload,
        stamp: VaultStamp,
        ttl: Duration,
        idle: Option<Duration>,
        long_lived: bool,
        http: Arc<dyn Http + Send + Sync>,
    ) -> State {
        let grant = Locked::new(&super::protocol::to_json(payload));
        let memory_locked = grant.is_locked();
        // Bounded by the command line already; bounded again so no sum below can overflow.
        let ttl = ttl.min(MAX_AGENT_DURATION);
        let now = SystemTime::now();
        let start = Instant::now();
        State {
            vault,
            until: now.checked_add(ttl).unwrap_or(now),
            deadline: start.checked_add(ttl).unwrap_or(start),
            idle: idle.map(|d| d.min(MAX_AGENT_DURATION)),
            grant: Mutex::new(grant),
            vault_refresh_token: Mutex::new(Locked::new(payload.refresh_token.expose().as_bytes())),
            long_lived: long_lived || payload.handout == crate::vault::Handout::LongLived,
            stamp: Mutex::new(stamp),
            token: tokio::sync::Mutex::new(TokenCache::default()),
            shown: Mutex::new(Shown::default()),
            http,
            last_request: Mutex::new(Instant::now()),
            unsaved: AtomicBool::new(false),
            memory_locked,
        }
    }

    /// Whether long-lived secrets are handed out to any process of the user that asks.
    pub fn long_lived(&self) -> bool {
        self.long_lived
    }

    /// Whether `token` is the refresh token the vault file holds.
    pub fn is_vault_refresh_token(&self, token: &RefreshToken) -> bool {
        crate::secret::ct_eq(
            lock(&self.vault_refresh_token).bytes(),
            token.expose().as_bytes(),
        )
    }

    pub fn memory_locked(&self) -> bool {
        self.memory_locked
    }

    /// The grant, parsed from locked memory (the copy is zeroized when dropped).
    pub fn payload(&self) -> Result<Payload, WireError> {
        Payload::from_bytes(lock(&self.grant).bytes()).map_err(|e| WireError::from_error(&e))
    }

    pub fn touch(&self) {
        *lock(&self.last_request) = Instant::now();
    }

    /// Whether the idle limit has passed.
    pub fn idle_expired(&self) -> bool {
        match self.idle {
            Some(idle) => lock(&self.last_request).elapsed() >= idle,
            None => false,
        }
    }

    /// Checks the vault file before serving, the way opening it checks it. `Ok`: still
    /// the file the grant came from. Otherwise the error to answer, and whether the agent
    /// ends: it does when the file changed or is gone (`stale`: it cannot reload without
    /// the passphrase); a file opening would refuse (`vault`, exit 3) is not served while
    /// it stays so, and served again once it is put right (same content, `chmod 600`);
    /// a file that could not be looked at (no descriptor left) is no verdict (`failure`,
    /// the client opens the vault itself).
    pub fn check_vault(&self) -> Result<(), (WireError, bool)> {
        let stale = || {
            let e = WireError::new(
                ErrorKind::Stale,
                "the vault file changed since it was unlocked; the agent has ended",
            );
            (e, true)
        };
        match VaultStamp::checked(&self.vault) {
            Ok(now) if now == *lock(&self.stamp) => Ok(()),
            Ok(_) | Err(VaultCheck::Missing) => Err(stale()),
            Err(VaultCheck::Refused(e)) => {
                let mut wire = WireError::new(ErrorKind::Vault, e.message);
                wire.hint = e.hint;
                Err((wire, false))
            }
            Err(VaultCheck::Unreadable(e)) => Err((
                WireError::new(
                    ErrorKind::Failure,
                    format!("the agent cannot read the vault now: {e}"),
                ),
                false,
            )),
        }
    }

    pub fn unsaved(&self) -> bool {
        self.unsaved.load(Ordering::SeqCst)
    }

    /// A client wrote the rotated refresh token into the vault: the file as it is now is
    /// ours again.
    pub fn saved(&self) -> Result<(), WireError> {
        let stamp = VaultStamp::checked(&self.vault).map_err(|e| {
            let why = match e {
                VaultCheck::Refused(e) => e.message,
                VaultCheck::Missing => "it is gone".into(),
                VaultCheck::Unreadable(e) => e.to_string(),
            };
            WireError::new(
                ErrorKind::Failure,
                format!("the agent cannot read the vault: {why}"),
            )
        })?;
        *lock(&self.stamp) = stamp;
        let current = self.payload()?;
        *lock(&self.vault_refresh_token) = Locked::new(current.refresh_token.expose().as_bytes());
        self.unsaved.store(false, Ordering::SeqCst);
        Ok(())
    }

    pub fn status(&self) -> StatusReply {
        let Shown {
            token_expires,
            refreshing,
        } = *lock(&self.shown);
        StatusReply {
            pid: std::process::id(),
            vault: self.vault.display().to_string(),
            until: unix(self.until),
            idle_secs: self.idle.map(|d| d.as_secs()),
            token_expires,
            memory_locked: self.memory_locked,
            unsaved_refresh_token: self.unsaved(),
            refreshing,
        }
    }

    /// An access token for a request that arrived at `arrival` asking `want`: the cached
    /// one while it serves (see [`Cached::serves`]), else one refresh for everybody
    /// waiting. A failure that happened while the request waited is handed to it. A
    /// floor longer than the tokens' whole lifetime is refused (`usage`).
    pub async fn fresh_token(
        &self,
        arrival: Instant,
        want: Freshness,
    ) -> Result<(AccessToken, SystemTime), WireError> {
        let mut cache = self.token.lock().await;
        if let Some(c) = &cache.current {
            if c.lifetime < want.min_ttl {
                return Err(floor_too_long(want.min_ttl, c.lifetime));
            }
            if c.serves(SystemTime::now(), arrival, want) {
                return Ok((token_of(&c.token), c.expires_at));
            }
        }
        if let Some((at, err)) = &cache.failure {
            if *at >= arrival {
                return Err(err.clone());
            }
        }
        lock(&self.shown).refreshing = true;
        let refreshed = self.refresh().await;
        lock(&self.shown).refreshing = false;
        match refreshed {
            Ok(c) => {
                let out = (token_of(&c.token), c.expires_at);
                let lifetime = c.lifetime;
                lock(&self.shown).token_expires = Some(unix(c.expires_at));
                cache.current = Some(c);
                cache.failure = None;
                if lifetime < want.min_ttl {
                    return Err(floor_too_long(want.min_ttl, lifetime));
                }
                Ok(out)
            }
            Err(e) => {
                cache.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    async fn refresh(&self) -> Result<Cached, WireError> {
        let payload = self.payload()?;
        let url = payload.environment.token_url();
        let client_id = payload.client_id.clone();
        let secret: ClientSecret = payload.client_secret.clone();
        let refresh_token: RefreshToken = payload.refresh_token.clone();
        let encoding = payload.token_encoding;
        let from_browser = payload.redirect_uri.is_some();
        let http = Arc::clone(&self.http);
        let response = tokio::task::spawn_blocking(move || {
            oauth::refresh_remembered(&*http, &url, &client_id, &secret, &refresh_token, encoding)
                .map_err(|e| oauth::failure::issued_token_unknown(e, from_browser))
        })
        .await
        .map_err(|_| WireError::new(ErrorKind::Failure, "the agent's refresh failed"))?
        .map_err(|e| WireError::from_error(&e))?;
        if let Some(new) = &response.refresh_token {
            if !new.ct_eq(&payload.refresh_token) {
                // The old refresh token may already be dead: use the new one from now on,
                // and have a client with the passphrase write it into the vault.
                let mut updated = payload.clone();
                updated.refresh_token = new.clone();
                *lock(&self.grant) = Locked::new(&super::protocol::to_json(&updated));
                self.unsaved.store(true, Ordering::SeqCst);
            }
        }
        let lifetime = Duration::from_secs(response.expires_in);
        let now = SystemTime::now();
        Ok(Cached {
            token: Locked::new(response.access_token.expose().as_bytes()),
            expires_at: now.checked_add(lifetime).unwrap_or(now),
            lifetime,
            obtained: Instant::now(),
        })
    }
}

fn floor_too_long(min_ttl: Duration, lifetime: Duration) -> WireError {
    let e = crate::want::longer_than_lifetime(min_ttl, lifetime);
    let mut wire = WireError::new(ErrorKind::Usage, e.message);
    wire.hint = e.hint;
    wire
}

fn token_of(bytes: &Locked) -> AccessToken {
    AccessToken::new(String::from_utf8_lossy(bytes.bytes()).into_owned())
}

pub fn unix_secs(t: SystemTime) -> u64 {
    unix(t)
}

#[cfg(test)]
mod tests;
