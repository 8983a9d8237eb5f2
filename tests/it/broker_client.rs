//! A small client for the broker tests: a raw CONNECT through the proxy, TLS on top with
//! rustls (trusting only what the test names), and HTTP/1.1 exchanges with keep-alive.

use crate::common;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use ttvault::broker::{Broker, Config, Event, Placeholders, TokenSource};
use ttvault::secret::AccessToken;

/// A token source that hands out one fixed token (or always fails with `reason`).
pub struct Tokens {
    pub token: Result<String, String>,
}

impl TokenSource for Tokens {
    fn access_token(
        &self,
        _min_ttl: Duration,
    ) -> Result<(AccessToken, SystemTime), ttvault::Error> {
        match &self.token {
            Ok(t) => Ok((
                AccessToken::new(t.clone()),
                SystemTime::now() + Duration::from_secs(900),
            )),
            Err(reason) => Err(ttvault::Error::grant(reason.clone())),
        }
    }
}

pub struct Running {
    pub broker: Broker,
    pub events: Receiver<Event>,
    pub placeholders: (String, String, String),
}

/// A broker forwarding to `upstream`, with its events collected.
pub fn start(upstream: &str, allow_trade: bool, tokens: Tokens) -> Running {
    start_with(upstream, allow_trade, tokens, |_| {})
}

/// The same, with the configuration adjusted by `adjust` before the broker starts.
pub fn start_with(
    upstream: &str,
    allow_trade: bool,
    tokens: Tokens,
    adjust: impl FnOnce(&mut Config),
) -> Running {
    let placeholders = Placeholders::generate();
    let kept = (
        placeholders.client_id().to_owned(),
        placeholders.client_secret().to_owned(),
        placeholders.refresh_token().to_owned(),
    );
    let (send, events) = channel();
    let send = Mutex::new(send);
    let mut config = Config {
        upstream_api: url::Url::parse(upstream).unwrap(),
        extra_hosts: Vec::new(),
        allow_trade,
        min_ttl: Duration::from_secs(60),
        placeholders,
        upstream_proxy: None,
        no_proxy: Vec::new(),
        on_event: Box::new(move |e| {
            let _ = send.lock().unwrap().send(e);
        }),
    };
    adjust(&mut config);
    let broker = Broker::start(config, Arc::new(tokens)).unwrap();
    Running {
        broker,
        events,
        placeholders: kept,
    }
}

/// A stand-in, a grant on it, and a broker in front of it with that grant's access token.
pub fn with_standin(allow_trade: bool) -> (tt_standin::StandIn, Running, String) {
    let standin = common::standin();
    let refresh = standin.personal_grant(common::CLIENT_ID, "read trade");
    let access = standin.access_token(&refresh);
    let running = start(
        &standin.base_url(),
        allow_trade,
        Tokens {
            token: Ok(access.clone()),
        },
    );
    (standin, running, access)
}

/// A refresh request carrying this run's placeholders, as tastyware's SDK sends it (JSON).
pub fn token_json(running: &Running) -> String {
    let (_, secret, refresh) = &running.placeholders;
    format!(
        r#"{{"grant_type":"refresh_token","refresh_token":"{refresh}","client_secret":"{secret}"}}"#
    )
}

/// The proxy's address and credential, from its URL.
pub fn proxy(broker: &Broker) -> (String, String) {
    let url = url::Url::parse(broker.proxy_url()).unwrap();
    assert_eq!(url.username(), "ttvault");
    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    (address, url.password().unwrap().to_owned())
}

/// Sends `CONNECT target` (with the credential when given) and returns the stream and the
/// answer's status and head.
pub fn connect(
    broker: &Broker,
    target: &str,
    credential: Option<&str>,
) -> (TcpStream, u16, String) {
    let (address, _) = proxy(broker);
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(connect_request(target, credential).as_bytes())
        .unwrap();
    let (status, head) = read_head(&mut stream);
    (stream, status, head)
}

pub fn connect_request(target: &str, credential: Option<&str>) -> String {
    use base64::Engine;
    let auth = credential
        .map(|c| {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("ttvault:{c}"));
            format!("Proxy-Authorization: Basic {basic}\r\n")
        })
        .unwrap_or_default();
    format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n")
}

/// Reads a response head byte by byte (so no byte after it is consumed).
pub fn read_head(stream: &mut impl Read) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

pub type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// TLS over `stream` for `name`, trusting only the certificates in `roots_pem`.
pub fn tls(stream: TcpStream, name: &str, roots_pem: &str) -> Tls {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(roots_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, stream);
    // Finish the handshake now, so a refused certificate fails here.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

/// Through the broker to `host` (terminated), ready for requests.
pub fn terminated(running: &Running, host: &str) -> Tls {
    let (_, credential) = proxy(&running.broker);
    let (stream, status, head) =
        connect(&running.broker, &format!("{host}:443"), Some(&credential));
    assert_eq!(status, 200, "{head}");
    tls(stream, host, running.broker.ca_pem())
}

pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// One HTTP/1.1 exchange on a kept-alive connection.
pub fn exchange(
    tls: &mut Tls,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: api.tastyworks.com\r\nUser-Agent: test/1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    tls.write_all(request.as_bytes()).unwrap();
    tls.flush().unwrap();
    let mut reader = BufReader::new(tls);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "connection closed: {head}"
        );
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; if method == "HEAD" { 0 } else { length }];
    reader.read_exact(&mut body).unwrap();
    Answer {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
