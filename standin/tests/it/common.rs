//! A minimal HTTP/1.1 client over `TcpStream`, so tests control every byte sent (including
//! leaving out `User-Agent`, which real HTTP clients add on their own), plus shared helpers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use tt_standin::{Config, StandIn};

pub const UA: &str = "ttvault-tests/0.1.0";
pub const CLIENT_ID: &str = "test-client";
pub const SECRET: &str = "test-secret";
pub const REDIRECT: &str = "http://localhost:8000";

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Sends raw bytes and parses the answer.
pub fn raw(base_url: &str, bytes: &[u8]) -> Response {
    let addr = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(bytes).expect("write");
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    parse(&buf)
}

fn parse(buf: &[u8]) -> Response {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(body.len());
    Response {
        status,
        headers,
        body: body.get(..len).unwrap_or(body).to_string(),
    }
}

/// A request with the given headers (a `User-Agent` only if listed) and body.
pub fn request(
    base_url: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    raw(base_url, req.as_bytes())
}

pub fn get(base_url: &str, target: &str) -> Response {
    request(base_url, "GET", target, &[("User-Agent", UA)], "")
}

pub fn api_get(base_url: &str, target: &str, access_token: &str) -> Response {
    let auth = format!("Bearer {access_token}");
    request(
        base_url,
        "GET",
        target,
        &[
            ("User-Agent", UA),
            ("Accept", "application/json"),
            ("Authorization", &auth),
        ],
        "",
    )
}

/// `POST /oauth/token` with a form-encoded body.
pub fn token_form(base_url: &str, fields: &[(&str, &str)]) -> Response {
    request(
        base_url,
        "POST",
        "/oauth/token",
        &[
            ("User-Agent", UA),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form(fields),
    )
}

/// `POST /oauth/token` with a JSON body.
pub fn token_json(base_url: &str, body: &Value) -> Response {
    request(
        base_url,
        "POST",
        "/oauth/token",
        &[("User-Agent", UA), ("Content-Type", "application/json")],
        &body.to_string(),
    )
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn dec(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The decoded query parameters of a URL.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A stand-in with the test application registered.
pub fn standin(config: Config) -> StandIn {
    let s = StandIn::start(config).expect("start");
    s.register_app(CLIENT_ID, SECRET, &[REDIRECT]);
    s
}

/// `/auth.html?…` for the test application.
pub fn authorize_target(extra: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
    ];
    fields.extend_from_slice(extra);
    format!("/auth.html?{}", form(&fields))
}

/// Drives the browser part over HTTP: POSTs the approval and returns the redirect location.
pub fn approve(base_url: &str, fields: &[(&str, &str)]) -> String {
    let mut all = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("decision", "approve"),
    ];
    all.extend_from_slice(fields);
    let r = request(
        base_url,
        "POST",
        "/auth.html",
        &[
            ("User-Agent", UA),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form(&all),
    );
    assert_eq!(r.status, 302, "{r:?}");
    r.header("location").expect("location").to_string()
}

/// A code for the test application with the given scope.
pub fn code_for(base_url: &str, scope: &str) -> String {
    let location = approve(base_url, &[("scope", scope), ("state", "s")]);
    param(&location, "code").expect("code")
}

pub fn exchange(base_url: &str, code: &str) -> Response {
    token_form(
        base_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", REDIRECT),
        ],
    )
}

pub fn refresh(base_url: &str, refresh_token: &str) -> Response {
    token_form(
        base_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_secret", SECRET),
        ],
    )
}

/// Asserts a Tastytrade OAuth error.
pub fn assert_oauth_error(r: &Response, status: u16, code: &str, description: Option<&str>) {
    assert_eq!(r.status, status, "{r:?}");
    let v = r.json();
    assert_eq!(v["error_code"], code, "{r:?}");
    if let Some(d) = description {
        assert_eq!(v["error_description"], d, "{r:?}");
    }
}

/// The JWT's header and claims.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    tt_standin::decode_unverified(token).unwrap_or_else(|| panic!("not a JWT: {token:?}"))
}
