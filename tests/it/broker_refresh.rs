//! `exec --broker` past its first token (issue 15, src/cmd/broker_run.rs `SessionTokens`):
//! a program's later token requests get tokens ttvault mints, from the vault this run
//! opened (no second passphrase) or the agent; when the agent ends mid-run, the vault is
//! opened again only where a passphrase source exists, else the program gets a 401 that
//! names ttvault and the reason, and ttvault's stderr one `broker:` line.
//!
//! `--min-ttl 15m` (the most, and the stand-in's whole token lifetime) makes every token
//! request of the program one that the token at hand cannot meet, so each is a refresh,
//! with no waiting on the clock.

use crate::common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The program's token request with the placeholders (as docs/BROKER.md shows for curl):
/// `token NAME` writes the answer's body and then its status to NAME, whole, at once.
const TOKEN_FN: &str = r#"token() { curl -sS -X POST -H 'Content-Type: application/json' -d "{\"grant_type\":\"refresh_token\",\"client_secret\":\"$TT_API_CLIENT_SECRET\",\"refresh_token\":\"$TT_REFRESH_TOKEN\"}" -w '\n%{http_code}\n' https://api.tastyworks.com/oauth/token > "$1.tmp"; mv "$1.tmp" "$1"; }"#;

/// `wait_for NAME`: until the test writes NAME (and no longer than the test's folder
/// lasts: a failed test leaves no program waiting).
const WAIT_FN: &str =
    r#"wait_for() { while [ ! -e "$1" ]; do [ -e pw ] || exit 9; sleep 0.05; done; }"#;

/// `exec --broker --min-ttl 15m` of a shell script with `token` and `wait_for` defined,
/// beside the vault's own agent directory (the test's folder), no proxy of the user's.
fn exec_script(dir: &Dir, s: &tt_standin::StandIn, flags: &[&str], script: &str) -> Command {
    let body = format!("{TOKEN_FN}\n{WAIT_FN}\n{script}");
    let mut args = vec!["exec", "--broker", "--min-ttl", "15m"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "sh", "-c", &body]);
    let mut cmd = dir.cmd_at(s, &args);
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
    ] {
        cmd.env_remove(name);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// A token answer the program wrote: its status and its JSON body.
fn answer(dir: &Dir, name: &str) -> (u16, serde_json::Value) {
    let text = String::from_utf8(dir.read(name)).unwrap();
    let (body, status) = text.trim_end().rsplit_once('\n').unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status.parse().unwrap(), body)
}

fn access_token(answer: &(u16, serde_json::Value)) -> String {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1["access_token"].as_str().unwrap().to_string()
}

/// Refreshes the stand-in saw from ttvault with the real client secret (and no placeholder
/// reached it at all).
fn ttvault_refreshes(s: &tt_standin::StandIn) -> usize {
    s.token_requests()
        .iter()
        .filter(|r| {
            assert!(!r.body.contains("ttvault-broker-placeholder-"), "{r:?}");
            r.header("user-agent")
                .is_some_and(|u| u.starts_with("ttvault"))
                && r.form()
                    .iter()
                    .any(|(k, v)| k == "client_secret" && v == CLIENT_SECRET)
        })
        .count()
}

fn wait_for_file(path: &Path) {
    crate::agent::eventually(&format!("{} to appear", path.display()), || path.exists());
}

fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().unwrap())
}

/// The vault opened here (no agent, a passphrase file) mints each later token itself,
/// with the real secret, and is never opened again: the passphrase file is gone before
/// the program asks.
#[test]
fn with_the_vault_opened_here_each_later_token_is_minted_without_the_passphrase_again() {
    if !require_tool("curl") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    let script =
        r#"printf %s "$TT_ACCESS_TOKEN" > start.txt; rm pw; token one.json; token two.json"#;
    let run = finish(
        exec_script(&dir, &s, &["--passphrase-file", "pw"], script)
            .spawn()
            .unwrap(),
    );
    run.success();
    assert_no_secrets(&run);
    assert!(!run.stderr.contains("broker:"), "{}", run.stderr);
    let start = String::from_utf8(dir.read("start.txt")).unwrap();
    let one = access_token(&answer(&dir, "one.json"));
    let two = access_token(&answer(&dir, "two.json"));
    assert!(start != one && one != two && start != two, "three tokens");
    // exec's own token, then one per request of the program: all ttvault's, none the
    // program's.
    assert_eq!(ttvault_refreshes(&s), 3);
    assert_eq!(s.token_requests().len(), 3);
}

/// The program's first request is served through the agent; `ttvault lock` ends it; the
/// next request, with no passphrase source and no terminal, is a 401 naming ttvault and
/// the reason, and ttvault says so once on its stderr, with what to do. A new `ttvault
/// unlock` answers the request after that.
#[test]
fn the_agent_locked_mid_run_with_no_passphrase_source_answers_401_with_the_reason() {
    if !require_tool("curl") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let unlock = || {
        dir.run_at(&s, &["unlock", "--passphrase-file", "pw"])
            .success();
    };
    unlock();
    let script = "token one.json; wait_for go; token two.json; wait_for go2; token three.json";
    let child = exec_script(&dir, &s, &[], script).spawn().unwrap();
    wait_for_file(&dir.join("one.json"));
    access_token(&answer(&dir, "one.json"));
    dir.run(&["lock"])
        .success()
        .stdout_has("the agent has ended");
    dir.write("go", "");
    wait_for_file(&dir.join("two.json"));
    let (status, body) = answer(&dir, "two.json");
    assert_eq!(status, 401, "{body}");
    // The reason: the vault needs its passphrase, and nothing can give it.
    let reason = "a passphrase is needed, but there is no terminal to ask it on";
    let message = body["error_description"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("ttvault could not get an access token") && message.contains(reason),
        "{body}"
    );
    unlock();
    dir.write("go2", "");
    let run = finish(child);
    dir.run(&["lock"]).success();
    run.success();
    assert_no_secrets(&run);
    access_token(&answer(&dir, "three.json"));
    let lines: Vec<&str> = run.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("broker:"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        lines[at].contains("could not get an access token") && lines[at].contains(reason),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("broker:").count(), 1, "{}", run.stderr);
    // What to do, under it.
    assert!(
        lines
            .get(at + 1)
            .is_some_and(|l| l.contains("hint:") && l.contains("--passphrase-file")),
        "{}",
        run.stderr
    );
}

/// The same with `--passphrase-file`: the broker opens the vault again and the program's
/// next request gets a token ttvault minted after the agent ended.
#[test]
fn the_agent_locked_mid_run_with_a_passphrase_file_reopens_the_vault() {
    if !require_tool("curl") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.run_at(&s, &["unlock", "--passphrase-file", "pw"])
        .success();
    let script = "token one.json; wait_for go; token two.json";
    let child = exec_script(&dir, &s, &["--passphrase-file", "pw"], script)
        .spawn()
        .unwrap();
    wait_for_file(&dir.join("one.json"));
    let one = access_token(&answer(&dir, "one.json"));
    dir.run(&["lock"])
        .success()
        .stdout_has("the agent has ended");
    s.clear_requests();
    dir.write("go", "");
    let run = finish(child);
    run.success();
    assert_no_secrets(&run);
    assert!(!run.stderr.contains("broker:"), "{}", run.stderr);
    let two = access_token(&answer(&dir, "two.json"));
    assert_ne!(one, two);
    // The agent has ended: this refresh is the exec's own, from the vault it opened.
    assert_eq!(ttvault_refreshes(&s), 1);
    assert_eq!(s.token_requests().len(), 1);
}
