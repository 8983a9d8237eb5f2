//! Arbitrary bytes as an agent request frame's body, read the way the agent reads one
//! (`Versioned` first, then `RequestFrame`). Never a panic; what parses as a request survives
//! `encode` → parse unchanged (the same op, floor and freshness); and the frame `encode`
//! builds is exactly its JSON behind a length prefix that `frame_len` accepts (a body
//! within the frame limit re-encodes no longer: whitespace, unknown fields and escapes go).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttvault::agent::protocol::{encode, frame_len, RequestFrame, Versioned, MAX_FRAME};

fuzz_target!(|data: &[u8]| {
    // The agent never reads a larger body.
    if data.len() > MAX_FRAME {
        return;
    }
    let _ = serde_json::from_slice::<Versioned>(data);
    if let Ok(request) = serde_json::from_slice::<RequestFrame>(data) {
        let frame = encode(&request);
        let len = frame_len(frame[..4].try_into().unwrap()).expect("a request fits a frame");
        assert_eq!(len, frame.len() - 4);
        let again: RequestFrame =
            serde_json::from_slice(&frame[4..]).expect("an encoded request parses");
        assert_eq!(again, request);
    }
});
