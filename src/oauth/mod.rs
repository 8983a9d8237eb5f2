//! OAuth with Tastytrade: the authorize URL, the loopback server that receives the
//! browser's callback, the token endpoint, the accounts probe, and the checks that prove
//! a grant works before anything is written.
//!
//! Everything that talks HTTP goes through [`http::Http`], so the logic is tested
//! without a network; [`http::Client`] is the real thing.

pub mod api;
pub mod authorize;
pub mod browser;
pub mod http;
pub mod jwt;
pub mod pages;
pub mod retry;
pub mod server;
pub mod token;
pub mod verify;

pub use api::{accounts, mask, Account};
pub use http::{Client, Http};
pub use token::{exchange_code, refresh, TokenResponse};
