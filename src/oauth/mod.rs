//! OAuth with Tastytrade: the authorize URL, the loopback server that receives the
//! browser's callback, the token endpoint, the accounts probe, and the checks that prove
//! a grant works before anything is written.
//!
//! Everything that talks HTTP goes through [`http::Http`], so the logic is tested
//! without a network; [`client::Client`] is the real thing. What goes wrong is a
//! [`failure::Failure`]; server text reaches people only through [`sanitize::sanitize`].

pub mod api;
pub mod authorize;
pub mod b64token;
pub mod browser;
pub mod client;
pub mod failure;
pub mod http;
pub mod jwt;
pub mod pages;
pub mod retry;
pub mod sanitize;
pub mod server;
pub mod token;
pub mod verify;

pub use api::{accounts, mask, validate, Account};
pub use client::Client;
pub use http::{BodyEncoding, Http};
pub use token::{exchange_code, refresh, refresh_remembered};
