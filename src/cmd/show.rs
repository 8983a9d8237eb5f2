//! `ttvault show`: what the vault holds, except the secrets; from the agent when it holds
//! the vault open (no passphrase, no token asked for).

use super::Context;
use crate::error::Result;
use crate::outln;
use crate::output;
use crate::vault::describe::describe_slots;
use crate::want::Secrets;
use serde_json::json;

pub fn run(ctx: &Context) -> Result<i32> {
    let http = crate::oauth::Client::new()?;
    let mut grant = ctx.grant(&http);
    let p = &grant.fields(Secrets::Withheld)?.info;
    let slots = grant.slots()?;
    if ctx.json {
        let doc = json!({
            "vault": ctx.vault.path.display().to_string(),
            "payload_version": p.payload_version,
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
    outln!("vault:         {}", ctx.vault.path.display())?;
    outln!("client id:     {}", p.client_id)?;
    outln!("environment:   {}", p.environment.name())?;
    outln!("  api:         {}", p.environment.api_url())?;
    outln!("  authorize:   {}", p.environment.authorize_url())?;
    let scopes = if p.scopes.is_empty() {
        "unknown (imported)".to_string()
    } else {
        p.scopes.join(" ")
    };
    outln!("scopes asked:  {scopes}")?;
    if let Some(uri) = &p.redirect_uri {
        outln!("redirect uri:  {uri}")?;
    }
    outln!("created:       {}", p.created_at)?;
    outln!(
        "rotated:       {}",
        p.rotated_at.as_deref().unwrap_or("never")
    )?;
    if let Some(at) = &p.imported_at {
        outln!("imported:      {at} (from a plaintext file)")?;
    }
    outln!("secrets:       client secret, refresh token (not shown)")?;
    outln!("programs get:  {}", p.handout.describe())?;
    outln!("               (`ttvault set handout tokens|broker|long-lived` to change)")?;
    for line in describe_slots(&slots, &p.recipients) {
        outln!("slot:          {line}")?;
    }
    Ok(0)
}
