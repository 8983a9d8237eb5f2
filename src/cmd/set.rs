//! `ttvault set long-lived on|off`: change the vault's recorded choice of what programs
//! run by `exec` (and printed by `export`) get by default. Everything else in the vault
//! is kept; the rewrite is one atomic replace under the vault's lock.

use super::Context;
use crate::cli::{OnOff, SetArgs, Setting};
use crate::error::Result;
use crate::outln;
use crate::output;
use crate::vault;

pub fn run(ctx: &Context, args: &SetArgs) -> Result<i32> {
    let Setting::LongLived = args.setting;
    let long = args.value == OnOff::On;
    let was = vault::update(&ctx.vault, None, |opened| {
        let was = opened.payload.long_lived;
        opened.payload.long_lived = long;
        Ok((was, vault::keep_passphrase(opened)?))
    })?;
    let now = if long {
        "programs run by `ttvault exec` (and `export`) get the client secret and refresh \
         token by default (long-lived)"
    } else {
        "programs run by `ttvault exec` (and `export`) get only a short-lived access token \
         by default"
    };
    if was == long {
        outln!("Unchanged: {now}.")?;
    } else {
        outln!("Recorded in {}: {now}.", ctx.vault.path.display())?;
    }
    if agent_running(ctx) {
        output::note(
            "the running agent keeps the choice it was unlocked with; `ttvault unlock` again \
             (or `ttvault lock`) to use the new one",
        );
    }
    Ok(0)
}

#[cfg(unix)]
fn agent_running(ctx: &Context) -> bool {
    crate::agent::client::status(&ctx.vault.path).is_some()
}

#[cfg(not(unix))]
fn agent_running(_ctx: &Context) -> bool {
    false
}
