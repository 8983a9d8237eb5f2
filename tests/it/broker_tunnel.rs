//! The broker's tunnels: `CONNECT` to a host it does not terminate is carried byte for
//! byte, directly or through the user's own proxy.

use crate::broker_client::*;
use std::io::{Read, Write};
use std::net::TcpListener;

/// A TLS echo server on 127.0.0.1 with its own self-signed certificate; returns its port
/// and certificate (PEM).
fn tls_echo_server() -> (u16, String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (pem, der) = (cert.pem(), cert.der().to_vec());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
        .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let connection = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(connection, stream);
        let mut buf = [0u8; 4096];
        while let Ok(n) = tls.read(&mut buf) {
            if n == 0 || tls.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    (port, pem, der)
}

#[test]
fn other_hosts_are_tunnelled_byte_for_byte_with_their_own_certificate() {
    let (_, running, _) = with_standin(false);
    let (port, pem, der) = tls_echo_server();
    let (_, credential) = proxy(&running.broker);
    let (stream, status, head) = connect(
        &running.broker,
        &format!("127.0.0.1:{port}"),
        Some(&credential),
    );
    assert_eq!(status, 200, "{head}");
    // Trusting only the echo server's own certificate: the broker's CA is not involved.
    let mut tls = tls(stream, "127.0.0.1", &pem);
    assert_eq!(
        tls.conn.peer_certificates().unwrap()[0].as_ref(),
        der.as_slice()
    );
    let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    tls.write_all(&bytes).unwrap();
    let mut echoed = vec![0u8; bytes.len()];
    tls.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, bytes);
}

/// A user's own HTTP proxy: takes one CONNECT, records its head, and carries the tunnel.
fn user_proxy() -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (send, heads) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        // The request head; its "status" (the target, here) is not a number.
        let (_, head) = read_head(&mut client);
        let target = head.split(' ').nth(1).unwrap().to_owned();
        send.send(head).unwrap();
        let server = std::net::TcpStream::connect(target).unwrap();
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        std::thread::spawn(move || std::io::copy(&mut c2, &mut s2));
        let (mut client, mut server) = (client, server);
        let _ = std::io::copy(&mut server, &mut client);
    });
    (port, heads)
}

fn echo_through(running: &Running) {
    let (port, pem, _) = tls_echo_server();
    let (_, credential) = proxy(&running.broker);
    let target = format!("127.0.0.1:{port}");
    let (stream, status, head) = connect(&running.broker, &target, Some(&credential));
    assert_eq!(status, 200, "{head}");
    let mut tls = tls(stream, "127.0.0.1", &pem);
    tls.write_all(b"through").unwrap();
    let mut echoed = [0u8; 7];
    tls.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"through");
}

#[test]
fn tunnels_go_through_the_users_own_proxy_unless_no_proxy_exempts_the_host() {
    let (proxy_port, heads) = user_proxy();
    let proxy_url = format!("http://me:p%40ss@127.0.0.1:{proxy_port}");
    let tokens = || Tokens {
        token: Ok("at".into()),
    };
    let running = start_with("http://127.0.0.1:9", false, tokens(), |c| {
        c.upstream_proxy = Some(url::Url::parse(&proxy_url).unwrap());
    });
    echo_through(&running);
    let head = heads.recv().unwrap();
    assert!(head.starts_with("CONNECT 127.0.0.1:"), "{head}");
    // Basic base64("me:p@ss"): the user's proxy credential, decoded from the URL.
    assert!(
        head.contains("Proxy-Authorization: Basic bWU6cEBzcw=="),
        "{head}"
    );

    // NO_PROXY names the host: the tunnel goes direct, and the proxy sees nothing.
    let running = start_with("http://127.0.0.1:9", false, tokens(), |c| {
        c.upstream_proxy = Some(url::Url::parse(&proxy_url).unwrap());
        c.no_proxy = vec!["localhost".into(), "127.0.0.1".into()];
    });
    echo_through(&running);
    assert!(heads.try_recv().is_err());
}
