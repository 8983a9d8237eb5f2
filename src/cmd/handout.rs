//! What programs run by `exec` (and printed by `export`) get: only a short-lived access
//! token (tokens), that plus placeholders and ttvault's broker (broker, exec only), or also
//! the long-lived client secret and refresh token (long-lived). The choice is made once
//! (`init`, `import`: a flag, or a question at a terminal), recorded in the vault, changed
//! with `ttvault set handout`, and overridden for one run by `--short-lived` / `--broker` /
//! `--long-lived` (README "exec").

use crate::env::{self, Preset};
use crate::error::{Error, Result};
use crate::output;
use crate::session::{self, Freshness, GrantSource, Secrets, Session};
use crate::vault::{Handout, Opened, VaultRef};
use std::io::{BufRead, IsTerminal};

/// The hand-out as the command line gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// No flag: the vault's recorded choice (`exec`, `export`), or ask (`init`, `import`).
    Unsaid,
    Said(Handout),
}

impl Choice {
    /// From `--long-lived` / `--short-lived` / `--broker` (clap lets only one through).
    pub fn of(long_lived: bool, short_lived: bool, broker: bool) -> Self {
        match (long_lived, short_lived, broker) {
            (true, _, _) => Choice::Said(Handout::LongLived),
            (_, true, _) => Choice::Said(Handout::Tokens),
            (_, _, true) => Choice::Said(Handout::Broker),
            _ => Choice::Unsaid,
        }
    }

    /// This run's hand-out, given the vault's recorded one.
    fn over(self, recorded: Handout) -> Handout {
        match self {
            Choice::Unsaid => recorded,
            Choice::Said(h) => h,
        }
    }

    /// For a new vault (`init`, `import`): the flag, else the answer at a terminal, else
    /// the broker (SDK programs work, and none holds a secret; nothing waits for an answer
    /// without a terminal). `why_long` is one sentence on when this vault's programs need
    /// the secrets.
    pub fn to_record(self, why_long: &str) -> Result<Handout> {
        match self {
            Choice::Said(h) => Ok(h),
            Choice::Unsaid if std::io::stdin().is_terminal() => ask(why_long),
            Choice::Unsaid => Ok(Handout::Broker),
        }
    }
}

/// The one question, with its three answers described plainly.
fn ask(why_long: &str) -> Result<Handout> {
    output::say("");
    output::say("What should programs run by `ttvault exec` get?");
    output::say("  1. tokens: only an access token (TT_ACCESS_TOKEN). It expires within 15");
    output::say("     minutes, so a leak does little; SDK programs that refresh tokens");
    output::say("     themselves cannot run.");
    output::say("  2. broker (recommended): the access token, plus placeholders where SDK");
    output::say("     programs expect the client secret and refresh token; ttvault's broker");
    output::say("     answers their token requests, so the tastyware SDK program runs");
    output::say("     unchanged and never holds a secret that outlives 15 minutes.");
    output::say("  3. long-lived: the real client secret and refresh token. They never");
    output::say("     expire: whatever leaks that program's environment leaks the grant.");
    if !why_long.is_empty() {
        output::say(why_long);
    }
    output::say("(Change it later with `ttvault set handout tokens|broker|long-lived`; override");
    output::say("one run with `exec --short-lived`, `--broker` or `--long-lived`.)");
    output::prompt("Your choice [1/2/3, default 2]: ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::failure(format!("could not read from the terminal: {e}")))?;
    let handout = match answer.trim().to_ascii_lowercase().as_str() {
        "1" | "tokens" => Handout::Tokens,
        "3" | "long-lived" => Handout::LongLived,
        _ => Handout::Broker,
    };
    output::say(&format!("Recorded: programs get {}.", handout.describe()));
    Ok(handout)
}

/// One `exec` or `export` run: its session and hand-out, and for the broker the vault when
/// it was opened in this process (the broker mints later tokens from it, asking nothing).
pub struct Run {
    pub session: Session,
    pub handout: Handout,
    pub opened: Option<Opened>,
}

/// The session for one `exec` or `export` run, with the secrets exactly when the run is
/// long-lived. `check` runs as soon as the hand-out is known, before any token is asked
/// for; a preset whose programs need more than an access token is refused on a tokens-only
/// run (with `--short-lived` even before the vault is opened: nothing is asked, nothing is
/// sent).
pub fn session(
    vault: &VaultRef,
    choice: Choice,
    preset: Preset,
    want: Freshness,
    check: &dyn Fn(Handout) -> Result<()>,
) -> Result<Run> {
    let allowed = |handout: Handout| -> Result<()> {
        if preset.needs_long_lived() && handout == Handout::Tokens {
            return Err(env::short_lived_tastyware());
        }
        check(handout)
    };
    let secrets_for = |handout: Handout| {
        if handout == Handout::LongLived {
            Secrets::Included
        } else {
            Secrets::Withheld
        }
    };
    if let Choice::Said(handout) = choice {
        allowed(handout)?;
        if handout != Handout::Broker {
            let session = session::open_with(vault, secrets_for(handout), want)?;
            return Ok(Run {
                session,
                handout,
                opened: None,
            });
        }
    }
    // The recorded choice is inside the vault (or known to its agent): open without the
    // secrets, then add them when the vault says so.
    match GrantSource::find_with(vault, Secrets::Withheld, want)? {
        GrantSource::Vault { opened, .. } => {
            let handout = choice.over(opened.payload.handout);
            allowed(handout)?;
            let kept = (handout == Handout::Broker).then(|| opened.clone());
            let secrets = secrets_for(handout);
            let session = GrantSource::Vault { opened, secrets }.session_with(
                vault,
                &crate::oauth::Client::new()?,
                want,
            )?;
            Ok(Run {
                session,
                handout,
                opened: kept,
            })
        }
        GrantSource::Agent(session) => {
            let handout = choice.over(session.grant.handout);
            allowed(handout)?;
            let session = if handout == Handout::LongLived && session.secrets().is_none() {
                session::open_with(vault, Secrets::Included, want)?
            } else {
                session
            };
            Ok(Run {
                session,
                handout,
                opened: None,
            })
        }
    }
}
