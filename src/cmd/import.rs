//! `ttvault import [FILE]`: encrypt the plaintext dotenv `.secrets` of the legacy setup
//! script. The plaintext goes away only after the vault is on disk and reads back.

use super::Context;
use crate::cli::ImportArgs;
use crate::dotenv;
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::vault::{self, format, store, NewSlots, Payload};
use std::path::Path;

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
    let environment = Environment::for_new_grant(args.sandbox)?;
    let payload = Payload::new(
        legacy.client_id,
        legacy.client_secret,
        legacy.refresh_token,
        environment,
        // The legacy script's request is not recorded in its file; `audit` reads the
        // scopes the refresh token carries.
        Vec::new(),
    );
    let in_place = same_file(source, vault_path);
    if !in_place && vault_path.exists() {
        return Err(store::already_exists(vault_path));
    }
    let slots = NewSlots::from_flags(
        &ctx.vault,
        args.no_passphrase,
        &args.recipients,
        &args.recipients_files,
    )?;
    let mut payload = payload;
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

    println!(
        "Encrypted the grant for client id {} into {}",
        payload.client_id,
        vault_path.display()
    );
    if in_place {
        let target = vault::target::resolve(vault_path)?;
        if target != *vault_path {
            println!(
                "The plaintext {} was overwritten and replaced by the vault; the link {} is kept.",
                target.display(),
                vault_path.display()
            );
        } else {
            println!("The plaintext file was overwritten and replaced by the vault.");
        }
    } else if args.keep_plaintext {
        println!(
            "Kept the plaintext {} (--keep-plaintext); delete it when you no longer need it.",
            source.display()
        );
    } else {
        shred_and_remove(source)?;
        println!("Overwrote and removed the plaintext {}.", source.display());
    }
    println!("Next: `ttvault audit` checks the grant's scopes and the files around the vault.");
    Ok(0)
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

/// Overwrites the plaintext with zeros before unlinking it, so its secrets do not stay
/// in the file's blocks on simple filesystems (copy-on-write and SSDs may still keep them:
/// SECURITY.md says so). A link is followed: the file it names is the plaintext, and both
/// go.
fn shred_and_remove(path: &Path) -> Result<()> {
    let is_link = std::fs::symlink_metadata(path)
        .map_err(|e| Error::io("inspect", path, e))?
        .file_type()
        .is_symlink();
    let target = path
        .canonicalize()
        .map_err(|e| Error::io("inspect", path, e))?;
    overwrite(open_for_overwrite(&target)?, &target)?;
    std::fs::remove_file(&target).map_err(|e| Error::io("remove", &target, e))?;
    if is_link {
        std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
    }
    Ok(())
}

/// The plaintext file, opened for writing (links followed); a regular file only.
fn open_for_overwrite(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open for overwriting", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// Zeros over the whole file, on disk.
fn overwrite(mut file: std::fs::File, path: &Path) -> Result<()> {
    use std::io::Write;
    let len = file
        .metadata()
        .map_err(|e| Error::io("inspect", path, e))?
        .len();
    file.write_all(&vec![0u8; len as usize])
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io("overwrite", path, e))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
