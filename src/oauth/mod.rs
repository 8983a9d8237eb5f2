//! OAuth with Tastytrade: the authorize URL, the loopback server that receives the
//! browser's callback, the token endpoint, the accounts probe, and the checks that prove
//! a grant works before anything is written.
//!
//! Everything that talks HTTP goes through [`http::Http`], so the logic is tested
//! without a network; [`crate::http::Client`] is the real thing. What goes wrong is a
//! [`failure::Failure`]; server text reaches people only through [`sanitize::sanitize`].

// `pub`: the fuzz targets (accounts, b64token, http, jwt, pages, server, token) and the
// tests (retry) reach these; the rest is crate-private.
pub mod accounts;
pub(crate) mod authorize;
pub mod b64token;
pub(crate) mod browser;
pub(crate) mod failure;
pub mod http;
pub mod jwt;
pub mod pages;
pub mod retry;
/// Fuzz: http_response checks what reaches a person through it.
pub mod sanitize;
pub mod server;
pub mod token;
pub(crate) mod verify;

pub use crate::http::Client;
pub use accounts::{accounts, mask, validate, Account};
pub use http::{BodyEncoding, Http};
pub use token::{refresh, refresh_remembered};
