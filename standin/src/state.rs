//! Everything the stand-in remembers: registered applications, grants, refresh tokens,
//! authorization codes and access tokens. One `Mutex<State>` guards it all; every operation is
//! a few map look-ups, so contention stays low even under a load test.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde_json::json;

use crate::data::CUSTOMER_ID;
use crate::jwt;
use crate::ScopeClaim;

/// `iss` of refresh tokens, as in a real one (whichever host issued it).
pub const REFRESH_ISSUER: &str = "https://api.tastytrade.com";

/// How refresh tokens look (see [`crate::Config`]).
#[derive(Clone, Copy)]
pub struct RefreshShape {
    pub opaque: bool,
    pub scope_claim: ScopeClaim,
}

/// The signing key and the claims every token shares.
pub struct Issuer {
    key: [u8; 32],
    /// `iss` of access and ID tokens: the stand-in's base URL, like Tastytrade's API host.
    pub base_url: String,
    pub access_ttl: Duration,
    refresh_shape: RefreshShape,
}

impl Issuer {
    pub fn new(base_url: String, access_ttl: Duration, refresh_shape: RefreshShape) -> Issuer {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Issuer {
            key,
            base_url,
            access_ttl,
            refresh_shape,
        }
    }
}

pub struct App {
    pub secret: String,
    pub redirect_uris: Vec<String>,
}

pub struct Grant {
    pub client_id: String,
    pub scope: String,
    pub revoked: bool,
}

/// A refresh token belongs to one grant; with rotation only the newest one is `current`.
struct RefreshEntry {
    grant: usize,
    current: bool,
}

/// An authorization code and everything it is bound to.
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    /// The S256 `code_challenge`, when the authorize request sent one.
    pub challenge: Option<String>,
    pub issued: Instant,
}

struct Access {
    scope: String,
    expires: Instant,
}

pub enum RefreshLookup {
    /// Not a token this server issued (or not a token at all): Tastytrade says "Invalid JWT".
    Unknown,
    /// Issued here but replaced by a newer one (rotation).
    Replaced,
    Found(usize),
}

pub enum AccessCheck {
    Unknown,
    Expired,
    Live { scope: String },
}

pub struct State {
    issuer: Issuer,
    apps: HashMap<String, App>,
    grants: Vec<Grant>,
    refresh: HashMap<String, RefreshEntry>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    /// How long a code may wait before being exchanged. Five minutes, like most servers;
    /// adjustable so tests need not wait that long.
    pub code_ttl: Duration,
}

/// Past this many access tokens the expired ones are swept, so a long load test cannot grow
/// the table without bound.
const ACCESS_SWEEP_AT: usize = 10_000;

impl State {
    pub fn new(issuer: Issuer) -> State {
        State {
            issuer,
            apps: HashMap::new(),
            grants: Vec::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            code_ttl: Duration::from_secs(300),
        }
    }

    pub fn register_app(&mut self, client_id: &str, secret: &str, redirect_uris: &[&str]) {
        self.apps.insert(
            client_id.to_string(),
            App {
                secret: secret.to_string(),
                redirect_uris: redirect_uris.iter().map(|u| u.to_string()).collect(),
            },
        );
    }

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.get(client_id)
    }

    pub fn grant(&self, id: usize) -> Option<&Grant> {
        self.grants.get(id)
    }

    pub fn new_grant(&mut self, client_id: &str, scope: &str) -> (usize, String) {
        self.grants.push(Grant {
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            revoked: false,
        });
        let id = self.grants.len() - 1;
        let token = self.new_refresh_token(id);
        (id, token)
    }

    /// Issues a refresh token for the grant; older ones of the same grant stop working.
    pub fn new_refresh_token(&mut self, grant: usize) -> String {
        let Some(g) = self.grants.get(grant) else {
            return String::new();
        };
        let shape = self.issuer.refresh_shape;
        let token = if shape.opaque {
            format!("rt_{}{}", random_id(), random_id())
        } else {
            // The public sample's shape: EdDSA header, these claims; `jti` keeps two tokens
            // of one grant issued in the same second apart.
            let mut claims = json!({
                "iss": REFRESH_ISSUER,
                "sub": CUSTOMER_ID,
                "iat": unix_now(),
                "aud": g.client_id,
                "grant_id": format!("grant-{grant}"),
                "jti": random_id(),
            });
            match shape.scope_claim {
                ScopeClaim::Scope => claims["scope"] = json!(g.scope),
                ScopeClaim::Scopes => {
                    claims["scopes"] = json!(g.scope.split(' ').collect::<Vec<_>>())
                }
                ScopeClaim::None => {}
            }
            let header = json!({ "alg": "EdDSA", "typ": "rt+jwt" });
            jwt::sign_with_header(&self.issuer.key, &header, &claims)
        };
        for entry in self.refresh.values_mut().filter(|e| e.grant == grant) {
            entry.current = false;
        }
        self.refresh.insert(
            token.clone(),
            RefreshEntry {
                grant,
                current: true,
            },
        );
        token
    }

    pub fn lookup_refresh(&self, token: &str) -> RefreshLookup {
        match self.refresh.get(token) {
            None => RefreshLookup::Unknown,
            Some(e) if !e.current => RefreshLookup::Replaced,
            Some(e) => RefreshLookup::Found(e.grant),
        }
    }

    /// Revokes the grant a refresh token belongs to, as deleting it on the web page does.
    pub fn revoke(&mut self, refresh_token: &str) -> bool {
        let Some(grant) = self.refresh.get(refresh_token).map(|e| e.grant) else {
            return false;
        };
        match self.grants.get_mut(grant) {
            Some(g) => {
                g.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Every grant of the application dies, as when its client secret is regenerated;
    /// codes not yet exchanged die with them.
    pub fn forget_grants(&mut self) {
        self.grants.clear();
        self.refresh.clear();
        self.codes.clear();
        self.access.clear();
    }

    pub fn revoke_all(&mut self, client_id: &str) {
        for g in self.grants.iter_mut().filter(|g| g.client_id == client_id) {
            g.revoked = true;
        }
        self.codes.retain(|_, c| c.client_id != client_id);
    }

    /// Mints an access token for a grant and returns it with its lifetime in seconds.
    pub fn mint_access(&mut self, grant: usize) -> (String, u64) {
        let Some(g) = self.grants.get(grant) else {
            return (String::new(), 0);
        };
        let now = Instant::now();
        if self.access.len() >= ACCESS_SWEEP_AT {
            self.access.retain(|_, a| a.expires > now);
        }
        let ttl = self.issuer.access_ttl;
        let iat = unix_now();
        let claims = json!({
            "iss": self.issuer.base_url,
            "aud": g.client_id,
            "scope": g.scope,
            "sub": CUSTOMER_ID,
            "iat": iat,
            "exp": iat.saturating_add(ttl.as_secs()),
            "jti": random_id(),
        });
        let token = jwt::sign(&self.issuer.key, "at+jwt", &claims);
        // A test may configure an absurd lifetime; cap it instead of overflowing `Instant`.
        let expires = now
            .checked_add(ttl)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400));
        self.access.insert(
            token.clone(),
            Access {
                scope: g.scope.clone(),
                expires,
            },
        );
        (token, ttl.as_secs())
    }

    /// An OpenID Connect ID token, returned with the code exchange when `openid` was granted.
    pub fn id_token(&self, grant: usize) -> String {
        let client_id = self
            .grants
            .get(grant)
            .map(|g| g.client_id.as_str())
            .unwrap_or_default();
        let iat = unix_now();
        let claims = json!({
            "iss": self.issuer.base_url,
            "aud": client_id,
            "sub": CUSTOMER_ID,
            "iat": iat,
            "exp": iat.saturating_add(self.issuer.access_ttl.as_secs()),
            "email": crate::data::CUSTOMER_EMAIL,
        });
        jwt::sign(&self.issuer.key, "JWT", &claims)
    }

    pub fn check_access(&self, token: &str) -> AccessCheck {
        match self.access.get(token) {
            None => AccessCheck::Unknown,
            Some(a) if Instant::now() >= a.expires => AccessCheck::Expired,
            Some(a) => AccessCheck::Live {
                scope: a.scope.clone(),
            },
        }
    }

    pub fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        challenge: Option<&str>,
    ) -> String {
        let now = Instant::now();
        let ttl = self.code_ttl;
        self.codes.retain(|_, c| now.duration_since(c.issued) < ttl);
        let code = random_id();
        self.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                scope: scope.to_string(),
                challenge: challenge.map(str::to_string),
                issued: now,
            },
        );
        code
    }

    /// Removes and returns a code that has not expired: codes are single-use.
    pub fn take_code(&mut self, code: &str) -> Option<Code> {
        let c = self.codes.remove(code)?;
        (c.issued.elapsed() < self.code_ttl).then_some(c)
    }
}

/// 128 random bits, base64url: for codes, `jti`s and quote tokens.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
