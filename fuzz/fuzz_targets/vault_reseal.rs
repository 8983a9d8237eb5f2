//! Arbitrary bytes into `vault::reseal::reseal` (the rewrite that keeps a vault's header
//! and only replaces its payload) with the fixed X25519 test identity, and a new document
//! taken from the input's tail. Oracles:
//! - no panic; an error is exit status 3 (the file) or 1, with a message;
//! - differential with age: whatever `format::decrypt` opens with this identity, reseal
//!   rewrites (it reads the header with age-core's own stanza grammar);
//! - a rewrite keeps the input's header byte for byte (dearmored), and age's decryptor
//!   opens it to exactly the new document.
//!
//! The test identity below exists only for the fuzzer and the test vectors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::vault::format::{decrypt, Unlock};
use ttvault::vault::reseal::reseal;
use ttvault::Code;

const IDENTITY: &str = "AGE-SECRET-KEY-19DECNSWRKEDEAXJYG6KALYFFANXW95A0LVWRZ90T444JXU6FLWCQW30NEM";

fuzz_target!(|data: &[u8]| {
    let identity: age::x25519::Identity = IDENTITY.parse().expect("test identity");
    let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(identity)];
    let new_document = &data[data.len().saturating_sub(100)..];
    let opened = decrypt(data, Unlock::Identities(&ids));
    match reseal(data, &ids, new_document) {
        Ok(file) => {
            let back = decrypt(&file, Unlock::Identities(&ids)).expect("a rewrite age cannot read");
            assert_eq!(back.as_slice(), new_document);
            let mac_line = file.windows(4).position(|w| w == b"--- ").expect("no MAC line");
            let header_end = mac_line + file[mac_line..].iter().position(|&b| b == b'\n').unwrap();
            let armored = data.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----");
            if !armored {
                assert_eq!(&file[..=header_end], &data[..=header_end], "the header changed");
            }
        }
        Err(e) => {
            assert!(
                e.code == Code::Vault || e.code == Code::Failure,
                "{:?}: {}",
                e.code,
                e.message
            );
            assert!(!e.message.is_empty());
            if let Ok(plain) = &opened {
                // age opened it, so its header and key are sound: only a document age
                // would refuse to hold could stop the rewrite, and this one is tiny.
                panic!(
                    "age opens this file ({} bytes of plaintext) but reseal refused it: {}",
                    plain.len(),
                    e.message
                );
            }
        }
    }
});
