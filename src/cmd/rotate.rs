//! `ttvault rotate`: after the grant was re-created on tastytrade.com, put the new one in
//! the existing vault (same passphrase, same recipients), then check that Tastytrade
//! refuses the old refresh token.

use super::grant::{self, Options};
use super::{grant_report, Context};
use crate::cli::RotateArgs;
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::outln;
use crate::secret::ClientSecret;
use crate::vault::{self, payload::now_rfc3339, store, VaultRef};
use crate::{oauth, output};

pub fn run(ctx: &Context, args: &RotateArgs) -> Result<i32> {
    // Before any prompt: the port (the recorded redirect URI is known only once the vault
    // is open; it is the default, or the one given, almost always) and the folder.
    let mut bound = grant::bind(&Options::of(&args.grant, None))?;
    grant::check_writable(&ctx.vault.path)?;
    // Open first: a wrong passphrase should not cost a sign-in.
    let before = store::read(&ctx.vault.path)?;
    let opened = vault::open(&ctx.vault)?;
    let old = opened.payload.clone();

    // The vault's endpoints, unless the command line or environment name others.
    let settings = crate::settings::get();
    let overridden =
        args.grant.sandbox || settings.api_url.is_some() || settings.authorize_url.is_some();
    let environment = if overridden {
        Environment::for_new_grant(args.grant.sandbox)?
    } else {
        old.environment.clone()
    };
    // A vault written before endpoints were checked may hold plain http elsewhere.
    environment.validate()?;
    // The stored client secret must never go to a new host unnoticed.
    if let Some(change) = environment.change_from(&old.environment) {
        confirm_endpoint_change(&change, args.endpoint_change, &*ctx.vault.ui)?;
    }
    // The redirect URI registered on the grant, as recorded at init, unless another is given.
    let options = Options::of(&args.grant, old.redirect_uri.as_deref());
    if options.redirect_uri != Options::of(&args.grant, None).redirect_uri {
        // Another port: the first one is released before the recorded one is bound.
        drop(bound.take());
        bound = grant::bind(&options)?;
    }

    // The same application keeps its client id and secret; a new id (or a secret in the
    // environment) means new credentials.
    let mut known = super::credentials::known(&options, Some(&old.client_id), &*ctx.vault.ui)?;
    if known.client_id.as_deref() == Some(old.client_id.as_str()) && known.client_secret.is_none() {
        known.client_secret = Some(old.client_secret.clone());
    }
    let same_app = known.client_id.as_deref() == Some(old.client_id.as_str());
    let mut obtained = grant::obtain(&options, &environment, known, bound, &*ctx.vault.ui)
        .map_err(|e| grant::say_endpoint_source(e, &environment, !overridden))?;

    let result = write(&ctx.vault, &before, &opened, &obtained, &environment);
    if let Err(err) = result {
        obtained.fail(&err);
        return Err(err);
    }
    obtained.finish(
        "ttvault checked the new grant with Tastytrade and replaced the old one in the vault.",
    );
    grant_report::report(ctx, &obtained, &environment, None)?;

    // Does Tastytrade still take the old refresh token?
    if old.refresh_token.ct_eq(&obtained.verified.refresh_token) {
        output::note("the new refresh token is the same as the old one; the grant did not change.");
    } else {
        check_old_grant(
            ctx.json,
            &old.environment,
            &old.client_id,
            &old.client_secret,
            &old.refresh_token,
            same_app,
        )?;
    }
    if !ctx.json {
        outln!(
            "Next: programs get the new grant on their next `ttvault exec`; `ttvault unlock` \
             again if the vault was unlocked; `ttvault audit` checks it."
        )?;
    }
    Ok(0)
}

/// A change of endpoints is said, then needs `--endpoint-change` or a yes at a terminal.
fn confirm_endpoint_change(change: &str, flag: bool, ui: &dyn crate::ui::Ui) -> Result<()> {
    let said = format!("rotate would change the vault's endpoints {change}");
    if flag {
        eprintln!("ttvault: note: {said} (--endpoint-change)");
        return Ok(());
    }
    let refuse = || {
        Error::usage(format!("{said}; nothing was sent")).hint(
            "the stored client secret would go to the new endpoints: pass --endpoint-change if              that is intended, or unset TTVAULT_API_URL / TTVAULT_AUTHORIZE_URL (and drop              --sandbox) to keep the vault's",
        )
    };
    if !ui.can_ask() {
        return Err(refuse());
    }
    crate::output::say(&format!("{said}."));
    if ui.confirm(
        "The stored client secret would be sent there. Continue?",
        false,
    )? {
        Ok(())
    } else {
        Err(refuse())
    }
}

/// Rewrites the vault under its lock, refusing if it changed since it was opened.
fn write(
    vault: &VaultRef,
    before: &[u8],
    opened: &vault::Opened,
    obtained: &grant::Obtained,
    environment: &Environment,
) -> Result<()> {
    let passphrase = vault::keep_passphrase(opened)?;
    let mut payload = opened.payload.clone();
    payload.client_id = obtained.client_id.clone();
    payload.client_secret = obtained.client_secret.clone();
    payload.refresh_token = obtained.verified.refresh_token.clone();
    payload.environment = environment.clone();
    payload.scopes = obtained.scopes();
    payload.token_encoding = Some(obtained.verified.tokens.encoding);
    if let Some(uri) = &obtained.redirect_uri {
        payload.redirect_uri = Some(uri.clone());
    }
    payload.rotated_at = Some(now_rfc3339());
    let sealed = vault::rewrite::seal_payload(
        before,
        vault.unlock.identity.as_deref(),
        &opened.payload.recipients,
        &payload,
        passphrase,
    )?;
    let lock = store::lock(&opened.path)?;
    if store::read(&opened.path)? != before {
        return Err(Error::failure(
            "the vault changed on disk while the new grant was being made; nothing was written",
        )
        .hint("run `ttvault rotate` again"));
    }
    store::write_atomic(&opened.path, &sealed, store::Mode::Replace, &lock)
}

fn check_old_grant(
    json: bool,
    env: &Environment,
    client_id: &str,
    client_secret: &ClientSecret,
    refresh_token: &crate::secret::RefreshToken,
    same_app: bool,
) -> Result<()> {
    let http = match oauth::Client::new() {
        Ok(h) => h,
        Err(_) => return Ok(()),
    };
    match oauth::refresh(
        &http,
        &env.token_url(),
        client_id,
        client_secret,
        refresh_token,
    ) {
        Err(e) if e.code == crate::Code::Grant => {
            // stdout carries the JSON report alone under --json.
            let line = "The old refresh token is now refused by Tastytrade (good).";
            if json {
                output::say(line);
            } else {
                outln!("{line}")?;
            }
        }
        Ok(_) => {
            output::warning(
                "Tastytrade still accepts the OLD refresh token",
                Some(&format!(
                    "delete the old grant on tastytrade.com (Manage → My Profile → API → OAuth \
                     Applications{}), so a copy of it cannot be used.",
                    if same_app { " → Manage" } else { "" }
                )),
            );
        }
        Err(e) => {
            output::note(&format!(
                "could not check whether the old refresh token still works: {}",
                e.message
            ));
        }
    }
    Ok(())
}
