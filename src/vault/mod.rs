//! The encrypted vault: open it, create it, rewrite it. `format` is the age file with our
//! passphrase slot, `payload` the document inside, `store` the file on disk.

pub mod format;
pub mod header;
pub mod kdf;
pub mod lock;
pub mod payload;
pub mod slot;
pub mod store;
pub mod target;

pub use payload::Payload;

use crate::cli::Global;
use crate::error::{Error, Result};
use crate::secret::Passphrase;
use crate::{passphrase, recipients};
use format::Unlock;
use header::{Header, Slot};
use kdf::KdfParams;
use std::path::{Path, PathBuf};

/// A decrypted vault.
pub struct Opened {
    pub path: PathBuf,
    pub payload: Payload,
    pub header: Header,
    /// The passphrase that opened it, kept so a rewrite can keep the passphrase slot.
    pub passphrase: Option<Passphrase>,
}

impl Opened {
    /// The KDF parameters of its passphrase slot, when it has one of ours.
    pub fn kdf(&self) -> Option<KdfParams> {
        self.header.slots().into_iter().find_map(|s| match s {
            Slot::Passphrase { kdf } => Some(kdf),
            _ => None,
        })
    }
}

/// The slots a new vault gets.
pub struct NewSlots {
    pub passphrase: Option<Passphrase>,
    pub recipients: Vec<String>,
}

impl NewSlots {
    /// Validates recipients first (a typo should not cost a passphrase prompt), then asks
    /// the new passphrase unless `--no-passphrase`.
    pub fn from_flags(
        global: &Global,
        no_passphrase: bool,
        values: &[String],
        files: &[PathBuf],
    ) -> Result<Self> {
        let recipients = recipients::collect(values, files)?;
        if no_passphrase && recipients.is_empty() {
            return Err(Error::usage("--no-passphrase needs at least one recipient")
                .hint("add -r RECIPIENT or -R FILE, or drop --no-passphrase"));
        }
        let passphrase = if no_passphrase {
            None
        } else {
            Some(passphrase::new_for_vault(global, &global.vault)?)
        };
        Ok(NewSlots {
            passphrase,
            recipients,
        })
    }
}

/// Opens the vault named by `global`: with `-i` when given, else with a passphrase.
pub fn open(global: &Global) -> Result<Opened> {
    open_using(global, None)
}

/// Like `open`, but a passphrase already known in this process (from an earlier open) is
/// used instead of asking again.
pub fn open_using(global: &Global, known: Option<&Passphrase>) -> Result<Opened> {
    open_inner(global, known, true)
}

/// For `audit` only: opens a vault even when others can read it, so the report can say
/// so among everything else instead of stopping there.
pub fn open_despite_permissions(global: &Global) -> Result<Opened> {
    open_inner(global, None, false)
}

fn open_inner(global: &Global, known: Option<&Passphrase>, check_private: bool) -> Result<Opened> {
    let path = global.vault.clone();
    let bytes = store::read(&path)?;
    let header = format::read_header(&bytes)?;
    if check_private {
        store::check_private(&path)?;
    }
    let (plain, passphrase) = if let Some(identity) = &global.identity {
        let ids = recipients::load_identities(identity)?;
        (format::decrypt(&bytes, Unlock::Identities(&ids))?, None)
    } else if header.has_passphrase_slot() {
        let p = match known {
            Some(p) => p.clone(),
            None => passphrase::existing(global, &path)?,
        };
        (format::decrypt(&bytes, Unlock::Passphrase(&p))?, Some(p))
    } else {
        return Err(
            Error::vault("this vault has no passphrase slot; it opens with an identity")
                .hint("pass -i KEY or set TTVAULT_IDENTITY"),
        );
    };
    let payload = Payload::from_bytes(&plain)?;
    Ok(Opened {
        path,
        payload,
        header,
        passphrase,
    })
}

/// Encrypts `payload` to a passphrase slot (when given) and to `payload.recipients`.
pub fn seal(payload: &Payload, passphrase: Option<(&Passphrase, KdfParams)>) -> Result<Vec<u8>> {
    let recipients = payload
        .recipients
        .iter()
        .map(|r| recipients::parse(r))
        .collect::<Result<Vec<_>>>()?;
    format::encrypt(&payload.to_bytes(), passphrase, &recipients)
}

/// Writes a new vault. An existing one is an error unless `force`, in which case it is
/// first copied to a backup, whose path is returned.
pub fn create(
    path: &Path,
    mut payload: Payload,
    slots: &NewSlots,
    force: bool,
) -> Result<Option<PathBuf>> {
    payload.recipients = slots.recipients.clone();
    let params = kdf::tune(kdf::target_duration());
    let sealed = seal(&payload, slots.passphrase.as_ref().map(|p| (p, params)))?;
    let lock = store::lock(path)?;
    let exists = path.exists();
    if exists && !force {
        return Err(store::already_exists(path));
    }
    let backup = if exists {
        Some(store::backup(path, &lock)?)
    } else {
        None
    };
    let mode = if exists {
        store::Mode::Replace
    } else {
        store::Mode::CreateNew
    };
    store::write_atomic(path, &sealed, mode, &lock)?;
    Ok(backup)
}

/// A read-modify-write of the vault under its lock: opens it (with `known` when the caller
/// already has the passphrase), lets `change` edit the payload and choose the passphrase
/// slot, and writes the result atomically. Re-reading under the lock means a change made
/// by another process meanwhile is never lost.
pub fn update<T>(
    global: &Global,
    known: Option<&Passphrase>,
    change: impl FnOnce(&mut Opened) -> Result<(T, Option<(Passphrase, KdfParams)>)>,
) -> Result<T> {
    let lock = store::lock(&global.vault)?;
    let mut opened = open_using(global, known)?;
    let (out, passphrase) = change(&mut opened)?;
    let sealed = seal(&opened.payload, passphrase.as_ref().map(|(p, k)| (p, *k)))?;
    store::write_atomic(&opened.path, &sealed, store::Mode::Replace, &lock)?;
    Ok(out)
}

/// The passphrase slot a rewrite keeps: the same passphrase and KDF cost (re-tuned when
/// below the floor). A vault opened with an identity asks its passphrase to keep the slot.
pub fn keep_passphrase(
    global: &Global,
    opened: &Opened,
) -> Result<Option<(Passphrase, KdfParams)>> {
    if !opened.header.has_passphrase_slot() {
        return Ok(None);
    }
    let passphrase = match &opened.passphrase {
        Some(p) => p.clone(),
        None => {
            // Opened with an identity: the passphrase must be proven before it is rewritten.
            let p = passphrase::existing(global, &opened.path)?;
            let bytes = store::read(&opened.path)?;
            format::decrypt(&bytes, Unlock::Passphrase(&p))?;
            p
        }
    };
    let params = match opened.kdf() {
        Some(k) if !k.is_below_floor() => k,
        _ => kdf::tune(kdf::target_duration()),
    };
    Ok(Some((passphrase, params)))
}
