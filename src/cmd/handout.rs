//! What programs run by `exec` (and printed by `export`) get: only a short-lived access
//! token, or also the long-lived client secret and refresh token. The choice is made once
//! (`init`, `import`: a flag, or a question at a terminal), recorded in the vault, changed
//! with `ttvault set long-lived`, and overridden for one run by `--long-lived` /
//! `--short-lived` (README "exec").

use crate::env::{self, Preset};
use crate::error::Result;
use crate::output;
use crate::session::{GrantAccess, Session};
use crate::ui::Ui;
use crate::want::{Freshness, Secrets};

/// The long-lived choice as the command line gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// No flag: the vault's recorded choice (`exec`, `export`), or ask (`init`, `import`).
    Unsaid,
    Long,
    Short,
}

impl Choice {
    /// From `--long-lived` / `--short-lived` (clap lets only one through).
    pub fn of(long_lived: bool, short_lived: bool) -> Self {
        match (long_lived, short_lived) {
            (true, _) => Choice::Long,
            (false, true) => Choice::Short,
            (false, false) => Choice::Unsaid,
        }
    }

    /// For a new vault (`init`, `import`): the flag, else the answer at a terminal, else
    /// short-lived (the safer default; nothing waits for an answer without a terminal).
    /// `why_long` is one sentence on when this vault's programs need the secrets. init and
    /// import both ask here, so the question, its default and its place are the same.
    pub fn to_record(self, why_long: &str, ui: &dyn Ui) -> Result<bool> {
        match self {
            Choice::Long => Ok(true),
            Choice::Short => Ok(false),
            Choice::Unsaid if ui.can_ask() => ask(why_long, ui),
            Choice::Unsaid => Ok(false),
        }
    }
}

/// The question, describing the two kinds of programs plainly.
fn ask(why_long: &str, ui: &dyn Ui) -> Result<bool> {
    output::say("");
    output::say("What should programs run by `ttvault exec` (or given `ttvault export`) get?");
    output::say("  - A program that takes an access token (TT_ACCESS_TOKEN) should get only");
    output::say(
        "    that: it expires within 15 minutes, so a leak does little. The safer default.",
    );
    output::say("  - An SDK program that refreshes tokens itself, like the SPX option chain");
    output::say("    fetcher on tastyware's `tastytrade` package, needs the client secret and");
    output::say("    the refresh token (TT_API_CLIENT_SECRET, TT_REFRESH_TOKEN). They never");
    output::say("    expire: whatever leaks that program's environment leaks the grant.");
    if !why_long.is_empty() {
        output::say(why_long);
    }
    output::say("(Change it later with `ttvault set long-lived on|off`; override one run with");
    output::say("`exec --long-lived` or `--short-lived`.)");
    let long = ui.confirm(
        "Give programs the client secret and refresh token by default?",
        false,
    )?;
    output::say(if long {
        "Recorded: programs get the client secret and refresh token (long-lived)."
    } else {
        "Recorded: programs get only a short-lived access token."
    });
    Ok(long)
}

/// The session for one `exec` or `export` run, with the secrets exactly when the run is
/// long-lived. `check` runs as soon as that is known, before any token is asked for; a
/// preset whose programs need the secrets is refused on a short-lived run (with
/// `--short-lived` even before the vault is opened: nothing is asked, nothing is sent).
pub fn session(
    grant: &mut GrantAccess,
    choice: Choice,
    preset: Preset,
    want: Freshness,
    check: &dyn Fn(bool) -> Result<()>,
) -> Result<Session> {
    let long = match choice {
        Choice::Long => true,
        Choice::Short => false,
        // The recorded choice is inside the vault, or known to its agent (which tells it
        // without a token).
        Choice::Unsaid => grant.fields(Secrets::Withheld)?.info.long_lived,
    };
    if preset.needs_long_lived() && !long {
        return Err(env::short_lived_tastyware());
    }
    check(long)?;
    let secrets = if long {
        Secrets::Included
    } else {
        Secrets::Withheld
    };
    grant.session(secrets, want)
}
