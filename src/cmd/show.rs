//! `ttvault show`: what the vault holds, except the secrets.

use crate::cli::Global;
use crate::error::Result;
use crate::vault::{self, header::Slot};
use serde_json::json;

pub fn run(global: &Global) -> Result<i32> {
    let opened = vault::open(global)?;
    let p = &opened.payload;
    let slots = opened.header.slots();
    if global.json {
        let doc = json!({
            "vault": opened.path.display().to_string(),
            "payload_version": p.version,
            "client_id": p.client_id,
            "environment": p.environment.name(),
            "api_url": p.environment.api_url(),
            "authorize_url": p.environment.authorize_url(),
            "token_url": p.environment.token_url(),
            "scopes_requested": p.scopes,
            "redirect_uri": p.redirect_uri,
            "created_at": p.created_at,
            "rotated_at": p.rotated_at,
            "recipients": p.recipients,
            "slots": slots,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(0);
    }
    println!("vault:         {}", opened.path.display());
    println!("client id:     {}", p.client_id);
    println!("environment:   {}", p.environment.name());
    println!("  api:         {}", p.environment.api_url());
    println!("  authorize:   {}", p.environment.authorize_url());
    let scopes = if p.scopes.is_empty() {
        "unknown (imported)".to_string()
    } else {
        p.scopes.join(" ")
    };
    println!("scopes asked:  {scopes}");
    if let Some(uri) = &p.redirect_uri {
        println!("redirect uri:  {uri}");
    }
    println!("created:       {}", p.created_at);
    println!(
        "rotated:       {}",
        p.rotated_at.as_deref().unwrap_or("never")
    );
    println!("secrets:       client secret, refresh token (not shown)");
    for line in describe_slots(&slots, &p.recipients) {
        println!("slot:          {line}");
    }
    Ok(0)
}

/// One human line per slot; recipients are matched to X25519/SSH slots in order.
pub fn describe_slots(slots: &[Slot], recipients: &[String]) -> Vec<String> {
    let mut names = recipients.iter();
    slots
        .iter()
        .map(|slot| match slot {
            Slot::Passphrase { kdf } => format!(
                "passphrase (argon2id, {} MiB, t={}, p={})",
                kdf.memory_kib / 1024,
                kdf.iterations,
                kdf.parallelism
            ),
            Slot::DamagedPassphrase => "passphrase (damaged parameters)".to_string(),
            Slot::Scrypt { log_n } => format!("passphrase (age scrypt, N=2^{log_n})"),
            Slot::X25519 | Slot::Ssh { .. } => {
                let kind = match slot {
                    Slot::Ssh { key_type } => key_type.as_str(),
                    _ => "age X25519",
                };
                match names.next() {
                    Some(r) => format!("recipient {kind} {}", short_key(r)),
                    None => format!("recipient {kind}"),
                }
            }
            Slot::Other { tag } => format!("other ({tag})"),
        })
        .collect()
}

/// A recipient is public, but long; its start and end identify it.
fn short_key(r: &str) -> String {
    if r.len() <= 24 {
        return r.to_string();
    }
    format!("{}…{}", &r[..14], &r[r.len() - 6..])
}
