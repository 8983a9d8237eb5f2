//! The stand-in's tests, as one test binary with a module per area.

#[allow(dead_code)] // not every module uses every helper
mod common;

mod api;
mod authorize;
mod refresh;
mod refusals;
mod server;
mod token;
mod user_agent;
