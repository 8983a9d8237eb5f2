//! `ttvault passwd`: change the passphrase, add or remove recipient slots. Everything
//! else in the vault is kept; the rewrite is one atomic replace under the vault's lock.

use super::Context;
use crate::cli::PasswdArgs;
use crate::error::{Error, Result};
use crate::outln;
use crate::passphrase;
use crate::recipients;
use crate::vault::{self, kdf, PassphraseSlot};

pub fn run(ctx: &Context, args: &PasswdArgs) -> Result<i32> {
    let vault = &ctx.vault;
    let add = args
        .add_recipients
        .iter()
        .map(|r| recipients::normalize(r))
        .collect::<Result<Vec<_>>>()?;
    let remove = args
        .remove_recipients
        .iter()
        .map(|r| recipients::normalize(r))
        .collect::<Result<Vec<_>>>()?;
    let new_passphrase_given =
        args.new_passphrase_file.is_some() || crate::settings::get().has_new_passphrase();
    // Only recipient changes asked: keep the current passphrase rather than prompt for a new one.
    let change_passphrase =
        !args.no_passphrase && (new_passphrase_given || (add.is_empty() && remove.is_empty()));

    // Everything is asked before the vault is locked, so a prompt never holds up another
    // writer: the current passphrase (unless an identity opens the vault and the slot is
    // kept as it is), then the new one.
    let current_file = vault::store::read(&vault.path)?;
    let has_passphrase_slot = vault::format::read_header(&current_file)?.has_passphrase_slot();
    let slots_change = !add.is_empty() || !remove.is_empty();
    let needs_current = has_passphrase_slot
        && (vault.unlock.identity.is_none()
            || (slots_change && !change_passphrase && !args.no_passphrase));
    let known = if needs_current {
        // Checked now, so a mistyped one is asked again before the new one is.
        let unlock = |p: &_| {
            vault::format::decrypt(&current_file, vault::format::Unlock::Passphrase(p)).map(drop)
        };
        Some(passphrase::unlock_with(vault, unlock)?.1)
    } else {
        None
    };
    let new_slot = if change_passphrase {
        let p = passphrase::new_for_passwd(vault, args.new_passphrase_file.as_deref())?;
        let tuned = kdf::tune();
        if let Some(warning) = &tuned.warning {
            vault.report.warning(warning, None);
        }
        Some((p, tuned.params))
    } else {
        None
    };

    let summary = vault::update(vault, known.as_ref(), |opened| {
        let recipients = &mut opened.payload.recipients;
        for r in &remove {
            let before = recipients.len();
            recipients.retain(|x| x != r);
            if recipients.len() == before {
                return Err(Error::usage(
                    "that recipient has no slot in this vault; nothing was changed",
                )
                .hint("`ttvault show` lists the recipient slots"));
            }
        }
        for r in add {
            if !recipients.contains(&r) {
                recipients.push(r);
            }
        }
        let slot = match new_slot {
            Some((p, params)) => PassphraseSlot::New(p, params),
            None if args.no_passphrase => PassphraseSlot::Absent,
            None => vault::keep_passphrase(opened)?,
        };
        let no_passphrase = matches!(slot, PassphraseSlot::Absent);
        if no_passphrase && opened.payload.recipients.is_empty() {
            return Err(Error::usage(
                "the vault would have no slot left to open it; nothing was changed",
            )
            .hint("keep a passphrase or at least one recipient"));
        }
        let summary = format!(
            "{}: {}",
            opened.path.display(),
            slots_in_words(
                opened.payload.recipients.len(),
                !no_passphrase,
                change_passphrase
            )
        );
        Ok((summary, slot))
    })?;
    outln!("Rewrote {summary}.")?;
    if ended_stale_agent(vault) {
        outln!(
            "Ended the agent that held the vault open (it held the old file); `ttvault unlock` \
             opens it again."
        )?;
    }
    Ok(0)
}

/// "passphrase only", "the new passphrase and 2 recipients", "1 recipient, no passphrase".
fn slots_in_words(recipients: usize, passphrase: bool, new_passphrase: bool) -> String {
    let which = if new_passphrase {
        "the new"
    } else {
        "the same"
    };
    let plural = if recipients == 1 { "" } else { "s" };
    match (recipients, passphrase) {
        (0, _) => format!("passphrase only ({which} passphrase)"),
        (n, false) => format!("{n} recipient{plural}, no passphrase"),
        (n, true) => format!("{which} passphrase and {n} recipient{plural}"),
    }
}

/// An agent started before the rewrite serves the old file; asking it anything makes it
/// notice and end (see `agent::paths::VaultStamp`). Returns whether there was one.
#[cfg(unix)]
fn ended_stale_agent(vault: &crate::vault::VaultRef) -> bool {
    use crate::agent::client;
    if client::status(&vault.path).is_none() {
        return false;
    }
    client::end(&vault.path);
    true
}

#[cfg(not(unix))]
fn ended_stale_agent(_vault: &crate::vault::VaultRef) -> bool {
    false
}
