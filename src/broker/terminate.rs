//! A `CONNECT` to a Tastytrade API host, terminated: TLS with this run's leaf for the host,
//! then HTTP/1.1 (keep-alive) inside, each request decided by `policy` and answered by the
//! token answer, a refusal, or the forwarder.

use super::ca::Leaf;
use super::policy::{self, Decision};
use super::reply::{self, Body};
use super::{token, Event, Shared};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// A client that has not finished its TLS handshake by then is dropped.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(20);
/// The most a request's head may take to arrive (also how long an idle keep-alive
/// connection stays open).
const HEAD_DEADLINE: Duration = Duration::from_secs(90);
/// The most a request's body may take to arrive once its head has.
const BODY_DEADLINE: Duration = Duration::from_secs(30);
/// The largest request head and body the broker reads (orders and token requests are small).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// The TLS configuration that presents `leaf` (HTTP/1.1 only: the broker speaks nothing else).
pub fn server_config(leaf: Leaf) -> crate::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![leaf.cert], leaf.key.into())
        })
        .map_err(|e| crate::Error::failure(format!("the broker's TLS setup: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves one terminated connection until the client closes it or a deadline passes.
pub async fn serve<I>(io: I, host: String, tls: Arc<rustls::ServerConfig>, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(io)).await else {
        return;
    };
    let host: Arc<str> = host.into();
    let service =
        service_fn(move |request| handle(request, Arc::clone(&host), Arc::clone(&shared)));
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_DEADLINE)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn handle(
    request: Request<Incoming>,
    host: Arc<str>,
    shared: Arc<Shared>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(BODY_DEADLINE, Limited::new(body, MAX_BODY).collect())
        .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            let message = format!("ttvault's broker takes request bodies up to {MAX_BODY} bytes");
            return Ok(reply::api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "ttvault_too_large",
                &message,
            ));
        }
        Ok(Err(_)) | Err(_) => {
            let message = "ttvault's broker did not receive the whole request body";
            return Ok(reply::api_error(
                StatusCode::BAD_REQUEST,
                "ttvault_bad_request",
                message,
            ));
        }
    };
    let config = &shared.config;
    let path = parts.uri.path();
    let on_event = &*config.on_event;
    let decision = policy::decide(
        &parts.method,
        path,
        parts.uri.query(),
        &parts.headers,
        &body,
        &config.placeholders,
        config.allow_trade,
    );
    let response = match decision {
        Decision::Token => {
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            token::answer(
                content_type,
                &body,
                &config.placeholders,
                config.min_ttl,
                Arc::clone(&shared.tokens),
                on_event,
            )
            .await
        }
        Decision::PlaceholderMisused => {
            on_event(Event::PlaceholderMisused {
                host: host.to_string(),
                path: path.to_owned(),
            });
            reply::api_error(
                StatusCode::UNAUTHORIZED,
                "ttvault_placeholder",
                "ttvault's broker refused this request: it carries a ttvault placeholder, which \
                 is only good for POST /oauth/token (the token request the broker answers)",
            )
        }
        Decision::ReadOnly => {
            on_event(Event::Refused {
                method: parts.method.to_string(),
                host: host.to_string(),
                path: path.to_owned(),
            });
            let message = format!(
                "ttvault's broker is read-only for this run: {} {path} was not sent to \
                 Tastytrade. To let orders through, run `ttvault exec --allow-trade` with a \
                 grant that holds the trade scope.",
                parts.method
            );
            reply::api_error(StatusCode::FORBIDDEN, "ttvault_read_only", &message)
        }
        Decision::Forward => {
            let target = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            shared
                .upstream
                .send(parts.method.clone(), target, &parts.headers, body, on_event)
                .await
        }
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    /// A runtime whose clock jumps ahead whenever every task waits: a deadline fires at
    /// once, and a missing one shows as the test's own far later deadline.
    fn paused() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap()
    }

    const FAR: Duration = Duration::from_secs(24 * 60 * 60);

    #[test]
    fn a_client_that_never_finishes_its_handshake_is_dropped() {
        paused().block_on(async {
            let (shared, _) = crate::broker::test_shared();
            let tls = Arc::clone(&shared.tls["api.tastyworks.com"]);
            let (ours, _silent_client) = tokio::io::duplex(4096);
            let served = serve(ours, "api.tastyworks.com".into(), tls, Arc::new(shared));
            tokio::time::timeout(FAR, served)
                .await
                .expect("the silent client was never dropped");
        });
    }

    #[test]
    fn an_idle_connection_is_closed_after_the_head_deadline() {
        paused().block_on(async {
            let (shared, pem) = crate::broker::test_shared();
            let tls = Arc::clone(&shared.tls["api.tastyworks.com"]);
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            let served = tokio::spawn(serve(
                ours,
                "api.tastyworks.com".into(),
                tls,
                Arc::new(shared),
            ));
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls::pki_types::ServerName::try_from("api.tastyworks.com").unwrap();
            // The handshake completes; then the client says nothing.
            let _client = connector.connect(name, theirs).await.unwrap();
            tokio::time::timeout(FAR, served)
                .await
                .expect("the idle connection was never closed")
                .unwrap();
        });
    }
}
