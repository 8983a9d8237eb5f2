//! `ttvault passwd`: change the passphrase, add or remove recipient slots. Everything
//! else in the vault is kept; the rewrite is one atomic replace under the vault's lock.

use super::Context;
use crate::cli::PasswdArgs;
use crate::error::{Error, Result};
use crate::passphrase::{self, ENV_NEW_PASSPHRASE};
use crate::recipients;
use crate::vault::{self, kdf};

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
        args.new_passphrase_file.is_some() || std::env::var_os(ENV_NEW_PASSPHRASE).is_some();
    // Only recipient changes asked: keep the current passphrase rather than prompt for a new one.
    let change_passphrase =
        !args.no_passphrase && (new_passphrase_given || (add.is_empty() && remove.is_empty()));

    let summary = vault::update(vault, None, |opened| {
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
        let slot = if args.no_passphrase {
            None
        } else if change_passphrase {
            let p =
                passphrase::new_for_passwd(args.new_passphrase_file.as_deref(), &*vault.report)?;
            Some((p, kdf::tune(kdf::target_duration())))
        } else {
            vault::keep_passphrase(vault, opened)?
        };
        if slot.is_none() && opened.payload.recipients.is_empty() {
            return Err(Error::usage(
                "the vault would have no slot left to open it; nothing was changed",
            )
            .hint("keep a passphrase or at least one recipient"));
        }
        let summary = format!(
            "{} with {} recipient slot(s){}",
            opened.path.display(),
            opened.payload.recipients.len(),
            match (&slot, change_passphrase) {
                (None, _) => " and no passphrase",
                (Some(_), true) => " and the new passphrase",
                (Some(_), false) => " and the same passphrase",
            }
        );
        Ok((summary, slot))
    })?;
    println!("Rewrote {summary}.");
    Ok(0)
}
