//! `ttvault lock`: end the vault's agent now. With no agent this is not an error: it says
//! so and exits 0. An agent that holds a rotated refresh token the vault lacks is not
//! ended until that token is saved (which takes the passphrase), or the grant would be
//! lost.

use crate::cli::Global;
use crate::error::Result;

#[cfg(not(unix))]
pub fn run(global: &Global) -> Result<i32> {
    println!(
        "{} is not unlocked (there is no agent on this platform).",
        global.vault.display()
    );
    Ok(0)
}

#[cfg(unix)]
pub fn run(global: &Global) -> Result<i32> {
    use crate::agent::client::{self, QUICK_TIMEOUT};
    use crate::agent::protocol::Op;
    use crate::error::Error;

    let status = client::call(&global.vault, Op::Status, QUICK_TIMEOUT);
    let Some(status) = status else {
        report(global, false);
        return Ok(0);
    };
    if status
        .status
        .as_ref()
        .is_some_and(|s| s.unsaved_refresh_token)
        && !client::save_rotated(global, None)
    {
        return Err(Error::failure(
            "the agent holds a new refresh token that is not in the vault yet; not locking",
        )
        .hint("give the passphrase (--passphrase-file F, TTVAULT_PASSPHRASE or a terminal) so it is saved first"));
    }
    // A stale agent (the vault changed) has already ended on the status request.
    let was_up = status.error.is_none();
    super::unlock::end_agent(global);
    report(global, was_up);
    Ok(0)
}

fn report(global: &Global, locked: bool) {
    if global.json {
        let doc = serde_json::json!({
            "vault": global.vault.display().to_string(),
            "was_unlocked": locked,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else if locked {
        println!("Locked {}: the agent has ended.", global.vault.display());
    } else {
        println!(
            "{} was not unlocked (no agent holds it); nothing to do.",
            global.vault.display()
        );
    }
}
