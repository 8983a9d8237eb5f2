//! What a rewrite of an existing vault does with its passphrase slot, and the sealing
//! that follows from it: a new file key wrapped for every slot when the passphrase is
//! known, or the same file key and header (`reseal`) when it is not.

use super::kdf::KdfParams;
use super::{reseal, seal, Payload};
use crate::error::{Error, Result};
use crate::recipients;
use crate::secret::Passphrase;
use std::path::Path;

/// The passphrase slot of a rewritten vault.
pub enum PassphraseSlot {
    /// No passphrase slot: the vault opens with its recipients only.
    Absent,
    /// A new slot for this passphrase with these KDF parameters (new file key).
    New(Passphrase, KdfParams),
    /// The slot exactly as it is, when the passphrase is not known here (the vault was
    /// opened with an identity): the header is kept and only the contents change
    /// (docs/FORMAT.md, "Rewriting without the passphrase"). Only for a rewrite that
    /// keeps every recipient slot.
    Keep,
}

/// The new vault file holding `payload`, rewritten from `file` (the vault as it is on
/// disk, whose recipients were `recipients_before`). `identity` is the identity file that
/// opened it, if one did: `Keep` needs it to reach the file key.
pub fn seal_payload(
    file: &[u8],
    identity: Option<&Path>,
    recipients_before: &[String],
    payload: &Payload,
    slot: PassphraseSlot,
) -> Result<Vec<u8>> {
    match slot {
        PassphraseSlot::Absent => seal(payload, None),
        PassphraseSlot::New(p, kdf) => seal(payload, Some((&p, kdf))),
        PassphraseSlot::Keep if payload.recipients != recipients_before => Err(
            Error::usage("changing the recipient slots of a vault opened with an identity needs its passphrase too (the file key changes)")
                .hint("run the command again with --passphrase-file F (or TTVAULT_PASSPHRASE) as well as -i"),
        ),
        PassphraseSlot::Keep => {
            let identity = identity.ok_or_else(|| {
                Error::failure("the passphrase slot can be kept as it is only by an identity's holder")
            })?;
            let identities = recipients::load_identities(identity)?;
            reseal::reseal(file, &identities, &payload.to_bytes())
        }
    }
}
