//! `ttvault init`: the browser OAuth flow (or `--paste`), the grant verified, then a new
//! vault. Nothing is written unless the grant works; the browser's success page comes
//! only after the vault is on disk.

use super::grant::{self, Options};
use super::handout::HandoutFlag;
use super::{grant_report, Context};
use crate::cli::InitArgs;
use crate::endpoints::Environment;
use crate::error::Result;
use crate::outln;
use crate::recipients;
use crate::vault::{self, store, NewSlots, Payload};

pub fn run(ctx: &Context, args: &InitArgs) -> Result<i32> {
    let path = &ctx.vault.path;
    // Refuse an existing vault before anyone signs in anywhere.
    if path.exists() && !args.force {
        return Err(store::already_exists(path));
    }
    let options = Options::of(&args.grant, None);
    let environment = Environment::for_new_grant(args.grant.sandbox)?;
    // Before any prompt: a busy port or a read-only folder costs nothing typed.
    let bound = grant::bind(&options)?;
    grant::check_writable(path)?;
    // Recipients are checked before the browser flow, so a typo does not cost a sign-in;
    // the new passphrase is asked only once the grant is proven (`new_vault_slots`).
    let recipients =
        recipients::collect(&args.new_vault.recipients, &args.new_vault.recipients_files)?;
    NewSlots::check_choice(args.new_vault.no_passphrase, &recipients)?;
    let ui = &*ctx.vault.ui;
    let known = super::credentials::known(&options, None, ui)?;
    let mut obtained = grant::obtain(&options, &environment, known, bound, ui)
        .map_err(|e| grant::say_endpoint_source(e, &environment, false))?;
    // The questions init and import share, in the same order: what programs get, then
    // the new passphrase.
    let asked = HandoutFlag::of(
        args.new_vault.long_lived,
        args.new_vault.short_lived,
        args.new_vault.broker,
    )
    .to_record("", ui)
    .and_then(|handout| {
        let slots = NewSlots::with(&ctx.vault, args.new_vault.no_passphrase, recipients)?;
        Ok((handout, slots))
    });
    let (handout, slots) = match asked {
        Ok(answers) => answers,
        Err(err) => {
            obtained.fail(&err);
            return Err(err);
        }
    };
    if let Some(warning) = slots.kdf.as_ref().and_then(|k| k.warning.as_ref()) {
        ctx.vault.report.warning(warning, None);
    }

    let mut payload = Payload::new(
        obtained.client_id.clone(),
        obtained.client_secret.clone(),
        obtained.verified.refresh_token.clone(),
        environment.clone(),
        obtained.scopes(),
    );
    payload.redirect_uri = obtained.redirect_uri.clone();
    payload.token_encoding = Some(obtained.verified.tokens.encoding);
    payload.handout = handout;
    let backup = match vault::create(path, payload, &slots, args.force) {
        Ok(b) => b,
        Err(err) => {
            obtained.fail(&err);
            return Err(err);
        }
    };
    // Only now, with the vault written: a failed run leaves the repository as it was.
    keep_out_of_git(ctx);
    obtained
        .finish("ttvault checked the grant with Tastytrade and saved it in the encrypted vault.");
    grant_report::report(ctx, &obtained, &environment, backup.as_deref())?;
    if !ctx.json {
        outln!(
            "Next: `ttvault exec -- PROGRAM` runs a program with a fresh access token; \
             `ttvault audit` checks the grant and the files around the vault."
        )?;
    }
    Ok(0)
}

/// Once the vault is written: a vault in a git work tree is added to the folder's
/// `.gitignore` unless git ignores it already.
fn keep_out_of_git(ctx: &Context) {
    use crate::gitignore::{self, GitState};
    let path = &ctx.vault.path;
    match gitignore::state(path) {
        GitState::Outside => {}
        GitState::Ignored => ctx
            .vault
            .report
            .note("the vault's folder is in a git repository, which ignores the vault"),
        GitState::NotIgnored => match gitignore::ignore(path) {
            Ok(file) => ctx.vault.report.note(&format!(
                "the vault's folder is in a git repository: added it to {} so `git add .` \
                 never commits it",
                file.display()
            )),
            Err(e) => ctx.vault.report.warning(
                &format!("the vault's folder is in a git repository that does not ignore it, and .gitignore could not be changed ({e})"),
                Some("add the vault's name to .gitignore yourself, so `git add .` never commits it"),
            ),
        },
    }
}
