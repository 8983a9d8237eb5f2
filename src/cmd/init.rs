//! `ttvault init`: the browser OAuth flow (or `--paste`), the grant verified, then a new
//! vault. Nothing is written unless the grant works; the browser's success page comes
//! only after the vault is on disk.

use super::grant::{self, Obtained};
use crate::cli::{Global, GrantArgs};
use crate::endpoints::Environment;
use crate::error::Result;
use crate::vault::{self, store, NewSlots, Payload};
use serde_json::json;

pub fn run(global: &Global, args: &GrantArgs) -> Result<i32> {
    // Refuse an existing vault before anyone signs in anywhere.
    if global.vault.exists() && !args.force {
        return Err(store::already_exists(&global.vault));
    }
    let environment = Environment::for_new_grant(args.sandbox)?;
    // Recipients are checked and the new passphrase asked before the browser flow, so a
    // typo does not cost a sign-in.
    let slots = NewSlots::from_flags(
        global,
        args.no_passphrase,
        &args.recipients,
        &args.recipients_files,
    )?;
    let known = grant::known_credentials(args, None)?;
    let mut obtained = grant::obtain(args, &environment, &args.redirect_uri, known)?;

    let mut payload = Payload::new(
        obtained.client_id.clone(),
        obtained.client_secret.clone(),
        obtained.verified.refresh_token.clone(),
        environment.clone(),
        obtained.scopes(),
    );
    payload.redirect_uri = obtained.redirect_uri.clone();
    payload.token_encoding = Some(obtained.verified.tokens.encoding);
    let backup = match vault::create(&global.vault, payload, &slots, args.force) {
        Ok(b) => b,
        Err(err) => {
            obtained.fail(&err);
            return Err(err);
        }
    };
    obtained
        .finish("ttvault checked the grant with Tastytrade and saved it in the encrypted vault.");
    report(global, &obtained, &environment, backup.as_deref());
    Ok(0)
}

pub fn report(
    global: &Global,
    obtained: &Obtained,
    environment: &Environment,
    backup: Option<&std::path::Path>,
) {
    let accounts = grant::describe_accounts(&obtained.verified.accounts);
    let path = global
        .vault
        .canonicalize()
        .unwrap_or_else(|_| global.vault.clone());
    if global.json {
        let doc = json!({
            "vault": path.display().to_string(),
            "environment": environment.name(),
            "client_id": obtained.client_id,
            "scopes": obtained.verified.scopes.to_vec(),
            "scopes_known": matches!(obtained.verified.scopes, crate::oauth::verify::Scopes::Known(_)),
            "accounts": accounts,
            "backup": backup.map(|b| b.display().to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    println!("The grant works; saved to {}", path.display());
    println!("  environment: {}", environment.name());
    println!("  client id:   {}", obtained.client_id);
    println!("  scopes:      {}", obtained.verified.scopes.describe());
    if accounts.is_empty() {
        println!("  accounts:    none visible");
    }
    for (i, a) in accounts.iter().enumerate() {
        println!(
            "  {}{a}",
            if i == 0 {
                "accounts:    "
            } else {
                "             "
            }
        );
    }
    if let Some(b) = backup {
        println!("  the previous vault was kept as {}", b.display());
    }
}
