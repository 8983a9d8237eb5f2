//! `ttvault init`: the browser OAuth flow (or `--paste`), the grant verified, then a new
//! vault. Nothing is written unless the grant works; the browser's success page comes
//! only after the vault is on disk.

use super::grant::{self, Options};
use super::{grant_report, Context};
use crate::cli::GrantArgs;
use crate::endpoints::Environment;
use crate::error::Result;
use crate::vault::{self, store, NewSlots, Payload};

pub fn run(ctx: &Context, args: &GrantArgs) -> Result<i32> {
    let path = &ctx.vault.path;
    // Refuse an existing vault before anyone signs in anywhere.
    if path.exists() && !args.force {
        return Err(store::already_exists(path));
    }
    let options = Options::of(args, None);
    let environment = Environment::for_new_grant(args.sandbox)?;
    // Before any prompt: a busy port or a read-only folder costs nothing typed.
    let bound = grant::bind(&options)?;
    grant::check_writable(path)?;
    // Recipients are checked and the new passphrase asked before the browser flow, so a
    // typo does not cost a sign-in.
    let slots = NewSlots::from_flags(
        &ctx.vault,
        args.no_passphrase,
        &args.recipients,
        &args.recipients_files,
    )?;
    if let Some(warning) = slots.kdf.as_ref().and_then(|k| k.warning.as_ref()) {
        ctx.vault.report.warning(warning, None);
    }
    let known = grant::known_credentials(&options, None)?;
    let mut obtained = grant::obtain(&options, &environment, known, bound)?;

    let mut payload = Payload::new(
        obtained.client_id.clone(),
        obtained.client_secret.clone(),
        obtained.verified.refresh_token.clone(),
        environment.clone(),
        obtained.scopes(),
    );
    payload.redirect_uri = obtained.redirect_uri.clone();
    payload.token_encoding = Some(obtained.verified.tokens.encoding);
    let backup = match vault::create(path, payload, &slots, args.force) {
        Ok(b) => b,
        Err(err) => {
            obtained.fail(&err);
            return Err(err);
        }
    };
    obtained
        .finish("ttvault checked the grant with Tastytrade and saved it in the encrypted vault.");
    grant_report::report(ctx, &obtained, &environment, backup.as_deref())?;
    Ok(0)
}
