//! The broker's own answers to the program. Every one names ttvault, so a person reading
//! the program's traceback learns who answered and why; none carries a secret.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{header, Response, StatusCode};

pub type Body = Full<Bytes>;

/// A JSON answer, never to be cached (RFC 6749 5.1 asks that of token answers; the rest
/// are refusals that must not outlive this run either).
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// An error in Tastytrade's API shape (`{"error":{"code","message"}}`), which SDKs parse.
pub fn api_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json(
        status,
        &serde_json::json!({"error": {"code": code, "message": message}}),
    )
}

/// An error from the token endpoint, in Tastytrade's token-error shape (`error_code`,
/// `error_description`) with the API shape beside it, for SDKs that read either.
pub fn token_error(message: &str) -> Response<Body> {
    json(
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({
            "error_code": "ttvault_broker",
            "error_description": message,
            "error": {"code": "ttvault_broker", "message": message},
        }),
    )
}

/// A plain-text answer on the proxy itself (before any TLS): 407, 405, 502.
pub fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
