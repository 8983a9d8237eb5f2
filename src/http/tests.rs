use super::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const MAX_BODY: usize = 1024 * 1024;

/// A GET with the token client's limits.
fn get(url: &str) -> Exchange<'_> {
    Exchange {
        method: reqwest::Method::GET,
        url,
        bearer: None,
        body: None,
        cap: MAX_BODY,
        deadline: Duration::from_secs(30),
    }
}

/// A one-connection server: reads the request head, writes `head`, then `body_len`
/// bytes of `x` (or until the client goes away). Returns the URL and a handle giving
/// the number of body bytes it managed to write.
fn server(head: String, body_len: u64) -> (String, std::thread::JoinHandle<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let mut out = stream;
        if out.write_all(head.as_bytes()).is_err() {
            return 0;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0u64;
        while sent < body_len {
            match out.write(&chunk) {
                Ok(n) if n > 0 => sent += n as u64,
                _ => break,
            }
        }
        sent
    });
    (url, handle)
}

#[test]
fn an_endless_answer_is_cut_at_the_cap() {
    // No Content-Length: the body ends when the connection does, which is never.
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    let (url, written) = server(head.into(), 3000 * 1024 * 1024);
    let client = Wire::new().unwrap();
    let err = client.send(&get(&url)).unwrap_err();
    assert_eq!(err.kind, TransportKind::TooLarge, "{err:?}");
    drop(client);
    // The server gave up long before 3000 MiB: ttvault stopped reading and hung up.
    let sent = written.join().unwrap();
    assert!(sent < 256 * 1024 * 1024, "{sent} bytes were taken");
}

#[test]
fn a_declared_huge_length_is_refused_unread() {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        3000u64 * 1024 * 1024
    );
    let (url, written) = server(head, 3000 * 1024 * 1024);
    let err = Wire::new().unwrap().send(&get(&url)).unwrap_err();
    assert_eq!(err.kind, TransportKind::TooLarge);
    assert!(written.join().unwrap() < 256 * 1024 * 1024);
}

#[test]
fn an_answer_at_the_cap_is_read_whole() {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {MAX_BODY}\r\n\r\n"
    );
    let (url, written) = server(head, MAX_BODY as u64);
    let response = Wire::new().unwrap().send(&get(&url)).unwrap();
    assert_eq!(response.body.len(), MAX_BODY);
    assert_eq!(written.join().unwrap(), MAX_BODY as u64);
}

#[test]
fn plain_http_to_another_computer_is_not_sent() {
    let err = Wire::new()
        .unwrap()
        .send(&get("http://192.0.2.1:9/oauth/token"))
        .unwrap_err();
    assert_eq!(err.kind, TransportKind::Insecure);
}

#[test]
fn refused_connection_is_classified() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let client = Wire::new().unwrap();
    let url = format!("http://127.0.0.1:{port}/oauth/token");
    let err = client.send(&get(&url)).unwrap_err();
    assert_eq!(err.kind, TransportKind::Refused, "{err:?}");
}

#[test]
fn a_trickling_answer_ends_at_the_deadline() {
    // Headers at once, then one byte a second of a declared 1000: every read succeeds,
    // so only a deadline over the whole exchange ends it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let mut out = stream;
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
        let mut whole = out.write_all(head.as_bytes()).is_ok();
        for _ in 0..1000 {
            if !whole || out.write_all(b" ").is_err() {
                whole = false;
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        let _ = done_tx.send(whole);
    });
    let mut exchange = get(&url);
    exchange.deadline = Duration::from_secs(2);
    let err = Wire::new().unwrap().send(&exchange).unwrap_err();
    assert_eq!(err.kind, TransportKind::Timeout, "{err:?}");
    assert!(err.detail.contains("within 2 s"), "{}", err.detail);
    // The server was still trickling: it found the connection closed, not finished.
    assert!(!done_rx.recv().unwrap(), "the whole answer was sent first");
}

#[test]
fn a_cancel_abandons_the_exchange_in_flight_and_refuses_later_ones() {
    // A server that takes the request and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
    let (arrived_tx, arrived) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        arrived_tx.send(()).unwrap();
        // Held open until the client goes away.
        let _ = reader.read_line(&mut line);
    });
    let wire = std::sync::Arc::new(Wire::new().unwrap());
    let sender = {
        let wire = std::sync::Arc::clone(&wire);
        std::thread::spawn(move || wire.send(&get(&url)).unwrap_err())
    };
    arrived.recv().unwrap();
    wire.cancel();
    let err = sender.join().unwrap();
    assert_eq!(err.kind, TransportKind::Other, "{err:?}");
    assert!(err.detail.contains("abandoned"), "{}", err.detail);
    let later = wire.send(&get("http://127.0.0.1:9/x")).unwrap_err();
    assert!(later.detail.contains("abandoned"), "{}", later.detail);
}
