//! The vault through the real binary: round trips through every slot kind, interop with
//! the stock `age` CLI, and every damaged or hostile file giving exit 3, a clear message,
//! and an untouched file.

use crate::common::*;
use std::process::{Command, Stdio};

fn age_keygen(dir: &Dir) -> String {
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(dir.join("key.txt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.trim().trim_start_matches("Public key: ").to_string()
}

/// An X25519 identity made by the library, for machines without age-keygen.
fn x25519(dir: &Dir) -> String {
    let id = age::x25519::Identity::generate();
    use age::secrecy::ExposeSecret;
    dir.write("key.txt", format!("{}\n", id.to_string().expose_secret()));
    id.to_public().to_string()
}

#[test]
fn passphrase_only_round_trip() {
    let dir = Dir::new();
    dir.vault();
    let out = dir.run(&["show", "--passphrase-file", "pw"]);
    out.success()
        .stdout_has(CLIENT_ID)
        .stdout_has("passphrase (argon2id, 8 MiB");
    assert!(!dir
        .read(".secrets")
        .windows(CLIENT_ID.len())
        .any(|w| w == CLIENT_ID.as_bytes()));
}

/// The suite's cheap KDF (`TTVAULT_TEST_WEAK_KDF`, debug builds only) is a floor only for
/// the process that was asked: the same vault seen without it is below ttvault's floor,
/// and the first rewrite (`passwd`) gives it full strength.
#[test]
fn a_vault_from_the_test_kdf_is_below_the_floor_everywhere_else() {
    let dir = Dir::new();
    dir.vault();
    let strict = |args: &[&str]| {
        let mut cmd = dir.cmd(args);
        cmd.env_remove("TTVAULT_TEST_WEAK_KDF");
        Run::from(cmd.output().unwrap())
    };
    strict(&["status"])
        .success()
        .stdout_has("m=8192 KiB t=1 p=1 (below ttvault's floor)");
    strict(PW_TO_PW2).success();
    let status = strict(&["status"]);
    status.success().stdout_has("m=65536 KiB t=");
    assert!(!status.stdout.contains("below"), "{}", status.stdout);
}

#[test]
fn passphrase_and_x25519_both_open() {
    let dir = Dir::new();
    dir.passphrase_files();
    let recipient = x25519(&dir);
    dir.legacy_secrets(".secrets");
    dir.run(&["import", "--passphrase-file", "pw", "-r", &recipient])
        .success();
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
    dir.run(&["show", "-i", "key.txt"])
        .success()
        .stdout_has(CLIENT_ID)
        .stdout_has("recipient age X25519");
    let status = dir.run(&["status"]);
    status
        .success()
        .stdout_has("passphrase, argon2id")
        .stdout_has("recipient, age X25519");
}

#[test]
fn recipients_only_needs_the_identity() {
    let dir = Dir::new();
    let recipient = x25519(&dir);
    dir.legacy_secrets(".secrets");
    dir.run(&["import", "--no-passphrase", "-r", &recipient])
        .success();
    dir.run(&["show", "-i", "key.txt"])
        .success()
        .stdout_has(CLIENT_ID);
    dir.run(&["show"])
        .code(3)
        .stderr_has("no passphrase slot")
        .stderr_has("-i KEY");
    // An identity that is not in the vault.
    let other = Dir::new();
    x25519(&other);
    let other_key = other.join("key.txt");
    dir.run(&["show", "-i", other_key.to_str().unwrap()])
        .code(3)
        .stderr_has("does not open any slot");
}

#[test]
fn stock_age_decrypts_a_recipient_slot() {
    if !require_tool("age") || !require_tool("age-keygen") {
        return;
    }
    let dir = Dir::new();
    dir.passphrase_files();
    let recipient = age_keygen(&dir);
    dir.legacy_secrets(".secrets");
    dir.run(&["import", "--passphrase-file", "pw", "-r", &recipient])
        .success();
    let out = Command::new("age")
        .args(["-d", "-i"])
        .arg(dir.join("key.txt"))
        .arg(dir.join(".secrets"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["client_id"], CLIENT_ID);
    assert_eq!(doc["version"], 1);
}

#[test]
fn a_file_from_age_p_opens() {
    if !require_tool("age") || !require_tool("python3") {
        return;
    }
    let dir = Dir::new();
    let payload = format!(
        "{{\"version\":1,\"client_id\":\"{CLIENT_ID}\",\"client_secret\":\"{CLIENT_SECRET}\",\"refresh_token\":\"{REFRESH_TOKEN}\",\"environment\":{{\"kind\":\"production\"}},\"scopes\":[\"read\"],\"created_at\":\"2026-01-01T00:00:00Z\"}}"
    );
    dir.write("plain.json", payload);
    // age -p reads the passphrase from a terminal only: give it a pseudo-terminal.
    let script = format!(
        r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age", "-p", "-o", ".secrets", "plain.json"])
out = b""
sent = 0
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if out.lower().count(b"passphrase") > sent:
        sent += 1
        os.write(fd, b"{PASSPHRASE}\n")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -p failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_file(dir.join("plain.json")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(".secrets"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    dir.passphrase_files();
    dir.run(&["status"]).success().stdout_has("age scrypt");
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
    // passwd upgrades it to the argon2id slot.
    dir.run(PW_TO_PW2).success();
    dir.run(&["status"]).success().stdout_has("argon2id");
    dir.run(&["show", "--passphrase-file", "pw2"])
        .success()
        .stdout_has(CLIENT_ID);
}

/// Each damaged vault: exit 3, the expected message, and the file byte-for-byte unchanged.
#[test]
fn damaged_and_hostile_files_are_refused_and_left_alone() {
    let good = Dir::new();
    good.vault();
    let vault = good.read(".secrets");
    let header_end = vault.windows(4).position(|w| w == b"\n---").unwrap();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = vault.clone();
        f(&mut v);
        v
    };
    let stanza_line = String::from_utf8_lossy(&vault[..header_end])
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let hostile = |m: &str, t: &str| {
        let mut parts: Vec<&str> = stanza_line.split(' ').collect();
        parts[3] = m;
        parts[4] = t;
        let text = String::from_utf8_lossy(&vault).replacen(&stanza_line, &parts.join(" "), 1);
        text.into_bytes()
    };
    let mut v2 = Vec::new();
    // An unknown payload version, sealed with the real format.
    {
        use ttvault::secret::Passphrase;
        let doc = format!(
            "{{\"version\":2,\"client_id\":\"{CLIENT_ID}\",\"client_secret\":\"x\",\"refresh_token\":\"y\",\"environment\":{{\"kind\":\"production\"}},\"scopes\":[],\"created_at\":\"2026-01-01T00:00:00Z\"}}"
        );
        let params = ttvault::vault::kdf::FLOOR;
        v2 = ttvault::vault::format::encrypt(
            doc.as_bytes(),
            Some((&Passphrase::new(PASSPHRASE), params)),
            &[],
        )
        .unwrap_or(v2);
    }
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        ("truncated", vault[..vault.len() - 20].to_vec(), 3, "damaged"),
        ("header cut", vault[..header_end].to_vec(), 3, "damaged"),
        ("flipped bit in header", with(&|v| v[header_end - 3] ^= 0x01), 3, ""),
        ("flipped bit in payload", with(&|v| { let n = v.len(); v[n - 5] ^= 0x01 }), 3, "damaged"),
        ("hostile memory", hostile("4194304", "1"), 3, "beyond what ttvault will compute"),
        ("hostile iterations", hostile("65536", "4000"), 3, "beyond what ttvault will compute"),
        ("unknown payload version", v2, 3, "version 2"),
        ("plaintext .secrets", format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={REFRESH_TOKEN}\n").into_bytes(), 3, "ttvault import"),
        ("empty", Vec::new(), 3, "empty"),
        ("random bytes", b"\x00\x01garbage\xff".to_vec(), 3, "not an age-encrypted file"),
    ];
    for (name, bytes, code, message) in cases {
        let dir = Dir::new();
        dir.passphrase_files();
        let path = dir.write(".secrets", &bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        for args in [&["show", "--passphrase-file", "pw"][..], PW_TO_PW2] {
            let out = dir.run(args);
            assert_eq!(out.status, Some(code), "{name} / {args:?}: {}", out.stderr);
            assert!(out.stderr.contains(message), "{name}: {}", out.stderr);
            assert!(
                out.stderr.contains("hint:"),
                "{name}: no next step in {}",
                out.stderr
            );
            assert_no_secrets(&out);
            assert_eq!(dir.read(".secrets"), bytes, "{name}: the file changed");
        }
    }
}

#[test]
fn wrong_passphrase_and_directory_and_missing() {
    let dir = Dir::new();
    dir.vault();
    let before = dir.read(".secrets");
    dir.run(&["show", "--passphrase-file", "pw2"])
        .code(3)
        .stderr_has("wrong passphrase");
    dir.run(&[
        "passwd",
        "--passphrase-file",
        "pw2",
        "--new-passphrase-file",
        "pw",
    ])
    .code(3)
    .stderr_has("wrong passphrase");
    assert_eq!(dir.read(".secrets"), before);
    std::fs::create_dir(dir.join("adir")).unwrap();
    dir.run(&["show", "--vault", "adir", "--passphrase-file", "pw"])
        .code(3)
        .stderr_has("is a directory");
    dir.run(&["show", "--vault", "nothing", "--passphrase-file", "pw"])
        .code(3)
        .stderr_has("ttvault init");
}

#[cfg(unix)]
#[test]
fn a_vault_others_can_read_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    dir.vault();
    std::fs::set_permissions(dir.join(".secrets"), std::fs::Permissions::from_mode(0o640)).unwrap();
    dir.run(&["show", "--passphrase-file", "pw"])
        .code(3)
        .stderr_has(&format!("chmod 600 {}", dir.join(".secrets").display()));
}

#[test]
fn passwd_changes_only_the_passphrase() {
    let dir = Dir::new();
    dir.vault();
    let before = dir.run(&["show", "--passphrase-file", "pw", "--json"]);
    dir.run(PW_TO_PW2).success();
    dir.run(&["show", "--passphrase-file", "pw"]).code(3);
    let after = dir.run(&["show", "--passphrase-file", "pw2", "--json"]);
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        v.as_object_mut().unwrap().remove("slots");
        v
    };
    assert_eq!(strip(&before.stdout), strip(&after.stdout));
}

#[test]
fn passwd_adds_and_removes_recipients_keeping_the_passphrase() {
    let dir = Dir::new();
    dir.vault();
    let recipient = x25519(&dir);
    dir.run(&[
        "passwd",
        "--passphrase-file",
        "pw",
        "--add-recipient",
        &recipient,
    ])
    .success();
    dir.run(&["show", "-i", "key.txt"]).success();
    dir.run(&["show", "--passphrase-file", "pw"]).success();
    dir.run(&[
        "passwd",
        "--passphrase-file",
        "pw",
        "--remove-recipient",
        &recipient,
    ])
    .success();
    dir.run(&["show", "-i", "key.txt"]).code(3);
    dir.run(&["show", "--passphrase-file", "pw"]).success();
    // Removing the last slot is refused.
    dir.run(&["passwd", "--passphrase-file", "pw", "--no-passphrase"])
        .code(2)
        .stderr_has("no slot left");
    dir.run(&["show", "--passphrase-file", "pw"]).success();
}

/// Without a terminal or a passphrase source, commands fail at once and never read their
/// standard input: it is a pipe here that stays open and silent, so a command that read it
/// would wait forever (turned into a failure after five minutes, a hang guard rather than a
/// speed claim).
#[test]
fn no_terminal_and_no_source_fails_at_once() {
    let dir = Dir::new();
    dir.vault();
    dir.legacy_secrets("legacy.env");
    let run_with_open_stdin = |args: &[&str]| {
        let mut child = dir
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _silent_stdin = child.stdin.take();
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(300);
        while child.try_wait().unwrap().is_none() {
            assert!(
                std::time::Instant::now() < give_up,
                "{args:?} waited for its standard input"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Run::from(child.wait_with_output().unwrap())
    };
    run_with_open_stdin(&["show"])
        .code(2)
        .stderr_has("no terminal")
        .stderr_has("--passphrase-file");
    run_with_open_stdin(&["import", "legacy.env", "--vault", "v2"])
        .code(2)
        .stderr_has("no terminal");
    assert!(!dir.join("v2").exists());
}

#[test]
fn env_passphrase_warns_and_fd_works() {
    let dir = Dir::new();
    dir.vault();
    let out = dir
        .cmd(&["show"])
        .env("TTVAULT_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    let run = Run::from(out);
    run.success()
        .stderr_has("warning")
        .stderr_has("TTVAULT_PASSPHRASE");
    #[cfg(unix)]
    {
        let out = dir
            .cmd(&["show", "--passphrase-fd", "0"])
            .stdin(std::fs::File::open(dir.join("pw")).unwrap())
            .output()
            .unwrap();
        Run::from(out).success().stdout_has(CLIENT_ID);
    }
}

#[test]
fn an_ssh_key_opens_its_recipient_slot() {
    if !require_tool("ssh-keygen") {
        return;
    }
    let dir = Dir::new();
    dir.passphrase_files();
    let key = dir.join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test@ttvault", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(dir.join("id_ed25519.pub")).unwrap();
    dir.legacy_secrets(".secrets");
    dir.run(&["import", "--passphrase-file", "pw", "-r", public.trim()])
        .success();
    dir.run(&["status"])
        .success()
        .stdout_has("recipient, ssh-ed25519");
    dir.run(&["show", "-i", "id_ed25519"])
        .success()
        .stdout_has(CLIENT_ID);
    // A passphrase-protected SSH key is named as such, not misreported.
    let locked = dir.join("id_locked");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "a-key-passphrase", "-f"])
        .arg(&locked)
        .output()
        .unwrap();
    assert!(out.status.success());
    dir.run(&["show", "-i", "id_locked"])
        .code(3)
        .stderr_has("protected by a passphrase");
}
