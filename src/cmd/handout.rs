//! What programs run by `exec` (and printed by `export`) get: only a short-lived access
//! token (tokens), that plus placeholders and ttvault's broker (broker, exec only), or also
//! the long-lived client secret and refresh token (long-lived). The choice is made once
//! (`init`, `import`: a flag, or a question at a terminal), recorded in the vault, changed
//! with `ttvault set handout`, and overridden for one run by `--short-lived` / `--broker` /
//! `--long-lived` (README "exec").

use crate::env::{self, Preset};
use crate::error::Result;
use crate::output;
use crate::session::{GrantAccess, Session};
use crate::ui::{self, Ui};
use crate::vault::{Handout, Opened};
use crate::want::{Freshness, Secrets};

/// The hand-out as the command line gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoutFlag {
    /// No flag: the vault's recorded choice (`exec`, `export`), or ask (`init`, `import`).
    Unsaid,
    Said(Handout),
}

impl HandoutFlag {
    /// From `--long-lived` / `--short-lived` / `--broker` (clap lets only one through).
    pub fn of(long_lived: bool, short_lived: bool, broker: bool) -> Self {
        match (long_lived, short_lived, broker) {
            (true, _, _) => HandoutFlag::Said(Handout::LongLived),
            (_, true, _) => HandoutFlag::Said(Handout::Tokens),
            (_, _, true) => HandoutFlag::Said(Handout::Broker),
            _ => HandoutFlag::Unsaid,
        }
    }

    /// For a new vault (`init`, `import`): the flag, else the answer at a terminal, else
    /// the broker (SDK programs work, and none holds a secret; nothing waits for an answer
    /// without a terminal). `why_long` is one sentence on when this vault's programs need
    /// the secrets. init and import both ask here, so the question, its default and its
    /// place are the same.
    pub fn to_record(self, why_long: &str, ui: &dyn Ui) -> Result<Handout> {
        match self {
            HandoutFlag::Said(h) => Ok(h),
            HandoutFlag::Unsaid if ui.can_ask() => ask(why_long, ui),
            HandoutFlag::Unsaid => Ok(Handout::Broker),
        }
    }
}

/// The one question, with its three answers described plainly.
fn ask(why_long: &str, ui: &dyn Ui) -> Result<Handout> {
    output::say("");
    output::say("What should programs run by `ttvault exec` get?");
    if !why_long.is_empty() {
        output::say(why_long);
    }
    output::say("(Change it later with `ttvault set handout tokens|broker|long-lived`; override");
    output::say("one run with `exec --short-lived`, `--broker` or `--long-lived`.)");
    const ANSWERS: [Handout; 3] = [Handout::Tokens, Handout::Broker, Handout::LongLived];
    let options = [
        ui::Choice::new(
            "tokens",
            "only an access token (TT_ACCESS_TOKEN); it expires within 15 minutes, so a \
             leak does little, but SDK programs that refresh tokens themselves cannot run",
        ),
        ui::Choice::new(
            "broker",
            "(recommended) the access token, plus placeholders where SDK programs expect the \
             client secret and refresh token; ttvault's broker answers their token requests, \
             so the tastyware SDK program runs unchanged and never holds a secret that \
             outlives 15 minutes",
        ),
        ui::Choice::new(
            "long-lived",
            "the real client secret and refresh token; they never expire: whatever leaks \
             that program's environment leaks the grant",
        ),
    ];
    let handout = ANSWERS[ui.choose("Programs get:", &options, 1)?];
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
/// sent). For the broker, the vault when this process opened it comes back too.
pub fn session(
    mut grant: GrantAccess<'_>,
    choice: HandoutFlag,
    preset: Preset,
    want: Freshness,
    check: &dyn Fn(Handout) -> Result<()>,
) -> Result<Run> {
    let handout = match choice {
        HandoutFlag::Said(h) => h,
        // The recorded choice is inside the vault, or known to its agent (which tells it
        // without a token).
        HandoutFlag::Unsaid => grant.fields(Secrets::Withheld)?.info.handout,
    };
    if preset.needs_long_lived() && handout == Handout::Tokens {
        return Err(env::short_lived_tastyware());
    }
    check(handout)?;
    let secrets = if handout == Handout::LongLived {
        Secrets::Included
    } else {
        Secrets::Withheld
    };
    let session = grant.session(secrets, want)?;
    let opened = if handout == Handout::Broker {
        grant.into_opened()
    } else {
        None
    };
    Ok(Run {
        session,
        handout,
        opened,
    })
}
