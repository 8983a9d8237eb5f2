//! The agent's one token for many clients: single-flight refresh, failures fanned out once,
//! an unreachable endpoint, a rotated refresh token kept and saved, and where its socket
//! lives without XDG_RUNTIME_DIR (the home directory, whatever another user made in /tmp).

use crate::agent::*;
use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn two_hundred_concurrent_execs_cause_one_refresh_and_one_more_after_expiry() {
    let lifetime = Duration::from_secs(120);
    let s = standin_with(tt_standin::Config {
        access_token_ttl: lifetime,
        ..Default::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    s.clear_requests();

    let burst = |dir: &Dir, floor: u64| {
        let floor = format!("{floor}s");
        let children: Vec<_> = (0..200)
            .map(|_| {
                dir.cmd(&["exec", "--min-ttl", &floor, "--", "true"])
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
    let started = Instant::now();
    burst(&dir, 31);
    assert_eq!(s.token_requests().len(), 1);

    // Once the token has less left than the next burst asks, that burst refreshes once
    // more, and the new token serves all of it.
    let floor = floor_soon_below(lifetime, started.elapsed());
    wait_below_floor(&dir, floor);
    burst(&dir, floor);
    assert_eq!(s.token_requests().len(), 2);
}

#[test]
fn a_refused_grant_is_reported_to_every_waiting_client_with_one_request() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let spawn = |command: &str| {
        dir.cmd(&[command])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // How long 20 clients of the agent take here (`status`: the agent has no token yet,
    // and keeps it so).
    let started = Instant::now();
    let served: Vec<_> = (0..20).map(|_| spawn("status")).collect();
    for child in served {
        Run::from(child.wait_with_output().unwrap()).success();
    }
    let burst = started.elapsed();
    s.revoke(&refresh);
    s.clear_requests();
    // Long enough for the other clients to start and queue behind the first refresh:
    // four times what 20 of them just took, and at least 2 s.
    s.set_token_delay((burst * 4).max(Duration::from_secs(2)));
    let first = spawn("token");
    // Once the agent's one refresh is in flight, the others queue behind it.
    eventually("the agent's refresh to reach the stand-in", || {
        s.token_requests().len() == 1
    });
    let rest: Vec<_> = (0..20).map(|_| spawn("token")).collect();
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
fn without_xdg_runtime_dir_the_home_directory_is_used_whatever_another_user_made_in_tmp() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let (home, tmp) = (dir.join("home"), dir.join("tmp"));
    std::fs::create_dir(&home).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    // A shared temp folder, as /tmp is.
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let uid = ttvault::harden::current_uid();
    if uid == 0 {
        // Another user makes the old predictable directory first, as the attack did.
        use std::os::unix::process::CommandExt;
        let squat = std::process::Command::new("mkdir")
            .arg("-m700")
            .arg(tmp.join(format!("ttvault-{uid}")))
            .uid(65534)
            .gid(65534)
            .status()
            .unwrap();
        assert!(squat.success());
    }
    let run = |args: &[&str]| {
        let mut cmd = dir.cmd(args);
        cmd.env_remove("XDG_RUNTIME_DIR")
            .env("TMPDIR", &tmp)
            .env("HOME", &home);
        Run::from(cmd.output().unwrap())
    };
    let private = home.join(".ttvault-agent");

    run(&["unlock", "--passphrase-file", "pw"]).success();
    let meta = std::fs::symlink_metadata(&private).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    run(&["token"]).success();
    run(&["lock"]).success().stdout_has("Locked");
    run(&["token"]).code(2).stderr_has("no terminal");

    // Something planted where the directory goes: refused with the fix, and a client
    // says why it does not ask an agent before it asks for the passphrase.
    std::fs::remove_dir(&private).unwrap();
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &private).unwrap();
    run(&["unlock", "--passphrase-file", "pw"])
        .code(1)
        .stderr_has("not a plain directory")
        .stderr_has("rm -r");
    run(&["token"])
        .code(2)
        .stderr_has("not asking an agent")
        .stderr_has("no terminal");
}
