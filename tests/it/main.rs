//! The integration tests: one test binary (as ripgrep's tests/tests.rs), because every
//! extra binary links the whole library again and that dominated the build time.
//! Each module runs the real `ttvault` binary in temporary directories.

// Shared helpers: not every test module uses every helper.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod flow;
mod help;

#[cfg(unix)]
mod agent;
#[cfg(unix)]
mod agent_guard;
#[cfg(unix)]
mod agent_refresh;
mod api;
mod api_grant;
mod audit;
mod broker_client;
mod broker_core;
mod broker_exec;
mod broker_refresh;
mod broker_requests;
mod broker_tunnel;
mod browser;
#[cfg(unix)]
mod children;
mod cli;
mod crash;
mod deadlines;
#[cfg(unix)]
mod discovery;
mod endpoints;
mod exec;
mod export;
mod fetch_spx;
#[cfg(unix)]
mod grant_access;
mod import;
mod init;
mod init_order;
mod init_paste;
mod links;
mod lock;
mod longlived;
mod loopback_attack;
mod messages;
mod network;
mod presets;
mod prompts;
mod refusals;
mod rotate;
mod rotated;
mod sdk;
mod start_page;
mod swap;
#[cfg(unix)]
mod terminal;
mod tour;
mod transcripts;
mod unknowns;
mod vault;
mod vectors;
mod version;
