//! Runs the Tastytrade stand-in so ttvault can be tried without a Tastytrade account.
//!
//!     cargo run --release --example standin -- [--port 8001]
//!
//! It registers a demo application, prints the environment variables that point ttvault at
//! it, a refresh token for `ttvault init --paste`, and the absolute path of the fetch-spx
//! example (so `ttvault exec -- PATH` works from any folder), then serves until Ctrl-C,
//! listing each request (method and path only: bodies carry secrets). It keeps everything
//! in memory and says so: a restart forgets every grant, and vaults made against an earlier
//! run then get `Invalid JWT`.

use std::process::ExitCode;
use std::time::Duration;

use tt_standin::{Config, StandIn};

const DEFAULT_PORT: u16 = 8001;
const CLIENT_ID: &str = "demo-client-id";
const CLIENT_SECRET: &str = "demo-client-secret";
/// The redirect URI Tastytrade users are told to register, and ttvault's loopback default.
const REDIRECT_URI: &str = "http://localhost:8000";

fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!(
                "usage: cargo run --example standin -- [--port PORT]  (default {DEFAULT_PORT})"
            );
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\nusage: cargo run --example standin -- [--port PORT]");
            return ExitCode::from(2);
        }
    };
    let standin = match StandIn::start(Config {
        port,
        ..Config::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: cannot listen on 127.0.0.1:{port}: {e}\n\
                 Is another stand-in running? Pick another port with --port."
            );
            return ExitCode::FAILURE;
        }
    };
    standin.register_app(CLIENT_ID, CLIENT_SECRET, &[REDIRECT_URI]);
    let refresh_token = standin.personal_grant(CLIENT_ID, "read");

    println!(
        "Tastytrade stand-in listening on {} (Ctrl-C to stop)",
        standin.base_url()
    );
    println!();
    println!("Point ttvault at it:");
    println!("  export TTVAULT_API_URL={}", standin.base_url());
    println!("  export TTVAULT_AUTHORIZE_URL={}", standin.authorize_url());
    println!();
    println!("Demo application:");
    println!("  client id:     {CLIENT_ID}");
    println!("  client secret: {CLIENT_SECRET}");
    println!("  redirect URI:  {REDIRECT_URI}");
    println!();
    println!("Refresh token of a personal grant (scope \"read\"), for `ttvault init --paste`:");
    println!("  {refresh_token}");
    println!();
    let fetch_spx = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("fetch-spx")))
        .filter(|p| p.exists());
    match fetch_spx {
        Some(path) => {
            println!("A program to run with a fresh access token, from any folder:");
            println!("  ttvault exec -- {}", path.display());
        }
        None => println!(
            "A program to run with a fresh access token: `cargo build --release --example \
             fetch-spx`, then `ttvault exec -- target/release/examples/fetch-spx`"
        ),
    }
    println!();
    println!(
        "Grants live in this process only: a restart forgets them, and a vault made against \
         an earlier run gets `Invalid JWT` (`ttvault rotate --paste` with the token above \
         fixes it)."
    );
    println!();
    println!("Requests:");

    // Ctrl-C's default action ends the process; until then, show what clients do.
    let mut shown = 0;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let requests = standin.requests();
        for r in requests.iter().skip(shown) {
            let grant_type = r
                .form()
                .into_iter()
                .find(|(k, _)| k == "grant_type")
                .map(|(_, v)| format!(" (grant_type={v})"))
                .unwrap_or_default();
            println!("  {} {}{grant_type}", r.method, r.path);
        }
        shown = requests.len();
    }
}

/// `Ok(None)` asks for help.
fn parse_port(mut args: impl Iterator<Item = String>) -> Result<Option<u16>, String> {
    let mut port = DEFAULT_PORT;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" | "-p" => args.next().ok_or("--port needs a value")?,
            other => match other.strip_prefix("--port=") {
                Some(v) => v.to_string(),
                None => return Err(format!("unexpected argument {other:?}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port {value:?}"))?;
    }
    Ok(Some(port))
}
