use super::*;

/// A client that hands over its bytes `step` at a time, then reports the end.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    /// Bytes handed over so far.
    given: usize,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8], step: usize) -> Self {
        Trickle {
            data,
            step,
            given: 0,
        }
    }
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.given += n;
        Ok(n)
    }
}

fn refusal(result: Result<BrowserRequest, ReadError>) -> Refusal {
    match result {
        Err(ReadError::Refused(r)) => r,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_request_is_read_whole_however_it_trickles_in() {
    let raw = b"POST /credentials HTTP/1.1\r\nHost: localhost:8000\r\nContent-Length: 11\r\n\r\nclient_id=x";
    for step in [1, 2, 7, 4096] {
        let mut source = Trickle::new(raw, step);
        let mut reader = RequestReader::new();
        let r = reader.next(&mut source).unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("POST", "/credentials")
        );
        assert_eq!(r.minor_version, 1);
        assert_eq!(r.header("host"), Some("localhost:8000"));
        assert_eq!(&r.body[..], b"client_id=x");
        assert!(!r.wants_close());
        assert!(matches!(reader.next(&mut source), Err(ReadError::Closed)));
    }
}

#[test]
fn pipelined_requests_come_out_one_by_one_in_order() {
    let mut raw = Vec::new();
    for i in 0..5 {
        raw.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\nGET /last HTTP/1.0\n\n");
    let mut source = Trickle::new(&raw, 4096);
    let mut reader = RequestReader::new();
    for i in 0..5 {
        assert_eq!(reader.next(&mut source).unwrap().target, format!("/{i}"));
    }
    let last = reader.next(&mut source).unwrap();
    assert_eq!(last.target, "/last");
    assert!(last.wants_close(), "HTTP/1.0 ends the connection");
    assert_eq!(reader.buffered(), 0);
}

#[test]
fn a_head_past_the_cap_is_refused_without_reading_on() {
    let mut raw = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    raw.resize(8 * MAX_HEAD, b'a');
    let mut source = Trickle::new(&raw, 4096);
    let mut reader = RequestReader::new();
    assert_eq!(refusal(reader.next(&mut source)), Refusal::HeadTooLarge);
    assert!(source.given <= MAX_HEAD, "read {} bytes", source.given);
    assert_eq!(Refusal::HeadTooLarge.status(), 431);

    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..(MAX_HEADERS + 1) {
        many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(
        refusal(RequestReader::new().next(&mut Trickle::new(&many, 4096))),
        Refusal::HeadTooLarge
    );
}

#[test]
fn bodies_past_the_cap_and_other_framings_are_refused() {
    for (raw, expected) in [
        (
            format!(
                "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                MAX_BODY + 1
            ),
            Refusal::BodyTooLarge,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n".into(),
            Refusal::BodyTooLarge,
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into(),
            Refusal::Unsupported,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".into(),
            Refusal::Malformed,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n".into(),
            Refusal::Malformed,
        ),
        ("GARBAGE\r\n\r\n".into(), Refusal::Malformed),
        ("GET / SPDY/3\r\n\r\n".into(), Refusal::Malformed),
    ] {
        let mut source = Trickle::new(raw.as_bytes(), 4096);
        assert_eq!(
            refusal(RequestReader::new().next(&mut source)),
            expected,
            "{raw}"
        );
    }
}

#[test]
fn a_client_that_stops_mid_request_is_an_error_not_a_request() {
    for raw in [
        &b"GET / HTTP/1.1\r\nHost: x"[..],
        b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\nabc",
    ] {
        match RequestReader::new().next(&mut Trickle::new(raw, 4096)) {
            Err(ReadError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_failing_read_is_passed_on() {
    struct TimesOut;
    impl Read for TimesOut {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }
    match RequestReader::new().next(&mut TimesOut) {
        Err(ReadError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
        other => panic!("{other:?}"),
    }
}

#[test]
fn connection_close_in_a_token_list_is_seen() {
    let raw = b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n";
    let r = RequestReader::new()
        .next(&mut Trickle::new(raw, 4096))
        .unwrap();
    assert!(r.wants_close());
}
