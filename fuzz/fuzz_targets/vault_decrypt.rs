//! Arbitrary bytes into `vault::format::decrypt`, once with a fixed passphrase and once
//! with a fixed X25519 identity. Whatever the input, the outcome is a plaintext (the seeds
//! are real vaults for these keys) or an error with exit status 3, never a panic; and a
//! passphrase slot whose argon2id parameters are past the caps in kdf.rs is refused before
//! any work. Memory and time are bounded by libFuzzer's -rss_limit_mb and -timeout: a
//! hostile KDF parameter that the caps let through shows up as an OOM or timeout.
//!
//! The test identity below exists only for the fuzzer and the test vectors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::secret::Passphrase;
use ttvault::vault::format::{decrypt, Unlock, MAX_PLAINTEXT};
use ttvault::vault::header::{self, Slot};
use ttvault::Code;

const PASSPHRASE: &str = "fuzz passphrase";
const IDENTITY: &str = "AGE-SECRET-KEY-19DECNSWRKEDEAXJYG6KALYFFANXW95A0LVWRZ90T444JXU6FLWCQW30NEM";

fn check(outcome: ttvault::Result<zeroize::Zeroizing<Vec<u8>>>) {
    match outcome {
        Ok(plain) => {
            assert!(plain.len() as u64 <= MAX_PLAINTEXT);
            // Whatever decrypted, the payload reader copes with it.
            if let Err(e) = ttvault::vault::Payload::from_bytes(&plain) {
                assert_eq!(e.code, Code::Vault);
            }
        }
        Err(e) => {
            assert_eq!(e.code, Code::Vault, "{}", e.message);
            assert!(!e.message.is_empty());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // A passphrase slot past the caps must be what stops the work, whatever the key.
    let hostile = header::parse(data).ok().is_some_and(|h| {
        h.slots()
            .iter()
            .any(|s| matches!(s, Slot::Passphrase { kdf } if kdf.check_caps().is_err()))
    });

    let passphrase = Passphrase::new(PASSPHRASE);
    let outcome = decrypt(data, Unlock::Passphrase(&passphrase));
    if hostile {
        let Err(e) = &outcome else {
            panic!("a passphrase slot past the caps was computed");
        };
        assert!(
            e.message.contains("beyond what ttvault will compute"),
            "{}",
            e.message
        );
    }
    check(outcome);

    let identity: age::x25519::Identity = IDENTITY.parse().expect("test identity");
    let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(identity)];
    let outcome = decrypt(data, Unlock::Identities(&ids));
    if hostile {
        assert!(outcome.is_err());
    }
    check(outcome);
});
