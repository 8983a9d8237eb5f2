//! Deadlines against a slow server: a token endpoint or API that sends its headers and then
//! one byte a second cannot keep `token` or `api` running past the whole-exchange bound,
//! and a refresh stuck on a blackholed endpoint never keeps the agent from ending (lock,
//! TTL, SIGTERM) or `status` from answering.

use crate::agent::*;
use crate::common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of body the trickle promises; it sends one a second.
const TRICKLE: usize = 90;

/// A fake endpoint on loopback: `/oauth/token` answers a token at once when `token_ok`,
/// every other request gets its headers at once and then one body byte a second.
struct Trickle {
    url: String,
    /// Set when any trickle sent its whole body.
    finished: Arc<AtomicBool>,
}

impl Trickle {
    fn start(token_ok: bool) -> Trickle {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let finished = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&finished);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let f = Arc::clone(&f);
                std::thread::spawn(move || answer(stream, token_ok, &f));
            }
        });
        Trickle { url, finished }
    }
}

fn answer(stream: std::net::TcpStream, token_ok: bool, finished: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    let _ = reader.read_line(&mut first);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let _ = reader.read_exact(&mut vec![0; length]);
    let mut out = &stream;
    if token_ok && first.contains("/oauth/token") {
        let body = r#"{"access_token":"at-trickle","token_type":"Bearer","expires_in":900}"#;
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {TRICKLE}\r\n\r\n"
    );
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    for _ in 0..TRICKLE {
        if out.write_all(b" ").is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    finished.store(true, Ordering::SeqCst);
}

/// A vault imported with `api_url` as its endpoint.
fn vault_at(dir: &Dir, api_url: &str) {
    dir.passphrase_files();
    dir.legacy_secrets("legacy.env");
    Run::from(
        dir.cmd(&["import", "legacy.env", "--passphrase-file", "pw"])
            .env("TTVAULT_API_URL", api_url)
            .output()
            .unwrap(),
    )
    .success();
}

/// Runs a command with the whole-exchange bound lowered to 1 s.
fn run_bounded(dir: &Dir, args: &[&str]) -> Run {
    Run::from(
        dir.cmd(args)
            .env("TTVAULT_HTTP_TIMEOUT_SECS", "1")
            .output()
            .unwrap(),
    )
}

#[test]
fn token_against_a_trickling_endpoint_ends_with_exit_5_while_it_trickles() {
    let t = Trickle::start(false);
    let dir = Dir::new();
    vault_at(&dir, &t.url);
    let run = run_bounded(&dir, &["token", "--passphrase-file", "pw"]);
    // It ended by its own deadline, with the trickle still under way.
    assert!(
        !t.finished.load(Ordering::SeqCst),
        "it waited for the whole body"
    );
    run.code(5)
        .stderr_has("did not answer in time")
        .stderr_has("no complete answer within 1 s");
    assert!(run.stdout.is_empty());
}

#[test]
fn api_against_a_trickling_endpoint_ends_with_exit_5_while_it_trickles() {
    let t = Trickle::start(true);
    let dir = Dir::new();
    vault_at(&dir, &t.url);
    let run = run_bounded(&dir, &["api", "/customers/me", "--passphrase-file", "pw"]);
    assert!(
        !t.finished.load(Ordering::SeqCst),
        "it waited for the whole body"
    );
    run.code(5)
        .stderr_has("did not answer in time")
        .stderr_has("no complete answer within 1 s");
    assert!(run.stdout.is_empty());
}

/// The vault unlocked, its token endpoint now holding every refresh (a blackhole: nothing
/// comes back for ten minutes), and a `token` client waiting on the agent's refresh.
fn stuck_refresh(dir: &Dir, s: &tt_standin::StandIn, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["unlock", "--passphrase-file", "pw"];
    args.extend_from_slice(extra);
    dir.run(&args).success();
    s.clear_requests();
    s.set_token_delay(Duration::from_secs(600));
    let waiting = dir
        .cmd(&["token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    eventually("the agent's refresh to reach the endpoint", || {
        s.token_requests().len() == 1
    });
    waiting
}

/// The waiting client is told, and nothing without a passphrase works any more.
fn assert_locked_out(dir: &Dir, waiting: std::process::Child) {
    let run = Run::from(waiting.wait_with_output().unwrap());
    run.code(2)
        .stderr_has("the agent ended or stopped answering before it answered")
        .stderr_has("no terminal");
    assert!(run.stdout.is_empty());
    dir.run(&["token"]).code(2).stderr_has("no terminal");
}

#[test]
fn lock_during_a_stuck_refresh_locks_and_status_says_refreshing() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let waiting = stuck_refresh(&dir, &s, &[]);
    let pid = agent_pid(&dir).expect("status answers during the refresh");
    eventually("status to show the refresh", || {
        status_json(&dir)["agent"]["refreshing"] == true
    });
    dir.run(&["status"])
        .success()
        .stdout_has("refreshing the access token now");
    dir.run(&["lock"])
        .success()
        .stdout_has("the agent has ended");
    eventually("the agent to end", || process_is_gone(pid));
    assert_locked_out(&dir, waiting);
}

#[test]
fn sigterm_during_a_stuck_refresh_ends_the_agent() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let waiting = stuck_refresh(&dir, &s, &[]);
    let pid = agent_pid(&dir).unwrap();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    eventually("the agent to end", || process_is_gone(pid));
    // Before the refresh could have given up: the endpoint still holds it.
    assert_eq!(s.token_requests().len(), 1);
    assert_locked_out(&dir, waiting);
    let _ = dir.cmd(&["lock"]).output();
}

#[test]
fn the_ttl_ends_the_agent_during_a_stuck_refresh() {
    let s = standin();
    let dir = Dir::new();
    // A TTL long enough for the stuck refresh to begin: five times what a whole `token`
    // without the agent takes here (which does more: the KDF and a refresh).
    dir.standin_vault(&s, "read");
    let started = Instant::now();
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    let ttl = (started.elapsed() * 5).max(Duration::from_secs(3));
    let ttl = format!("{}s", ttl.as_secs_f64().ceil());
    let waiting = stuck_refresh(&dir, &s, &["--ttl", &ttl]);
    let pid = agent_pid(&dir).unwrap();
    eventually("the agent to end at its TTL", || process_is_gone(pid));
    assert_eq!(s.token_requests().len(), 1);
    assert_locked_out(&dir, waiting);
}

#[test]
fn clients_waiting_on_an_agent_refresh_against_a_trickle_get_exit_5() {
    let t = Trickle::start(false);
    let dir = Dir::new();
    vault_at(&dir, &t.url);
    // The agent inherits the lowered bound from `unlock`'s environment.
    Run::from(
        dir.cmd(&["unlock", "--passphrase-file", "pw"])
            .env("TTVAULT_HTTP_TIMEOUT_SECS", "1")
            .output()
            .unwrap(),
    )
    .success();
    let _guard = LockOnDrop(&dir);
    let clients: Vec<_> = (0..3)
        .map(|_| {
            dir.cmd(&["token"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in clients {
        let run = Run::from(child.wait_with_output().unwrap());
        run.code(5).stderr_has("did not answer in time");
        assert!(run.stdout.is_empty());
    }
    assert!(
        !t.finished.load(Ordering::SeqCst),
        "it waited for the whole body"
    );
    // The agent is still there, and still answers.
    dir.run(&["status"]).success().stdout_has("unlocked until");
}
