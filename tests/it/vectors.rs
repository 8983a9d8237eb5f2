//! Committed vault files and what opening them must give (tests/vectors/manifest.json).
//! They were written once by `cargo run --example gen_vectors`; if a change to the stanza
//! tag, the salt label, the argument order, the KDF, or the payload schema makes one of
//! them open differently, this fails: old vaults would no longer open.

use std::path::{Path, PathBuf};
use ttvault::secret::Passphrase;
use ttvault::vault::format::{decrypt, Unlock};
use ttvault::vault::header::{self, Slot};
use ttvault::vault::kdf::KdfParams;
use ttvault::vault::Payload;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn manifest() -> Vec<serde_json::Value> {
    let text = read("manifest.json");
    let doc: serde_json::Value = serde_json::from_slice(&text).expect("manifest is JSON");
    doc["vectors"].as_array().expect("vectors").clone()
}

/// Opens a vector as `ttvault show` would: decrypt, then read the document.
fn open(file: &[u8], entry: &serde_json::Value) -> ttvault::Result<Payload> {
    let plain = if let Some(p) = entry["passphrase"].as_str() {
        decrypt(file, Unlock::Passphrase(&Passphrase::new(p)))?
    } else {
        let name = entry["identity"].as_str().expect("passphrase or identity");
        let ids = ttvault::recipients::load_identities(&dir().join(name))?;
        decrypt(file, Unlock::Identities(&ids))?
    };
    Payload::from_bytes(&plain)
}

#[test]
fn every_vector_opens_as_recorded() {
    let expected_doc = read("payload_v1.json");
    let mut failures = Vec::new();
    for entry in manifest() {
        let name = entry["file"].as_str().expect("file");
        let key = entry["passphrase"]
            .as_str()
            .map(|p| format!("passphrase {p:?}"))
            .or_else(|| entry["identity"].as_str().map(|i| format!("identity {i}")))
            .unwrap_or_default();
        let outcome = open(&read(name), &entry);
        let problem = match (entry["result"].as_str(), outcome) {
            (Some("ok"), Ok(payload)) => {
                if payload.client_id != entry["client_id"].as_str().unwrap_or("?") {
                    Some(format!("client_id {:?}", payload.client_id))
                } else if payload.to_bytes()[..] != expected_doc[..] {
                    Some("the document differs from payload_v1.json".to_string())
                } else {
                    None
                }
            }
            (Some("ok"), Err(e)) => Some(format!("expected ok, got error {:?}", e.message)),
            (Some("error"), Ok(_)) => Some("expected an error, it opened".to_string()),
            (Some("error"), Err(e)) => {
                let want = entry["message"].as_str().expect("message");
                if i64::from(e.exit_code()) != entry["exit_code"].as_i64().expect("exit_code") {
                    Some(format!("exit code {} ({})", e.exit_code(), e.message))
                } else if !e.message.contains(want) {
                    Some(format!("message {:?} lacks {want:?}", e.message))
                } else {
                    None
                }
            }
            (other, _) => Some(format!("bad manifest result {other:?}")),
        };
        match problem {
            Some(p) => failures.push(format!("{name} with {key}: {p}")),
            None => println!("ok: {name} with {key}"),
        }
    }
    assert!(failures.is_empty(), "vectors:\n{}", failures.join("\n"));
}

#[test]
fn every_vector_file_is_in_the_manifest() {
    let listed: Vec<String> = manifest()
        .iter()
        .map(|e| e["file"].as_str().unwrap().to_string())
        .collect();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let support = ["manifest.json", "identity.txt", "payload_v1.json"];
        assert!(
            support.contains(&name.as_str()) || listed.contains(&name),
            "{name} is not in manifest.json"
        );
    }
}

/// The document schema, as the writer spells it today: a field renamed, added or
/// reordered changes these bytes.
#[test]
fn the_payload_schema_is_unchanged() {
    let doc = read("payload_v1.json");
    let payload = Payload::from_bytes(&doc).unwrap();
    assert_eq!(&payload.to_bytes()[..], &doc[..]);
    let text = String::from_utf8(doc).unwrap();
    for field in [
        "\"version\": 1",
        "\"client_id\": \"vector-client-id\"",
        "\"client_secret\": \"vector-client-secret\"",
        "\"refresh_token\": ",
        "\"environment\": {\n    \"kind\": \"sandbox\"",
        "\"scopes\": [",
        "\"redirect_uri\": \"http://localhost:8000/callback\"",
        "\"created_at\": \"2026-01-02T03:04:05Z\"",
        "\"rotated_at\": null",
        "\"recipients\": []",
    ] {
        assert!(text.contains(field), "payload_v1.json lacks {field}");
    }
}

/// The header as `status` reads it, and as the writer still writes it.
#[test]
fn the_passphrase_stanza_is_unchanged() {
    let h = header::parse(&read("passphrase_x25519.age")).unwrap();
    let tags: Vec<&str> = h.stanzas.iter().map(|s| s.tag.as_str()).collect();
    assert!(
        tags.contains(&"ttvault-argon2id") && tags.contains(&"X25519"),
        "{tags:?}"
    );
    let slot = h
        .stanzas
        .iter()
        .find(|s| s.tag == "ttvault-argon2id")
        .unwrap();
    assert_eq!(slot.args[1..], ["96", "2", "1"]);
    assert_eq!(
        slot.args[0].len(),
        22,
        "16-byte salt, base64 without padding"
    );
    let cheap = KdfParams {
        memory_kib: 96,
        iterations: 2,
        parallelism: 1,
    };
    assert!(h.slots().contains(&Slot::Passphrase { kdf: cheap }));

    let fresh =
        ttvault::vault::format::encrypt(b"{}", Some((&Passphrase::new("p"), cheap)), &[]).unwrap();
    let text = String::from_utf8_lossy(&fresh);
    let line = text.lines().nth(1).unwrap();
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words[..2], ["->", "ttvault-argon2id"], "{line}");
    assert_eq!(words[3..], ["96", "2", "1"], "{line}");

    let scrypt = header::parse(&read("age_scrypt.age")).unwrap();
    assert_eq!(scrypt.slots(), [Slot::Scrypt { log_n: 18 }]);
    assert!(header::parse(&read("armored.age")).unwrap().armored);
    let cut = header::parse(&read("armored_truncated.age")).expect("header before the cut");
    assert_eq!(cut.slots(), [Slot::Passphrase { kdf: cheap }]);
}

/// The recipient slots are plain age: the stock CLI opens them with the identity.
#[test]
fn stock_age_opens_the_recipient_slots() {
    let has_age = std::process::Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_age {
        assert!(
            std::env::var_os("CI").is_none(),
            "the age CLI is required in CI"
        );
        eprintln!("skipping: the `age` CLI is not installed (set CI=1 to make this fatal)");
        return;
    }
    for name in ["x25519.age", "passphrase_x25519.age"] {
        let out = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(dir().join("identity.txt"))
            .arg(dir().join(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, read("payload_v1.json"), "{name}");
    }
}
