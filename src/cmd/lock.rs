//! `ttvault lock`: end the vault's agent now. With no agent this is not an error: it says
//! so and exits 0. An agent that holds a rotated refresh token the vault lacks is not
//! ended until that token is saved (which takes the passphrase), or the grant would be
//! lost.

use super::Context;
use crate::error::Result;
use crate::outln;
use crate::output;

#[cfg(not(unix))]
pub fn run(ctx: &Context) -> Result<i32> {
    outln!(
        "{} is not unlocked (there is no agent on this platform).",
        ctx.vault.path.display()
    )?;
    Ok(0)
}

#[cfg(unix)]
pub fn run(ctx: &Context) -> Result<i32> {
    use crate::agent::client;
    use crate::error::Error;

    let vault = &ctx.vault;
    let Some(status) = client::status(&vault.path) else {
        report(ctx, false)?;
        return Ok(0);
    };
    if status.as_ref().is_ok_and(|s| s.unsaved_refresh_token) {
        let http = crate::oauth::Client::new()?;
        if let Err(e) = ctx.grant(&http).save_agent_rotation() {
            return Err(Error::failure(format!(
                "the agent holds a new refresh token that is not in the vault yet; not locking ({})",
                e.message
            ))
            .hint("give the passphrase (--passphrase-file F, TTVAULT_PASSPHRASE or a terminal) so it is saved first"));
        }
    }
    // A stale agent (the vault changed) has already ended on the status request.
    let was_up = status.is_ok();
    client::end(&vault.path);
    report(ctx, was_up)?;
    Ok(0)
}

fn report(ctx: &Context, locked: bool) -> Result<()> {
    let path = ctx.vault.path.display();
    if ctx.json {
        return output::json(&serde_json::json!({
            "vault": path.to_string(),
            "was_unlocked": locked,
        }));
    }
    if locked {
        outln!("Locked {path}: the agent has ended.")?;
    } else {
        outln!("{path} was not unlocked (no agent holds it); nothing to do.")?;
    }
    Ok(())
}
