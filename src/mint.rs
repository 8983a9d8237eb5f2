//! A fresh access token from the vault's grant: open the vault, call the token endpoint
//! with the refresh-token grant, and store a refresh token that comes back different.

use crate::cli::Global;
use crate::error::Result;
use crate::oauth::{self, Http, TokenResponse};
use crate::secret::AccessToken;
use crate::vault::{self, Opened};
use std::time::{Duration, SystemTime};

/// An opened vault and an access token minted from it.
pub struct Minted {
    pub opened: Opened,
    pub access_token: AccessToken,
    pub expires_at: SystemTime,
}

impl Minted {
    /// The variables of `preset` for this token and grant (`exec`, `export`).
    pub fn variables(&self, preset: crate::cli::Preset, long_lived: bool) -> Vec<crate::env::Var> {
        let p = &self.opened.payload;
        crate::env::variables(
            preset,
            long_lived,
            &crate::env::Credentials {
                access_token: &self.access_token,
                expires_at: self.expires_at,
                api_base_url: p.environment.api_url(),
                client_id: &p.client_id,
                client_secret: &p.client_secret,
                refresh_token: &p.refresh_token,
            },
        )
    }
}

/// Opens the vault and mints one access token.
pub fn from_vault(global: &Global, http: &dyn Http) -> Result<Minted> {
    let opened = vault::open(global)?;
    mint(global, http, opened)
}

/// Mints one access token for an already opened vault.
pub fn mint(global: &Global, http: &dyn Http, mut opened: Opened) -> Result<Minted> {
    let p = &opened.payload;
    if global.verbose > 0 {
        eprintln!(
            "ttvault: asking {} for an access token",
            p.environment.token_url()
        );
    }
    let response = oauth::refresh_remembered(
        http,
        &p.environment.token_url(),
        &p.client_id,
        &p.client_secret,
        &p.refresh_token,
        p.token_encoding,
    )?;
    store_rotated_refresh_token(global, &mut opened, &response)?;
    let expires_at = SystemTime::now() + Duration::from_secs(response.expires_in);
    Ok(Minted {
        opened,
        access_token: response.access_token,
        expires_at,
    })
}

/// Tastytrade is not documented to rotate refresh tokens; if it ever does, the new one
/// must be kept or the grant is lost.
fn store_rotated_refresh_token(
    global: &Global,
    opened: &mut Opened,
    response: &TokenResponse,
) -> Result<()> {
    // The body encoding that worked, when it is not the one tried first (the endpoint
    // needed the other): remembered, so the next refresh needs no second request.
    let tried_first = opened.payload.token_encoding.unwrap_or_else(|| {
        oauth::token::default_refresh_encoding(&opened.payload.environment.token_url())
    });
    let encoding = Some(response.encoding).filter(|e| *e != tried_first);
    let new = response
        .refresh_token
        .as_ref()
        .filter(|new| !new.ct_eq(&opened.payload.refresh_token));
    let Some(new) = new else {
        // Only a hint to save: worth a rewrite when no passphrase must be asked for, and
        // never worth failing the command.
        if encoding.is_some() && opened.passphrase.is_some() {
            let known = opened.passphrase.clone();
            let saved = vault::update(global, known.as_ref(), |o| {
                o.payload.token_encoding = encoding;
                Ok(((), vault::keep_passphrase(global, o)?))
            });
            if saved.is_ok() {
                opened.payload.token_encoding = encoding;
            }
        }
        return Ok(());
    };
    let known = opened.passphrase.clone();
    vault::update(global, known.as_ref(), |o| {
        o.payload.refresh_token = new.clone();
        if encoding.is_some() {
            o.payload.token_encoding = encoding;
        }
        Ok(((), vault::keep_passphrase(global, o)?))
    })
    .map_err(|e| {
        let hint = "the token endpoint issued a new refresh token that could not be saved; run the command again with the passphrase";
        crate::Error { hint: Some(hint.into()), ..e }
    })?;
    if encoding.is_some() {
        opened.payload.token_encoding = encoding;
    }
    opened.payload.refresh_token = new.clone();
    if global.verbose > 0 {
        eprintln!("ttvault: the token endpoint issued a new refresh token; saved it in the vault");
    }
    Ok(())
}
