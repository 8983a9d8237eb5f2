//! `ttvault show`: what the vault holds, except the secrets.

use super::Context;
use crate::error::Result;
use crate::output;
use crate::vault::{self, describe::describe_slots};
use serde_json::json;

pub fn run(ctx: &Context) -> Result<i32> {
    let opened = vault::open(&ctx.vault)?;
    let p = &opened.payload;
    let slots = opened.header.slots();
    if ctx.json {
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
            "imported_at": p.imported_at,
            "handout": p.handout.name(),
            "recipients": p.recipients,
            "slots": slots,
        });
        output::json(&doc)?;
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
    if let Some(at) = &p.imported_at {
        println!("imported:      {at} (from a plaintext file)");
    }
    println!("secrets:       client secret, refresh token (not shown)");
    println!("programs get:  {}", p.handout.describe());
    println!("               (`ttvault set handout tokens|broker|long-lived` to change)");
    for line in describe_slots(&slots, &p.recipients) {
        println!("slot:          {line}");
    }
    Ok(0)
}
