//! The encrypted vault: open it, create it, rewrite it. `format` is the age file with our
//! passphrase slot, `payload` the document inside, `store` the file on disk.

pub(crate) mod describe;
pub(crate) mod discover;
// `pub`: the fuzz targets, the test vectors and the tests read and write the format,
// header, KDF parameters, payload and reseal directly; the rest is crate-private.
pub mod format;
pub(crate) mod grant_parts;
pub mod handout;
pub mod header;
pub mod kdf;
pub(crate) mod lock;
pub mod payload;
pub(crate) mod reference;
pub mod reseal;
pub(crate) mod rewrite;
pub(crate) mod slot;
pub(crate) mod store;
pub(crate) mod target;

pub use grant_parts::{GrantInfo, GrantSecrets};
pub use handout::Handout;
pub use payload::Payload;
pub use reference::{UnlockSources, VaultRef};
pub use rewrite::PassphraseSlot;

use crate::error::{Error, Result};
use crate::secret::Passphrase;
use crate::{passphrase, recipients};
use format::Unlock;
use header::{Header, Slot};
use kdf::KdfParams;
use std::path::{Path, PathBuf};

/// A decrypted vault.
#[derive(Clone)]
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
    /// The passphrase slot's KDF parameters, calibrated on this machine (with a warning
    /// for the command to print when it could not give the slot full strength).
    pub kdf: Option<kdf::Tuned>,
}

impl NewSlots {
    /// Validates recipients first (a typo should not cost a passphrase prompt), then asks
    /// the new passphrase unless `--no-passphrase`.
    pub fn from_flags(
        vault: &VaultRef,
        no_passphrase: bool,
        values: &[String],
        files: &[PathBuf],
    ) -> Result<Self> {
        let recipients = recipients::collect(values, files)?;
        Self::check_choice(no_passphrase, &recipients)?;
        Self::with(vault, no_passphrase, recipients)
    }

    /// Refuses `--no-passphrase` without a recipient: the vault could never be opened.
    pub fn check_choice(no_passphrase: bool, recipients: &[String]) -> Result<()> {
        if no_passphrase && recipients.is_empty() {
            return Err(Error::usage("--no-passphrase needs at least one recipient")
                .hint("add -r RECIPIENT or -R FILE, or drop --no-passphrase"));
        }
        Ok(())
    }

    /// The slots for already validated `recipients`: asks the new passphrase (unless
    /// `no_passphrase`) and calibrates its KDF.
    pub fn with(vault: &VaultRef, no_passphrase: bool, recipients: Vec<String>) -> Result<Self> {
        let passphrase = if no_passphrase {
            None
        } else {
            Some(passphrase::new_for_vault(vault)?)
        };
        let kdf = passphrase.as_ref().map(|_| kdf::tune());
        Ok(NewSlots {
            passphrase,
            recipients,
            kdf,
        })
    }
}

/// Opens the vault `vault` names: with its identity when given, else with a passphrase.
pub fn open(vault: &VaultRef) -> Result<Opened> {
    open_using(vault, None)
}

/// Like `open`, but a passphrase already known in this process (from an earlier open) is
/// used instead of asking again.
pub fn open_using(vault: &VaultRef, known: Option<&Passphrase>) -> Result<Opened> {
    open_inner(vault, known, true)
}

/// For `audit` only: opens a vault even when others can read it, so the report can say
/// so among everything else instead of stopping there.
pub fn open_despite_permissions(vault: &VaultRef) -> Result<Opened> {
    open_inner(vault, None, false)
}

fn open_inner(vault: &VaultRef, known: Option<&Passphrase>, check_private: bool) -> Result<Opened> {
    let path = vault.path.clone();
    let file = store::open(&path)?;
    let header = format::read_header(&file.bytes)?;
    if check_private {
        file.check_private(&path)?;
    }
    if let Some(owner) = file.foreign_owner() {
        vault.report.warning(
            &format!(
                "running as root: opening {}, which belongs to {owner}",
                path.display()
            ),
            Some("root may open any vault; run ttvault as that user unless this is meant"),
        );
    }
    let bytes = file.bytes;
    let (plain, passphrase) = if let Some(identity) = &vault.unlock.identity {
        let ids = recipients::load_identities(identity)?;
        (format::decrypt(&bytes, Unlock::Identities(&ids))?, None)
    } else if header.has_passphrase_slot() {
        let (plain, p) = match known {
            Some(p) => (format::decrypt(&bytes, Unlock::Passphrase(p))?, p.clone()),
            // A passphrase typed at the terminal may be typed again when wrong.
            None => {
                passphrase::unlock_with(vault, |p| format::decrypt(&bytes, Unlock::Passphrase(p)))?
            }
        };
        (plain, Some(p))
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
    let passphrase = match (&slots.passphrase, &slots.kdf) {
        (Some(p), Some(tuned)) => Some((p, tuned.params)),
        (Some(p), None) => Some((p, kdf::tune().params)),
        (None, _) => None,
    };
    let sealed = seal(&payload, passphrase)?;
    let lock = store::lock(path)?;
    let target = lock.target().to_path_buf();
    let exists = std::fs::symlink_metadata(&target).is_ok();
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
///
/// Whatever must be asked (the passphrase) is asked before the lock is taken, so a prompt
/// never holds up other writers; `change` must not prompt either. A vault opened with an
/// identity keeps its passphrase slot untouched (`PassphraseSlot::Keep`), so a rotated
/// refresh token is saved whichever slot opened it.
pub fn update<T>(
    vault: &VaultRef,
    known: Option<&Passphrase>,
    change: impl FnOnce(&mut Opened) -> Result<(T, PassphraseSlot)>,
) -> Result<T> {
    let before = store::read(&vault.path)?;
    let first = open_for_rewrite(vault, known)?;
    let passphrase = first.passphrase.clone();
    let lock = store::lock(&vault.path)?;
    let mut bytes = store::read(&vault.path)?;
    let mut opened = if bytes == before {
        first
    } else {
        // Another writer got there first: start from its vault (no prompt: the passphrase
        // or the identity is known by now).
        let again = open_for_rewrite(vault, passphrase.as_ref())?;
        bytes = store::read(&vault.path)?;
        again
    };
    let recipients_before = opened.payload.recipients.clone();
    let (out, slot) = change(&mut opened)?;
    let sealed = rewrite::seal_payload(
        &bytes,
        vault.unlock.identity.as_deref(),
        &recipients_before,
        &opened.payload,
        slot,
    )?;
    store::write_atomic(&opened.path, &sealed, store::Mode::Replace, &lock)?;
    Ok(out)
}

/// Opens the vault for a rewrite. Opened with an identity, a passphrase the caller
/// already has (`known`) is proven against the passphrase slot and kept, so the rewrite
/// may change the slots; without one, the passphrase slot is kept as it is.
fn open_for_rewrite(vault: &VaultRef, known: Option<&Passphrase>) -> Result<Opened> {
    let mut opened = open_using(vault, known)?;
    if let (None, Some(p)) = (&opened.passphrase, known) {
        if opened.header.has_passphrase_slot() {
            let bytes = store::read(&opened.path)?;
            format::decrypt(&bytes, Unlock::Passphrase(p))?;
            opened.passphrase = Some(p.clone());
        }
    }
    Ok(opened)
}

/// The passphrase slot a rewrite keeps: the same passphrase and KDF cost (re-tuned when
/// below the floor). A vault opened with an identity keeps its slot as it is, without
/// asking the passphrase.
/// Nothing is asked here: a rewrite never prompts under the write lock.
pub fn keep_passphrase(opened: &Opened) -> Result<PassphraseSlot> {
    if !opened.header.has_passphrase_slot() {
        return Ok(PassphraseSlot::Absent);
    }
    let Some(passphrase) = &opened.passphrase else {
        return Ok(PassphraseSlot::Keep);
    };
    let params = match opened.kdf() {
        Some(k) if !k.is_below_floor() => k,
        // An `age -p` (scrypt) or weak slot becomes one of ours. A low-memory warning
        // cannot reach the user from here; `audit` reports a weak slot.
        _ => kdf::tune().params,
    };
    Ok(PassphraseSlot::New(passphrase.clone(), params))
}
