//! What the agent holds: the grant (in locked memory), the current access token, and the
//! single flight that refreshes it.
//!
//! Single flight: the token cache sits behind one async mutex, held across the refresh.
//! However many clients ask at once, the first one finds no fresh token and refreshes;
//! the others queue on the mutex and then find the token it stored. A failed refresh is
//! remembered with the instant it ended; every client that was already waiting gets that
//! same failure instead of starting another refresh, so a refused grant or a dead
//! endpoint costs one request, not one per client. A client arriving later tries again.

use super::locked::Locked;
use super::paths::VaultStamp;
use super::protocol::{ErrorKind, StatusReply, WireError};
use crate::oauth::{self, Http};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::vault::Payload;
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
}

impl Cached {
    fn is_fresh(&self, now: SystemTime) -> bool {
        match self.expires_at.duration_since(now) {
            Ok(left) => left > margin(self.lifetime),
            Err(_) => false,
        }
    }
}

#[derive(Default)]
struct TokenCache {
    current: Option<Cached>,
    failure: Option<(Instant, WireError)>,
}

pub struct State {
    pub vault: PathBuf,
    pub until: SystemTime,
    pub deadline: Instant,
    pub idle: Option<Duration>,
    grant: Mutex<Locked>,
    stamp: Mutex<VaultStamp>,
    token: tokio::sync::Mutex<TokenCache>,
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
        http: Arc<dyn Http + Send + Sync>,
    ) -> State {
        let grant = Locked::new(&super::protocol::to_json(payload));
        let memory_locked = grant.is_locked();
        State {
            vault,
            until: SystemTime::now() + ttl,
            deadline: Instant::now() + ttl,
            idle,
            grant: Mutex::new(grant),
            stamp: Mutex::new(stamp),
            token: tokio::sync::Mutex::new(TokenCache::default()),
            http,
            last_request: Mutex::new(Instant::now()),
            unsaved: AtomicBool::new(false),
            memory_locked,
        }
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

    /// Whether the vault file is still the one the grant came from.
    pub fn vault_unchanged(&self) -> bool {
        match VaultStamp::of(&self.vault) {
            Ok(now) => now == *lock(&self.stamp),
            Err(_) => false,
        }
    }

    pub fn unsaved(&self) -> bool {
        self.unsaved.load(Ordering::SeqCst)
    }

    /// A client wrote the rotated refresh token into the vault: the file as it is now is
    /// ours again.
    pub fn saved(&self) -> Result<(), WireError> {
        let stamp = VaultStamp::of(&self.vault).map_err(|e| {
            WireError::new(
                ErrorKind::Failure,
                format!("the agent cannot read the vault: {e}"),
            )
        })?;
        *lock(&self.stamp) = stamp;
        self.unsaved.store(false, Ordering::SeqCst);
        Ok(())
    }

    pub async fn status(&self) -> StatusReply {
        let token_expires = self
            .token
            .lock()
            .await
            .current
            .as_ref()
            .map(|c| unix(c.expires_at));
        StatusReply {
            pid: std::process::id(),
            vault: self.vault.display().to_string(),
            until: unix(self.until),
            idle_secs: self.idle.map(|d| d.as_secs()),
            token_expires,
            memory_locked: self.memory_locked,
            unsaved_refresh_token: self.unsaved(),
        }
    }

    /// A fresh access token: the cached one while it has more than the margin left, else
    /// one refresh for everybody waiting. `arrival` is when the asking client's request
    /// came in, to hand it a failure that happened while it waited.
    pub async fn fresh_token(
        &self,
        arrival: Instant,
    ) -> Result<(AccessToken, SystemTime), WireError> {
        let mut cache = self.token.lock().await;
        if let Some(c) = &cache.current {
            if c.is_fresh(SystemTime::now()) {
                return Ok((token_of(&c.token), c.expires_at));
            }
        }
        if let Some((at, err)) = &cache.failure {
            if *at >= arrival {
                return Err(err.clone());
            }
        }
        match self.refresh().await {
            Ok(c) => {
                let out = (token_of(&c.token), c.expires_at);
                cache.current = Some(c);
                cache.failure = None;
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
        let http = Arc::clone(&self.http);
        let response = tokio::task::spawn_blocking(move || {
            oauth::refresh_remembered(&*http, &url, &client_id, &secret, &refresh_token, encoding)
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
        Ok(Cached {
            token: Locked::new(response.access_token.expose().as_bytes()),
            expires_at: SystemTime::now() + lifetime,
            lifetime,
        })
    }
}

fn token_of(bytes: &Locked) -> AccessToken {
    AccessToken::new(String::from_utf8_lossy(bytes.bytes()).into_owned())
}

pub fn unix_secs(t: SystemTime) -> u64 {
    unix(t)
}

#[cfg(test)]
mod tests;
