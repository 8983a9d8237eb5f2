//! `ttvault exec --broker` (docs/BROKER.md): the seed's tastyware-SDK program runs with no
//! patch against the stand-in while holding only placeholders; writes are refused unless
//! `--allow-trade` on a trade grant; the CA bundle goes with the run; exit status and
//! signals pass through.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PLACEHOLDER: &str = "ttvault-broker-placeholder-";

/// tests/sdk/broker_program.py copied into the test's folder (its `load_dotenv()` and the
/// files it writes stay there).
fn program(dir: &Dir) -> &'static str {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/broker_program.py");
    std::fs::copy(source, dir.join("broker_program.py")).unwrap();
    "broker_program.py"
}

/// A private runtime directory for the broker's bundles, so runs of parallel tests never
/// share (or sweep) each other's.
fn runtime(dir: &Dir) -> PathBuf {
    let path = dir.join("runtime");
    if !path.exists() {
        std::fs::create_dir(&path).unwrap();
    }
    path
}

fn exec_cmd(dir: &Dir, s: &tt_standin::StandIn, flags: &[&str], cmd: &[&str]) -> Command {
    let mut args = vec!["exec", "--passphrase-file", "pw"];
    args.extend_from_slice(flags);
    args.push("--");
    args.extend_from_slice(cmd);
    let mut command = dir.cmd_at(s, &args);
    command.env("XDG_RUNTIME_DIR", runtime(dir));
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
    ] {
        command.env_remove(name);
    }
    command
}

fn exec(dir: &Dir, s: &tt_standin::StandIn, flags: &[&str], cmd: &[&str]) -> Run {
    Run::from(exec_cmd(dir, s, flags, cmd).output().unwrap())
}

/// No request the stand-in saw carries a real secret, except ttvault's own refreshes, and
/// none carries a placeholder (the broker answered those itself).
fn only_ttvault_sent_secrets(s: &tt_standin::StandIn, refresh: &str) {
    for r in s.requests() {
        let text = format!("{} {} {:?} {}", r.path, r.query, r.headers, r.body);
        assert!(
            !text.contains(PLACEHOLDER),
            "a placeholder reached Tastytrade: {text}"
        );
        let secret = text.contains(CLIENT_SECRET) || text.contains(refresh);
        let ttvault = r
            .headers
            .iter()
            .any(|(k, v)| k == "user-agent" && v.starts_with("ttvault"));
        assert!(!secret || (r.path == "/oauth/token" && ttvault), "{text}");
        if r.path == "/oauth/token" {
            assert!(ttvault, "only ttvault refreshes at Tastytrade: {text}");
        }
    }
}

fn order_requests(s: &tt_standin::StandIn) -> usize {
    s.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/orders"))
        .count()
}

#[test]
fn the_seed_program_runs_unpatched_through_the_broker_and_holds_no_secret() {
    let Some(python) = python_with("tastytrade") else {
        return;
    };
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    // A stale plaintext .env beside the program: python-dotenv must not override ttvault's.
    dir.write(".env", format!("TT_API_CLIENT_SECRET={CLIENT_SECRET}\n"));
    let script = program(&dir);
    s.clear_requests();
    let run = exec(
        &dir,
        &s,
        &["--broker"],
        &[python.to_str().unwrap(), script, "order"],
    );
    run.success();
    assert_no_secrets(&run);
    run.stdout_has(&format!("accounts: {}", tt_standin::ACCOUNT_NUMBERS.len()));
    run.stdout_has("SPX: ").stdout_has("(AM)");
    run.stdout_has("SPXW: ").stdout_has("(PM)");
    run.stdout_has("refreshed");
    // The read-only broker: a 403 the SDK reports, a line on ttvault's stderr, and no
    // order at Tastytrade.
    run.stdout_has("order: failed: ttvault_read_only")
        .stdout_has("order status: 403");
    run.stderr_has("refused POST");
    assert_eq!(order_requests(&s), 0);
    // What the program's process held: placeholders, never the secrets.
    let environ = String::from_utf8_lossy(&dir.read("environ.txt")).into_owned();
    assert!(!environ.contains(CLIENT_SECRET) && !environ.contains(&refresh));
    for name in [
        "TT_API_CLIENT_SECRET",
        "TT_REFRESH_TOKEN",
        "TT_API_CLIENT_ID",
    ] {
        assert!(
            environ.contains(&format!("{name}={PLACEHOLDER}")),
            "{name} is a placeholder"
        );
    }
    assert!(environ.contains("HTTPS_PROXY=http://"));
    only_ttvault_sent_secrets(&s, &refresh);
    // The bundle and its directory went with the run.
    let bundle = PathBuf::from(String::from_utf8(dir.read("bundle.txt")).unwrap());
    assert!(bundle.starts_with(runtime(&dir)), "{}", bundle.display());
    assert!(!bundle.exists() && !bundle.parent().unwrap().exists());
}

#[test]
fn allow_trade_on_a_trade_grant_lets_the_sdks_order_through() {
    let Some(python) = python_with("tastytrade") else {
        return;
    };
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read trade");
    let script = program(&dir);
    s.clear_requests();
    let py = python.to_str().unwrap();
    let run = exec(
        &dir,
        &s,
        &["--broker", "--allow-trade"],
        &[py, script, "order"],
    );
    run.success();
    // Both the SDK's order and the program's own POST reached Tastytrade (the stand-in
    // has no order book: its own 404, not the broker's 403).
    run.stdout_has("order status: 404");
    assert!(!run.stdout.contains("ttvault_read_only"), "{}", run.stdout);
    assert_eq!(order_requests(&s), 2, "the orders reached Tastytrade");
    only_ttvault_sent_secrets(&s, &refresh);
    // On a read grant the flag is refused before anything runs.
    let read = Dir::new();
    read.standin_vault(&s, "read");
    let run = exec(&read, &s, &["--broker", "--allow-trade"], &["true"]);
    run.code(2).stderr_has("does not hold `trade`");
}

#[test]
fn the_recorded_broker_is_execs_default_and_flags_override_it() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.run(&["set", "handout", "broker", "--passphrase-file", "pw"])
        .success()
        .stdout_has("(broker)");
    let env = |flags: &[&str]| exec(&dir, &s, flags, &["/usr/bin/env"]);
    let run = env(&[]);
    run.success()
        .stdout_has("HTTPS_PROXY=")
        .stdout_has("TT_REFRESH_TOKEN=ttvault-broker");
    for name in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
    ] {
        run.stdout_has(&format!("{name}={}", runtime(&dir).display()));
    }
    let run = env(&["--short-lived"]);
    run.success();
    assert!(!run.stdout.contains("HTTPS_PROXY=") && !run.stdout.contains("TT_REFRESH_TOKEN"));
    let run = env(&["--long-lived"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(run
        .stdout
        .contains(&format!("TT_API_CLIENT_SECRET={CLIENT_SECRET}")));
    // --allow-trade means nothing without the broker.
    exec(&dir, &s, &["--short-lived", "--allow-trade"], &["true"])
        .code(2)
        .stderr_has("no broker");
}

#[test]
fn tastytrades_hosts_leave_no_proxy_and_the_users_proxy_stays_upstream() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let mut cmd = exec_cmd(&dir, &s, &["--broker"], &["/usr/bin/env"]);
    cmd.env("NO_PROXY", "localhost,.tastyworks.com,api.tastytrade.com");
    let run = Run::from(cmd.output().unwrap());
    run.success().stdout_has("NO_PROXY=localhost\n");
    assert!(!run.stdout.contains("tastyworks.com,"), "{}", run.stdout);
}

#[test]
fn exit_status_and_signals_pass_through_and_the_bundle_goes_even_after_kill_9() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    exec(&dir, &s, &["--broker"], &["sh", "-c", "exit 7"]).code(7);
    // The program killed by a signal: 128+N, and its bundle removed all the same.
    let run = exec(
        &dir,
        &s,
        &["--broker"],
        &[
            "sh",
            "-c",
            "echo \"$SSL_CERT_FILE\" > bundle.txt; kill -9 $$",
        ],
    );
    run.code(128 + 9);
    let bundle = PathBuf::from(String::from_utf8(dir.read("bundle.txt")).unwrap().trim());
    assert!(bundle.starts_with(runtime(&dir)));
    assert!(!bundle.exists() && !bundle.parent().unwrap().exists());
    // A TERM sent to ttvault reaches the program, whose own status comes back.
    let script = "trap 'echo got TERM; exit 42' TERM; echo ready > ready.txt; \
                  while :; do sleep 0.05; done";
    let child = exec_cmd(&dir, &s, &["--broker"], &["sh", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&dir.join("ready.txt"));
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(42));
    assert!(String::from_utf8_lossy(&out.stdout).contains("got TERM"));
}

#[test]
fn a_run_after_ttvault_was_killed_sweeps_its_stale_bundle() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let script = "echo \"$SSL_CERT_FILE\" > bundle.txt; echo $$ > pid.txt; sleep 600";
    let mut ttvault = exec_cmd(&dir, &s, &["--broker"], &["sh", "-c", script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_file(&dir.join("pid.txt"));
    ttvault.kill().unwrap(); // SIGKILL: no destructor runs
    ttvault.wait().unwrap();
    let program = String::from_utf8(dir.read("pid.txt")).unwrap();
    let _ = Command::new("kill")
        .args(["-KILL", program.trim()])
        .status();
    let bundle = PathBuf::from(String::from_utf8(dir.read("bundle.txt")).unwrap().trim());
    assert!(bundle.exists(), "left behind by the killed ttvault");
    exec(&dir, &s, &["--broker"], &["true"]).success();
    assert!(!bundle.parent().unwrap().exists(), "swept by the next run");
}

#[test]
fn set_handout_round_trips_and_long_lived_on_off_stays_an_alias() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let show = |want: &str| {
        let run = dir.run(&["show", "--json", "--passphrase-file", "pw"]);
        run.success();
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["handout"], want);
    };
    show("tokens");
    for (args, want) in [
        (&["handout", "broker"][..], "broker"),
        (&["handout", "long-lived"], "long-lived"),
        (&["handout", "tokens"], "tokens"),
        (&["long-lived", "on"], "long-lived"),
        (&["long-lived", "off"], "tokens"),
    ] {
        let mut full = vec!["set"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--passphrase-file", "pw"]);
        dir.run(&full).success();
        show(want);
    }
    dir.run(&["set", "handout", "on", "--passphrase-file", "pw"])
        .code(2)
        .stderr_has("tokens, broker or long-lived");
    // audit says what long-lived costs, and what to use instead.
    dir.run(&["set", "handout", "long-lived", "--passphrase-file", "pw"])
        .success();
    dir.run_at(&s, &["audit", "--offline", "--passphrase-file", "pw"])
        .stdout_has("set handout broker");
}

#[test]
fn import_records_broker_where_no_question_can_be_asked() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets(".secrets");
    dir.run(&["import", "--passphrase-file", "pw"]).success();
    let run = dir.run(&["show", "--json", "--passphrase-file", "pw"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["handout"], "broker");
}

fn wait_for_file(path: &Path) {
    crate::agent::eventually(&format!("{} to appear", path.display()), || {
        std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
    });
}

/// curl (through `HTTPS_PROXY` and `CURL_CA_BUNDLE`, as docs/BROKER.md says) "refreshes"
/// with the placeholders and gets a real token, here from the agent: no passphrase at all.
#[test]
fn curl_refreshes_with_placeholders_and_the_agent_answers_without_a_passphrase() {
    if !require_tool("curl") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.run_at(&s, &["unlock", "--passphrase-file", "pw"])
        .success();
    let script = r#"curl -sS -X POST -H 'Content-Type: application/json' -d "{\"grant_type\":\"refresh_token\",\"client_secret\":\"$TT_API_CLIENT_SECRET\",\"refresh_token\":\"$TT_REFRESH_TOKEN\"}" https://api.tastyworks.com/oauth/token"#;
    let run = Run::from(
        dir.cmd_at(&s, &["exec", "--broker", "--", "sh", "-c", script])
            .output()
            .unwrap(),
    );
    dir.run(&["lock"]).success();
    run.success();
    let answer: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        answer["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{answer}"
    );
    assert!(
        answer["expires_in"].as_u64().is_some_and(|n| n > 0),
        "{answer}"
    );
}

/// Ctrl-C at a terminal reaches the program, which handles it and goes on; ttvault (in the
/// same foreground group) survives it and returns the program's status. (A second, forwarded
/// SIGINT would mostly be merged with the first by the kernel or Python, so this test cannot
/// tell whether one was sent; supervise.rs forwards only signals a process sent.)
#[test]
fn ctrl_c_at_a_terminal_reaches_the_program_and_ttvault_returns_its_status() {
    use std::io::{Read, Write};
    if !require_tool("script") || !require_tool("python3") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.write(
        "sigint.py",
        // os.write, not print: a Ctrl-C that lands while `ready` is being printed would make
        // the handler's print re-enter Python's stdout buffer (RuntimeError).
        "import os, signal, sys\nn = 0\ndef got(*_):\n    global n\n    n += 1\n    os.write(1, b'got\\n')\n\
         signal.signal(signal.SIGINT, got)\nos.write(1, b'ready\\n')\nsys.stdin.readline()\n\
         os.write(1, f'sigints={n}\\n'.encode())\n",
    );
    let template = exec_cmd(&dir, &s, &["--broker"], &["python3", "sigint.py"]);
    // `exec`: no shell stays in the terminal's foreground group to die of the Ctrl-C.
    let line = format!(
        "exec '{}' exec --passphrase-file pw --broker -- python3 sigint.py",
        env!("CARGO_BIN_EXE_ttvault")
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(dir.path())
        .env_clear()
        .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    crate::common::default_signals(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut keys = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                return;
            }
        }
    });
    let mut screen = String::new();
    let wait_for = |needle: &str, screen: &mut String| {
        while !screen.contains(needle) {
            // A guard against a hang, not a timing assertion: fails with the screen.
            match rx.recv_timeout(std::time::Duration::from_secs(120)) {
                Ok(chunk) => screen.push_str(&chunk),
                Err(_) => panic!("the terminal never showed {needle:?}:\n{screen}"),
            }
        }
    };
    wait_for("ready", &mut screen);
    keys.write_all(b"\x03").unwrap();
    keys.flush().unwrap();
    wait_for("got", &mut screen);
    keys.write_all(b"done\r").unwrap();
    keys.flush().unwrap();
    wait_for("sigints=", &mut screen);
    assert!(screen.contains("sigints=1"), "{screen}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?} {screen}");
}
