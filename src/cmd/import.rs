//! `ttvault import [FILE]`: encrypt the plaintext dotenv `.secrets` of the legacy setup
//! script. The plaintext goes away only after the vault is on disk and reads back; so do
//! the other plaintext copies found beside it (the old script's `.secrets.backup`), when
//! the person agrees or passed `--shred-copies`.

use super::handout::HandoutFlag;
use super::shred::{open_for_overwrite, overwrite, shred_and_remove};
use super::Context;
use crate::audit::files::{find_leftovers, Leftover, LeftoverKind};
use crate::cli::ImportArgs;
use crate::dotenv;
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::outln;
use crate::output;
use crate::ui::Ui;
use crate::vault::GrantSecrets;
use crate::vault::{self, format, store, NewSlots, Payload};
use std::path::Path;

/// Said first: people arrive here from the seed's setup, whose helper no longer runs, with a
/// `.secrets` they have no working way to renew.
const ARRIVING: &str = "this is the plaintext .secrets of the old setup script \
(get_refresh_token.py). Its helper, tastyware's `tastytrade.oauth.login`, was removed in \
tastytrade 11.0.4, so that script cannot make a new one; ttvault takes over: this grant goes \
into an encrypted vault, `ttvault exec` runs your programs with it, and `ttvault rotate` \
puts in a new grant when one is needed.";

/// Said before the long-lived question: the old setup's programs read these secrets.
const OLD_PROGRAMS: &str = "The old setup's programs read TT_API_CLIENT_SECRET and \
TT_REFRESH_TOKEN from .secrets: the broker runs them unchanged under `ttvault exec`.";

pub fn run(ctx: &Context, args: &ImportArgs) -> Result<i32> {
    let vault_path = &ctx.vault.path;
    let source = args.file.as_deref().unwrap_or(vault_path);
    let plaintext = store::read(source).map_err(|e| {
        Error::usage(format!(
            "cannot read the plaintext file {}",
            source.display()
        ))
        .hint(
            e.hint
                .unwrap_or_else(|| "pass the legacy .secrets file: `ttvault import PATH`".into()),
        )
    })?;
    if format::read_header(&plaintext).is_ok() {
        return Err(Error::usage(format!(
            "{} is already an encrypted vault",
            source.display()
        ))
        .hint("nothing to import; `ttvault show` opens it"));
    }
    let legacy = dotenv::parse_legacy(&plaintext)?;
    output::note(ARRIVING);
    let environment = Environment::for_new_grant(args.sandbox)?;
    let mut payload = Payload::new(
        legacy.client_id,
        legacy.client_secret,
        legacy.refresh_token,
        environment,
        // The legacy script's request is not recorded in its file; `audit` reads the
        // scopes the refresh token carries.
        Vec::new(),
    );
    payload.imported_at = Some(vault::payload::now_rfc3339());
    let in_place = same_file(source, vault_path);
    if !in_place && vault_path.exists() {
        return Err(store::already_exists(vault_path));
    }
    // Every question comes before the vault is written.
    let ui = &*ctx.vault.ui;
    payload.handout = HandoutFlag::of(
        args.new_vault.long_lived,
        args.new_vault.short_lived,
        args.new_vault.broker,
    )
    .to_record(OLD_PROGRAMS, ui)?;
    let slots = NewSlots::from_flags(
        &ctx.vault,
        args.new_vault.no_passphrase,
        &args.new_vault.recipients,
        &args.new_vault.recipients_files,
    )?;
    // import's own question, after the ones it shares with init (same order as there).
    let copies = other_copies(vault_path, source, &GrantSecrets::of(&payload));
    let shred_copies = !copies.is_empty() && agree_to_shred(&copies, args.shred_copies, ui)?;
    payload.recipients = slots.recipients.clone();
    if let Some(warning) = slots.kdf.as_ref().and_then(|k| k.warning.as_ref()) {
        ctx.vault.report.warning(warning, None);
    }
    let passphrase = slots.passphrase.as_ref().zip(slots.kdf.as_ref());
    let sealed = vault::seal(&payload, passphrase.map(|(p, k)| (p, k.params)))?;

    let lock = store::lock(vault_path)?;
    // In place, the rename replaces the plaintext with the vault in one step (at the end
    // of the link, when `.secrets` is one: the link is kept). The plaintext's own blocks
    // are overwritten afterwards, through a descriptor held across the rename.
    let (mode, old_plaintext) = if in_place {
        (store::Mode::Replace, Some(open_for_overwrite(source)?))
    } else {
        (store::Mode::CreateNew, None)
    };
    store::write_atomic(vault_path, &sealed, mode, &lock)?;
    verify_written(vault_path, &sealed, slots.passphrase.as_ref())?;
    drop(lock);
    if let Some(file) = old_plaintext {
        overwrite(file, source)?;
    }

    outln!(
        "Encrypted the grant for client id {} into {}",
        payload.client_id,
        vault_path.display()
    )?;
    if in_place {
        let target = vault::target::resolve(vault_path)?;
        if target != *vault_path {
            outln!(
                "The plaintext {} was overwritten and replaced by the vault; the link {} is kept.",
                target.display(),
                vault_path.display()
            )?;
        } else {
            outln!("The plaintext file was overwritten and replaced by the vault.")?;
        }
    } else if args.keep_plaintext {
        outln!(
            "Kept the plaintext {} (--keep-plaintext); delete it when you no longer need it.",
            source.display()
        )?;
    } else {
        shred_and_remove(source)?;
        outln!("Overwrote and removed the plaintext {}.", source.display())?;
    }
    shred_or_warn(&copies, shred_copies)?;
    outln!("Next: `ttvault audit` checks the grant's scopes and the files around the vault.")?;
    Ok(0)
}

/// The plaintext copies of these secrets beside the vault, other than the file being
/// imported (which has its own fate: replaced, removed, or kept by --keep-plaintext).
fn other_copies(vault_path: &Path, source: &Path, secrets: &GrantSecrets) -> Vec<Leftover> {
    find_leftovers(vault_path, secrets)
        .into_iter()
        .filter(|c| c.is_plaintext() && !same_file(&c.path, source))
        .collect()
}

fn describe(copy: &Leftover) -> String {
    match copy.kind {
        LeftoverKind::LegacyBackup => format!(
            "{} (the old setup script's backup: an earlier grant)",
            copy.path.display()
        ),
        _ => format!("{} (holds these secrets)", copy.path.display()),
    }
}

/// `--shred-copies`, or a yes at a terminal. Without either, the copies are kept and named
/// after the import.
fn agree_to_shred(copies: &[Leftover], flag: bool, ui: &dyn Ui) -> Result<bool> {
    if flag {
        return Ok(true);
    }
    if !ui.can_ask() {
        return Ok(false);
    }
    output::say("Other plaintext copies of the credentials are beside the vault:");
    for copy in copies {
        output::say(&format!("  {}", describe(copy)));
    }
    ui.confirm(
        "Overwrite and remove them after the vault is written?",
        false,
    )
}

/// Shreds the copies (links followed to the real file), or says they are still there.
fn shred_or_warn(copies: &[Leftover], shred: bool) -> Result<()> {
    for copy in copies {
        if shred {
            shred_and_remove(&copy.path)?;
            outln!(
                "Overwrote and removed the plaintext copy {}.",
                copy.path.display()
            )?;
        } else {
            output::warning(
                &format!("a plaintext copy is still there: {}", describe(copy)),
                Some(&format!(
                    "shred -u {} (`ttvault import --shred-copies` does this; `ttvault audit` \
                     lists such files)",
                    copy.path.display()
                )),
            );
        }
    }
    Ok(())
}

/// The file on disk must be exactly what was sealed, and open with the new passphrase.
fn verify_written(
    path: &Path,
    sealed: &[u8],
    passphrase: Option<&crate::secret::Passphrase>,
) -> Result<()> {
    let back = store::read(path)?;
    if back != sealed {
        return Err(Error::failure(format!(
            "{} does not read back as written; the plaintext was kept",
            path.display()
        )));
    }
    if let Some(p) = passphrase {
        let plain = format::decrypt(&back, format::Unlock::Passphrase(p))?;
        Payload::from_bytes(&plain)?;
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
