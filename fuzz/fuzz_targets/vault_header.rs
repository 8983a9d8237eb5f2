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

/// The stanzas as age-core's own parser reads them (age's header is the version line,
/// `many1(legacy_age_stanza)`, then the MAC line), for a binary header.
fn age_stanzas(data: &[u8]) -> Option<Vec<StanzaInfo>> {
    let mut rest = data.strip_prefix(format!("{AGE_V1}\n").as_bytes())?;
    let mut out = Vec::new();
    while let Ok((next, s)) = age_core::format::read::legacy_age_stanza(rest) {
        out.push(StanzaInfo {
            tag: s.tag.to_string(),
            args: s.args.iter().map(|a| a.to_string()).collect(),
        });
        rest = next;
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    // Differential: a header age itself reads must not be refused by ours, or `status`
    // and the caps pre-check in decrypt would turn away a file age can open.
    let age_reads = age::Decryptor::new(age::armor::ArmoredReader::new(data)).is_ok();
    let parsed = match header::parse(data) {
        Ok(h) => h,
        // Our deliberate limits: at most MAX_STANZAS stanzas, lines of at most 4096 bytes.
        Err(HeaderError::Malformed("too many stanzas")) => return,
        Err(e) if age_reads && data.len() <= 4096 => {
            panic!("age reads this header, ours says {e:?}")
        }
        Err(HeaderError::NotAge) => {
            assert!(!data.starts_with(b"age-encryption.org/v1\n"));
            return;
        }
        Err(HeaderError::Malformed(_)) => return,
    };
    assert!(!parsed.stanzas.is_empty());
    // When age reads it too, both see the same stanzas, so the caps pre-check in decrypt
    // checks what age will hand to the identities.
    if age_reads && !parsed.armored {
        let theirs = age_stanzas(data).expect("age read a v1 header");
        assert_eq!(parsed.stanzas, theirs, "our stanzas differ from age's");
    }
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
