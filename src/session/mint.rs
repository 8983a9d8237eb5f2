//! A session from a vault opened in this process: the refresh-token grant at the vault's
//! token endpoint, and a rotated refresh token saved before the session is handed out
//! (the old one may already be dead).

use super::{unsaved_here, Session, Source, Unsaved};
use crate::error::Result;
use crate::oauth::{self, Http};
use crate::vault::{GrantInfo, GrantSecrets, Opened, VaultRef};
use crate::want::Secrets;
use std::time::{Duration, SystemTime};

/// A session minted from `opened`; the token is refused (exit 2) when its whole lifetime
/// is shorter than `min_ttl`, after a rotated refresh token is saved (nothing is lost).
/// `opened` follows what is saved, so the next mint from it uses the live refresh token.
pub(super) fn from_opened(
    vault: &VaultRef,
    http: &dyn Http,
    opened: &mut Opened,
    secrets: Secrets,
    min_ttl: Duration,
) -> Result<Session> {
    let p = &opened.payload;
    let token_url = p.environment.token_url();
    vault
        .report
        .detail(&format!("asking {token_url} for an access token"));
    let response = oauth::refresh_remembered(
        http,
        &token_url,
        &p.client_id,
        &p.client_secret,
        &p.refresh_token,
        p.token_encoding,
    )
    .map_err(|e| oauth::failure::issued_token_unknown(e, p.redirect_uri.is_some()))?;
    // The body encoding that worked, when it is not the one tried first (the endpoint
    // needed the other): remembered, so the next refresh needs one request only.
    let tried_first = p
        .token_encoding
        .unwrap_or_else(|| oauth::token::default_refresh_encoding(&token_url));
    let learned = Some(response.encoding).filter(|e| *e != tried_first);
    let lifetime = Duration::from_secs(response.expires_in);
    let now = SystemTime::now();
    let rotated = response
        .refresh_token
        .filter(|new| !new.ct_eq(&p.refresh_token));
    let mut session = Session {
        grant: GrantInfo::of(p),
        secrets: (secrets == Secrets::Included).then(|| GrantSecrets::of(p)),
        access_token: response.access_token,
        expires_at: now.checked_add(lifetime).unwrap_or(now),
        source: Source::Vault,
        unsaved: match rotated {
            Some(new) => Unsaved::Here(new),
            None => Unsaved::Nothing,
        },
    };
    if let Some(saved) = session
        .save_rotated(vault, opened.passphrase.as_ref())
        .map_err(unsaved_here)?
    {
        opened.payload.refresh_token = saved;
    }
    if let Some(encoding) = learned {
        remember_encoding(vault, opened, encoding);
    }
    crate::want::check_minted(min_ttl, lifetime)?;
    Ok(session)
}

/// Only a hint worth saving: the rewrite never prompts (the passphrase that opened the
/// vault is known, or an identity opened it), and a failure never fails the command.
fn remember_encoding(vault: &VaultRef, opened: &mut Opened, encoding: oauth::BodyEncoding) {
    let saved = crate::vault::update(vault, opened.passphrase.as_ref(), |o| {
        o.payload.token_encoding = Some(encoding);
        Ok(((), crate::vault::keep_passphrase(o)?))
    });
    if saved.is_ok() {
        opened.payload.token_encoding = Some(encoding);
        vault.report.detail(
            "the token endpoint needed the other body encoding; remembered it in the vault",
        );
    }
}
