//! Help that teaches (issue 10, items 8–14): each command's help lists what it accepts,
//! every option is described, examples and the environment are listed, `man [COMMAND]`,
//! `--json` honoured or refused, the subshell, readable times, "Next:" lines and hints
//! that name the endpoint actually used.

use crate::common::*;

const PASSPHRASE_OPTIONS: &[&str] = &["--passphrase-file", "--passphrase-fd", "--identity"];

#[test]
fn rotate_help_lists_only_what_rotate_accepts() {
    let dir = Dir::new();
    let rotate = dir.run(&["rotate", "--help"]);
    rotate.success().stdout_has("--endpoint-change");
    for refused in [
        "--force",
        "--no-passphrase",
        "--recipient",
        "--recipients-file",
    ] {
        assert!(
            !rotate.stdout.contains(refused),
            "rotate --help lists {refused}"
        );
    }
    let init = dir.run(&["init", "--help"]);
    init.success();
    for option in [
        "--force",
        "--no-passphrase",
        "--recipient",
        "--recipients-file",
    ] {
        assert!(init.stdout.contains(option), "init --help lacks {option}");
    }
    assert!(!init.stdout.contains("--endpoint-change"));
    dir.run(&["rotate", "--no-passphrase"]).code(2);
}

#[test]
fn commands_that_never_open_the_vault_list_no_passphrase_options_yet_accept_them() {
    let dir = Dir::new();
    for command in ["lock", "status", "completions", "man"] {
        let run = dir.run(&[command, "--help"]);
        run.success().stdout_has("Global options:");
        for option in PASSPHRASE_OPTIONS {
            assert!(
                !run.stdout.contains(option),
                "{command} --help lists {option}"
            );
        }
    }
    // A script that passes them anyway keeps working.
    dir.vault();
    dir.run(&["status", "--passphrase-file", "pw", "--no-agent"])
        .success();
    dir.run(&["--passphrase-file", "pw", "lock"]).success();
    // Commands that open the vault list them under their own heading.
    let show = dir.run(&["show", "--help"]);
    show.success().stdout_has("Global options:");
    for option in PASSPHRASE_OPTIONS {
        assert!(show.stdout.contains(option), "show --help lacks {option}");
    }
}

#[test]
fn every_visible_option_is_described_and_every_command_has_examples() {
    let mut root = ttvault::cli::command();
    root.build();
    for cmd in std::iter::once(&root).chain(root.get_subcommands()) {
        if cmd.is_hide_set() || cmd.get_name() == "help" {
            continue;
        }
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            assert!(
                arg.get_help().is_some(),
                "{} {} has no description",
                cmd.get_name(),
                arg.get_id()
            );
        }
        let after = cmd
            .get_after_help()
            .map(|s| s.to_string())
            .unwrap_or_default();
        assert!(
            after.contains("Examples:"),
            "{} has no examples",
            cmd.get_name()
        );
        assert!(after.contains("ttvault"), "{} examples", cmd.get_name());
    }
}

#[test]
fn the_help_lists_the_environment() {
    let dir = Dir::new();
    let run = dir.run(&["--help"]);
    run.success().stdout_has("Environment:");
    for var in [
        "TTVAULT_VAULT",
        "TTVAULT_PASSPHRASE",
        "TTVAULT_NEW_PASSPHRASE",
        "TTVAULT_IDENTITY",
        "TTVAULT_CLIENT_SECRET",
        "TTVAULT_REFRESH_TOKEN",
        "TTVAULT_API_URL",
        "TTVAULT_AUTHORIZE_URL",
        "BROWSER",
        "NO_COLOR",
    ] {
        assert!(run.stdout.contains(var), "--help does not list {var}");
    }
    dir.run(&["export", "--help"])
        .success()
        .stdout_has("How to print the variables");
    // passwd's own variable is listed under passwd, not under export.
    dir.run(&["passwd", "--help"])
        .success()
        .stdout_has("TTVAULT_NEW_PASSPHRASE");
    let export = dir.run(&["export", "--help"]);
    assert!(!export.stdout.contains("TTVAULT_NEW_PASSPHRASE"));
}

#[test]
fn man_prints_a_page_per_command_with_the_usual_sections() {
    let dir = Dir::new();
    let root = dir.run(&["man"]);
    root.success()
        .stdout_has(".TH ttvault 1")
        .stdout_has("ttvault\\-exec(1)");
    for command in ["exec", "init", "rotate", "status", "man"] {
        let run = dir.run(&["man", command]);
        run.success()
            .stdout_has(&format!(".TH ttvault-{command} 1"))
            .stdout_has(".SH \"EXIT STATUS\"")
            .stdout_has(".SH ENVIRONMENT")
            .stdout_has(".SH FILES")
            .stdout_has(".SH EXAMPLES")
            .stdout_has("ttvault(1)");
    }
    let rotate = dir.run(&["man", "rotate"]);
    assert!(!rotate.stdout.contains("no\\-passphrase"));
    dir.run(&["man", "nope"])
        .code(2)
        .stderr_has("there is no command `nope`");
    // `man` is visible in the command list now.
    dir.run(&["--help"]).success().stdout_has("  man ");
}

#[test]
fn completion_offers_programs_after_exec() {
    let dir = Dir::new();
    dir.run(&["completions", "zsh"])
        .success()
        .stdout_has("_cmdambivalent");
    // A program only this test has, on PATH: bash and fish offer it after `exec --`.
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    dir.write("bin/zzfetch-spx-test", "#!/bin/sh\n");
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(bin.join("zzfetch-spx-test"), perms).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let bash = dir.run(&["completions", "bash"]);
    dir.write("ttvault.bash", bash.success().stdout.as_bytes());
    let out = std::process::Command::new("bash")
        .current_dir(dir.path())
        .env("PATH", &path)
        .args([
            "-c",
            "source ./ttvault.bash; COMP_WORDS=(ttvault exec -- zzfetch); COMP_CWORD=3; \
             _ttvault_exec_programs ttvault zzfetch --; printf '%s\\n' \"${COMPREPLY[@]}\"",
        ])
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(
        offered.lines().any(|l| l == "zzfetch-spx-test"),
        "bash: {offered:?} {out:?}"
    );
    if !require_tool("fish") {
        return;
    }
    let fish = dir.run(&["completions", "fish"]);
    dir.write("ttvault.fish", fish.success().stdout.as_bytes());
    let out = std::process::Command::new("fish")
        .current_dir(dir.path())
        .env("PATH", &path)
        .args([
            "-c",
            "source ./ttvault.fish; complete -C 'ttvault exec -- zzfetch'",
        ])
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    // The whole script sources cleanly (no description is taken for fish syntax).
    assert!(
        out.stderr.is_empty(),
        "fish: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(offered.contains("zzfetch-spx-test"), "fish: {offered:?}");
}

#[test]
fn json_is_honoured_or_refused() {
    let dir = Dir::new();
    let standin = standin();
    dir.standin_vault(&standin, "read");
    let token = dir.run(&["token", "--json", "--passphrase-file", "pw"]);
    token.success();
    let doc: serde_json::Value = serde_json::from_str(&token.stdout).unwrap();
    let access = doc["access_token"].as_str().unwrap();
    assert!(!access.is_empty());
    let expires = doc["expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.contains('T'), "{expires}");
    let plain = dir.run(&["token", "--passphrase-file", "pw"]);
    plain.success();
    assert!(!plain.stdout.trim().starts_with('{'));

    let export = dir.run(&["export", "--json", "--passphrase-file", "pw"]);
    export.success();
    let vars: serde_json::Value = serde_json::from_str(&export.stdout).unwrap();
    assert!(vars["TT_ACCESS_TOKEN"].is_string());
    dir.run(&[
        "export",
        "--json",
        "--format",
        "fish",
        "--passphrase-file",
        "pw",
    ])
    .code(2);

    for args in [
        &["exec", "--json", "--", "true"][..],
        &["passwd", "--json"],
        &["import", "--json"],
        &["completions", "bash", "--json"],
        &["man", "--json"],
    ] {
        dir.run(args).code(2).stderr_has("has no JSON output");
    }
}

#[test]
fn exec_without_a_program_starts_the_shell_marked_and_refuses_to_nest() {
    let dir = Dir::new();
    let standin = standin();
    dir.standin_vault(&standin, "read");
    // A "shell" that records the environment it was given.
    let shell = dir.write("shell.sh", "#!/bin/sh\nenv > seen.txt\n");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = Run::from(
        dir.cmd(&["exec", "--passphrase-file", "pw"])
            .env("SHELL", &shell)
            .output()
            .unwrap(),
    );
    run.success().stderr_has("TTVAULT_SHELL");
    let seen = String::from_utf8(dir.read("seen.txt")).unwrap();
    let vault = dir.path().join(".secrets");
    assert!(
        seen.lines()
            .any(|l| l == format!("TTVAULT_SHELL={}", vault.display())),
        "{seen}"
    );
    assert!(seen.contains("TT_ACCESS_TOKEN="));

    // Inside that shell, another exec is refused before the vault is opened.
    let before = standin.token_requests().len();
    let nested = Run::from(
        dir.cmd(&["exec", "--passphrase-file", "pw", "--", "true"])
            .env("TTVAULT_SHELL", &vault)
            .output()
            .unwrap(),
    );
    nested
        .code(2)
        .stderr_has("started by `ttvault exec`")
        .stderr_has(&vault.display().to_string());
    assert_eq!(standin.token_requests().len(), before);
}

#[test]
fn unlock_says_times_people_read_a_long_ttl_and_what_next() {
    let dir = Dir::new();
    dir.vault();
    let run = dir.run(&["unlock", "--ttl", "30h", "--passphrase-file", "pw"]);
    let _ = dir.cmd(&["lock"]).output();
    run.success()
        .stdout_has("(in 1 day 6 h)")
        .stdout_has("Next:")
        .stderr_has("longer than a day");
    assert!(!has_iso_time(&run.stdout), "UTC time in {}", run.stdout);

    let short = dir.run(&["unlock", "--ttl", "15m", "--passphrase-file", "pw"]);
    // Read a moment after it started, a 15-minute unlock is "in 15 min", not 14.
    short.success().stdout_has("(in 15 min)");
    assert!(!short.stderr.contains("longer than a day"));
    let status = dir.run(&["status"]);
    let json = dir.run(&["status", "--json"]);
    let _ = dir.cmd(&["lock"]).output();
    status
        .success()
        .stdout_has("unlocked until")
        .stdout_has(" min)");
    json.success();
    assert!(has_iso_time(&json.stdout), "{}", json.stdout);
    assert!(!has_iso_time(&status.stdout), "{}", status.stdout);
}

/// Whether `text` holds an RFC 3339 time such as 2026-11-29T22:35:11Z.
fn has_iso_time(text: &str) -> bool {
    let b = text.as_bytes();
    (1..b.len().saturating_sub(1))
        .any(|i| b[i] == b'T' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit())
}

#[test]
fn passwd_says_passphrase_only_and_that_it_ended_the_agent() {
    let dir = Dir::new();
    dir.vault();
    dir.run(&["unlock", "--passphrase-file", "pw"]).success();
    let run = dir.run(PW_TO_PW2);
    let _ = dir.cmd(&["lock"]).output();
    run.success()
        .stdout_has("passphrase only (the new passphrase)")
        .stdout_has("Ended the agent");
    assert!(!run.stdout.contains("slot(s)"));
    dir.run(&["status", "--json"])
        .success()
        .stdout_has("\"agent\": null");
    // Nothing unlocked: nothing to say about an agent.
    let again = dir.run(&[
        "passwd",
        "--passphrase-file",
        "pw2",
        "--new-passphrase-file",
        "pw",
    ]);
    again.success();
    assert!(!again.stdout.contains("agent"), "{}", again.stdout);
}

#[test]
fn init_in_a_git_repository_ignores_the_vault() {
    if !require_tool("git") {
        return;
    }
    let dir = Dir::new();
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    dir.write(".gitignore", "target");
    let standin = standin();
    dir.passphrase_files();
    let refresh = standin.personal_grant(CLIENT_ID, "read");
    let run = Run::from(
        dir.cmd_at(
            &standin,
            &[
                "init",
                "--paste",
                "--client-id",
                CLIENT_ID,
                "--passphrase-file",
                "pw",
            ],
        )
        .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
        .env("TTVAULT_REFRESH_TOKEN", &refresh)
        .output()
        .unwrap(),
    );
    run.success()
        .stderr_has("in a git repository")
        .stdout_has("Next:");
    assert_eq!(
        String::from_utf8(dir.read(".gitignore")).unwrap(),
        "target\n/.secrets\n"
    );
    let ignored = std::process::Command::new("git")
        .args(["check-ignore", "-q", ".secrets"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(ignored.success());
    // Said once the vault is written, .gitignore being changed only then (init_order.rs).
    let note = run.stderr.find("in a git repository").unwrap();
    assert!(
        note > run.stderr.find("Checking the grant").unwrap(),
        "{}",
        run.stderr
    );
}

#[test]
fn a_network_error_names_the_vaults_stored_endpoint() {
    let dir = Dir::new();
    let standin = standin();
    dir.standin_vault(&standin, "read");
    let stored = standin.base_url();
    drop(standin);
    let run = Run::from(
        dir.cmd(&["token", "--passphrase-file", "pw"])
            .env("TTVAULT_API_URL", "https://api.elsewhere.example")
            .output()
            .unwrap(),
    );
    run.code(5)
        .stderr_has(&stored)
        .stderr_has("stored in the vault")
        .stderr_has("TTVAULT_API_URL does not change it");
    assert!(!run.stderr.contains("elsewhere"));
}

#[test]
fn a_malformed_saved_token_points_to_rotate_paste() {
    let dir = Dir::new();
    let standin = standin();
    dir.passphrase_files();
    dir.write(
        "legacy.env",
        format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN=not-a-token-of-this-server\n"),
    );
    dir.run_at(
        &standin,
        &["import", "legacy.env", "--passphrase-file", "pw"],
    )
    .success();
    let run = dir.run(&["token", "--passphrase-file", "pw"]);
    run.code(4).stderr_has("`ttvault rotate --paste`");
    assert!(!run.stderr.contains("init --paste"));
}

#[test]
fn audit_does_not_call_tastytrades_own_authorize_page_custom() {
    let dir = Dir::new();
    let standin = standin();
    dir.passphrase_files();
    dir.legacy_secrets("legacy.env");
    // Only the API variable: the authorize page stays Tastytrade's.
    let run = Run::from(
        dir.cmd(&["import", "legacy.env", "--passphrase-file", "pw"])
            .env("TTVAULT_API_URL", standin.base_url())
            .output()
            .unwrap(),
    );
    run.success();
    let audit = dir.run(&["audit", "--offline", "--passphrase-file", "pw"]);
    assert!(
        audit
            .stdout
            .contains("my.tastytrade.com/auth.html: Tastytrade's production host"),
        "{}",
        audit.stdout
    );
    assert!(!audit
        .stdout
        .contains("custom endpoint https://my.tastytrade.com"));
}
