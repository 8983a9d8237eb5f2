//! What `init` and `rotate` print once the new grant is saved: where, which environment,
//! client id, scopes and accounts (numbers masked), as lines or as JSON.

use super::grant::Obtained;
use super::Context;
use crate::endpoints::Environment;
use crate::error::Result;
use crate::oauth::{self, verify::Scopes};
use crate::outln;
use crate::output;
use serde_json::json;

pub fn report(
    ctx: &Context,
    obtained: &Obtained,
    environment: &Environment,
    backup: Option<&std::path::Path>,
) -> Result<()> {
    let accounts = describe_accounts(&obtained.verified.accounts);
    let vault = &ctx.vault.path;
    let path = vault.canonicalize().unwrap_or_else(|_| vault.clone());
    if ctx.json {
        return output::json(&json!({
            "vault": path.display().to_string(),
            "environment": environment.name(),
            "client_id": obtained.client_id,
            "scopes": obtained.verified.scopes.to_vec(),
            "scopes_known": matches!(obtained.verified.scopes, Scopes::Known(_)),
            "accounts": accounts,
            "backup": backup.map(|b| b.display().to_string()),
        }));
    }
    outln!("The grant works; saved to {}", path.display())?;
    outln!("  environment: {}", environment.name())?;
    outln!("  client id:   {}", obtained.client_id)?;
    outln!("  scopes:      {}", obtained.verified.scopes.describe())?;
    if accounts.is_empty() {
        outln!("  accounts:    none visible")?;
    }
    for (i, a) in accounts.iter().enumerate() {
        let label = if i == 0 {
            "accounts:    "
        } else {
            "             "
        };
        outln!("  {label}{a}")?;
    }
    if let Some(b) = backup {
        outln!("  the previous vault was kept as {}", b.display())?;
    }
    Ok(())
}

/// One line per account, numbers masked.
fn describe_accounts(accounts: &[oauth::Account]) -> Vec<String> {
    accounts
        .iter()
        .map(|a| {
            let mut line = oauth::mask(&a.account_number);
            if let Some(n) = &a.nickname {
                line.push_str(&format!(" {n}"));
            }
            if let Some(level) = &a.authority_level {
                line.push_str(&format!(" ({level})"));
            }
            if a.is_closed {
                line.push_str(" [closed]");
            }
            line
        })
        .collect()
}
