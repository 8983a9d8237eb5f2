//! The command-line surface: help, usage errors, completions and the man page.

use crate::common::*;

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let dir = Dir::new();
    dir.run(&["--help"])
        .success()
        .stdout_has("exec")
        .stdout_has("unlock");
    dir.run(&["no-such-command"]).code(2);
    dir.run(&["exec", "--preset", "nope"]).code(2);
    dir.run(&["export", "--format", "csv"]).code(2);
    dir.run(&["unlock", "--ttl", "soon"])
        .code(2)
        .stderr_has("15m");
}

#[test]
fn completions_for_every_shell_name_the_commands() {
    let dir = Dir::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = dir.run(&["completions", shell]);
        run.success();
        for word in ["rotate", "passwd", "long-lived", "preset"] {
            assert!(run.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
}

#[test]
fn man_page_is_roff_from_the_same_definitions() {
    let dir = Dir::new();
    let run = dir.run(&["man"]);
    run.success()
        .stdout_has(".TH")
        .stdout_has("ttvault")
        .stdout_has("passphrase");
}

/// A blank `TTVAULT_VAULT` or `TTVAULT_IDENTITY` counts as unset, as every other variable
/// does (src/settings.rs). Before, clap stopped with "a value is required for '--vault
/// <PATH>'" (exit 2).
#[test]
fn blank_option_variables_count_as_unset() {
    let dir = Dir::new();
    dir.vault();
    let mut cmd = dir.cmd(&["show", "--passphrase-file", "pw"]);
    cmd.env("TTVAULT_VAULT", "").env("TTVAULT_IDENTITY", " ");
    Run::from(cmd.output().unwrap())
        .success()
        .stdout_has(CLIENT_ID);
}
