//! The agent under a local attacker and hostile input (issue 8 §4) and the floor on a
//! handed-out token's life (`--min-ttl`): the vault file re-checked on every request,
//! audit's fresh refresh, long-lived secrets withheld, bounded durations, a descriptor
//! flood; and the agent process itself (not dumpable, no core files).

use crate::agent::{agent_pid, error_kind, eventually, frame, read_reply, socket, unlock};
use crate::agent::{
    fake_agent_socket, floor_soon_below, status_json, wait_below_floor, LockOnDrop,
};
use crate::common::*;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chmod(dir: &Dir, name: &str, mode: u32) {
    std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_vault_opened_to_others_or_swapped_for_a_fifo_or_a_link_is_not_served() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    dir.run(&["token"]).success();
    let pid = agent_pid(&dir).unwrap();

    // Made readable by others while unlocked: refused like opening refuses it (exit 3,
    // the same chmod advice), by every command that would get a token.
    chmod(&dir, ".secrets", 0o644);
    let refused = dir.run(&["token"]);
    refused
        .code(3)
        .stderr_has("read by other users")
        .stderr_has("chmod 600");
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    dir.run(&["exec", "--", "true"])
        .code(3)
        .stderr_has("chmod 600");
    dir.run(&["export"]).code(3).stderr_has("chmod 600");
    dir.run(&["--no-agent", "token", "--passphrase-file", "pw"])
        .code(3)
        .stderr_has("chmod 600");
    // Put right, the same file is served again by the same agent.
    chmod(&dir, ".secrets", 0o600);
    dir.run(&["token"]).success();
    assert_eq!(agent_pid(&dir), Some(pid));

    // A FIFO swapped in: refused at once, and the agent is not stuck on it.
    std::fs::rename(dir.join(".secrets"), dir.join("real")).unwrap();
    let made = Command::new("mkfifo").arg(dir.join(".secrets")).status();
    assert!(made.unwrap().success(), "mkfifo (coreutils) is needed");
    dir.run(&["token"]).code(3).stderr_has("FIFO");
    std::fs::remove_file(dir.join(".secrets")).unwrap();
    std::fs::rename(dir.join("real"), dir.join(".secrets")).unwrap();
    dir.run(&["token"]).success();

    // A link to the very same bytes swapped in: the agent does not follow it. (Clients
    // name the agent by the link's target, which has none: they open that file
    // themselves, which needs the passphrase.)
    let sock = socket(&dir);
    std::fs::rename(dir.join(".secrets"), dir.join("real")).unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join(".secrets")).unwrap();
    let mut c = UnixStream::connect(&sock).unwrap();
    c.write_all(&frame(r#"{"v":3,"op":"token","secrets":false}"#))
        .unwrap();
    let reply = read_reply(&mut c).unwrap();
    assert_eq!(error_kind(&reply), "vault", "{reply}");
    assert!(reply.to_string().contains("symbolic link"), "{reply}");
    dir.run(&["token"]).code(2).stderr_has("no terminal");
    std::fs::remove_file(dir.join(".secrets")).unwrap();
    std::fs::rename(dir.join("real"), dir.join(".secrets")).unwrap();
    dir.run(&["token"]).success();
    assert_eq!(agent_pid(&dir), Some(pid));
}

#[test]
fn audit_through_the_agent_refreshes_and_reports_a_grant_revoked_after_unlock() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    // The agent holds a cached, still valid access token...
    dir.run(&["token"]).success();
    s.revoke(&refresh);
    s.clear_requests();
    // ...but audit asks for a refresh made for it, which the revoked grant fails.
    let run = dir.run(&["audit"]);
    run.code(4);
    assert!(!run.stdout.contains("No problems found"), "{}", run.stdout);
    run.stderr_has("refused the grant").stderr_has("revoked");
    assert_eq!(s.token_requests().len(), 1);
    // A plain token request still gets the cached token (no refresh, no failure).
    dir.run(&["token", "--min-ttl", "0s"]).success();
    assert_eq!(s.token_requests().len(), 1);
}

#[test]
fn long_lived_secrets_come_from_the_agent_only_when_unlock_allowed_it() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let guard = unlock(&dir, &[]);
    let same_secrets = "test \"$TT_REFRESH_TOKEN\" = \"$WANT_RT\" && test \"$TT_API_CLIENT_SECRET\" = \"$WANT_CS\"";
    let exec_long = |extra: &[&str]| {
        let mut args = vec!["exec", "--long-lived"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "sh", "-c", same_secrets]);
        let mut cmd = dir.cmd(&args);
        cmd.env("WANT_RT", &refresh).env("WANT_CS", CLIENT_SECRET);
        Run::from(cmd.output().unwrap())
    };

    // Any process of the user asking the socket directly gets a refusal, no secret.
    let mut c = UnixStream::connect(socket(&dir)).unwrap();
    c.write_all(&frame(r#"{"v":3,"op":"token","secrets":true}"#))
        .unwrap();
    let reply = read_reply(&mut c).unwrap();
    assert_eq!(error_kind(&reply), "withheld", "{reply}");
    let text = reply.to_string();
    assert!(!text.contains(&refresh) && !text.contains(CLIENT_SECRET));
    // A rotated-token request without the vault's refresh token is refused too.
    c.write_all(&frame(
        r#"{"v":3,"op":"rotated","vault_refresh_token":"guess"}"#,
    ))
    .unwrap();
    assert_eq!(error_kind(&read_reply(&mut c).unwrap()), "withheld");

    // Without a passphrase source the commands say what to do...
    exec_long(&[])
        .code(1)
        .stderr_has("access tokens only")
        .stderr_has("unlock --long-lived");
    dir.run(&["export", "--long-lived", "--format", "dotenv"])
        .code(1)
        .stderr_has("--passphrase-file");
    // ...and with one they open the vault themselves.
    exec_long(&["--passphrase-file", "pw"]).success();
    drop(guard);

    // `unlock --long-lived`: the agent hands them out.
    let _guard = unlock(&dir, &["--long-lived"]);
    exec_long(&[]).success();
    let export = dir.run(&["export", "--long-lived", "--format", "dotenv"]);
    assert_eq!(export.status, Some(0), "{}", export.stderr);
    assert!(export.stdout.contains(CLIENT_SECRET));
}

#[test]
fn ttl_and_idle_are_bounded_before_anything_starts() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    for args in [
        ["--ttl", "10000years"],
        ["--ttl", "500years"],
        ["--ttl", "8days"],
        ["--idle", "8days"],
        ["--ttl", "0s"],
        ["--idle", "0s"],
    ] {
        let mut all = vec!["unlock", "--passphrase-file", "pw"];
        all.extend_from_slice(&args);
        let run = dir.run(&all);
        run.code(2);
        assert!(
            run.stderr.contains("7 days") || run.stderr.contains("zero"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
        assert!(
            status_json(&dir)["agent"].is_null(),
            "{args:?} started an agent"
        );
    }
    let _guard = unlock(&dir, &["--ttl", "7days", "--idle", "7days"]);
    dir.run(&["status"]).success().stdout_has("unlocked until");
}

#[test]
fn status_survives_an_agent_answering_impossible_times() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // A same-user process on the vault's socket, answering every request with a status
    // whose times are past what any clock holds.
    let listener = fake_agent_socket(&dir);
    use ttvault::agent::protocol::{Reply, ReplyFrame, StatusReply};
    let reply = ttvault::agent::protocol::encode(&ReplyFrame::new(Reply::Status(StatusReply {
        pid: 1,
        vault: "x".into(),
        until: u64::MAX,
        idle_secs: Some(u64::MAX),
        token_expires: Some(u64::MAX),
        memory_locked: true,
        unsaved_refresh_token: false,
        refreshing: false,
    })))
    .to_vec();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut prefix = [0u8; 4];
            if conn.read_exact(&mut prefix).is_err() {
                continue;
            }
            let mut body = vec![0u8; u32::from_be_bytes(prefix) as usize];
            if conn.read_exact(&mut body).is_ok() {
                let _ = conn.write_all(&reply);
            }
        }
    });
    for args in [&["status"][..], &["status", "--json"], &["lock"]] {
        let run = dir.run(args);
        run.success();
        assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
    }
}

/// The agent's CPU time so far (user + system, clock ticks), from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn a_flood_that_uses_up_the_agents_descriptors_does_not_spin_it_and_it_serves_again() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        if std::env::var_os("CI").is_some() {
            panic!("this test reads /proc, which CI's Linux has");
        }
        eprintln!("skipping: no /proc to read the agent's CPU time from");
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // `unlock` (and the agent it starts, which inherits the limit) with few descriptors.
    let base = dir.cmd(&[]);
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -n 24 && exec \"$0\" unlock --passphrase-file pw",
        env!("CARGO_BIN_EXE_ttvault"),
    ]);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir(dir.path()).stdin(Stdio::null());
    Run::from(cmd.output().unwrap())
        .success()
        .stdout_has("Unlocked");
    let _guard = LockOnDrop(&dir);
    dir.run(&["token"]).success();
    let pid = agent_pid(&dir).unwrap();
    let sock = socket(&dir);

    // Far more idle connections than the agent has descriptors: it accepts until none
    // is left, the rest wait in the backlog and every accept fails.
    let mut held: Vec<UnixStream> = (0..64)
        .map(|_| UnixStream::connect(&sock).unwrap())
        .collect();
    let (cpu_before, wall_before) = (cpu_ticks(pid), Instant::now());
    // A fixed number of attempts to be served meanwhile, each waiting briefly for an
    // answer that cannot come while the descriptors are used up.
    for _ in 0..30 {
        let mut c = UnixStream::connect(&sock).unwrap();
        c.write_all(&frame(r#"{"v":3,"op":"ping"}"#)).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let _ = c.read(&mut [0u8; 16]);
        held.push(c);
    }
    let cpu = cpu_ticks(pid) - cpu_before;
    let wall = wall_before.elapsed();
    // Clock ticks are 1/100 s on Linux. A spinning accept loop takes a whole core for the
    // whole window (less on a loaded machine, never more), a backing-off one almost none:
    // the share of one core it used is the measure, not any duration.
    let share = cpu as f64 / 100.0 / wall.as_secs_f64();
    assert!(
        share < 0.1,
        "the agent used {cpu} ticks in {wall:?} ({:.0}% of a core) while its descriptors were used up",
        share * 100.0
    );

    // The flood ends: the same agent serves again.
    drop(held);
    eventually("the agent to serve again after the flood", || {
        dir.run(&["token"]).status == Some(0)
    });
    assert_eq!(agent_pid(&dir), Some(pid));
}

#[test]
fn tokens_are_handed_out_with_at_least_the_floor_left() {
    let lifetime = Duration::from_secs(120);
    let s = standin_with(tt_standin::Config {
        access_token_ttl: lifetime,
        ..Default::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    // More than Tastytrade's 15-minute tokens could ever have: refused before anything.
    for cmd in [&["token"][..], &["export"], &["exec", "--", "true"]] {
        let mut args = cmd.to_vec();
        args.splice(1..1, ["--min-ttl", "16m", "--passphrase-file", "pw"]);
        dir.run(&args).code(2).stderr_has("15");
    }
    assert!(s.token_requests().is_empty());

    let _guard = unlock(&dir, &[]);
    let first = dir.run(&["token", "--min-ttl", "0s"]);
    first.success();
    assert_eq!(s.token_requests().len(), 1);
    // 50 clients at once, each asking for a floor the token has: all get the cached one,
    // with no refresh.
    let burst = |floor: u64| {
        let floor = format!("{floor}s");
        let children: Vec<_> = (0..50)
            .map(|_| {
                dir.cmd(&["token", "--min-ttl", &floor])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut tokens = std::collections::BTreeSet::new();
        for child in children {
            let run = Run::from(child.wait_with_output().unwrap());
            run.success();
            tokens.insert(run.stdout.clone());
        }
        tokens
    };
    let started = Instant::now();
    let cached = burst(60);
    assert_eq!(
        cached,
        [first.stdout.clone()].into(),
        "the cached token for all"
    );
    assert_eq!(s.token_requests().len(), 1);
    // Once it has less left than the floor, 50 clients asking for it at once cause one
    // refresh, and all get its token.
    let floor = floor_soon_below(lifetime, started.elapsed());
    wait_below_floor(&dir, floor);
    let tokens = burst(floor);
    assert_eq!(tokens.len(), 1, "one new token for everybody");
    assert!(
        !tokens.contains(&first.stdout),
        "the old token was handed out"
    );
    assert_eq!(s.token_requests().len(), 2);
}

#[test]
fn a_floor_longer_than_the_endpoints_tokens_live_is_refused_with_exit_2() {
    let s = standin_with(tt_standin::Config {
        access_token_ttl: Duration::from_secs(60),
        ..Default::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // Opening the vault here: the fresh token lives 60 s, the floor asks 2 minutes.
    let run = dir.run(&[
        "--no-agent",
        "token",
        "--passphrase-file",
        "pw",
        "--min-ttl",
        "2m",
    ]);
    run.code(2).stderr_has("whole lifetime");
    assert!(run.stdout.is_empty());
    dir.run(&[
        "--no-agent",
        "exec",
        "--passphrase-file",
        "pw",
        "--min-ttl",
        "2m",
        "--",
        "touch",
        "ran",
    ])
    .code(2);
    assert!(!dir.join("ran").exists(), "the program ran");
    // Through the agent: the same refusal, and the program does not run either.
    let _guard = unlock(&dir, &[]);
    dir.run(&["token", "--min-ttl", "30s"]).success();
    let requests = s.token_requests().len();
    dir.run(&["exec", "--min-ttl", "2m", "--", "touch", "ran"])
        .code(2)
        .stderr_has("whole lifetime");
    assert!(!dir.join("ran").exists(), "the program ran");
    assert_eq!(
        s.token_requests().len(),
        requests,
        "the agent refreshed anyway"
    );
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
