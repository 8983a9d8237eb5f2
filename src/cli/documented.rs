//! The command line as completion scripts and man pages describe it, which differs from
//! what is parsed in one way: an option a command refuses is not offered for it.

use super::{with_after_help, Cli};
use clap::CommandFactory;

/// The command line as completion scripts and man pages describe it: `--json` is offered
/// only by the commands that honour it. (Completion generators list hidden options too,
/// so it is left out of the others rather than hidden.)
pub fn documented() -> clap::Command {
    let cmd = with_after_help(Cli::command()).mut_arg("json", |a| a.global(false));
    let json = cmd
        .get_arguments()
        .find(|a| a.get_id() == "json")
        .cloned()
        .map(|a| a.global(false));
    cmd.mut_subcommands(|sub| match &json {
        Some(json) if !NO_JSON.contains(&sub.get_name()) && !sub.is_hide_set() => {
            sub.arg(json.clone())
        }
        _ => sub,
    })
}

/// The commands that have no JSON output and refuse `--json` (cmd::refuse_json_without_a_form).
pub const NO_JSON: &[&str] = &["import", "passwd", "exec", "api", "completions", "man"];
