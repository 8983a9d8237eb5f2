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

/// A mistyped exec flag before the program is a usage error with clap's suggestion (exit
/// 2), with or without `--` after it; before, `--long-live` was run as a program (exit
/// 127, "cannot run"). Words after the program are still the program's own.
#[test]
fn an_unknown_exec_flag_is_a_usage_error_with_a_suggestion() {
    let dir = Dir::new();
    for args in [
        &["exec", "--long-live", "--", "true"][..],
        &["exec", "--long-live", "true"][..],
    ] {
        let run = dir.run(args);
        run.code(2).stderr_has("--long-lived");
        assert!(!run.stderr.contains("cannot run"), "{}", run.stderr);
    }
    let s = standin();
    dir.standin_vault(&s, "read");
    let run = dir.run_at(
        &s,
        &[
            "exec",
            "--passphrase-file",
            "pw",
            "sh",
            "-c",
            "printf '%s\\n' \"$@\"",
            "sh",
            "--long-live",
            "-x",
        ],
    );
    run.success();
    assert_eq!(run.stdout, "--long-live\n-x\n");
}

/// What exec refuses is not offered: no `--json` for exec in any completion script or in
/// its man page, while `status` (which honours it) still offers it.
#[test]
fn exec_is_not_offered_json() {
    let dir = Dir::new();
    let bash = dir.run(&["completions", "bash"]);
    let exec_opts = bash
        .stdout
        .split("ttvault__subcmd__exec)")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .unwrap()
        .to_string();
    assert!(exec_opts.contains("--long-lived"), "{exec_opts}");
    assert!(!exec_opts.contains("--json"), "{exec_opts}");
    let fish = dir.run(&["completions", "fish"]);
    assert!(!fish
        .stdout
        .lines()
        .any(|l| l.contains("using_subcommand exec") && l.contains("-l json")));
    assert!(fish
        .stdout
        .lines()
        .any(|l| l.contains("using_subcommand status") && l.contains("-l json")));
    assert!(!dir.run(&["man", "exec"]).stdout.contains("json"));
    assert!(dir.run(&["man", "status"]).stdout.contains("json"));
    dir.run(&["exec", "--json"])
        .code(2)
        .stderr_has("has no JSON output");
}
