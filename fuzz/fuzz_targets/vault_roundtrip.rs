//! A structured round trip: a plaintext and slot choice derived from the input, encrypted
//! with cheap argon2id parameters (decrypt accepts anything within the caps), decrypts to
//! the identical plaintext with every key it was sealed to, and not with a wrong one.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ttvault::secret::Passphrase;
use ttvault::vault::format::{decrypt, encrypt, Unlock};
use ttvault::vault::kdf::KdfParams;

const IDENTITY: &str = "AGE-SECRET-KEY-19DECNSWRKEDEAXJYG6KALYFFANXW95A0LVWRZ90T444JXU6FLWCQW30NEM";

#[derive(Arbitrary, Debug)]
struct Input {
    plaintext: Vec<u8>,
    passphrase: Option<String>,
    x25519: bool,
    /// argon2id m = 8 + memory (KiB), t = 1 + iterations % 2: always cheap.
    memory: u8,
    iterations: u8,
}

fuzz_target!(|input: Input| {
    let identity: age::x25519::Identity = IDENTITY.parse().expect("test identity");
    let mut recipients: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
    if input.x25519 {
        recipients.push(Box::new(identity.to_public()));
    }
    let params = KdfParams {
        memory_kib: 8 + u32::from(input.memory),
        iterations: 1 + u32::from(input.iterations % 2),
        parallelism: 1,
    };
    let passphrase = input.passphrase.map(Passphrase::new);
    let sealed = match encrypt(
        &input.plaintext,
        passphrase.as_ref().map(|p| (p, params)),
        &recipients,
    ) {
        Ok(sealed) => sealed,
        Err(e) => {
            // Only a vault with no slot at all is refused.
            assert!(passphrase.is_none() && !input.x25519, "{}", e.message);
            return;
        }
    };
    let header = ttvault::vault::header::parse(&sealed).expect("our own header parses");
    assert_eq!(header.has_passphrase_slot(), passphrase.is_some());

    if let Some(p) = &passphrase {
        let plain = decrypt(&sealed, Unlock::Passphrase(p)).expect("opens with its passphrase");
        assert_eq!(&plain[..], &input.plaintext[..]);
        let wrong = Passphrase::new(format!("{}!", p.expose()));
        let err = decrypt(&sealed, Unlock::Passphrase(&wrong)).expect_err("wrong passphrase");
        assert_eq!(err.code, ttvault::Code::Vault);
    }
    let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(identity)];
    let by_identity = decrypt(&sealed, Unlock::Identities(&ids));
    if input.x25519 {
        assert_eq!(
            &by_identity.expect("opens with its identity")[..],
            &input.plaintext[..]
        );
    } else {
        assert_eq!(
            by_identity.expect_err("no X25519 slot").code,
            ttvault::Code::Vault
        );
    }
});
