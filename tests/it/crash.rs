//! Crash safety and concurrency: a writer killed at any instant leaves the old vault or the
//! new one, and two writers at once never lose an update.

use crate::common::*;
use std::time::Duration;

#[cfg(unix)]
#[test]
fn sigkill_during_passwd_leaves_old_or_new() {
    let dir = Dir::new();
    dir.vault();
    let mut saw_old = 0;
    let mut saw_new = 0;
    // Kill points spread over the whole run: KDF, encryption, temp write, rename.
    for step in 0..24u64 {
        let mut child = dir.cmd(PW_TO_PW2).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(step * 45));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let old = dir.run(&["show", "--passphrase-file", "pw"]);
        let new = dir.run(&["show", "--passphrase-file", "pw2"]);
        match (old.status, new.status) {
            (Some(0), _) => saw_old += 1,
            (_, Some(0)) => {
                saw_new += 1;
                // Back to the old passphrase for the next round.
                dir.run(&[
                    "passwd",
                    "--passphrase-file",
                    "pw2",
                    "--new-passphrase-file",
                    "pw",
                ])
                .success();
            }
            _ => panic!(
                "step {step}: neither passphrase opens the vault: {} / {}",
                old.stderr, new.stderr
            ),
        }
    }
    assert!(
        saw_old > 0 && saw_new > 0,
        "kills never landed on both sides: old {saw_old}, new {saw_new}"
    );
    // The next write cleans any temp file a killed writer left.
    dir.run(PW_TO_PW2).success();
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
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
