//! `unlock`, `lock` and the agent: commands without a passphrase while unlocked, expiry,
//! the peer check, hostile frames, hardening, vault changes, single-flight refresh.

use crate::common::*;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
    let runtime = dir.join("ttvault");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let canonical = dir.join(".secrets").canonicalize().unwrap();
    let sock = runtime.join(ttvault::agent::paths::socket_name(&canonical));
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    use ttvault::agent::protocol::{GrantReply, Reply, Response, VERSION};
    let payload = ttvault::vault::Payload::new(
        CLIENT_ID.into(),
        ttvault::secret::ClientSecret::new("cs"),
        ttvault::secret::RefreshToken::new("rt"),
        ttvault::endpoints::Environment::Production,
        vec!["read".into()],
    );
    let reply = Response {
        v: VERSION - 1,
        reply: Reply::Grant(GrantReply {
            grant: ttvault::session::GrantInfo::of(&payload),
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
fn the_agent_is_not_dumpable_and_has_no_core_files() {
    // A non-dumpable process's /proc files belong to root instead of its own user, and
    // its core limit is zero. To see the first, the agent must not run as root: as root,
    // run the whole unlock as `nobody` in a directory of its own.
    let dir = Dir::new();
    dir.vault();
    let as_root = ttvault::harden::current_uid() == 0;
    if as_root {
        let nobody = Some(65534);
        for p in [
            dir.path().to_path_buf(),
            dir.join(".secrets"),
            dir.join("pw"),
        ] {
            std::os::unix::fs::chown(&p, nobody, nobody).unwrap();
        }
    }
    // A copy of the binary inside the test directory, so `nobody` can run it wherever
    // the checkout lives (e.g. under a 0700 home).
    let exe = dir.join("ttvault-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_ttvault"), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run_as = |args: &[&str]| {
        // The harness' environment, on the copy.
        let template = dir.cmd(args);
        let mut cmd = Command::new(&exe);
        cmd.args(args).current_dir(dir.path()).stdin(Stdio::null());
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if as_root {
            cmd.uid(65534).gid(65534);
        }
        Run::from(cmd.output().unwrap())
    };
    run_as(&["unlock", "--passphrase-file", "pw", "--ttl", "5m"]).success();
    let st = run_as(&["status", "--json"]);
    st.success();
    let pid = serde_json::from_str::<serde_json::Value>(&st.stdout).unwrap()["agent"]["pid"]
        .as_u64()
        .unwrap();
    let proc_status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = proc_status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    let owner = std::fs::metadata(format!("/proc/{pid}/environ"))
        .unwrap()
        .uid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    run_as(&["lock"]).success().stdout_has("Locked");

    let agent_uid: u32 = uid_line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_ne!(agent_uid, 0, "{uid_line}");
    assert_eq!(
        owner, 0,
        "the agent's /proc files belong to its own user {agent_uid}: it is dumpable"
    );
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>()[4..6],
        ["0", "0"],
        "{core}"
    );
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

#[test]
fn two_hundred_concurrent_execs_cause_one_refresh_and_one_more_after_expiry() {
    let s = standin_with(tt_standin::Config {
        // A floor of 20 s (above the 12.5 s margin): the first burst has 30 s to finish
        // on the first token.
        access_token_ttl: Duration::from_secs(50),
        ..Default::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    s.clear_requests();

    let burst = |dir: &Dir| {
        let children: Vec<_> = (0..200)
            .map(|_| {
                dir.cmd(&["exec", "--min-ttl", "20s", "--", "true"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            Run::from(child.wait_with_output().unwrap()).success();
        }
    };
    burst(&dir);
    assert_eq!(s.token_requests().len(), 1);

    // Below the floor, the next burst refreshes once more. `status` rounds down twice (the
    // expiry, then the seconds left), so under 19 shown is surely under the 20 s floor.
    eventually("the access token to reach the floor", || {
        status_json(&dir)["agent"]["access_token_expires_in_secs"]
            .as_u64()
            .is_some_and(|left| left < 19)
    });
    burst(&dir);
    assert_eq!(s.token_requests().len(), 2);
}

#[test]
fn a_refused_grant_is_reported_to_every_waiting_client_with_one_request() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    s.revoke(&refresh);
    s.clear_requests();
    // Long enough for the other clients to start and queue behind the first refresh.
    s.set_token_delay(Duration::from_secs(10));
    let spawn = || {
        dir.cmd(&["token"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = spawn();
    // Once the agent's one refresh is in flight, the others queue behind it.
    eventually("the agent's refresh to reach the stand-in", || {
        s.token_requests().len() == 1
    });
    let rest: Vec<_> = (0..20).map(|_| spawn()).collect();
    for child in std::iter::once(first).chain(rest) {
        Run::from(child.wait_with_output().unwrap())
            .code(4)
            .stderr_has("rotate");
    }
    assert_eq!(s.token_requests().len(), 1);
}

#[test]
fn an_unreachable_endpoint_is_reported_with_exit_5() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    drop(s);
    dir.run(&["token"]).code(5);
    // The agent is still up for when the network is back.
    assert!(agent_pid(&dir).is_some());
}

#[test]
fn a_rotated_refresh_token_is_kept_by_the_agent_and_saved_by_a_client_with_the_passphrase() {
    let s = standin_with(tt_standin::Config {
        rotate_refresh_tokens: true,
        ..Default::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    // The agent's refresh rotates the token; this client cannot save it and says so.
    dir.run(&["token"])
        .success()
        .stderr_has("only the agent holds");
    assert_eq!(
        status_json(&dir)["agent"]["unsaved_refresh_token"],
        serde_json::json!(true)
    );
    // lock refuses to drop the only copy without the passphrase...
    dir.run(&["lock"]).code(1).stderr_has("not locking");
    // ...and a client that has it saves it, keeping the agent.
    dir.run(&["token", "--passphrase-file", "pw"]).success();
    let st = status_json(&dir);
    assert_eq!(
        st["agent"]["unsaved_refresh_token"],
        serde_json::json!(false)
    );
    dir.run(&["token"]).success();
    dir.run(&["lock"]).success().stdout_has("Locked");
    // The vault now holds the live refresh token (the first one died when it rotated).
    dir.run_at(&s, &["token", "--passphrase-file", "pw"])
        .success();
}

#[test]
fn without_xdg_runtime_dir_a_private_temp_directory_is_used_and_a_planted_one_refused() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = dir.cmd(args);
        cmd.env_remove("XDG_RUNTIME_DIR").env("TMPDIR", &tmp);
        Run::from(cmd.output().unwrap())
    };
    let private = tmp.join(format!("ttvault-{}", ttvault::harden::current_uid()));

    // Someone planted a symlink where the directory would go: not used.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &private).unwrap();
    run(&["unlock", "--passphrase-file", "pw"])
        .code(1)
        .stderr_has("not a plain directory");
    run(&["token"]).code(2).stderr_has("no terminal");
    std::fs::remove_file(&private).unwrap();

    run(&["unlock", "--passphrase-file", "pw"]).success();
    let meta = std::fs::symlink_metadata(&private).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    run(&["token"]).success();
    run(&["lock"]).success().stdout_has("Locked");
    run(&["token"]).code(2).stderr_has("no terminal");
}
