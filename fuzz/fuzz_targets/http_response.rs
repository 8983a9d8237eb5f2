//! Arbitrary bytes as a server's whole answer, through the one HTTP exchange every
//! request of ttvault makes (`ttvault::http::Wire`, the proxy-free loopback path): a
//! thread on 127.0.0.1 reads the request head, writes the input and closes. The cap is 64
//! bytes so the fuzzer reaches it; the deadline is 2 s.
//! Oracles: never a panic; the exchange ends; an answer has a status of three digits, a
//! status line naming it, and a body within the cap that (without chunked coding) is one
//! stretch of the input; `TooLarge` only when the input is longer than the cap or
//! declares a longer `Content-Length`; a loopback URL is never `Insecure`; an error's
//! detail holds no control character that survives `sanitize`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;
use ttvault::http::{Exchange, Method, Wire};
use ttvault::oauth::http::TransportKind;

const CAP: usize = 64;

fn wire() -> &'static Wire {
    static WIRE: OnceLock<Wire> = OnceLock::new();
    WIRE.get_or_init(|| Wire::new().expect("an HTTP client"))
}

/// Whether the input declares a body longer than the cap.
fn declares_more(input: &[u8]) -> bool {
    let text = String::from_utf8_lossy(input).to_ascii_lowercase();
    text.lines().any(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > CAP as u64)
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|input: &[u8]| {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let answer = input.to_vec();
    let server = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let _ = stream.write_all(&answer);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        // Drain until the client hangs up, so the answer is not cut by a reset.
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
    });
    let outcome = wire().send(&Exchange {
        method: Method::GET,
        url: &url,
        bearer: None,
        body: None,
        cap: CAP,
        deadline: Duration::from_secs(2),
    });
    match &outcome {
        Ok(a) => {
            assert!((100..=999).contains(&a.status), "status {}", a.status);
            assert!(a.status_line.contains(&a.status.to_string()), "{}", a.status_line);
            assert!(a.body.len() <= CAP, "{} bytes past the cap", a.body.len());
            let chunked = String::from_utf8_lossy(input)
                .to_ascii_lowercase()
                .contains("chunked");
            if !chunked {
                assert!(contains(input, &a.body), "a body that was not sent");
            }
        }
        Err(e) => {
            assert_ne!(e.kind, TransportKind::Insecure);
            if e.kind == TransportKind::TooLarge {
                assert!(
                    input.len() > CAP || declares_more(input),
                    "TooLarge from {} bytes",
                    input.len()
                );
            }
            let shown = ttvault::oauth::sanitize::sanitize(&e.detail, 200);
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
    }
    drop(outcome);
    let _ = server.join();
});
