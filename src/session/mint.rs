//! A session from a vault opened in this process: the refresh-token grant at the vault's
//! token endpoint, and a rotated refresh token saved before the session is handed out
//! (the old one may already be dead).

use super::{unsaved_here, GrantInfo, GrantSecrets, Secrets, Session, Source, Unsaved};
use crate::error::Result;
use crate::oauth::{self, Http};
use crate::vault::{Opened, VaultRef};
use std::time::{Duration, SystemTime};

pub fn from_opened(
    vault: &VaultRef,
    http: &dyn Http,
    opened: Opened,
    secrets: Secrets,
) -> Result<Session> {
    let p = &opened.payload;
    let token_url = p.environment.token_url();
    vault
        .report
        .detail(&format!("asking {token_url} for an access token"));
    let response = oauth::refresh(
        http,
        &token_url,
        &p.client_id,
        &p.client_secret,
        &p.refresh_token,
    )?;
    let rotated = response
        .refresh_token
        .filter(|new| !new.ct_eq(&p.refresh_token));
    let mut session = Session {
        grant: GrantInfo::of(p),
        secrets: (secrets == Secrets::Included).then(|| GrantSecrets::of(p)),
        access_token: response.access_token,
        expires_at: SystemTime::now() + Duration::from_secs(response.expires_in),
        source: Source::Vault,
        unsaved: match rotated {
            Some(new) => Unsaved::Here(new),
            None => Unsaved::Nothing,
        },
    };
    session
        .save_rotated(vault, opened.passphrase.as_ref())
        .map_err(unsaved_here)?;
    Ok(session)
}
