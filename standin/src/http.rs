//! Small HTTP helpers shared by the routes: the reply type, parameter parsing and
//! percent-encoding. Everything here takes untrusted input and returns errors instead of
//! panicking, because a garbage request must get a 400, never crash a worker.

use serde_json::Value;

/// What a route answers. Routes build this instead of a `tiny_http::Response` so they stay
/// plain functions that are easy to reason about and independent of the server plumbing.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: Some("application/json"),
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    /// An OAuth error in Tastytrade's shape: `error_code`, not RFC 6749's `error`.
    pub fn oauth_error(status: u16, code: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &serde_json::json!({ "error_code": code, "error_description": description }),
        )
        .no_store()
    }

    /// An API error in Tastytrade's envelope: `{"error":{"code","message"}}`.
    pub fn api_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(
            status,
            &serde_json::json!({ "error": { "code": code, "message": message } }),
        )
    }

    pub fn html(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: Some("text/html; charset=utf-8"),
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }

    /// The bare page nginx answers with when it, not the application, rejects a request
    /// (missing User-Agent, rate limiting, gateway errors). Clients must cope with non-JSON.
    pub fn nginx(status: u16) -> Reply {
        let title = format!("{status} {}", reason(status));
        Reply::html(
            status,
            format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
                 <center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n\
                 </body>\r\n</html>\r\n"
            ),
        )
    }

    pub fn redirect(location: String) -> Reply {
        Reply {
            status: 302,
            content_type: None,
            headers: vec![("Location", location)],
            body: Vec::new(),
        }
    }

    /// Token responses carry secrets: RFC 6749 §5.1 asks for `Cache-Control: no-store`.
    pub fn no_store(mut self) -> Reply {
        self.headers.push(("Cache-Control", "no-store".to_string()));
        self
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Authorization Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Not Allowed",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Error",
    }
}

/// Name/value pairs in the order received, keeping duplicates so callers can reject them
/// (RFC 6749 §3.1: parameters must not be repeated).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not empty. OAuth treats an empty value as absent.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The first parameter name that appears more than once, if any.
    pub fn duplicate(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (k, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == k)
                .then_some(k.as_str())
        })
    }

    /// Adds or replaces values from `other` (used to let a POST body override the query).
    pub fn overlay(&mut self, other: Params) {
        for (k, v) in other.0 {
            self.0.retain(|(existing, _)| existing != &k);
            self.0.push((k, v));
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` (also used for query strings).
pub fn parse_form(input: &str) -> Result<Params, String> {
    let mut out = Vec::new();
    for piece in input.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let k = percent_decode(k).ok_or_else(|| format!("malformed parameter name {k:?}"))?;
        let v = percent_decode(v).ok_or_else(|| format!("malformed value for {k:?}"))?;
        out.push((k, v));
    }
    Ok(Params(out))
}

/// Reads a JSON object's fields as strings. Numbers and booleans are stringified (clients
/// sometimes send them), `null` is treated as absent, nested values are rejected.
pub fn parse_json_object(input: &str) -> Result<Params, String> {
    let value: Value = serde_json::from_str(input).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("the JSON body must be an object".to_string());
    };
    let mut out = Vec::new();
    for (k, v) in map {
        match v {
            Value::String(s) => out.push((k, s)),
            Value::Number(n) => out.push((k, n.to_string())),
            Value::Bool(b) => out.push((k, b.to_string())),
            Value::Null => {}
            Value::Array(_) | Value::Object(_) => {
                return Err(format!("field {k:?} must be a string"));
            }
        }
    }
    Ok(Params(out))
}

/// A request body as parameters: JSON when the content type says so or the body looks like
/// an object, form-encoded otherwise. Tastytrade accepts both on /oauth/token.
pub fn parse_body(content_type: Option<&str>, body: &str) -> Result<Params, String> {
    if is_json_body(content_type, body) {
        parse_json_object(body)
    } else {
        parse_form(body.trim_end_matches(['\r', '\n']))
    }
}

/// Whether a body is JSON: by its content type, or by starting like an object.
pub fn is_json_body(content_type: Option<&str>, body: &str) -> bool {
    content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
        || body.trim_start().starts_with('{')
}

/// Percent-decoding with `+` as space. `None` for a broken escape or non-UTF-8 result.
pub fn percent_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_value(*bytes.get(i + 1)?)?;
                let lo = hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so any `state` a client
/// sends comes back intact in a query string.
pub fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends query parameters to a URI that may already have a query (and, against RFC 6749's
/// advice, a fragment, which must stay last).
pub fn append_query(uri: &str, params: &[(&str, &str)]) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (uri, None),
    };
    let mut out = base.to_string();
    for (name, value) in params {
        if !out.contains('?') {
            out.push('?');
        } else if !out.ends_with('?') && !out.ends_with('&') {
            out.push('&');
        }
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rejects_broken_escapes() {
        assert_eq!(percent_decode("a%2Fb+c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None, "not UTF-8");
    }

    #[test]
    fn encode_round_trips() {
        let s = "a b&c=d/é?#%+";
        assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
    }

    #[test]
    fn append_query_picks_the_separator() {
        assert_eq!(
            append_query("http://h/cb", &[("a", "1")]),
            "http://h/cb?a=1"
        );
        assert_eq!(
            append_query("http://h/cb?x=1", &[("a", "1"), ("b", "2")]),
            "http://h/cb?x=1&a=1&b=2"
        );
        assert_eq!(
            append_query("http://h/cb?", &[("a", "1")]),
            "http://h/cb?a=1"
        );
        assert_eq!(
            append_query("http://h/cb#f", &[("a", "1")]),
            "http://h/cb?a=1#f"
        );
    }

    #[test]
    fn duplicates_are_found() {
        let p = parse_form("a=1&b=2&a=3").unwrap();
        assert_eq!(p.duplicate(), Some("a"));
        assert_eq!(parse_form("a=1&b=2").unwrap().duplicate(), None);
    }

    #[test]
    fn body_parsing_accepts_form_and_json() {
        let p = parse_body(None, "grant_type=refresh_token&x=a%20b").unwrap();
        assert_eq!(p.get("x"), Some("a b"));
        let p = parse_body(Some("application/json"), r#"{"grant_type":"x","n":1}"#).unwrap();
        assert_eq!(p.get("grant_type"), Some("x"));
        assert_eq!(p.get("n"), Some("1"));
        assert!(parse_body(Some("application/json"), "[1]").is_err());
        assert!(parse_body(None, r#"{"a":{"b":1}}"#).is_err());
    }
}
