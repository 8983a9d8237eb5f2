//! The loopback server's request reader (`server::request::RequestReader`): any bytes a
//! local program can send on one connection, handed over in chunks of a size the first
//! input byte picks (1–256 bytes per read), read request after request until the reader
//! refuses, fails or sees the end.
//! Oracles:
//! - never a panic, and never more than `MAX_HEAD` + `MAX_BODY` bytes held back;
//! - each request returned is exactly the next stretch of the input: optional blank
//!   lines, a head of at most `MAX_HEAD` bytes that begins `METHOD TARGET HTTP/1.x` and
//!   ends with a blank line, then the body, whose length is the `Content-Length` (0
//!   without one, never over `MAX_BODY`), with no `Transfer-Encoding`;
//! - a head refused as too large was not read past `MAX_HEAD` bytes;
//! - a request written back out (`METHOD TARGET HTTP/1.x`, its headers, its body) reads
//!   back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{self, Read};
use ttvault::oauth::server::request::{
    ReadError, Refusal, BrowserRequest, RequestReader, MAX_BODY, MAX_HEAD,
};

/// Hands over `data` at most `step` bytes per read, counting what it gave.
struct Chunked<'a> {
    data: &'a [u8],
    step: usize,
    given: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.given);
        buf[..n].copy_from_slice(&self.data[self.given..self.given + n]);
        self.given += n;
        Ok(n)
    }
}

fn is_blank(b: &u8) -> bool {
    matches!(b, b'\r' | b'\n')
}

fn header<'r>(r: &'r BrowserRequest, name: &str) -> Vec<&'r str> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn write_out(r: &BrowserRequest) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.{}\r\n", r.method, r.target, r.minor_version);
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&r.body);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let mut source = Chunked {
        data: input,
        step: step as usize + 1,
        given: 0,
    };
    let mut reader = RequestReader::new();
    // Where the request being read starts in the input.
    let mut start = 0;
    for _ in 0..64 {
        let result = reader.next(&mut source);
        assert!(reader.buffered() <= MAX_HEAD + MAX_BODY, "held back too much");
        let blanks = input[start..].iter().take_while(|b| is_blank(b)).count();
        let request = match result {
            Ok(r) => r,
            Err(ReadError::Refused(Refusal::HeadTooLarge)) => {
                assert!(
                    source.given <= start + blanks + MAX_HEAD,
                    "read on past a head that was too large"
                );
                return;
            }
            Err(_) => return,
        };
        let end = source.given - reader.buffered();
        let body_start = end - request.body.len();
        assert_eq!(&input[body_start..end], &request.body[..]);
        let head = &input[start + blanks..body_start];
        assert!(head.len() <= MAX_HEAD, "a head over the cap");
        assert!(head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"));
        let line = format!("{} {} HTTP/1.", request.method, request.target);
        assert!(head.starts_with(line.as_bytes()), "not the next request");
        assert!(request.minor_version <= 1);
        assert!(header(&request, "Transfer-Encoding").is_empty());
        let length: usize = header(&request, "Content-Length")
            .first()
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        assert_eq!(request.body.len(), length);
        assert!(length <= MAX_BODY);

        // Written back out, it reads back the same (header values as read, trimmed by
        // the HTTP grammar, contain no line breaks). A head that grew past the cap (bytes
        // that are not UTF-8 come back as U+FFFD, three bytes each) cannot.
        let again = write_out(&request);
        if again.len() - request.body.len() > MAX_HEAD {
            start = end;
            continue;
        }
        let mut echo = Chunked {
            data: &again,
            step: 4096,
            given: 0,
        };
        let back = RequestReader::new()
            .next(&mut echo)
            .expect("a request written back out reads back");
        assert_eq!(
            (&back.method, &back.target, back.minor_version),
            (&request.method, &request.target, request.minor_version)
        );
        assert_eq!(back.headers, request.headers);
        assert_eq!(&back.body[..], &request.body[..]);
        start = end;
    }
});
