//! `ttvault status`: what the vault's header shows, without any passphrase.

use super::Context;
use crate::error::Result;
use crate::outln;
use crate::output;
use crate::vault::{format, header::Slot, store, VaultRef};
use serde_json::json;

pub fn run(ctx: &Context) -> Result<i32> {
    let path = &ctx.vault.path;
    let file = store::open(path)?;
    let header = format::read_header(&file.bytes)?;
    let slots = header.slots();
    let not_private = file.check_private(path).err();
    let private = not_private.is_none();
    let agent = agent_status(&ctx.vault);
    if ctx.json {
        let doc = json!({
            "vault": path.display().to_string(),
            "format": if header.armored { "age v1 (armored)" } else { "age v1" },
            "slots": slots,
            "private": private,
            "agent": agent.as_ref().map(|a| a.json()),
            // Recorded inside the encrypted payload: the header does not show it.
            "handout": serde_json::Value::Null,
        });
        output::json(&doc)?;
        return Ok(0);
    }
    outln!("vault:   {}", path.display())?;
    outln!(
        "format:  age v1{}",
        if header.armored { " (armored)" } else { "" }
    )?;
    for slot in &slots {
        let line = match slot {
            Slot::Passphrase { kdf } => format!(
                "passphrase, argon2id m={} KiB t={} p={}{}",
                kdf.memory_kib,
                kdf.iterations,
                kdf.parallelism,
                if kdf.is_below_floor() {
                    " (below ttvault's floor)"
                } else {
                    ""
                }
            ),
            Slot::DamagedPassphrase => "passphrase (damaged parameters)".into(),
            Slot::Scrypt { log_n } => format!("passphrase, age scrypt N=2^{log_n}"),
            Slot::X25519 => "recipient, age X25519".into(),
            Slot::Ssh { key_type } => format!("recipient, {key_type}"),
            Slot::Other { tag } => format!("other stanza ({tag})"),
        };
        outln!("slot:    {line}")?;
    }
    // The long-lived choice is inside the encrypted payload; status reads no secret.
    outln!("exec:    what programs get is recorded inside the vault (`ttvault show` says)")?;
    match &agent {
        Some(a) => outln!("agent:   {}", a.line(ctx.verbosity > 0))?,
        None => outln!("agent:   none (locked; commands ask for the passphrase)")?,
    }
    if let Some(e) = not_private {
        output::warning(&e.message, e.hint.as_deref());
    }
    Ok(0)
}

/// What the vault's agent says about itself (no secret, no passphrase needed).
#[cfg_attr(not(unix), allow(dead_code))]
struct AgentStatus {
    pid: u32,
    until: std::time::SystemTime,
    idle_secs: Option<u64>,
    /// Seconds the current access token has left, when there is one.
    token_left: Option<u64>,
    memory_locked: bool,
    unsaved_refresh_token: bool,
    /// A refresh is in flight right now.
    refreshing: bool,
}

impl AgentStatus {
    fn json(&self) -> serde_json::Value {
        json!({
            "pid": self.pid,
            "until": humantime::format_rfc3339_seconds(self.until).to_string(),
            "idle_secs": self.idle_secs,
            "access_token_expires_in_secs": self.token_left,
            "memory_locked": self.memory_locked,
            "unsaved_refresh_token": self.unsaved_refresh_token,
            "refreshing": self.refreshing,
        })
    }

    /// Local time and spans for people; `verbose` adds the UTC time as `--json` has it.
    fn line(&self, verbose: bool) -> String {
        use crate::readable_time::{rfc3339, span, until};
        let mut line = format!(
            "unlocked until {} (pid {})",
            until(self.until, std::time::SystemTime::now()),
            self.pid
        );
        if verbose {
            line.push_str(&format!(" [{}]", rfc3339(self.until)));
        }
        if let Some(idle) = self.idle_secs {
            let idle = span(std::time::Duration::from_secs(idle));
            line.push_str(&format!(", locks after {idle} unused"));
        }
        match self.token_left {
            Some(0) => line.push_str("; access token expired (renewed on next use)"),
            Some(s) => line.push_str(&format!(
                "; access token valid for {}",
                span(std::time::Duration::from_secs(s))
            )),
            None if self.refreshing => {}
            None => line.push_str("; no access token yet"),
        }
        if self.refreshing {
            line.push_str("; refreshing the access token now");
        }
        if !self.memory_locked {
            line.push_str("; memory NOT locked (mlock refused)");
        }
        if self.unsaved_refresh_token {
            line.push_str("; holds a rotated refresh token not yet saved in the vault");
        }
        line
    }
}

#[cfg(unix)]
fn agent_status(vault: &VaultRef) -> Option<AgentStatus> {
    use crate::agent::limits::from_unix_secs;
    use std::time::SystemTime;
    if !vault.use_agent {
        return None;
    }
    let s = crate::agent::client::status(&vault.path)?.ok()?;
    let now = SystemTime::now();
    // Times from the agent are checked: an impossible one (a same-user process can answer
    // anything on the socket) is shown as expired or unknown, never overflows.
    let token_left = s.token_expires.map(|t| {
        from_unix_secs(t)
            .and_then(|t| t.duration_since(now).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    Some(AgentStatus {
        pid: s.pid,
        until: from_unix_secs(s.until)?,
        idle_secs: s.idle_secs,
        token_left,
        memory_locked: s.memory_locked,
        unsaved_refresh_token: s.unsaved_refresh_token,
        refreshing: s.refreshing,
    })
}

#[cfg(not(unix))]
fn agent_status(_vault: &VaultRef) -> Option<AgentStatus> {
    None
}
