//! A refresh token the server rotates is never lost, whichever slot opened the vault,
//! and every slot survives the rewrite; and the passphrase slot new vaults get.

use crate::common::*;
use std::process::Command;

/// A vault of the stand-in's grant with a passphrase slot and an X25519 slot (the
/// README's headless-server case); `key.txt` holds the identity. Returns the refresh token
/// stored at first.
fn two_slot_vault(dir: &Dir, s: &tt_standin::StandIn) -> String {
    let first = dir.standin_vault(s, "read");
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    dir.write("key.txt", format!("{}\n", id.to_string().expose_secret()));
    dir.run(&[
        "passwd",
        "--passphrase-file",
        "pw",
        "--add-recipient",
        &id.to_public().to_string(),
    ])
    .success();
    first
}

/// The stored refresh token, read with stock age when it is installed, else with the key
/// through ttvault's own library.
fn stored_refresh_token(dir: &Dir) -> String {
    let plain = if require_tool("age") {
        let out = Command::new("age")
            .args(["-d", "-i", "key.txt", ".secrets"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "stock age cannot decrypt the rewritten vault: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    } else {
        let ids = ttvault::recipients::load_identities(&dir.join("key.txt")).unwrap();
        let file = dir.read(".secrets");
        let plain = ttvault::vault::format::decrypt(
            &file,
            ttvault::vault::format::Unlock::Identities(&ids),
        )
        .unwrap();
        plain.to_vec()
    };
    let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    doc["refresh_token"].as_str().unwrap().to_string()
}

/// The header, through the MAC line: every slot, byte for byte.
fn header(file: &[u8]) -> Vec<u8> {
    let end = file.windows(4).position(|w| w == b"--- ").unwrap();
    let line_end = end + file[end..].iter().position(|&b| b == b'\n').unwrap();
    file[..=line_end].to_vec()
}

/// Opened with the identity, against a server that rotates refresh tokens: `token`
/// succeeds and the new refresh token is saved with every slot kept, the passphrase slot
/// untouched. Before, it failed with "a passphrase is needed" and the new token was
/// dropped, so the next call failed for good (the server had revoked the old one).
#[test]
fn a_rotated_refresh_token_is_saved_when_an_identity_opened_the_vault() {
    let s = standin_with(tt_standin::Config {
        rotate_refresh_tokens: true,
        ..Default::default()
    });
    let dir = Dir::new();
    let first = two_slot_vault(&dir, &s);
    let before = dir.read(".secrets");

    let run = dir.run_at(&s, &["--no-agent", "-i", "key.txt", "token"]);
    run.success();
    assert!(!run.stdout.trim().is_empty());
    let after = dir.read(".secrets");
    assert_eq!(header(&after), header(&before), "the slots were rewritten");
    let saved = stored_refresh_token(&dir);
    assert_ne!(saved, first, "the rotated refresh token was not saved");

    // Both slots open it and hold the new token: the stand-in refuses the old one now,
    // so each call below works only from the saved token (and rotates it again).
    dir.run_at(&s, &["--no-agent", "--passphrase-file", "pw", "token"])
        .success();
    dir.run_at(&s, &["--no-agent", "-i", "key.txt", "token"])
        .success();
    dir.run(&["status"])
        .success()
        .stdout_has("argon2id")
        .stdout_has("X25519");
}

/// Opened with the passphrase, the same rotation keeps the X25519 slot.
#[test]
fn a_rotated_refresh_token_is_saved_when_the_passphrase_opened_the_vault() {
    let s = standin_with(tt_standin::Config {
        rotate_refresh_tokens: true,
        ..Default::default()
    });
    let dir = Dir::new();
    let first = two_slot_vault(&dir, &s);
    dir.run_at(&s, &["--no-agent", "--passphrase-file", "pw", "token"])
        .success();
    assert_ne!(stored_refresh_token(&dir), first);
    dir.run_at(&s, &["--no-agent", "-i", "key.txt", "token"])
        .success();
}

/// Changing the recipient slots of a vault opened with an identity changes the file key,
/// so the passphrase slot cannot be kept as it is: the passphrase is asked (here: given)
/// before anything is locked, and both slots work afterwards.
#[test]
fn recipients_change_under_an_identity_with_the_passphrase_given() {
    let s = standin();
    let dir = Dir::new();
    two_slot_vault(&dir, &s);
    let other = age::x25519::Identity::generate().to_public().to_string();
    let without = dir.run(&["-i", "key.txt", "passwd", "--add-recipient", &other]);
    without
        .code(2)
        .stderr_has("a passphrase is needed")
        .stderr_has("--passphrase-file");
    dir.run(&[
        "-i",
        "key.txt",
        "--passphrase-file",
        "pw",
        "passwd",
        "--add-recipient",
        &other,
    ])
    .success();
    dir.run(&["show", "--passphrase-file", "pw"]).success();
    dir.run(&["show", "-i", "key.txt"]).success();
}

/// Without the test-only memory override, a new vault's passphrase slot takes 256 MiB or
/// more and t ≥ 3 (the old tuning wrote 64 MiB always: a guess cost a quarter of a guess
/// at an `age -p` file).
#[test]
fn a_new_vault_gets_256_mib_or_more() {
    let dir = Dir::new();
    dir.passphrase_files();
    dir.legacy_secrets(".secrets");
    let mut cmd = dir.cmd(&["import", "--passphrase-file", "pw"]);
    cmd.env_remove("TTVAULT_KDF_MEMORY_MIB")
        .env_remove("TTVAULT_TEST_WEAK_KDF");
    Run::from(cmd.output().unwrap()).success();
    let status = dir.run(&["status", "--json"]);
    status.success();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let text = doc.to_string();
    let kdf = doc["slots"]
        .as_array()
        .and_then(|slots| slots.iter().find(|s| s["kind"] == "passphrase"))
        .map(|s| &s["kdf"])
        .unwrap_or_else(|| panic!("no argon2id slot in {text}"));
    assert!(kdf["memory_kib"].as_u64().unwrap() >= 256 * 1024, "{text}");
    assert!(kdf["iterations"].as_u64().unwrap() >= 3, "{text}");
}
