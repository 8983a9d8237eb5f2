//! Arbitrary bytes into the header reader (`status` runs it on any file, without a
//! passphrase). It must never panic, and what it accepts must survive a trip through
//! age's textual header form: re-serializing the stanzas' tags and arguments and parsing
//! that again gives the same tags and arguments. And a header that age's own reader
//! accepts is accepted here too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::vault::header::{self, HeaderError, StanzaInfo, AGE_V1};

/// age's textual header for these stanzas: `-> tag args…`, an empty body (a line shorter
/// than 64 columns ends it), then the MAC line.
fn serialize(stanzas: &[StanzaInfo]) -> Vec<u8> {
    let mut out = format!("{AGE_V1}\n");
    for s in stanzas {
        out.push_str("-> ");
        out.push_str(&s.tag);
        for a in &s.args {
            out.push(' ');
            out.push_str(a);
        }
        out.push_str("\n\n");
    }
    out.push_str("--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    out.into_bytes()
}

fuzz_target!(|data: &[u8]| {
    // Differential: a header age itself reads must not be refused by ours, or `status`
    // and the caps pre-check in decrypt would turn away a file age can open.
    let age_reads = age::Decryptor::new(age::armor::ArmoredReader::new(data)).is_ok();
    let parsed = match header::parse(data) {
        Ok(h) => h,
        Err(e) if age_reads => panic!("age reads this header, ours says {e:?}"),
        Err(HeaderError::NotAge) => {
            assert!(!data.starts_with(b"age-encryption.org/v1\n"));
            return;
        }
        Err(HeaderError::Malformed(_)) => return,
    };
    assert!(!parsed.stanzas.is_empty());
    assert!(parsed.stanzas.len() <= header::MAX_STANZAS);
    for s in &parsed.stanzas {
        assert!(!s.tag.is_empty() && !s.tag.contains([' ', '\n']));
        for a in &s.args {
            assert!(!a.is_empty() && !a.contains([' ', '\n']));
        }
    }
    // Classifying never panics, whatever the arguments.
    let slots = parsed.slots();
    let _ = parsed.has_passphrase_slot();
    let _ = serde_json::to_string(&slots).expect("slots serialize");

    let text = serialize(&parsed.stanzas);
    let again = header::parse(&text).expect("a re-serialized header parses");
    assert!(!again.armored);
    assert_eq!(parsed.stanzas, again.stanzas);
    assert_eq!(slots, again.slots());
});
