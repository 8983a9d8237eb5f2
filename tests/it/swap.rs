//! Checks made on what was opened, never on the path again: another user who can write to
//! the vault's folder swaps `.secrets` with a vault of their own (mode 0644, same
//! recipient, their endpoint) atomically and over and over, while `exec` runs. Whatever the
//! timing, ttvault never uses the attacker's vault: each run either uses the real one or
//! refuses the readable one.

use crate::common::*;
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Imports a personal grant of `s` into `dir/.secrets`, for `recipient` only.
fn vault_for(dir: &Dir, s: &tt_standin::StandIn, recipient: &str) {
    let refresh = s.personal_grant(CLIENT_ID, "read");
    dir.write(
        "legacy.env",
        format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={refresh}\n"),
    );
    dir.run_at(
        s,
        &["import", "legacy.env", "--no-passphrase", "-r", recipient],
    )
    .success();
}

/// Swaps two names in one step (renameat2 with RENAME_EXCHANGE): at every instant each
/// name is one of the two files.
#[allow(unsafe_code)]
fn exchange(a: &CString, b: &CString) {
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    assert_eq!(rc, 0, "renameat2: {}", std::io::Error::last_os_error());
}

#[test]
fn a_vault_swapped_in_by_rename_exchange_is_never_used() {
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    let real = standin();
    let attacker = standin();
    let dir = Dir::new();
    use age::secrecy::ExposeSecret;
    dir.write("key.txt", format!("{}\n", id.to_string().expose_secret()));
    vault_for(&dir, &real, &recipient);
    let theirs = Dir::new();
    vault_for(&theirs, &attacker, &recipient);
    let evil = dir.join("evil");
    std::fs::copy(theirs.join(".secrets"), &evil).unwrap();
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o644)).unwrap();
    attacker.clear_requests();

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let a = CString::new(dir.join(".secrets").into_os_string().into_encoded_bytes()).unwrap();
        let b = CString::new(evil.into_os_string().into_encoded_bytes()).unwrap();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::SeqCst) {
                exchange(&a, &b);
                swaps += 1;
            }
            // Leave the real vault at its name.
            if swaps % 2 == 1 {
                exchange(&a, &b);
            }
            swaps
        })
    };
    let (mut used, mut refused) = (0, 0);
    for _ in 0..200 {
        let run = dir.run(&["-i", "key.txt", "exec", "--", "true"]);
        match run.status {
            Some(0) => used += 1,
            // Read while swapped: the readable vault is refused on what was read.
            Some(3) => {
                run.stderr_has("can be read by other users");
                refused += 1;
            }
            other => panic!("{other:?}: {}", run.stderr),
        }
        assert!(
            attacker.token_requests().is_empty(),
            "the attacker's vault was used (run {})",
            used + refused
        );
    }
    stop.store(true, Ordering::SeqCst);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    // The real vault served the runs that were not refused.
    assert!(
        used > 0 && !real.token_requests().is_empty(),
        "{used} used, {refused} refused"
    );
}

#[test]
fn root_opening_another_users_vault_is_told_whose_it_is() {
    if !crate::lock::is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root (.ci/run)"
        );
        eprintln!("skipping: giving a file to another user needs root");
        return;
    }
    let dir = Dir::new();
    dir.vault();
    // Opening your own vault as root says nothing.
    let own = dir.run(&["show", "--passphrase-file", "pw"]);
    own.success();
    assert!(!own.stderr.contains("belongs to"), "{}", own.stderr);
    std::os::unix::fs::chown(dir.join(".secrets"), Some(65534), Some(65534)).unwrap();
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stderr_has("running as root")
        .stderr_has("which belongs to nobody (uid 65534)");
}
