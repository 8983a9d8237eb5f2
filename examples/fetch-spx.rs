//! The smallest honest consumer of ttvault's short-lived mode: it reads only an access
//! token and the API base URL from its environment, and prints the next SPX and SPXW
//! expirations from Tastytrade's nested option chain.
//!
//!     cargo install --locked --path . --example fetch-spx    # on PATH, from any folder
//!     ttvault exec -- fetch-spx
//!
//! The token lasts 15 minutes and this program never refreshes it: it holds no client
//! secret and no refresh token, so a leak of its environment is worth little.

use serde_json::Value;
use std::process::ExitCode;
use std::time::Duration;

/// Expirations shown per root.
const SHOWN: usize = 5;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("fetch-spx: {message}");
            ExitCode::from(code)
        }
    }
}

fn run() -> Result<(), (u8, String)> {
    let token = variable("TT_ACCESS_TOKEN")?;
    let base = variable("TT_API_BASE_URL")?;
    let url = format!("{}/option-chains/SPX/nested", base.trim_end_matches('/'));
    let failed = |e: reqwest::Error| (1, format!("GET {url} failed: {e}"));
    let client = reqwest::blocking::Client::builder()
        // Tastytrade answers requests without a product/version User-Agent with a 401 page.
        .user_agent(concat!("fetch-spx/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(failed)?;
    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .send()
        .map_err(failed)?;
    let status = response.status();
    let body: Value = response.json().map_err(|_| {
        (
            1,
            format!("GET {url}: {status}, and the answer is not JSON"),
        )
    })?;
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        let hint = if status.as_u16() == 401 {
            " (the access token expired or was refused: run me again under `ttvault exec`)"
        } else {
            ""
        };
        return Err((1, format!("GET {url}: {status}: {message}{hint}")));
    }
    let roots = body["data"]["items"]
        .as_array()
        .ok_or((1, format!("GET {url}: the answer has no data.items list")))?;
    if roots.is_empty() {
        return Err((1, format!("GET {url}: the chain lists no roots")));
    }
    // Every root: SPX (AM-settled monthlies) and SPXW (PM-settled weeklies and 0DTE).
    for root in roots {
        print_root(root);
    }
    Ok(())
}

fn variable(name: &str) -> Result<String, (u8, String)> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
        _ => Err((
            2,
            format!(
                "{name} is not set; run me with fresh credentials: \
                 ttvault exec -- fetch-spx"
            ),
        )),
    }
}

fn print_root(root: &Value) {
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    println!(
        "{} ({} options, {} per contract)",
        text(&root["root-symbol"]),
        text(&root["underlying-symbol"]),
        root["shares-per-contract"].as_i64().unwrap_or(0)
    );
    let mut expirations: Vec<&Value> = root["expirations"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|e| e["days-to-expiration"].as_i64().is_some_and(|d| d >= 0))
                .collect()
        })
        .unwrap_or_default();
    expirations.sort_by_key(|e| e["days-to-expiration"].as_i64());
    if expirations.is_empty() {
        println!("  no upcoming expirations");
    }
    for e in expirations.iter().take(SHOWN) {
        let days = e["days-to-expiration"].as_i64().unwrap_or(0);
        let strikes = e["strikes"].as_array().map_or(0, Vec::len);
        println!(
            "  {}  {:<8} {}-settled  {:>3} day{}  {:>4} strikes",
            text(&e["expiration-date"]),
            text(&e["expiration-type"]),
            text(&e["settlement-type"]),
            days,
            if days == 1 { " " } else { "s" },
            strikes
        );
    }
}
