//! The broker (src/broker/) as a library, through a real proxy connection: the proxy
//! credential (also against another user), real clients (curl, Python) with only the CA
//! and the proxy URL, the CA's constraints, terminated hosts and ports, an upstream that
//! breaks off, a flood of connections, a silent client, and shutdown. Requests inside a
//! terminated connection: broker_requests.rs; tunnels: broker_tunnel.rs.

use crate::broker_client::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use ttvault::broker::Event;

#[test]
fn without_the_credential_the_proxy_answers_407_and_nothing_else() {
    let (standin, running, _) = with_standin(false);
    let (_, credential) = proxy(&running.broker);
    let wrong = format!("{credential}x");
    for given in [None, Some(wrong.as_str()), Some("")] {
        let (mut stream, status, head) = connect(&running.broker, "api.tastyworks.com:443", given);
        assert_eq!(status, 407, "{head}");
        // Nothing after the refusal: the connection is closed.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        let body = String::from_utf8_lossy(&rest);
        assert!(body.contains("ttvault") && !body.contains("200"), "{body}");
    }
    assert!(standin.requests().is_empty());
}

#[cfg(unix)]
#[test]
fn another_user_without_the_credential_gets_407() {
    use std::os::unix::process::CommandExt;
    let (_, running, _) = with_standin(false);
    let (address, _) = proxy(&running.broker);
    // curl as uid 65534 (nobody) through the proxy, knowing its address but not its
    // credential: the answer to its CONNECT is 407.
    let mut curl = std::process::Command::new("curl");
    curl.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_connect}",
        "--max-time",
        "60",
    ])
    .args(["--proxy", &format!("http://{address}")])
    .arg("https://api.tastyworks.com/customers/me");
    if ttvault::harden::current_uid() == 0 {
        curl.uid(65534).gid(65534);
    }
    let out = curl.output().expect("curl is installed");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "407");
}

#[test]
fn curl_trusts_the_runs_ca_and_gets_the_token_answer() {
    let (_standin, running, access) = with_standin(false);
    let dir = crate::common::Dir::new();
    let ca = dir.write("ca.pem", running.broker.ca_pem());
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--fail-with-body",
            "--max-time",
            "60",
            "--proxy",
            running.broker.proxy_url(),
        ])
        .arg("--cacert")
        .arg(&ca)
        .args([
            "-H",
            "Content-Type: application/json",
            "--data",
            &token_json(&running),
        ])
        .arg("https://api.tastyworks.com/oauth/token")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["access_token"], access.as_str());
}

#[test]
fn an_upstream_that_breaks_off_mid_answer_gives_a_502_naming_ttvault() {
    // A stand-in that reads the request, starts its answer, and goes away.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"data\":");
    });
    let running = start(
        &format!("http://127.0.0.1:{port}"),
        false,
        Tokens {
            token: Ok("at".into()),
        },
    );
    let mut tls = terminated(&running, "api.tastyworks.com");
    let answer = exchange(&mut tls, "GET", "/customers/me", &[], "");
    assert_eq!(answer.status, 502);
    assert!(answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ttvault"));
    assert!(
        matches!(running.events.recv().unwrap(), Event::UpstreamFailed { host, .. } if host == "127.0.0.1")
    );
    // The connection to the program survives: the next request is answered too.
    let again = exchange(&mut tls, "GET", "/customers/me", &[], "");
    assert_eq!(again.status, 502);
}

#[test]
fn a_thousand_parallel_connections_neither_kill_nor_leak() {
    let (_standin, running, access) = with_standin(false);
    let (address, credential) = proxy(&running.broker);
    // All open at once (those past the broker's cap wait in the kernel's backlog), each
    // with its CONNECT sent; then answered and closed one by one.
    let mut streams: Vec<TcpStream> = (0..1000)
        .map(|_| {
            let mut s = TcpStream::connect(&address).unwrap();
            s.write_all(connect_request("api.tastyworks.com:443", Some(&credential)).as_bytes())
                .unwrap();
            s
        })
        .collect();
    for (i, mut stream) in streams.drain(..).enumerate() {
        let (status, head) = read_head(&mut stream);
        assert_eq!(status, 200, "connection {i}: {head}");
        if i % 100 == 0 {
            let mut tls = tls(stream, "api.tastyworks.com", running.broker.ca_pem());
            let bearer = format!("Bearer {access}");
            let answer = exchange(
                &mut tls,
                "GET",
                "/customers/me",
                &[("Authorization", &bearer)],
                "",
            );
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
    }
    // Still serving, and every connection the broker held is gone once the clients are.
    let mut tls = terminated(&running, "api.tastyworks.com");
    assert_eq!(
        exchange(&mut tls, "POST", "/oauth/token", &[], &token_json(&running)).status,
        200
    );
    drop(tls);
    let mut waited = 0;
    while running.broker.open_connections() > 0 {
        // A guard against hanging, not a timing assumption: 10 minutes.
        assert!(
            waited < 60_000,
            "{} connections left open",
            running.broker.open_connections()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        waited += 1;
    }
}

#[test]
fn a_client_that_never_finishes_its_handshake_blocks_no_one() {
    let (_, running, _) = with_standin(false);
    let (_, credential) = proxy(&running.broker);
    let (_silent, status, _) =
        connect(&running.broker, "api.tastyworks.com:443", Some(&credential));
    assert_eq!(status, 200);
    let mut tls = terminated(&running, "api.tastyworks.com");
    assert_eq!(
        exchange(&mut tls, "POST", "/oauth/token", &[], &token_json(&running)).status,
        200
    );
}

#[test]
fn shutdown_closes_the_listener_and_every_connection() {
    let (_, running, _) = with_standin(false);
    let (address, _) = proxy(&running.broker);
    let mut tls = terminated(&running, "api.tastyworks.com");
    assert_eq!(
        exchange(&mut tls, "POST", "/oauth/token", &[], &token_json(&running)).status,
        200
    );
    running.broker.shutdown();
    let mut rest = Vec::new();
    let closed = tls.read_to_end(&mut rest);
    assert!(closed.is_err() || rest.is_empty(), "{closed:?}");
    assert!(
        TcpStream::connect(&address).is_err(),
        "the port still accepts"
    );
}

#[test]
fn the_ca_is_constrained_to_the_terminated_hosts() {
    let (_, running, _) = with_standin(false);
    let hosts = running.broker.terminated_hosts();
    for host in ttvault::broker::BUILT_IN_HOSTS {
        assert!(hosts.iter().any(|h| h == host));
    }
    // openssl reads the extensions a client sees.
    let dir = crate::common::Dir::new();
    let ca = dir.write("ca.pem", running.broker.ca_pem());
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&ca)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("X509v3 Name Constraints: critical"), "{text}");
    assert!(
        text.contains("Permitted:") && text.contains("DNS:api.tastyworks.com"),
        "{text}"
    );
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
    // The terminated connection presents a leaf for the host the program asked for.
    let tls = terminated(&running, "api.sandbox.tastytrade.com");
    assert_eq!(tls.conn.peer_certificates().unwrap().len(), 1);
}

#[test]
fn a_stock_python_client_goes_through_with_only_the_environment() {
    // Python's own urllib reads HTTPS_PROXY (credential included) and SSL_CERT_FILE, as the
    // SDK's httpx does: nothing in the program names the broker.
    let (standin, running, access) = with_standin(false);
    let dir = crate::common::Dir::new();
    let ca = dir.write("ca.pem", running.broker.ca_pem());
    let script = r#"
import json, os, urllib.request
body = json.dumps({"grant_type": "refresh_token", "refresh_token": os.environ["TT_REFRESH_TOKEN"],
                   "client_secret": os.environ["TT_API_CLIENT_SECRET"]}).encode()
req = urllib.request.Request("https://api.tastyworks.com/oauth/token", data=body,
                             headers={"Content-Type": "application/json", "User-Agent": "py/1"})
token = json.load(urllib.request.urlopen(req))["access_token"]
req = urllib.request.Request("https://api.tastyworks.com/customers/me",
                             headers={"Authorization": "Bearer " + token, "User-Agent": "py/1"})
print(json.load(urllib.request.urlopen(req))["data"]["id"])
"#;
    let (_, secret, refresh) = &running.placeholders;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .env("HTTPS_PROXY", running.broker.proxy_url())
        .env("SSL_CERT_FILE", &ca)
        .env("TT_REFRESH_TOKEN", refresh)
        .env("TT_API_CLIENT_SECRET", secret)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).trim().is_empty());
    let seen = standin.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {access}").as_str())
    );
}

#[test]
fn any_port_of_a_terminated_host_and_the_vaults_own_host_are_terminated() {
    let standin = crate::common::standin();
    let tokens = || Tokens {
        token: Ok("at".into()),
    };
    let running = start_with(&standin.base_url(), false, tokens(), |c| {
        c.extra_hosts = vec!["API.Vault-Endpoint.example.".into()];
    });
    assert!(running
        .broker
        .terminated_hosts()
        .contains(&"api.vault-endpoint.example".to_owned()));
    let (_, credential) = proxy(&running.broker);
    for (host, port) in [
        ("api.tastyworks.com", 8443),
        ("api.vault-endpoint.example", 443),
    ] {
        let target = format!("{host}:{port}");
        let (stream, status, head) = connect(&running.broker, &target, Some(&credential));
        assert_eq!(status, 200, "{head}");
        let mut tls = tls(stream, host, running.broker.ca_pem());
        let answer = exchange(&mut tls, "POST", "/oauth/token", &[], &token_json(&running));
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // A host that cannot be name-constrained is refused before anything listens.
    let config = ttvault::broker::Config {
        upstream_api: url::Url::parse(&standin.base_url()).unwrap(),
        extra_hosts: vec!["127.0.0.1".into()],
        allow_trade: false,
        min_ttl: std::time::Duration::from_secs(60),
        placeholders: ttvault::broker::Placeholders::generate(),
        upstream_proxy: None,
        no_proxy: Vec::new(),
        on_event: Box::new(|_| {}),
    };
    match ttvault::broker::Broker::start(config, std::sync::Arc::new(tokens())) {
        Ok(_) => panic!("an IP address was accepted as a terminated host"),
        Err(e) => assert!(e.message.contains("127.0.0.1"), "{e}"),
    }
}
