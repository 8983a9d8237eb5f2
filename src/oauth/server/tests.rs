//! The server over real sockets: what a browser (or another local program) sees.

use super::*;
use crate::error::Error;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// A raw HTTP/1.1 exchange (no client library: Host and Origin are ours to forge).
fn raw(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

fn get(port: u16, target: &str) -> (u16, String) {
    get_host(port, target, &format!("localhost:{port}"))
}

fn get_host(port: u16, target: &str, host: &str) -> (u16, String) {
    raw(
        port,
        &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
}

fn post(port: u16, body: &str, origin: Option<&str>) -> (u16, String) {
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    raw(
        port,
        &format!(
            "POST /credentials HTTP/1.1\r\nHost: localhost:{port}\r\n{origin}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

const STATE: &str = "st-abc-123";
const AUTH: &str = "http://127.0.0.1:1/auth.html?client_id=c&state=st-abc-123";

type Outcome = Result<(AuthCode, Option<(String, ClientSecret)>, Responder), LoopbackError>;

struct Running {
    port: u16,
    start_path: String,
    csrf: String,
    outcome: Receiver<Outcome>,
    /// Speaks to the flow as a listener would.
    events: Sender<Event>,
}

/// Runs `wait` on a thread of its own. The server lives on until `keep` is dropped.
fn serve(form: bool, timeout: Duration) -> (Running, Sender<()>) {
    let server = Server::bind_port(0, "/").unwrap();
    let running = |outcome| Running {
        port: server.port(),
        start_path: server.start_path.clone(),
        csrf: server.csrf.expose().to_string(),
        outcome,
        events: server.events_in.clone(),
    };
    let (tx, rx) = mpsc::channel();
    let running = running(rx);
    let (keep, kept) = mpsc::channel::<()>();
    thread::spawn(move || {
        let mut server = server;
        let authorize = |id: &str| -> crate::Result<String> {
            if id == "bad" {
                Err(Error::usage("the client id is empty"))
            } else {
                Ok(AUTH.to_string())
            }
        };
        let start = if form {
            Start::Form {
                client_id: None,
                authorize: &authorize,
            }
        } else {
            Start::Authorize(AUTH)
        };
        let r = server.wait(start, &OAuthState::new(STATE), timeout);
        let _ = tx.send(r.map(|cb| (cb.code, cb.credentials, cb.responder)));
        // Keep the server (and its answers after the flow) until the test is done.
        let _ = kept.recv();
    });
    (running, keep)
}

fn secret_free(page: &str) {
    for s in ["hunter2", "code-xyz", STATE] {
        // The page is not printed: it would show the secret.
        assert!(!page.contains(s), "a secret leaked into a page");
    }
}

#[test]
fn callback_flow_refuses_forgeries_and_holds_the_answer() {
    let (run, _keep) = serve(false, Duration::from_secs(60));
    let port = run.port;
    // Only the start path sends the browser on to Tastytrade; `/` shows nothing.
    let (status, resp) = get(port, &run.start_path);
    assert_eq!(status, 302);
    assert!(resp.contains(&format!("Location: {AUTH}\r\n")), "{resp}");
    let (status, page) = get(port, "/");
    assert_eq!(status, 404);
    secret_free(&page);
    // A foreign Host (DNS rebinding) is refused.
    let (status, page) = get_host(
        port,
        &format!("/?code=code-xyz&state={STATE}"),
        &format!("evil.example:{port}"),
    );
    assert_eq!(status, 400);
    secret_free(&page);
    // Wrong and missing state: refused, and the server keeps waiting.
    let (status, page) = get(port, "/?code=code-xyz&state=nope");
    assert_eq!(status, 400);
    secret_free(&page);
    assert_eq!(get(port, "/?code=code-xyz").0, 400);
    assert_eq!(get(port, "/favicon.ico").0, 404);
    let delete = format!(
        "DELETE {} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n",
        run.start_path
    );
    assert_eq!(raw(port, &delete).0, 405);
    assert!(run.outcome.try_recv().is_err(), "still waiting");

    // The real callback (with an extra RFC 9207 `iss`): held until the caller answers.
    let real = thread::spawn(move || {
        get(
            port,
            &format!("/?code=code-xyz&state={STATE}&iss=https%3A%2F%2Fx"),
        )
    });
    let (code, creds, responder) = run.outcome.recv().unwrap().unwrap();
    assert_eq!(code.expose(), "code-xyz");
    assert!(creds.is_none());
    // A replay while the caller verifies gets "already used", and so does the start path.
    let (status, page) = get(port, &format!("/?code=code-xyz&state={STATE}"));
    assert_eq!(status, 410);
    assert!(page.contains("already used"));
    assert_eq!(get(port, &run.start_path).0, 410);
    responder.success("The grant works.");
    let (status, page) = real.join().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("The grant works."));
    secret_free(&page);
}

#[test]
fn denied_consent_with_the_state_ends_the_flow() {
    let (run, _keep) = serve(false, Duration::from_secs(60));
    let (status, page) = get(run.port, &format!("/?error=access_denied&state={STATE}"));
    assert_eq!(status, 400);
    assert!(page.contains("declined"));
    assert_eq!(
        run.outcome.recv().unwrap().err(),
        Some(LoopbackError::Declined)
    );
}

#[test]
fn an_error_without_the_state_does_not_end_the_flow() {
    let (run, _keep) = serve(false, Duration::from_secs(2));
    assert_eq!(get(run.port, "/?error=access_denied").0, 400);
    assert_eq!(get(run.port, "/?error=access_denied&state=forged").0, 400);
    assert_eq!(
        run.outcome.recv().unwrap().err(),
        Some(LoopbackError::TimedOut(Duration::from_secs(2)))
    );
}

#[test]
fn a_second_load_of_the_start_page_ends_the_flow() {
    let (run, _keep) = serve(false, Duration::from_secs(60));
    assert_eq!(get(run.port, &run.start_path).0, 302);
    let (status, page) = get(run.port, &run.start_path);
    assert_eq!(status, 410);
    assert!(page.contains("works once"), "{page}");
    assert!(!page.contains(STATE));
    assert_eq!(
        run.outcome.recv().unwrap().err(),
        Some(LoopbackError::StartReused)
    );
}

#[test]
fn credentials_form_with_csrf_and_origin_checks() {
    let (run, _keep) = serve(true, Duration::from_secs(60));
    let (port, csrf) = (run.port, run.csrf.clone());
    let (status, page) = get(port, &run.start_path);
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/credentials\""));
    assert_eq!(get(port, "/").0, 404);
    // Wrong CSRF token, foreign origin: refused.
    assert_eq!(
        post(port, "csrf=wrong&client_id=cid&client_secret=hunter2", None).0,
        403
    );
    let good = format!("csrf={csrf}&client_id=cid&client_secret=hunter2");
    assert_eq!(post(port, &good, Some("http://evil.example")).0, 403);
    let (status, page) = post(port, &format!("csrf={csrf}&client_id=cid"), None);
    assert_eq!(status, 400);
    assert!(page.contains("Enter both"));
    // Good: on to Tastytrade.
    let (status, resp) = post(port, &good, Some(&format!("http://localhost:{port}")));
    assert_eq!(status, 303, "{resp}");
    assert!(!resp.contains("hunter2"));
    let (status, page) = get(port, "/");
    assert_eq!(status, 404, "the state is still only behind the start path");
    secret_free(&page);
    let real = thread::spawn(move || get(port, &format!("/?code=code-xyz&state={STATE}")));
    let (_, creds, responder) = run.outcome.recv().unwrap().unwrap();
    let (id, secret) = creds.unwrap();
    assert_eq!((id.as_str(), secret.expose()), ("cid", "hunter2"));
    responder.failure("Tastytrade refused the grant (`invalid_client`).");
    let (status, page) = real.join().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("refused the grant (<code>invalid_client</code>)"));
    assert!(!page.contains('`'), "no Markdown on a page");
    secret_free(&page);
}

#[test]
fn an_unanswered_responder_tells_the_browser_to_look_at_the_terminal() {
    let (run, _keep) = serve(false, Duration::from_secs(60));
    let port = run.port;
    let real = thread::spawn(move || get(port, &format!("/?code=code-xyz&state={STATE}")));
    let (_, _, responder) = run.outcome.recv().unwrap().unwrap();
    drop(responder);
    let (status, page) = real.join().unwrap();
    assert_eq!(status, 500);
    assert!(page.contains("stopped before it finished"));
}

#[test]
fn a_dead_listener_ends_the_wait_at_once() {
    let (run, _keep) = serve(false, Duration::from_secs(24 * 3600));
    let address = SocketAddr::from(([127, 0, 0, 1], run.port));
    run.events
        .send(Event::ListenerDied {
            address,
            reason: "Bad file descriptor".into(),
        })
        .unwrap();
    assert_eq!(
        run.outcome.recv().unwrap().err(),
        Some(LoopbackError::ListenerDied {
            address,
            reason: "Bad file descriptor".into()
        })
    );
}

#[test]
fn a_stalled_connection_does_not_stall_the_flow() {
    let (run, _keep) = serve(false, Duration::from_secs(60));
    let port = run.port;
    // A form post promising 5000 bytes that never come, and half a request line.
    let mut staller = TcpStream::connect(("127.0.0.1", port)).unwrap();
    staller
        .write_all(
            format!(
                "POST /credentials HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Length: 5000\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /?code=").unwrap();
    let real = thread::spawn(move || get(port, &format!("/?code=code-xyz&state={STATE}")));
    let (code, _, responder) = run.outcome.recv().unwrap().unwrap();
    assert_eq!(code.expose(), "code-xyz");
    responder.success("done");
    assert_eq!(real.join().unwrap().0, 200);
}

#[test]
fn pipelined_requests_are_answered_in_order_up_to_a_bound() {
    let (run, _keep) = serve(false, Duration::from_secs(60));
    let port = run.port;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let one = format!("GET /favicon.ico HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n");
    s.write_all(one.repeat(200).as_bytes()).unwrap();
    let mut out = Vec::new();
    // The server ends the connection after its bound (a reset may cut the tail short).
    let _ = s.read_to_end(&mut out);
    let answered = String::from_utf8_lossy(&out)
        .matches("HTTP/1.1 404")
        .count();
    assert!(answered >= 1, "nothing was answered");
    assert!(
        answered <= connection::MAX_REQUESTS_PER_CONNECTION,
        "{answered} answers on one connection"
    );
}

#[test]
fn not_reachable_from_other_interfaces() {
    let server = Server::bind_port(0, "/").unwrap();
    // The address this machine would use towards the network (a UDP "connect" sends
    // nothing). Without one (no network at all) there is nothing to check.
    let Some(ip) = std::net::UdpSocket::bind(("0.0.0.0", 0))
        .and_then(|s| s.connect(("10.255.255.255", 1)).map(|_| s))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
    else {
        return;
    };
    let reach = TcpStream::connect_timeout(
        &std::net::SocketAddr::new(ip, server.port()),
        Duration::from_secs(2),
    );
    assert!(reach.is_err(), "the server answered on {ip}");
    // While loopback works.
    assert!(TcpStream::connect(("127.0.0.1", server.port())).is_ok());
}

#[test]
fn the_start_url_is_on_the_redirect_uris_host_with_an_unguessable_path() {
    let redirect = RedirectUri::parse("http://127.0.0.1:0/cb").unwrap();
    let (a, b) = (
        Server::bind(&redirect).unwrap(),
        Server::bind(&redirect).unwrap(),
    );
    let url = a.start_url();
    let prefix = format!("http://127.0.0.1:{}/start/", a.port());
    assert!(url.starts_with(&prefix), "{url}");
    let token = &url[prefix.len()..];
    // 256 bits in base64url.
    assert_eq!(token.len(), 43, "{token}");
    assert!(token
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    assert_ne!(a.start_path, b.start_path, "each run has its own");
}

#[test]
fn pages_are_served_with_protective_headers() {
    let (run, _keep) = serve(true, Duration::from_secs(60));
    let (_, resp) = get(run.port, &run.start_path);
    let lower = resp.to_ascii_lowercase();
    assert!(lower.contains("cache-control: no-store"));
    assert!(lower.contains("referrer-policy: same-origin"));
    assert!(lower.contains("content-security-policy: default-src 'none'"));
}
