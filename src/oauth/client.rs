//! The token client: the shared [`crate::http::Wire`] with the token endpoint's limits (a
//! 1 MiB answer, 30 s for the whole exchange), behind the [`Http`] seam.

use super::http::{Http, Method, Request, Response, TransportError, MAX_BODY};
use crate::http::{deadline, Exchange, Wire};
use std::time::Duration;

/// Connect, send, headers and the whole answer of one token or accounts request.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Client {
    wire: Wire,
}

impl Client {
    pub fn new() -> crate::Result<Self> {
        Ok(Client { wire: Wire::new()? })
    }
}

impl Http for Client {
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let body = (request.method == Method::Post).then(|| request.body());
        let answer = self.wire.send(&Exchange {
            method: match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            },
            url: request.url,
            bearer: request.bearer.map(|t| t.expose()),
            body: body
                .as_ref()
                .map(|b| (request.encoding.content_type(), b.as_bytes())),
            cap: MAX_BODY,
            deadline: deadline(DEADLINE),
        })?;
        let content_type = answer.header("content-type").map(str::to_string);
        let location = answer.header("location").map(str::to_string);
        Ok(Response {
            status: answer.status,
            content_type,
            location,
            body: answer.body,
        })
    }
}

