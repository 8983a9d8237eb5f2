//! The integration tests: one test binary (as ripgrep's tests/tests.rs), because every
//! extra binary links the whole library again and that dominated the build time.
//! Each module runs the real `ttvault` binary in temporary directories.

// Shared helpers: not every test module uses every helper.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod flow;

#[cfg(unix)]
mod agent;
mod api;
mod api_grant;
mod audit;
mod browser;
#[cfg(unix)]
mod children;
mod cli;
mod crash;
#[cfg(unix)]
mod discovery;
mod endpoints;
mod exec;
mod export;
mod fetch_spx;
mod import;
mod init;
mod init_paste;
mod links;
mod lock;
mod loopback_attack;
mod network;
mod rotate;
mod rotated;
#[cfg(unix)]
mod terminal;
mod unknowns;
mod vault;
mod vectors;
