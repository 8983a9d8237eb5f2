//! `ttvault set handout tokens|broker|long-lived` (and the older `set long-lived on|off`):
//! change the vault's recorded choice of what programs run by `exec` (and printed by
//! `export`) get by default. Everything else in the vault is kept; the rewrite is one atomic
//! replace under the vault's lock.

use super::Context;
use crate::cli::{SetArgs, SetValue, Setting};
use crate::error::{Error, Result};
use crate::outln;
use crate::output;
use crate::vault::{self, Handout};

pub fn run(ctx: &Context, args: &SetArgs) -> Result<i32> {
    let handout = wanted(args)?;
    let was = vault::update(&ctx.vault, None, |opened| {
        let was = opened.payload.handout;
        opened.payload.handout = handout;
        Ok((was, vault::keep_passphrase(opened)?))
    })?;
    let now = format!(
        "programs run by `ttvault exec` get {} by default",
        handout.describe()
    );
    if was == handout {
        outln!("Unchanged: {now}.")?;
    } else {
        outln!("Recorded in {}: {now}.", ctx.vault.path.display())?;
    }
    if agent_running(ctx) && was != handout {
        output::note(
            "the running agent keeps the choice it was unlocked with; `ttvault unlock` again \
             (or `ttvault lock`) to use the new one",
        );
    }
    Ok(0)
}

/// The value checked against the setting, before the vault is opened.
fn wanted(args: &SetArgs) -> Result<Handout> {
    match (args.setting, args.value) {
        (Setting::Handout, SetValue::Tokens) => Ok(Handout::Tokens),
        (Setting::Handout, SetValue::Broker) => Ok(Handout::Broker),
        (Setting::Handout, SetValue::LongLived) => Ok(Handout::LongLived),
        (Setting::LongLived, SetValue::On) => Ok(Handout::LongLived),
        (Setting::LongLived, SetValue::Off) => Ok(Handout::Tokens),
        (Setting::Handout, _) => Err(Error::usage("handout is tokens, broker or long-lived")
            .hint("e.g. `ttvault set handout broker`")),
        (Setting::LongLived, _) => Err(Error::usage("long-lived is on or off")
            .hint("or choose any of the three: `ttvault set handout tokens|broker|long-lived`")),
    }
}

#[cfg(unix)]
fn agent_running(ctx: &Context) -> bool {
    crate::agent::client::status(&ctx.vault.path).is_some()
}

#[cfg(not(unix))]
fn agent_running(_ctx: &Context) -> bool {
    false
}
