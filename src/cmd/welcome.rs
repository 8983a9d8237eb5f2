//! `ttvault` alone. On a terminal without a vault: say what ttvault is and offer to run
//! `init`; with a vault: its status and the usual help. Without a terminal: the help (and
//! exit 2, as for any missing command). This only asks; `dispatch` runs what comes next.

use super::Context;
use crate::output;

/// What to do after the welcome.
pub enum Next {
    /// Print the help and exit with `code`.
    Help { code: i32 },
    /// Print the vault's status, then the help.
    StatusAndHelp,
    /// Run `ttvault init` with its defaults.
    Init,
    /// The person declined; exit 0.
    Nothing,
}

pub fn ask(ctx: &Context) -> Next {
    if !ctx.vault.ui.can_ask() {
        return Next::Help { code: 2 };
    }
    let path = &ctx.vault.path;
    if path.exists() {
        return Next::StatusAndHelp;
    }
    output::say(&format!(
        "ttvault keeps your Tastytrade API credentials in an encrypted file, {}.",
        path.display()
    ));
    output::say("There is none here yet: `ttvault init` creates it by signing in to Tastytrade in your browser.");
    if ctx
        .vault
        .ui
        .confirm("Start `ttvault init` now?", false)
        .unwrap_or(false)
    {
        return Next::Init;
    }
    output::say("Nothing done. Run `ttvault --help` to see every command.");
    Next::Nothing
}
