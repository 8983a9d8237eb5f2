//! The hand-out (README "exec"): made once at init or import (a flag, or a question at a
//! terminal), recorded in the vault, kept by rotate and passwd, changed with `ttvault set
//! handout` (or `set long-lived`), overridden for one run; presets that fit their programs; the
//! scope question for tokens that name none; the old helper's plaintext leftovers.

use crate::common::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// `ttvault init --paste` against the stand-in, without a terminal, passphrase in `pw`.
pub fn init_vault(dir: &Dir, s: &tt_standin::StandIn, refresh: &str, extra: &[&str]) -> Run {
    dir.passphrase_files();
    let mut args = vec![
        "init",
        "--paste",
        "--client-id",
        CLIENT_ID,
        "--passphrase-file",
        "pw",
    ];
    args.extend_from_slice(extra);
    let out = dir
        .cmd_at(s, &args)
        .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
        .env("TTVAULT_REFRESH_TOKEN", refresh)
        .output()
        .unwrap();
    Run::from(out)
}

/// `exec -- env` (passphrase in `pw`, plus `extra` before `--`): what the child saw.
fn child_env(dir: &Dir, extra: &[&str]) -> Run {
    let mut args = vec!["exec", "--passphrase-file", "pw"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "env"]);
    dir.run(&args)
}

fn gets_secrets(run: &Run, refresh: &str) -> bool {
    run.stdout
        .contains(&format!("TT_API_CLIENT_SECRET={CLIENT_SECRET}"))
        && run.stdout.contains(&format!("TT_REFRESH_TOKEN={refresh}"))
}

fn show(dir: &Dir) -> String {
    let run = dir.run(&["show", "--passphrase-file", "pw"]);
    run.success();
    run.stdout.clone()
}

/// Runs `ttvault ARGS; echo rc=$?` on a pseudo-terminal (util-linux `script`), typing
/// `answers`; returns everything the terminal showed.
pub fn at_terminal(
    dir: &Dir,
    s: &tt_standin::StandIn,
    args: &str,
    env: &[(&str, &str)],
    answers: &str,
) -> String {
    let bin = env!("CARGO_BIN_EXE_ttvault");
    let line = format!("'{bin}' {args}; echo \"rc=$?\"");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(dir.path())
        .env("TTVAULT_API_URL", s.base_url())
        .env("TTVAULT_AUTHORIZE_URL", s.authorize_url())
        .env("TTVAULT_KDF_TARGET_MS", "1")
        .env("TTVAULT_KDF_MEMORY_MIB", "64")
        .env("XDG_RUNTIME_DIR", dir.path())
        .env_remove("TTVAULT_VAULT")
        .env_remove("TTVAULT_PASSPHRASE")
        .env_remove("TTVAULT_CLIENT_SECRET")
        .env_remove("TTVAULT_REFRESH_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains(CLIENT_SECRET) && !text.contains(PASSPHRASE),
        "{text}"
    );
    text
}

#[test]
fn init_long_lived_is_recorded_kept_by_rotate_and_passwd_and_overridden_per_run() {
    let s = standin();
    let dir = Dir::new();
    let rt = s.personal_grant(CLIENT_ID, "read");
    init_vault(&dir, &s, &rt, &["--long-lived"]).success();
    assert!(show(&dir).contains("programs get:  access token, client secret and refresh token"));
    assert!(
        gets_secrets(&child_env(&dir, &[]), &rt),
        "the recorded choice"
    );
    let short = child_env(&dir, &["--short-lived"]);
    short.success().stdout_has("TT_ACCESS_TOKEN=");
    assert!(!short.stdout.contains(CLIENT_SECRET) && !short.stdout.contains(&rt));
    // export follows it too (to a pipe), and --short-lived overrides it.
    let export = dir.run(&["export", "--passphrase-file", "pw"]);
    assert_eq!(export.status, Some(0), "{}", export.stderr);
    assert!(
        export.stdout.contains("TT_REFRESH_TOKEN"),
        "{}",
        export.stdout
    );
    let export = dir.run(&["export", "--short-lived", "--passphrase-file", "pw"]);
    export.success();
    assert!(!export.stdout.contains("TT_REFRESH_TOKEN"));

    // passwd and rotate keep the choice.
    dir.run(PW_TO_PW2).success();
    std::fs::rename(dir.join("pw2"), dir.join("pw")).unwrap();
    assert!(gets_secrets(&child_env(&dir, &[]), &rt));
    let new_rt = s.personal_grant(CLIENT_ID, "read");
    let out = dir
        .cmd_at(&s, &["rotate", "--paste", "--passphrase-file", "pw"])
        .env("TTVAULT_REFRESH_TOKEN", &new_rt)
        .output()
        .unwrap();
    Run::from(out).success();
    assert!(
        gets_secrets(&child_env(&dir, &[]), &new_rt),
        "kept by rotate"
    );
    // rotate does not take the choice (it is changed with `set`): a usage error.
    dir.run_at(
        &s,
        &[
            "rotate",
            "--paste",
            "--short-lived",
            "--passphrase-file",
            "pw",
        ],
    )
    .code(2)
    .stderr_has("--short-lived");
}

/// The seed's program (an SDK program reading TT_API_CLIENT_SECRET and TT_REFRESH_TOKEN,
/// as its `load_dotenv()` does) runs unchanged once the vault recorded the choice.
#[test]
fn without_a_terminal_init_records_the_broker_and_set_changes_it() {
    let s = standin();
    let dir = Dir::new();
    let rt = s.personal_grant(CLIENT_ID, "read");
    init_vault(&dir, &s, &rt, &[]).success();
    assert!(show(&dir).contains("(broker)"));
    let env = child_env(&dir, &[]);
    env.success();
    assert!(!gets_secrets(&env, &rt) && !env.stdout.contains(&rt));
    assert!(env
        .stdout
        .contains("TT_REFRESH_TOKEN=ttvault-broker-placeholder-"));
    dir.run(&["set", "handout", "tokens", "--passphrase-file", "pw"])
        .success()
        .stdout_has("Recorded");
    // A stand-in for the seed's option_chain_fetcher.py: it fails without its secrets.
    dir.write(
        "option_chain_fetcher.sh",
        "test -n \"$TT_API_CLIENT_SECRET\" && test -n \"$TT_REFRESH_TOKEN\" || { echo 'KeyError: secrets' >&2; exit 1; }\necho 'SPX chain fetched'\n",
    );
    let seed = [
        "exec",
        "--passphrase-file",
        "pw",
        "--",
        "sh",
        "option_chain_fetcher.sh",
    ];
    dir.run(&seed).code(1).stderr_has("KeyError");

    dir.run(&["set", "long-lived", "on", "--passphrase-file", "pw"])
        .success()
        .stdout_has("Recorded");
    dir.run(&seed).success().stdout_has("SPX chain fetched");
    assert!(show(&dir).contains("long-lived"));
    // A tokens-only vault (import --short-lived).
    let dir2 = Dir::new();
    let rt2 = dir2.standin_vault(&s, "read");
    assert!(!gets_secrets(&child_env(&dir2, &[]), &rt2));
    dir2.run(&["set", "long-lived", "off", "--passphrase-file", "pw"])
        .success()
        .stdout_has("Unchanged");
    dir2.run(&["set", "long-lived", "maybe", "--passphrase-file", "pw"])
        .code(2);
}

#[test]
fn the_tastyware_preset_on_a_short_lived_run_is_refused_before_anything_starts() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    // --short-lived: refused before the vault is opened (no passphrase source is given,
    // and none is asked for), before any request, before the program.
    let run = dir.run(&[
        "exec",
        "--short-lived",
        "--preset",
        "tastyware",
        "--",
        "touch",
        "ran",
    ]);
    run.code(2)
        .stderr_has("TT_SECRET")
        .stderr_has("--broker")
        .stderr_has("ttvault set handout broker");
    assert!(!run.stderr.contains("--long-lived"), "{}", run.stderr);
    assert!(!run.stderr.contains("passphrase"), "{}", run.stderr);
    // The vault's recorded short-lived choice: refused before any token request.
    let run = dir.run(&[
        "exec",
        "--passphrase-file",
        "pw",
        "--preset",
        "tastyware",
        "--",
        "touch",
        "ran",
    ]);
    run.code(2).stderr_has("cannot use an access token");
    dir.run(&["export", "--passphrase-file", "pw", "--preset", "tastyware"])
        .code(2);
    assert!(s.requests().is_empty(), "{:?}", s.requests());
    assert!(!dir.join("ran").exists(), "the program never started");
    // Long-lived, it runs with the SDK's names.
    let run = child_env(&dir, &["--preset", "tastyware", "--long-lived"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(&format!("TT_SECRET={CLIENT_SECRET}")));
}

#[test]
fn init_and_import_at_a_terminal_ask_and_record_the_answer() {
    if !require_tool("script") {
        return;
    }
    let s = standin();
    // 3: long-lived; no answer: the recommended broker (no secret either).
    for (answer, long) in [("3\n", true), ("\n", false)] {
        let dir = Dir::new();
        dir.passphrase_files();
        let rt = s.personal_grant(CLIENT_ID, "read");
        let said = at_terminal(
            &dir,
            &s,
            &format!("init --paste --client-id {CLIENT_ID} --passphrase-file pw"),
            &[
                ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
                ("TTVAULT_REFRESH_TOKEN", &rt),
            ],
            answer,
        );
        assert!(said.contains("rc=0"), "{said}");
        assert!(
            said.contains("(recommended)") && said.contains("access token"),
            "{said}"
        );
        assert!(said.contains("broker (default)"), "{said}");
        assert!(!said.contains(&rt), "{said}");
        assert_eq!(gets_secrets(&child_env(&dir, &[]), &rt), long, "{answer:?}");
    }
    // import asks too, naming the old setup's programs.
    let dir = Dir::new();
    dir.vault_plaintext_with_backup();
    let said = at_terminal(&dir, &s, "import --passphrase-file pw", &[], "3\nn\n");
    assert!(said.contains("rc=0"), "{said}");
    assert!(said.contains("old setup's programs"), "{said}");
    assert!(
        show(&dir).contains("client secret and refresh token (long-lived"),
        "{said}"
    );
    assert!(
        dir.join(".secrets.backup").exists(),
        "the second answer was no"
    );
}

impl Dir {
    /// The old helper's leftovers: a plaintext `.secrets` with the test grant, the earlier
    /// grant it renamed to `.secrets.backup`, and its `.gitignore` lines.
    pub fn vault_plaintext_with_backup(&self) {
        self.passphrase_files();
        self.legacy_secrets(".secrets");
        self.write(".secrets.backup", OLD_GRANT);
        self.write(".gitignore", ".secrets\n.secrets.backup\n");
    }
}

pub const OLD_GRANT: &str =
    "TT_API_CLIENT_ID=old-id\nTT_API_CLIENT_SECRET=old-SECRET-1\nTT_REFRESH_TOKEN=old-SECRET-2\n";

fn finding<'a>(doc: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check}: {doc}"))
}

fn audit(dir: &Dir, s: &tt_standin::StandIn) -> serde_json::Value {
    let run = dir.run_at(
        s,
        &["audit", "--offline", "--json", "--passphrase-file", "pw"],
    );
    assert_no_secrets(&run);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn audit_warns_about_an_imported_grant_and_a_long_lived_choice() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let doc = audit(&dir, &s);
    let imported = finding(&doc, "grant.imported");
    assert_eq!(imported["severity"], "warning", "{doc}");
    let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let message = imported["message"].as_str().unwrap();
    assert!(
        message.contains(&today[..10]) && message.contains("plaintext"),
        "{message}"
    );
    assert!(imported["fix"].as_str().unwrap().contains("ttvault rotate"));
    assert!(
        !doc.to_string().contains("days ago"),
        "no made-up grant age: {doc}"
    );
    assert_eq!(finding(&doc, "exec.handout")["severity"], "ok");

    dir.run(&["set", "long-lived", "on", "--passphrase-file", "pw"])
        .success();
    let doc = audit(&dir, &s);
    let long = finding(&doc, "exec.handout");
    assert_eq!(long["severity"], "warning");
    assert!(
        long["message"].as_str().unwrap().contains("refresh token"),
        "{long}"
    );
    // The broker: the same programs, the same results, without the exposure.
    assert!(
        long["fix"].as_str().unwrap().contains("set handout broker"),
        "{long}"
    );

    // A rotation replaces the imported grant: no longer a warning, and the age is known.
    let out = dir
        .cmd_at(&s, &["rotate", "--paste", "--passphrase-file", "pw"])
        .env("TTVAULT_REFRESH_TOKEN", s.personal_grant(CLIENT_ID, "read"))
        .output()
        .unwrap();
    Run::from(out).success();
    let doc = audit(&dir, &s);
    assert_eq!(finding(&doc, "grant.imported")["severity"], "ok");
    assert!(finding(&doc, "grant.age")["message"]
        .as_str()
        .unwrap()
        .contains("rotated 0 days ago"));
}

fn opaque_standin() -> tt_standin::StandIn {
    standin_with(tt_standin::Config {
        opaque_refresh_tokens: true,
        ..Default::default()
    })
}

#[test]
fn unknown_scopes_at_a_terminal_must_be_confirmed() {
    if !require_tool("script") {
        return;
    }
    let s = opaque_standin();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let env = [
        ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
        ("TTVAULT_REFRESH_TOKEN", rt.as_str()),
    ];
    let args = format!("init --paste --short-lived --client-id {CLIENT_ID} --passphrase-file pw");
    let dir = Dir::new();
    dir.passphrase_files();
    let said = at_terminal(&dir, &s, &args, &env, "n\n");
    assert!(said.contains("does not say which scopes"), "{said}");
    assert!(said.contains("Is Read the only box ticked"), "{said}");
    assert!(
        said.contains("nothing was written") && said.contains("rc=1"),
        "{said}"
    );
    assert!(!dir.join(".secrets").exists());

    let said = at_terminal(&dir, &s, &args, &env, "y\n");
    assert!(said.contains("rc=0"), "{said}");
    assert!(dir.join(".secrets").exists());
}

#[test]
fn unknown_scopes_without_a_terminal_warn_and_audit_repeats() {
    let s = opaque_standin();
    let rt = s.personal_grant(CLIENT_ID, "read");
    assert!(!rt.starts_with("ey"), "an opaque token");
    let dir = Dir::new();
    init_vault(&dir, &s, &rt, &[])
        .success()
        .stderr_has("does not say which scopes")
        .stderr_has("ttvault audit");
    let doc = audit(&dir, &s);
    let scopes = finding(&doc, "scopes.token");
    assert_eq!(scopes["severity"], "warning", "{doc}");
    assert!(scopes["fix"].as_str().unwrap().contains("Read"));
    // --allow-trade asks nothing and says nothing about it.
    let dir = Dir::new();
    let run = init_vault(
        &dir,
        &s,
        &s.personal_grant(CLIENT_ID, "read"),
        &["--allow-trade"],
    );
    run.success();
    assert!(
        !run.stderr.contains("does not say which scopes"),
        "{}",
        run.stderr
    );
}

/// Through the agent (no passphrase): the vault's recorded choice is the agent's too.
#[cfg(unix)]
#[test]
fn through_the_agent_exec_follows_the_recorded_choice() {
    let s = standin();
    let dir = Dir::new();
    let rt = s.personal_grant(CLIENT_ID, "read");
    init_vault(&dir, &s, &rt, &["--long-lived"]).success();
    dir.run(&["unlock", "--passphrase-file", "pw"]).success();
    let env = dir.run(&["exec", "--", "env"]);
    let short = dir.run(&["exec", "--short-lived", "--", "env"]);
    let refused = dir.run(&[
        "exec",
        "--short-lived",
        "--preset",
        "tastyware",
        "--",
        "env",
    ]);
    dir.run(&["lock"]);
    assert_eq!(env.status, Some(0), "{}", env.stderr);
    assert!(
        gets_secrets(&env, &rt),
        "the recorded choice, through the agent"
    );
    short.success();
    assert!(!short.stdout.contains(&rt));
    refused.code(2).stderr_has("TT_SECRET");
}
