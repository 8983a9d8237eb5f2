//! `ttvault unlock [--ttl 15m] [--idle D]`: open the vault once and leave it open in a
//! background agent (see `crate::agent`). Unlocking a vault that already has an agent
//! replaces that agent: the vault is read afresh and the new TTL counts from now.

use super::Context;
use crate::cli::UnlockArgs;
use crate::error::{Error, Result};
use crate::outln;

#[cfg(not(unix))]
pub fn run(_ctx: &Context, _args: &UnlockArgs) -> Result<i32> {
    Err(
        Error::failure("the agent (`ttvault unlock`) is not available on this platform yet")
            .hint("every command works without it: each one opens the vault itself"),
    )
}

#[cfg(unix)]
pub fn run(ctx: &Context, args: &UnlockArgs) -> Result<i32> {
    use crate::agent::client;
    use crate::agent::paths::{self, VaultStamp};
    use crate::output;
    use crate::vault;

    // --ttl and --idle were bounded (more than zero, at most 7 days) by the parser,
    // before anything started.
    if args.ttl > std::time::Duration::from_secs(24 * 3600) {
        crate::output::note(&format!(
            "--ttl {} keeps the grant in memory longer than a day: anything running as you \
             can use it for that long",
            humantime::format_duration(args.ttl)
        ));
    }
    let vault = &ctx.vault;
    let before = VaultStamp::of(&vault.path).ok();
    let mut opened = vault::open(vault)?;
    let changed = || {
        Error::failure("the vault changed while it was being unlocked")
            .hint("run `ttvault unlock` again")
    };
    let mut stamp = VaultStamp::of(&vault.path).map_err(|_| changed())?;
    if before.as_ref() != Some(&stamp) {
        return Err(changed());
    }
    let canonical = paths::canonical_vault(&vault.path)?;

    // An agent already up: save a refresh token it holds that the vault does not (we
    // have the vault open now), then end it.
    if let Some(old) = client::status(&vault.path) {
        if old.is_ok_and(|s| s.unsaved_refresh_token) {
            let http = crate::oauth::Client::new()?;
            let mut grant = ctx.grant(&http).with_opened(opened);
            let saved = grant.save_agent_rotation()?;
            // The vault holds the rotated token now, and so does `opened`: that is what
            // the new agent is handed.
            opened = grant.into_opened().expect("opened before");
            if saved {
                stamp = VaultStamp::of(&vault.path).map_err(|_| changed())?;
            }
        }
        client::end(&vault.path);
    }

    // Made (or refused) here, so a directory someone else put in the way is reported
    // with its fix rather than as the agent's one line.
    crate::agent::paths::socket_dir(true)?;
    let pid = spawn_agent(ctx, args, &canonical, &opened.payload, &stamp)?;
    drop(opened);
    let status = client::status(&vault.path)
        .and_then(Result::ok)
        .ok_or_else(|| {
            Error::failure("the agent started but does not answer on its socket")
                .hint("run `ttvault unlock -v` again; every command still works without it")
        })?;
    let until = crate::agent::limits::from_unix_secs(status.until);
    let until_text = until
        .map(crate::readable_time::rfc3339)
        .unwrap_or_else(|| "(an impossible date)".into());
    if ctx.json {
        output::json(&serde_json::json!({
            "vault": canonical.display().to_string(),
            "unlocked": true,
            "until": until_text,
            "idle_secs": status.idle_secs,
            "pid": pid,
            "memory_locked": status.memory_locked,
        }))?;
    } else {
        let idle = match args.idle {
            Some(d) => format!(", or after {} without use", crate::readable_time::span(d)),
            None => String::new(),
        };
        let readable = until
            .map(|u| crate::readable_time::until(u, std::time::SystemTime::now()))
            .unwrap_or_else(|| "(an impossible date)".into());
        outln!(
            "Unlocked {} until {readable}{idle}; `ttvault lock` ends it now.",
            canonical.display()
        )?;
        vault
            .report
            .detail(&format!("the agent ends at {until_text}"));
        outln!("Next: `ttvault exec -- PROGRAM` or `ttvault token` use it without asking the passphrase.")?;
    }
    if !status.memory_locked {
        output::warning(
            "the agent could not lock its memory (mlock refused); the grant could be written to swap",
            Some("raise the locked-memory limit (`ulimit -l`)"),
        );
    }
    Ok(0)
}

#[cfg(unix)]
fn spawn_agent(
    ctx: &Context,
    args: &UnlockArgs,
    canonical: &std::path::Path,
    payload: &crate::vault::Payload,
    stamp: &crate::agent::paths::VaultStamp,
) -> Result<u32> {
    use crate::agent::protocol::{self, Handoff, VERSION};
    use std::io::{BufRead, Write};
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;

    let exe = std::env::current_exe()
        .map_err(|e| Error::failure(format!("cannot find ttvault's own program: {e}")))?;
    let mut cmd = crate::spawn::command(exe);
    cmd.arg("--vault")
        .arg(canonical)
        .arg("agent")
        .arg("--ttl")
        .arg(humantime::format_duration(args.ttl).to_string());
    if let Some(idle) = args.idle {
        cmd.arg("--idle")
            .arg(humantime::format_duration(idle).to_string());
    }
    if args.long_lived {
        cmd.arg("--long-lived");
    }
    if ctx.verbosity > 0 {
        cmd.arg("-v");
    }
    // The identity's path is not a secret, but the agent must never look for another.
    cmd.env_remove("TTVAULT_IDENTITY");
    // Detached: its own process group (a terminal's signals to the shell's job do not
    // reach it), no terminal on any stdio, the grant on a pipe, the answer on a pipe.
    cmd.current_dir("/")
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::failure(format!("cannot start the agent: {e}")))?;
    let pid = child.id();
    let frame = protocol::encode(&Handoff {
        v: VERSION,
        stamp: stamp.to_hex(),
        payload: payload.clone(),
    });
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&frame);
    }
    drop(frame);
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    }
    if line.starts_with("ready") {
        return Ok(pid);
    }
    let _ = child.wait();
    let why = line
        .trim()
        .strip_prefix("error: ")
        .unwrap_or("it ended without a word");
    Err(Error::failure(format!("the agent did not start: {why}")))
}
