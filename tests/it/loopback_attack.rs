//! Another program on the same computer attacks `ttvault init`'s loopback server while
//! it waits for the browser: it reads `/` for the state, forges callbacks, floods the
//! port past ttvault's descriptor limit, stalls connections, pipelines thousands of
//! requests, and sends a header without end. After each attack the real browser flow
//! must still complete, with the real grant, and the port must never be free for the
//! attacker to take (docs/OAUTH.md "The loopback server", SECURITY.md).

use crate::common::*;
use crate::flow::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const SECRET_ENV: (&str, &str) = ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET);

/// `ttvault init` with the client id and secret known, waiting for the browser.
fn waiting_init(dir: &Dir, standin: &tt_standin::StandIn, port: u16, timeout: &str) -> Flow {
    let redirect = redirect_for(port);
    start(
        dir,
        standin,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &redirect,
            "--timeout",
            timeout,
        ],
        &[SECRET_ENV],
    )
}

/// The user's real browser: the start page (`start_url`, printed by ttvault),
/// Tastytrade's consent, the callback. The vault then holds the grant of this callback's
/// code.
fn real_browser_completes(dir: &Dir, standin: &tt_standin::StandIn, flow: Flow, start_url: &str) {
    let callback = standin.decide_url(&follow_start(start_url), true).unwrap();
    let code = param(&callback, "code").unwrap();
    let page = get(&callback);
    assert_eq!(page.status, 200, "{}", page.body);
    flow.finish().success();
    let exchanged = standin.token_requests()[0].form();
    assert!(
        exchanged.contains(&("code".to_string(), code)),
        "the vault's grant came from the real callback"
    );
    assert!(dir.join(".secrets").exists());
}

/// The attacker's raw HTTP/1.1 GET (its own Host header, as a browser would send it).
fn attacker_get(port: u16, target: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

/// Whether another program could listen on `port` now (on 127.0.0.1 or ::1).
fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok() || TcpListener::bind(("::1", port)).is_ok()
}

/// Polls `probe` until it gives a value; a minute without one fails the test (the event
/// it waits for never came).
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < give_up, "{what} never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_root_path_reveals_nothing_and_a_forged_callback_is_refused() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "60s");
    let start_url = flow.url();
    // The attacker reads every address it can think of for the state.
    let mut stolen = None;
    for target in [
        "/",
        "/start",
        "/start/",
        "/credentials",
        "/favicon.ico",
        "/?x=1",
    ] {
        let (status, text) = attacker_get(port, target);
        assert!(matches!(status, 404 | 405), "{target}: {status}");
        let lower = text.to_ascii_lowercase();
        for clue in ["state=", "code_challenge", "location:", "auth.html"] {
            assert!(!lower.contains(clue), "{target} shows {clue}");
        }
        stolen = stolen.or_else(|| {
            text.lines()
                .find_map(|l| l.strip_prefix("Location: "))
                .and_then(|l| param(l.trim(), "state"))
        });
    }
    // Its own authorization code, with whatever state it found: refused.
    let forged = format!("/?code=ATTACKER-CODE&state={}", stolen.unwrap_or_default());
    assert_eq!(attacker_get(port, &forged).0, 400);
    real_browser_completes(&dir, &standin, flow, &start_url);
}

#[test]
fn an_error_callback_without_the_state_does_not_end_the_flow() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "60s");
    let start_url = flow.url();
    // What `<img src="http://localhost:PORT/?error=access_denied">` on any web page sends.
    assert_eq!(attacker_get(port, "/?error=access_denied").0, 400);
    assert_eq!(
        attacker_get(port, "/?error=access_denied&state=forged").0,
        400
    );
    real_browser_completes(&dir, &standin, flow, &start_url);
}

/// ttvault is left 32 descriptors (prlimit, after it has started); the attacker holds
/// 200 connections open at once, each with a request.
#[cfg(target_os = "linux")]
#[test]
fn a_connection_flood_past_the_descriptor_limit_neither_stops_the_listener_nor_frees_the_port() {
    if !require_tool("prlimit") {
        return;
    }
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "120s");
    let start_url = flow.url();
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &flow.pid().to_string(), "--nofile=32:32"])
        .status()
        .unwrap();
    assert!(limited.success(), "prlimit failed");

    let request = format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    let flood: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            // Sent whole, or refused when ttvault has closed it after answering.
            let _ = s.write_all(request.as_bytes());
            s
        })
        .collect();
    assert!(!port_is_free(port), "the port was free during the flood");
    // Every connection is answered in turn, however far past the limit the flood went.
    for (i, mut s) in flood.into_iter().enumerate() {
        let mut answer = Vec::new();
        let read = s.read_to_end(&mut answer);
        assert!(
            answer.starts_with(b"HTTP/1.1 404"),
            "connection {i} got no answer ({read:?})"
        );
    }
    assert!(!port_is_free(port), "the port was free after the flood");
    real_browser_completes(&dir, &standin, flow, &start_url);
}

/// A form post promising 5000 bytes that never come, half a request line, and a
/// connection that says nothing.
fn stallers(port: u16) -> Vec<TcpStream> {
    let post = format!(
        "POST /credentials HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\ncsrf="
    );
    [post.as_str(), "GET /?code=", ""]
        .iter()
        .map(|sent| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(sent.as_bytes()).unwrap();
            s
        })
        .collect()
}

#[test]
fn stalled_connections_do_not_stall_the_browser() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "60s");
    let start_url = flow.url();
    let _held = stallers(port);
    real_browser_completes(&dir, &standin, flow, &start_url);
}

#[test]
fn stalled_connections_do_not_outlast_the_timeout() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "2s");
    let _ = flow.url();
    let _held = stallers(port);
    flow.finish()
        .code(1)
        .stderr_has("no answer from the browser within 2s");
    assert!(!dir.join(".secrets").exists());
}

/// Opens a connection and sends 30,000 pipelined requests on it from a thread of its
/// own (ttvault may stop reading them).
fn pipeliner(port: u16) -> (TcpStream, std::thread::JoinHandle<()>) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let one = format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n");
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(one.repeat(30_000).as_bytes());
    });
    (stream, sending)
}

#[test]
fn thirty_thousand_pipelined_requests_are_cut_short_and_do_not_starve_the_browser() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "60s");
    let start_url = flow.url();
    // One pipeliner never reads an answer, holding its connection open meanwhile.
    let (_unread, unread_sending) = pipeliner(port);
    // Another reads every answer until ttvault ends the connection.
    let (mut reading, sending) = pipeliner(port);
    reading
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut answers = Vec::new();
    let ended = reading.read_to_end(&mut answers);
    assert!(
        !matches!(&ended, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "ttvault kept the pipelining connection open"
    );
    let answered = String::from_utf8_lossy(&answers)
        .matches("HTTP/1.1 404")
        .count();
    assert!(answered <= 32, "{answered} answers on one connection");
    real_browser_completes(&dir, &standin, flow, &start_url);
    sending.join().unwrap();
    unread_sending.join().unwrap();
}

#[test]
fn a_header_without_end_is_cut_off_at_its_cap() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let flow = waiting_init(&dir, &standin, port, "60s");
    let start_url = flow.url();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nX-Big: ").as_bytes())
        .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0usize;
    let cut = loop {
        if sent >= 64 * 1024 * 1024 {
            break None;
        }
        match s.write_all(&chunk) {
            Ok(()) => sent += chunk.len(),
            Err(e) => break Some(e),
        }
    };
    let cut = cut.expect("ttvault read a 64 MiB header line");
    assert!(
        matches!(
            cut.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
        ),
        "ttvault stopped reading but did not close: {cut}"
    );
    real_browser_completes(&dir, &standin, flow, &start_url);
}

/// The opener `$BROWSER` names exits at once (as xdg-open does); ttvault must reap it
/// while it waits, not leave a `<defunct>` process until it exits.
#[cfg(target_os = "linux")]
#[test]
fn the_browser_opener_is_reaped_while_ttvault_waits() {
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let pid_file = dir.join("opener.pid");
    let browser = format!("sh -c 'echo $$ > \"$1\"' sh {}", pid_file.display());
    let redirect = redirect_for(port);
    let flow = start_with_browser(
        &dir,
        &standin,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &redirect,
            "--timeout",
            "120s",
        ],
        &[SECRET_ENV, ("BROWSER", &browser)],
    );
    let start_url = flow.url();
    let opener = wait_for("the opener's start", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .filter(|s| s.ends_with('\n'))
            .and_then(|s| s.trim().parse::<u32>().ok())
    });
    let ttvault = flow.pid().to_string();
    wait_for("the opener's reaping", || {
        let stat = std::fs::read_to_string(format!("/proc/{opener}/stat")).ok();
        // Gone, or the number already reused by a process that is not ttvault's child.
        let child = stat.is_some_and(|s| {
            s.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                == Some(ttvault.as_str())
        });
        (!child).then_some(())
    });
    real_browser_completes(&dir, &standin, flow, &start_url);
}
