//! The proxy's listener on 127.0.0.1: the accept loop, the connection cap, the per-run
//! credential, and `CONNECT`. Hardened like the loopback OAuth server: at most
//! [`MAX_CONNECTIONS`] connections at once (the rest wait in the kernel's backlog), an
//! accept loop that waits out errors (out of descriptors) instead of dying, deadlines on
//! every stage, and a cap on the request head.

use super::deadline::{WriteDeadline, WRITE_DEADLINE};
use super::reply::{self, Body};
use super::{terminate, tunnel, Shared};
use base64::Engine;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The place taken by one open connection (its permit under the cap), counted in
/// [`Gate::open`]; held by the connection's tasks, released when the last one ends.
pub struct Held {
    _permit: OwnedSemaphorePermit,
    open: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The connection cap and the count of connections open.
pub struct Gate {
    places: Arc<Semaphore>,
    open: Arc<AtomicUsize>,
}

impl Gate {
    pub fn new() -> Gate {
        Gate {
            places: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// Connections served at once (tunnels and terminated connections alike). A tunnel holds
/// two descriptors, so this stays well inside the common soft limit of 1,024 without
/// raising it (a raised limit would be inherited by the program: exec stays exec).
pub const MAX_CONNECTIONS: usize = 256;
/// Connections the kernel may hold for us beyond those.
const BACKLOG: u32 = 1024;
/// From accepting a connection to its `CONNECT` being answered.
const PROXY_DEADLINE: Duration = Duration::from_secs(60);
const HEAD_DEADLINE: Duration = Duration::from_secs(20);
/// The largest head a proxy request may have (the smallest hyper allows).
const MAX_HEAD: usize = 8 * 1024;
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The listening socket on 127.0.0.1, any free port. Call inside the runtime.
pub fn bind() -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    socket.listen(BACKLOG)
}

/// Where connections come from: the listener, or a test's stand-in for one.
pub trait Accept: Send {
    fn accept_one(&self) -> impl std::future::Future<Output = io::Result<TcpStream>> + Send;
}

impl Accept for TcpListener {
    async fn accept_one(&self) -> io::Result<TcpStream> {
        self.accept().await.map(|(stream, _)| stream)
    }
}

/// Accepts connections until the broker stops (the future is dropped).
pub async fn serve(listener: impl Accept, shared: Arc<Shared>) {
    let mut pause = FIRST_PAUSE;
    loop {
        let Ok(permit) = Arc::clone(&shared.gate.places).acquire_owned().await else {
            return;
        };
        match listener.accept_one().await {
            Ok(stream) => {
                pause = FIRST_PAUSE;
                shared.gate.open.fetch_add(1, Ordering::SeqCst);
                let held = Arc::new(Held {
                    _permit: permit,
                    open: Arc::clone(&shared.gate.open),
                });
                tokio::spawn(connection(stream, Arc::clone(&shared), held));
            }
            // Out of descriptors or memory, or a connection reset before we took it: wait
            // with a growing pause and go on. The listener is ours until the broker stops.
            Err(_) => {
                drop(permit);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, permit: Arc<Held>) {
    let _ = stream.set_nodelay(true);
    let service =
        service_fn(move |request| proxy_request(request, Arc::clone(&shared), Arc::clone(&permit)));
    let serving = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_DEADLINE)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let _ = tokio::time::timeout(PROXY_DEADLINE, serving).await;
}

async fn proxy_request(
    mut request: Request<Incoming>,
    shared: Arc<Shared>,
    permit: Arc<Held>,
) -> Result<Response<Body>, Infallible> {
    if !authorized(request.headers(), &shared.credential) {
        let mut refused = reply::text(
            StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            "ttvault's broker: proxy credential required",
        );
        let headers = refused.headers_mut();
        headers.insert(
            header::PROXY_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"ttvault\""),
        );
        headers.insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return Ok(refused);
    }
    if request.method() != Method::CONNECT {
        return Ok(reply::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "ttvault's broker only carries HTTPS (CONNECT); plain HTTP is not proxied",
        ));
    }
    let Some((host, port)) = target(&request) else {
        return Ok(reply::text(
            StatusCode::BAD_REQUEST,
            "ttvault's broker: CONNECT needs host:port",
        ));
    };
    let upgrade = hyper::upgrade::on(&mut request);
    if let Some(tls) = shared.tls.get(&host).cloned() {
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                let client = WriteDeadline::new(TokioIo::new(upgraded), WRITE_DEADLINE);
                terminate::serve(client, host, tls, shared).await;
            }
            drop(permit);
        });
        return Ok(Response::new(Body::default()));
    }
    match shared.route.open(&host, port).await {
        Ok(server) => {
            tokio::spawn(async move {
                if let Ok(upgraded) = upgrade.await {
                    let client = WriteDeadline::new(TokioIo::new(upgraded), WRITE_DEADLINE);
                    tunnel::splice(client, server).await;
                }
                drop(permit);
            });
            Ok(Response::new(Body::default()))
        }
        Err(e) => Ok(reply::text(
            StatusCode::BAD_GATEWAY,
            &format!("ttvault's broker could not reach {host}:{port}: {e}"),
        )),
    }
}

/// The CONNECT target, host lower-cased without a trailing dot or IPv6 brackets.
fn target(request: &Request<Incoming>) -> Option<(String, u16)> {
    let authority = request.uri().authority()?;
    let host = authority
        .host()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!host.is_empty()).then(|| (host, authority.port_u16().unwrap_or(443)))
}

/// Whether the request carries `Proxy-Authorization: Basic base64("ttvault:" + credential)`,
/// compared in constant time.
pub fn authorized(headers: &HeaderMap, credential: &str) -> bool {
    let expected = format!("ttvault:{credential}");
    headers
        .get_all(header::PROXY_AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (scheme, value) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(value.trim())
        })
        .filter_map(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .any(|given| crate::secret::ct_eq(&given, expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use std::sync::atomic::AtomicUsize;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A listener that first fails as one does when the process is out of descriptors.
    struct OutOfDescriptors {
        failures_left: AtomicUsize,
        real: TcpListener,
    }

    impl Accept for OutOfDescriptors {
        async fn accept_one(&self) -> io::Result<TcpStream> {
            let left = self.failures_left.load(Ordering::SeqCst);
            if left > 0 {
                self.failures_left.store(left - 1, Ordering::SeqCst);
                return Err(io::Error::other("Too many open files (os error 24)"));
            }
            self.real.accept().await.map(|(stream, _)| stream)
        }
    }

    #[test]
    fn a_client_that_never_sends_its_connect_is_dropped_and_its_place_freed() {
        // Paused time: the clock jumps ahead whenever every task waits, so the deadline
        // fires at once, and a missing one shows as the test's own far later deadline.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let (shared, _) = super::super::test_shared();
            let shared = Arc::new(shared);
            let listener = bind().unwrap();
            let _silent = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let permit = Arc::clone(&shared.gate.places)
                .acquire_owned()
                .await
                .unwrap();
            shared.gate.open.fetch_add(1, Ordering::SeqCst);
            let held = Arc::new(Held {
                _permit: permit,
                open: Arc::clone(&shared.gate.open),
            });
            let served = connection(stream, Arc::clone(&shared), held);
            tokio::time::timeout(Duration::from_secs(24 * 60 * 60), served)
                .await
                .expect("the silent client was never dropped");
            assert_eq!(shared.gate.open(), 0);
            assert_eq!(shared.gate.places.available_permits(), MAX_CONNECTIONS);
        });
    }

    #[test]
    fn the_accept_loop_waits_out_errors_and_goes_on_serving() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (shared, _) = super::super::test_shared();
            let real = bind().unwrap();
            let address = real.local_addr().unwrap();
            let flaky = OutOfDescriptors {
                failures_left: AtomicUsize::new(5),
                real,
            };
            tokio::spawn(serve(flaky, Arc::new(shared)));
            let mut client = TcpStream::connect(address).await.unwrap();
            client
                .write_all(b"CONNECT api.tastyworks.com:443 HTTP/1.1\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            // A guard against hanging (a loop that died never answers), not a timing claim.
            let read = client.read_to_end(&mut answer);
            tokio::time::timeout(Duration::from_secs(600), read)
                .await
                .expect("the accept loop stopped serving")
                .unwrap();
            assert!(
                answer.starts_with(b"HTTP/1.1 407"),
                "{}",
                String::from_utf8_lossy(&answer)
            );
        });
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::PROXY_AUTHORIZATION,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn only_the_runs_credential_is_authorized() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(authorized(
            &with(&format!("Basic {}", b64("ttvault:c1"))),
            "c1"
        ));
        assert!(authorized(
            &with(&format!("basic  {}", b64("ttvault:c1"))),
            "c1"
        ));
        assert!(!authorized(
            &with(&format!("Basic {}", b64("ttvault:c2"))),
            "c1"
        ));
        assert!(!authorized(
            &with(&format!("Basic {}", b64("other:c1"))),
            "c1"
        ));
        assert!(!authorized(
            &with(&format!("Bearer {}", b64("ttvault:c1"))),
            "c1"
        ));
        assert!(!authorized(&with("Basic !!"), "c1"));
        assert!(!authorized(&HeaderMap::new(), "c1"));
    }
}
