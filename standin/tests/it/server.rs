//! The server as a whole: recording, concurrency, the slow token endpoint, garbage input,
//! and shutdown.

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;
use tt_standin::{Config, StandIn};

#[test]
fn every_request_is_recorded_in_order() {
    let s = standin(Config::default());
    let base = s.base_url();
    get(&base, "/customers/me?x=1&y=%20");
    token_json(
        &base,
        &serde_json::json!({ "grant_type": "refresh_token", "n": 2 }),
    );
    token_form(&base, &[("grant_type", "refresh_token"), ("a b", "c&d")]);

    let all = s.requests();
    assert_eq!(all.len(), 3);
    let first = &all[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/customers/me");
    assert_eq!(first.query, "x=1&y=%20");
    assert_eq!(
        first.query_params(),
        [("x".into(), "1".into()), ("y".into(), " ".into())]
    );
    assert_eq!(first.header("User-Agent"), Some(UA));
    assert!(
        first.headers.iter().any(|(n, _)| n == "user-agent"),
        "lowercased"
    );

    let tokens = s.token_requests();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], all[1]);
    assert_eq!(
        tokens[0].form(),
        [
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("n".to_string(), "2".to_string())
        ]
    );
    assert_eq!(
        tokens[1].form(),
        [
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("a b".to_string(), "c&d".to_string())
        ]
    );
    assert_eq!(
        tokens[1].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );

    s.clear_requests();
    assert!(s.requests().is_empty());
}

#[test]
fn two_hundred_concurrent_clients() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    let handles: Vec<_> = (0..200)
        .map(|i| {
            let base = base.clone();
            let rt = rt.clone();
            let at = at.clone();
            thread::spawn(move || match i % 4 {
                0 => refresh(&base, &rt).status,
                1 => api_get(&base, "/customers/me/accounts", &at).status,
                2 => api_get(&base, "/option-chains/SPX/nested", &at).status,
                _ => get(&base, &authorize_target(&[("state", "x")])).status,
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    assert_eq!(s.requests().len(), 200);
    assert_eq!(s.token_requests().len(), 50);
}

#[test]
fn a_slow_token_endpoint_does_not_block_other_routes() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    let delay = Duration::from_secs(3);
    s.set_token_delay(delay);
    // More slow requests than there are token workers.
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let base = base.clone();
            let rt = rt.clone();
            thread::spawn(move || {
                let started = Instant::now();
                let status = refresh(&base, &rt).status;
                (status, started.elapsed())
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(200));
    assert_eq!(api_get(&base, "/customers/me", &at).status, 200);
    assert_eq!(get(&base, &authorize_target(&[])).status, 200);
    // Both answered while every slow refresh still waits: they did not queue behind them.
    assert!(
        !slow.iter().any(|h| h.is_finished()),
        "the API waited behind the token endpoint"
    );
    for h in slow {
        let (status, took) = h.join().unwrap();
        assert_eq!(status, 200);
        assert!(took >= delay, "{took:?}");
    }
    s.set_token_delay(Duration::ZERO);
    let started = Instant::now();
    assert_eq!(refresh(&base, &rt).status, 200);
    assert!(started.elapsed() < delay, "the delay was not lifted");
}

#[test]
fn garbage_never_takes_the_server_down() {
    let s = standin(Config::default());
    let base = s.base_url();
    let garbage: [&[u8]; 6] = [
        b"\x00\x01\x02\xff\xfe\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /customers/me HTTP/9.9\r\n\r\n",
        b"POST /oauth/token HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
        b"POST /oauth/token HTTP/1.1\r\nUser-Agent: a/1\r\nContent-Length: 10\r\nConnection: close\r\n\r\n\xff\xfe\x00%%%&&=",
        b"GET /auth.html?%ff%fe=%00 HTTP/1.1\r\nUser-Agent: a/1\r\nConnection: close\r\n\r\n",
    ];
    for bytes in garbage {
        // Whatever the answer (or none, for a connection tiny_http drops), the server lives.
        let addr = base.trim_start_matches("http://");
        if let Ok(mut stream) = TcpStream::connect(addr) {
            use std::io::{Read, Write};
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let _ = stream.write_all(bytes);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf);
            if let Some(code) = text.split(' ').nth(1) {
                assert!(code.starts_with('4'), "{bytes:?} -> {text}");
            }
        }
    }
    let r = raw(
        &base,
        b"POST /oauth/token HTTP/1.1\r\nUser-Agent: a/1\r\nContent-Length: 7\r\nConnection: close\r\n\r\n\xff\xfe=%%%&",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_code"], "invalid_request");
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    assert_eq!(api_get(&base, "/customers/me", &at).status, 200);
}

#[test]
fn oversized_bodies_are_refused() {
    let s = standin(Config::default());
    let body = "a".repeat((1 << 20) + 10);
    let r = request(
        &s.base_url(),
        "POST",
        "/oauth/token",
        &[
            ("User-Agent", UA),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &body,
    );
    assert_eq!(r.status, 413);
}

#[test]
fn configured_port_and_urls() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = StandIn::start(Config {
        port,
        ..Config::default()
    })
    .unwrap();
    assert_eq!(s.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(
        s.authorize_url(),
        format!("http://127.0.0.1:{port}/auth.html")
    );
    assert_eq!(
        s.token_url(),
        format!("http://127.0.0.1:{port}/oauth/token")
    );
    // The port is taken while it runs.
    assert!(StandIn::start(Config {
        port,
        ..Config::default()
    })
    .is_err());
}

#[test]
fn drop_stops_the_server_promptly() {
    let s = standin(Config::default());
    let base = s.base_url();
    let addr = base.trim_start_matches("http://").to_string();
    let rt = s.personal_grant(CLIENT_ID, "read");
    s.set_token_delay(Duration::from_secs(30));
    let pending = {
        let base = base.clone();
        thread::spawn(move || {
            // The answer may be lost when the server stops; only the server's side matters.
            std::panic::catch_unwind(|| refresh(&base, &rt)).ok();
        })
    };
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    drop(s);
    // It did not wait for the pending refresh's 30 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // Nothing listens any more.
    thread::sleep(Duration::from_millis(100));
    assert!(TcpStream::connect(&addr).is_err());
    pending.join().unwrap();
}
