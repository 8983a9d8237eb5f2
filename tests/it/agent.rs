//! `unlock`, `lock` and the agent: commands without a passphrase while unlocked, expiry,
//! the peer check, hostile frames, hardening, vault changes, single-flight refresh.

use crate::common::*;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Locks the test directory's vault when the test ends, even on a failed assertion.
pub(crate) struct LockOnDrop<'a>(pub(crate) &'a Dir);

impl Drop for LockOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.cmd(&["lock"]).output();
    }
}

pub(crate) fn unlock<'a>(dir: &'a Dir, extra: &[&str]) -> LockOnDrop<'a> {
    let mut args = vec!["unlock", "--passphrase-file", "pw"];
    args.extend_from_slice(extra);
    dir.run(&args)
        .success()
        .stdout_has("Unlocked")
        .stdout_has("until");
    LockOnDrop(dir)
}

pub(crate) fn status_json(dir: &Dir) -> serde_json::Value {
    let run = dir.run(&["status", "--json"]);
    run.success();
    serde_json::from_str(&run.stdout).unwrap()
}

pub(crate) fn agent_pid(dir: &Dir) -> Option<u32> {
    status_json(dir)["agent"]["pid"].as_u64().map(|p| p as u32)
}

/// A listener where ttvault looks for the vault's agent (the test's private runtime
/// directory), for a same-user process that plays a hostile or outdated agent.
pub(crate) fn fake_agent_socket(dir: &Dir) -> std::os::unix::net::UnixListener {
    let runtime = dir.join("ttvault");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let canonical = dir.join(".secrets").canonicalize().unwrap();
    let sock = runtime.join(ttvault::agent::paths::socket_name(&canonical));
    std::os::unix::net::UnixListener::bind(&sock).unwrap()
}

/// The one socket in the test's private runtime directory.
pub(crate) fn socket(dir: &Dir) -> PathBuf {
    let mut socks: Vec<PathBuf> = std::fs::read_dir(dir.join("ttvault"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sock"))
        .collect();
    assert_eq!(socks.len(), 1, "{socks:?}");
    socks.pop().unwrap()
}

/// Waits (polling, bounded) for a condition that the agent brings about by itself.
pub(crate) fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "gave up waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `--min-ttl` floor, in whole seconds, for the second burst of a test that needs the
/// agent's cached token (of `lifetime`) to fall below a floor. The token falls below it
/// `headroom` after it was minted (four times the first burst, how long that took here,
/// and at least 3 s), and a fresh token meets it for as long: so the test waits a few
/// bursts rather than most of a token's life, a slower machine waits longer instead of
/// failing, and the second burst may take four times the first. Always above the agent's
/// own refresh margin (a quarter of the lifetime), which would decide instead.
pub(crate) fn floor_soon_below(lifetime: Duration, burst: Duration) -> u64 {
    let headroom = (burst * 4).max(Duration::from_secs(3));
    let margin = lifetime.as_secs() / 4;
    lifetime.saturating_sub(headroom).as_secs().max(margin + 1)
}

/// Waits until `status` shows the agent's token with less than `floor` seconds left
/// (`status` rounds down twice, the expiry and then the seconds left, so under `floor - 1`
/// shown is surely under `floor`), or shows none. Unlike `eventually` it has no time limit
/// of its own: the token's expiry ends the wait.
pub(crate) fn wait_below_floor(dir: &Dir, floor: u64) {
    while status_json(dir)["agent"]["access_token_expires_in_secs"]
        .as_u64()
        .is_some_and(|left| left + 1 >= floor)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn frame(json: &str) -> Vec<u8> {
    let mut f = (json.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(json.as_bytes());
    f
}

/// Reads one reply frame, or None when the agent closed the connection.
pub(crate) fn read_reply(stream: &mut UnixStream) -> Option<serde_json::Value> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(prefix) as usize];
    stream.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).unwrap())
}

/// The kind of an error reply (`{"v":3,"reply":{"error":{"kind":…}}}`).
pub(crate) fn error_kind(reply: &serde_json::Value) -> &str {
    reply["reply"]["error"]["kind"]
        .as_str()
        .unwrap_or("(not an error)")
}

pub(crate) fn process_is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Err(_) => true,
        // Reparented agents may linger as zombies where nothing reaps them.
        Ok(s) => s
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
    }
}

#[test]
fn unlocked_commands_need_no_passphrase_and_lock_ends_that() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    let _guard = unlock(&dir, &[]);

    // No passphrase source at all: stdin is null, no variable, no file.
    let token = dir.run(&["token"]);
    token.success();
    assert!(token.stdout.trim().len() > 10);
    dir.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "test -n \"$TT_ACCESS_TOKEN\" && test -n \"$TT_API_BASE_URL\"",
    ])
    .success();
    // The long-lived values are not the agent's to give (see agent_guard.rs for when
    // they are): without a passphrase source, exec says what to do.
    dir.run(&["exec", "--long-lived", "--", "true"])
        .code(1)
        .stderr_has("unlock --long-lived");
    // Without --long-lived the child gets none of them.
    dir.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "test -z \"$TT_REFRESH_TOKEN\" && test -z \"$TT_API_CLIENT_SECRET\"",
    ])
    .success();
    dir.run(&["export", "--format", "dotenv"])
        .success()
        .stdout_has("TT_ACCESS_TOKEN=");
    // One token request served them all...
    assert_eq!(s.token_requests().len(), 1);
    // ...and audit has the agent refresh afresh, and says so.
    dir.run(&["audit"])
        .success()
        .stdout_has("refreshed the grant just now")
        .stdout_has("mints an access token");
    assert_eq!(s.token_requests().len(), 2);

    let st = status_json(&dir);
    assert!(st["agent"]["pid"].is_u64(), "{st}");
    assert!(st["agent"]["access_token_expires_in_secs"].is_u64(), "{st}");
    assert!(st["agent"]["until"].is_string(), "{st}");
    dir.run(&["status"])
        .success()
        .stdout_has("agent:   unlocked until")
        .stdout_has("access token valid for");

    // --no-agent opens the vault itself, so it needs a passphrase.
    dir.run(&["token", "--no-agent"])
        .code(2)
        .stderr_has("no terminal");

    dir.run(&["lock"]).success().stdout_has("Locked");
    assert!(std::fs::read_dir(dir.join("ttvault"))
        .unwrap()
        .next()
        .is_none());
    dir.run(&["token"]).code(2).stderr_has("no terminal");
    dir.run(&["exec", "--", "true"])
        .code(2)
        .stderr_has("no terminal");
    dir.run(&["status"]).success().stdout_has("agent:   none");
    assert!(status_json(&dir)["agent"].is_null());
    // Locking again is not an error.
    dir.run(&["lock"]).success().stdout_has("was not unlocked");
}

#[test]
fn an_agent_speaking_another_protocol_version_counts_as_no_agent() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // An agent of another protocol version on the vault's socket: it answers every frame
    // with a grant that is well formed but for its version, which this client must not
    // take.
    let listener = fake_agent_socket(&dir);
    use ttvault::agent::protocol::{GrantReply, Reply, ReplyFrame, VERSION};
    let payload = ttvault::vault::Payload::new(
        CLIENT_ID.into(),
        ttvault::secret::ClientSecret::new("cs"),
        ttvault::secret::RefreshToken::new("rt"),
        ttvault::endpoints::Environment::Production,
        vec!["read".into()],
    );
    let reply = ReplyFrame {
        v: VERSION - 1,
        reply: Reply::Grant(GrantReply {
            grant: ttvault::vault::GrantInfo::of(&payload),
            secrets: None,
            access_token: ttvault::secret::AccessToken::new("at-FROM-OTHER-AGENT"),
            expires_at: 4_102_444_800,
            unsaved_refresh_token: false,
        }),
    };
    let old_reply = ttvault::agent::protocol::encode(&reply).to_vec();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut prefix = [0u8; 4];
            if conn.read_exact(&mut prefix).is_err() {
                continue;
            }
            let mut body = vec![0u8; u32::from_be_bytes(prefix) as usize];
            if conn.read_exact(&mut body).is_ok() {
                let _ = conn.write_all(&old_reply);
            }
        }
    });
    // Without a passphrase source the vault cannot be opened: the old agent was not used.
    dir.run(&["token"]).code(2).stderr_has("no terminal");
    let run = dir.run_at(&s, &["token", "--passphrase-file", "pw"]);
    run.success();
    assert!(!run.stdout.contains("FROM-OTHER-AGENT"), "{}", run.stdout);
    assert!(status_json(&dir)["agent"].is_null());
    dir.run(&["lock"]).success().stdout_has("was not unlocked");
}

#[test]
fn the_ttl_ends_the_agent_and_the_passphrase_is_needed_again() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // Long enough for one `token` on a loaded machine, short enough to wait out.
    let _guard = unlock(&dir, &["--ttl", "4s"]);
    dir.run(&["token"]).success();
    eventually("the agent to end after its TTL", || {
        agent_pid(&dir).is_none()
    });
    dir.run(&["token"]).code(2).stderr_has("no terminal");
}

#[test]
fn the_idle_limit_ends_the_agent() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &["--ttl", "1h", "--idle", "1s"]);
    // `status` does not count as use; only token requests do.
    eventually("the agent to end when idle", || agent_pid(&dir).is_none());
    dir.run(&["token"]).code(2).stderr_has("no terminal");
}

#[test]
fn unlocking_twice_replaces_the_agent() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let first = agent_pid(&dir).unwrap();
    let _again = unlock(&dir, &["--ttl", "1h"]);
    let second = agent_pid(&dir).unwrap();
    assert_ne!(first, second);
    eventually("the first agent to end", || process_is_gone(first));
    socket(&dir);
    dir.run(&["token"]).success();
}

#[test]
fn sigterm_ends_the_agent_cleanly() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let pid = agent_pid(&dir).unwrap();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    eventually("the agent to end", || process_is_gone(pid));
    // It removed its socket on the way out.
    assert!(std::fs::read_dir(dir.join("ttvault"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn a_stale_socket_of_a_dead_agent_is_ignored_and_replaced() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let pid = agent_pid(&dir).unwrap();
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    eventually("the agent to die", || process_is_gone(pid));
    let stale = socket(&dir);
    // The socket file is still there, but nobody answers: fall back to the vault.
    dir.run(&["token"]).code(2).stderr_has("no terminal");
    dir.run(&["status"]).success().stdout_has("agent:   none");
    assert!(stale.exists());
    let _again = unlock(&dir, &[]);
    dir.run(&["token"]).success();
}

#[test]
fn another_user_is_refused_by_the_peer_check() {
    if ttvault::harden::current_uid() != 0 {
        if std::env::var_os("CI").is_some() {
            panic!("this test needs root in CI, to connect as another user");
        }
        eprintln!("skipping: connecting as another user needs root");
        return;
    }
    if !require_tool("python3") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let sock = socket(&dir);
    // Open the way to the socket on purpose, so that only the agent's own check stands
    // between user `nobody` and the grant.
    for (p, mode) in [
        (dir.path().to_path_buf(), 0o711),
        (dir.join("ttvault"), 0o711),
        (sock.clone(), 0o777),
    ] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let probe = r#"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
body = b'{"v":3,"op":"token","secrets":false}'
try:
    s.sendall(struct.pack(">I", len(body)) + body)
    data = s.recv(4)
except OSError:
    data = b""
print("REPLY" if data else "CLOSED")
"#;
    let run_probe = |as_nobody: bool| {
        // The system python: `nobody` may not reach a per-user installation.
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("python3");
        let mut cmd = Command::new(python);
        cmd.args(["-c", probe]).arg(&sock).stdin(Stdio::null());
        if as_nobody {
            cmd.uid(65534).gid(65534);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(run_probe(true), "CLOSED");
    // The same probe as the agent's own user is answered, and the agent still serves.
    assert_eq!(run_probe(false), "REPLY");
    // Clients refuse a socket directory open to others; closed again, it is used.
    dir.run(&["token"]).code(2).stderr_has("no terminal");
    std::fs::set_permissions(dir.join("ttvault"), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir.run(&["token"]).success();
}

#[test]
fn hostile_frames_get_an_error_or_a_closed_connection_and_the_agent_keeps_serving() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let sock = socket(&dir);

    // Plain garbage: its first four bytes read as an absurd length.
    let mut c = UnixStream::connect(&sock).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let reply = read_reply(&mut c);
    if let Some(r) = reply {
        assert_eq!(error_kind(&r), "bad_request", "{r}");
    }

    // An oversized length prefix.
    let mut c = UnixStream::connect(&sock).unwrap();
    c.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let r = read_reply(&mut c).unwrap();
    assert_eq!(error_kind(&r), "bad_request", "{r}");

    // A frame that is not JSON, then an older version (ttvault 0.1's), an unknown op,
    // then a valid ping, on one connection.
    let mut c = UnixStream::connect(&sock).unwrap();
    c.write_all(&frame("\u{0}\u{1}not json")).unwrap();
    assert_eq!(error_kind(&read_reply(&mut c).unwrap()), "bad_request");
    c.write_all(&frame(r#"{"v":1,"op":"ping"}"#)).unwrap();
    assert_eq!(error_kind(&read_reply(&mut c).unwrap()), "version");
    c.write_all(&frame(r#"{"v":3,"op":"no such op"}"#)).unwrap();
    assert_eq!(error_kind(&read_reply(&mut c).unwrap()), "bad_request");
    c.write_all(&frame(r#"{"v":3,"op":"ping"}"#)).unwrap();
    let r = read_reply(&mut c).unwrap();
    assert_eq!(r["reply"], "done", "{r}");

    // A half-written frame left open, and one abandoned.
    let mut held = UnixStream::connect(&sock).unwrap();
    held.write_all(&100u32.to_be_bytes()).unwrap();
    held.write_all(b"{\"v\":3,").unwrap();
    let mut dropped = UnixStream::connect(&sock).unwrap();
    dropped.write_all(&[0, 0]).unwrap();
    drop(dropped);

    // Meanwhile, and afterwards, real clients are served.
    dir.run(&["token"]).success();
    drop(held);
    dir.run(&["exec", "--", "true"]).success();
    assert!(agent_pid(&dir).is_some());
}

#[test]
fn lock_is_understood_at_any_protocol_version() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let pid = agent_pid(&dir).unwrap();
    let mut c = UnixStream::connect(socket(&dir)).unwrap();
    // Any other request of another version is refused and changes nothing...
    c.write_all(&frame(r#"{"v":99,"op":"status"}"#)).unwrap();
    assert_eq!(error_kind(&read_reply(&mut c).unwrap()), "version");
    assert_eq!(agent_pid(&dir), Some(pid));
    // ...but `lock` ends the agent, so a ttvault of another version can still end it.
    c.write_all(&frame(r#"{"v":99,"op":"lock"}"#)).unwrap();
    let _ = read_reply(&mut c);
    eventually("the agent to end on a lock of another version", || {
        process_is_gone(pid)
    });
    assert!(agent_pid(&dir).is_none());
}

#[test]
fn a_vault_rewritten_while_unlocked_is_never_served_from_the_old_grant() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    dir.run(&["token"]).success();
    let pid = agent_pid(&dir).unwrap();
    // passwd rewrites the vault under a new passphrase.
    dir.run(PW_TO_PW2).success();
    // The agent notices on the next request and ends; the client falls back to the vault.
    dir.run(&["token"]).code(2).stderr_has("no terminal");
    eventually("the stale agent to end", || process_is_gone(pid));
    dir.run(&["status"]).success().stdout_has("agent:   none");
    dir.run(&["token", "--passphrase-file", "pw2"]).success();

    // A different grant put in place of the vault: the new agent serves the new one.
    dir.run(&["unlock", "--passphrase-file", "pw2"]).success();
    let _again = LockOnDrop(&dir);
    dir.run(&["token"]).success();
    let other = s.personal_grant(CLIENT_ID, "read");
    std::fs::remove_file(dir.join(".secrets")).unwrap();
    dir.write(
        "legacy.env",
        format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={other}\n"),
    );
    dir.run_at(&s, &["import", "legacy.env", "--passphrase-file", "pw"])
        .success();
    s.clear_requests();
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    let used = s.token_requests();
    assert_eq!(used.len(), 1);
    let form = used[0].form();
    let rt = form.iter().find(|(k, _)| k == "refresh_token").unwrap();
    assert_eq!(rt.1, other, "the old grant was used");
}
