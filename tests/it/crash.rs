//! Crash safety and concurrency: a writer killed at any instant leaves the old vault or the
//! new one, and two writers at once never lose an update.

use crate::common::*;
use std::time::Instant;

/// Kill instants per round, spread over 1¼ of a calibrated run.
const KILLS: u32 = 20;

#[cfg(unix)]
#[test]
fn sigkill_during_passwd_leaves_old_or_new() {
    let dir = Dir::new();
    dir.vault();
    // Calibrate: how long one uninterrupted passwd takes on this machine, now. The kill
    // instants are fractions of it, so they land inside the run however slow the machine
    // (they used to assume under a second, and all landed before the rename when loaded).
    let start = Instant::now();
    dir.run(PW_TO_PW2).success();
    let run_time = start.elapsed();
    back_to_pw(&dir);

    let mut saw_old = 0;
    let mut saw_new = 0;
    // Should the machine slow down after calibrating so that no kill lands after the
    // rename, the next round stretches the instants (at most 2^5 times).
    let mut stretch = 1;
    while saw_old == 0 || saw_new == 0 {
        assert!(
            stretch <= 32,
            "kills never landed on both sides: old {saw_old}, new {saw_new} (a run took {run_time:?})"
        );
        // Kill points spread over the whole run: KDF, encryption, temp write, rename.
        for step in 0..KILLS {
            let at = run_time.mul_f64(f64::from(step * stretch) / 16.0);
            let mut child = dir.cmd(PW_TO_PW2).spawn().unwrap();
            std::thread::sleep(at);
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            if dir.run(&["show", "--passphrase-file", "pw"]).status == Some(0) {
                saw_old += 1;
                continue;
            }
            let new = dir.run(&["show", "--passphrase-file", "pw2"]);
            assert_eq!(
                new.status,
                Some(0),
                "at {at:?}: neither passphrase opens the vault: {}",
                new.stderr
            );
            saw_new += 1;
            back_to_pw(&dir);
        }
        stretch *= 2;
    }
    // The next write cleans any temp file and lock file a killed writer left.
    dir.run(PW_TO_PW2).success();
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp.") || n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Back to the passphrase in `pw` for the next round.
fn back_to_pw(dir: &Dir) {
    dir.run(&[
        "passwd",
        "--passphrase-file",
        "pw2",
        "--new-passphrase-file",
        "pw",
    ])
    .success();
}

#[test]
fn concurrent_writers_lose_no_update() {
    let dir = Dir::new();
    dir.vault();
    let keys: Vec<(String, String)> = (0..4)
        .map(|_| {
            use age::secrecy::ExposeSecret;
            let id = age::x25519::Identity::generate();
            (
                id.to_public().to_string(),
                id.to_string().expose_secret().to_string(),
            )
        })
        .collect();
    let children: Vec<_> = keys
        .iter()
        .map(|(public, _)| {
            dir.cmd(&[
                "passwd",
                "--passphrase-file",
                "pw",
                "--add-recipient",
                public,
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    for (i, (_, secret)) in keys.iter().enumerate() {
        let name = format!("key{i}.txt");
        dir.write(&name, format!("{secret}\n"));
        dir.run(&["show", "-i", &name])
            .success()
            .stdout_has(CLIENT_ID);
    }
    dir.run(&["show", "--passphrase-file", "pw"]).success();
}
