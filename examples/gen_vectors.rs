//! Writes the committed test vectors (tests/vectors/) and the fuzz seeds
//! (fuzz/seeds/). Run once, review the diff, commit; tests/vectors.rs reads them back.
//!
//!     cargo run --example gen_vectors
//!
//! The stock `age -p` vector needs Debian's `age` and `script` (the passphrase is typed
//! into a pty); without them the existing file is kept.
//!
//! A developer tool over fixed inputs, like a test: a failure panics with what it was
//! doing, and nothing here ships in the `ttvault` binary.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use ttvault::endpoints::Environment;
use ttvault::secret::{ClientSecret, Passphrase, RefreshToken};
use ttvault::vault::format::encrypt;
use ttvault::vault::kdf::KdfParams;
use ttvault::vault::Payload;

/// The passphrase of every passphrase vector.
const PASSPHRASE: &str = "vector passphrase";
/// A test-only X25519 identity (also in fuzz/fuzz_targets/vault_decrypt.rs).
const IDENTITY: &str = "AGE-SECRET-KEY-19DECNSWRKEDEAXJYG6KALYFFANXW95A0LVWRZ90T444JXU6FLWCQW30NEM";
/// Cheap, but with m, t and p all different, so a change in the argument order shows.
const CHEAP: KdfParams = KdfParams {
    memory_kib: 96,
    iterations: 2,
    parallelism: 1,
};

fn payload(version: u32) -> Vec<u8> {
    let mut p = Payload::new(
        "vector-client-id".into(),
        ClientSecret::new("vector-client-secret"),
        RefreshToken::new("eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6InJlYWQifQ.vector"),
        Environment::Sandbox,
        vec!["read".into(), "trade".into()],
    );
    p.version = version;
    p.redirect_uri = Some("http://localhost:8000/callback".into());
    p.created_at = "2026-01-02T03:04:05Z".into();
    p.to_bytes().to_vec()
}

fn armor(binary: &[u8]) -> Vec<u8> {
    use age::armor::{ArmoredWriter, Format};
    let mut out = Vec::new();
    let armored = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor)
        .and_then(|mut w| w.write_all(binary).map(|_| w))
        .and_then(|w| w.finish());
    armored.expect("armoring into memory cannot fail");
    out
}

/// Replaces the first occurrence of `from` in the header with `to`.
fn edit(file: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = file
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from:?} not in the file"));
    let mut out = file[..at].to_vec();
    out.extend_from_slice(to.as_bytes());
    out.extend_from_slice(&file[at + from.len()..]);
    out
}

/// The line of the first stanza with this tag.
fn stanza_line(file: &[u8], tag: &str) -> String {
    let text = String::from_utf8_lossy(file);
    text.lines()
        .find(|l| l.starts_with(&format!("-> {tag} ")))
        .unwrap_or_else(|| panic!("no {tag} stanza in the generated file"))
        .to_string()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", dir.join(name).display()));
    println!("wrote {}", dir.join(name).display());
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = root.join("tests/vectors");
    fs::create_dir_all(&v).unwrap_or_else(|e| panic!("cannot create {}: {e}", v.display()));
    let pass = Passphrase::new(PASSPHRASE);
    let identity: age::x25519::Identity = IDENTITY.parse().expect("the fixed identity parses");
    let to_x25519 =
        || -> Vec<Box<dyn age::Recipient + Send>> { vec![Box::new(identity.to_public())] };

    write(&v, "identity.txt", format!("{IDENTITY}\n").as_bytes());
    write(&v, "payload_v1.json", &payload(1));

    let passphrase_only = encrypt(&payload(1), Some((&pass, CHEAP)), &[]).expect("encrypt");
    write(&v, "passphrase.age", &passphrase_only);
    let both = encrypt(&payload(1), Some((&pass, CHEAP)), &to_x25519()).expect("encrypt");
    write(&v, "passphrase_x25519.age", &both);
    let x_only = encrypt(&payload(1), None, &to_x25519()).expect("encrypt");
    write(&v, "x25519.age", &x_only);
    let armored = armor(&passphrase_only);
    write(&v, "armored.age", &armored);
    // Cut inside its last base64 line: the header still reads, the contents do not.
    write(&v, "armored_truncated.age", &armored[..armored.len() - 45]);

    // Damage.
    let n = passphrase_only.len();
    write(&v, "truncated_payload.age", &passphrase_only[..n - 20]);
    let header_end = passphrase_only
        .windows(4)
        .position(|w| w == b"\n---")
        .unwrap();
    write(&v, "truncated_header.age", &passphrase_only[..header_end]);
    // The X25519 stanza's first argument changes by one bit ('A' ^ 1 = '@' is not base64,
    // so flip between two base64 letters): the passphrase still unwraps the file key, and
    // the header MAC catches the change.
    let x_line = stanza_line(&both, "X25519");
    let arg = x_line.split(' ').nth(2).unwrap();
    let first = arg.as_bytes()[0];
    let flipped_char = if (first ^ 0x20).is_ascii_alphabetic() {
        first ^ 0x20
    } else {
        first ^ 0x01
    };
    let mut flipped_arg = arg.to_string().into_bytes();
    flipped_arg[0] = flipped_char;
    let flipped_arg = String::from_utf8(flipped_arg).unwrap();
    write(&v, "header_bitflip.age", &edit(&both, arg, &flipped_arg));
    let mut payload_flip = passphrase_only.clone();
    payload_flip[n - 10] ^= 0x01;
    write(&v, "payload_bitflip.age", &payload_flip);

    // Hostile KDF parameters: m one past the cap, t one past the cap.
    let p_line = stanza_line(&passphrase_only, "ttvault-argon2id");
    let salt = p_line.split(' ').nth(2).unwrap();
    let over_m = format!("-> ttvault-argon2id {salt} 1048577 2 1");
    write(
        &v,
        "kdf_memory_over_cap.age",
        &edit(&passphrase_only, &p_line, &over_m),
    );
    let over_t = format!("-> ttvault-argon2id {salt} 96 65 1");
    write(
        &v,
        "kdf_iterations_over_cap.age",
        &edit(&passphrase_only, &p_line, &over_t),
    );

    // Documents that are not version 1 JSON.
    write(
        &v,
        "payload_version_2.age",
        &encrypt(&payload(2), Some((&pass, CHEAP)), &[]).unwrap(),
    );
    write(
        &v,
        "payload_not_json.age",
        &encrypt(
            b"TT_API_CLIENT_ID=not json at all\n",
            Some((&pass, CHEAP)),
            &[],
        )
        .unwrap(),
    );
    write(&v, "empty.age", b"");
    write(
        &v,
        "legacy.secrets",
        b"# written by get_refresh_token.py\nTT_API_CLIENT_ID=legacy-id\nTT_API_CLIENT_SECRET=legacy-secret\nTT_REFRESH_TOKEN=legacy-token\n",
    );

    // Stock `age -p` (scrypt, default work factor), typed through a pty.
    let plain = std::env::temp_dir().join("ttvault-vector-payload.json");
    fs::write(&plain, payload(1)).unwrap();
    let out = v.join("age_scrypt.age");
    let cmd = format!("age -e -p -o {} {}", out.display(), plain.display());
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if have("age") && have("script") {
        let _ = fs::remove_file(&out);
        let typed = Command::new("script")
            .args(["-qc", &cmd, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{PASSPHRASE}\n{PASSPHRASE}\n").as_bytes())?;
                child.wait()
            });
        match typed {
            Ok(status) if status.success() && out.exists() => println!("wrote {}", out.display()),
            other => panic!("could not run age -e -p through script: {other:?}"),
        }
    } else {
        println!("no `age` or `script` here: keeping {}", out.display());
    }
    let _ = fs::remove_file(&plain);
    // The same file with its work factor raised past ttvault's scrypt cap (2^20).
    let scrypt = fs::read(&out).unwrap();
    let s_line = stanza_line(&scrypt, "scrypt");
    let over = format!("{} 21", s_line.rsplit_once(' ').unwrap().0);
    write(
        &v,
        "age_scrypt_over_cap.age",
        &edit(&scrypt, &s_line, &over),
    );

    // Fuzz seeds: real vaults for the fuzz targets' keys, cheapest parameters.
    let seeds = root.join("fuzz/seeds");
    let fuzz_pass = Passphrase::new("fuzz passphrase");
    let m8 = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
    let d = seeds.join("vault_decrypt");
    fs::create_dir_all(&d).unwrap();
    let fp = encrypt(&payload(1), Some((&fuzz_pass, m8)), &[]).expect("encrypt");
    write(&d, "passphrase.age", &fp);
    write(
        &d,
        "passphrase_x25519.age",
        &encrypt(&payload(1), Some((&fuzz_pass, m8)), &to_x25519()).unwrap(),
    );
    write(
        &d,
        "x25519.age",
        &encrypt(b"{}", None, &to_x25519()).unwrap(),
    );
    write(&d, "armored.age", &armor(&fp));
    let fp_line = stanza_line(&fp, "ttvault-argon2id");
    let fsalt = fp_line.split(' ').nth(2).unwrap();
    write(
        &d,
        "m_over_cap.age",
        &edit(
            &fp,
            &fp_line,
            &format!("-> ttvault-argon2id {fsalt} 1048577 1 1"),
        ),
    );
    write(
        &d,
        "t_over_cap.age",
        &edit(
            &fp,
            &fp_line,
            &format!("-> ttvault-argon2id {fsalt} 8 65 1"),
        ),
    );
    write(
        &d,
        "p_zero.age",
        &edit(&fp, &fp_line, &format!("-> ttvault-argon2id {fsalt} 8 1 0")),
    );
    // Stock age -p, its work factor lowered to 2^10 so the fuzzer does not crawl.
    let scrypt = fs::read(v.join("age_scrypt.age")).unwrap();
    let s_line = stanza_line(&scrypt, "scrypt");
    let cheap = format!("{} 10", s_line.rsplit_once(' ').unwrap().0);
    write(&d, "scrypt.age", &edit(&scrypt, &s_line, &cheap));

    let h = seeds.join("vault_header");
    fs::create_dir_all(&h).unwrap();
    for name in [
        "passphrase.age",
        "passphrase_x25519.age",
        "x25519.age",
        "armored.age",
        "m_over_cap.age",
        "scrypt.age",
    ] {
        write(&h, name, &fs::read(d.join(name)).unwrap());
    }

    let p = seeds.join("payload");
    fs::create_dir_all(&p).unwrap();
    write(&p, "v1.json", &payload(1));
    write(&p, "v2.json", &payload(2));
    write(&p, "array.json", b"[1]");
    write(
        &p,
        "custom_env.json",
        br#"{"version":1,"client_id":"c","client_secret":"s","refresh_token":"r","environment":{"kind":"custom","api_url":"http://127.0.0.1:9","authorize_url":"http://127.0.0.1:9/auth"},"scopes":[],"created_at":"2026-01-02T03:04:05Z","rotated_at":"2026-02-02T03:04:05.123Z","unknown":true}"#,
    );

    let r = seeds.join("vault_roundtrip");
    fs::create_dir_all(&r).unwrap();
    write(&r, "short", b"\x05hello\x01\x0bpassphrase\x01\x03\x01");
    write(&r, "no_passphrase", b"\x02{}\x00\x01\x00\x00");
    write(
        &r,
        "json",
        &[
            &[200u8][..],
            &payload(1)[..200],
            b"\x01\x04pw\x01\x00\x10\x00",
        ]
        .concat(),
    );

    let e = seeds.join("dotenv");
    fs::create_dir_all(&e).unwrap();
    write(
        &e,
        "legacy.secrets",
        &fs::read(v.join("legacy.secrets")).unwrap(),
    );
    write(
        &e,
        "awkward.env",
        "\u{feff}# c\r\nexport A = b # c\r\nB='x \"y\"'\r\nC=\"multi\nline \\\" \\\\ \\t\"\n\n  D.E_F=\n".as_bytes(),
    );
    write(&e, "bad_line.env", b"TT_API_CLIENT_SECRET hush-value\n");
    write(&e, "unclosed.env", b"K=\"never closed\nmore\n");
}
