//! The seam between ttvault and the network: one [`Request`], one [`Response`], and the
//! [`Http`] trait that carries a request, for the token client and `api` alike. Token and
//! API logic is unit-tested with a closure instead of a network (the pattern of oauth2-rs's
//! HTTP client seam); the real client is [`crate::http::Client`].

use crate::secret::AccessToken;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// Every request says who we are: Tastytrade answers a request without a User-Agent of
/// the `product/version` form with a 401 nginx HTML page instead of JSON.
pub const USER_AGENT: &str = concat!("ttvault/", env!("CARGO_PKG_VERSION"));

/// The most ttvault reads of any answer. A token answer is a few KiB and an account list
/// not much more; past this a server is broken or hostile, and reading on would only grow
/// memory (an endless body once grew a process to 6 GB).
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
}

/// Connect, send, headers and the whole answer of one token or accounts request.
pub const DEADLINE: Duration = Duration::from_secs(30);

// Recorded in the vault's payload too, so it lives in a module neither side owns.
pub use crate::body_encoding::BodyEncoding;

/// One request. It borrows its secrets (body fields, bearer token) instead of copying
/// them, and its `Debug` shows only field names.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// `Authorization: Bearer …`, for API calls only: never on `/oauth/token`, where it
    /// breaks later refreshes (tastyware PR #255).
    pub bearer: Option<&'a AccessToken>,
    /// Body fields, in order (empty for a GET).
    pub fields: Vec<(&'a str, &'a str)>,
    /// How `fields` are encoded.
    pub encoding: BodyEncoding,
    /// The most of the answer's body that is read ([`MAX_BODY`] unless set).
    pub cap: usize,
    /// The whole exchange, connect to last body byte ([`DEADLINE`] unless set).
    pub deadline: Duration,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.fields.iter().map(|(k, _)| *k).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("bearer", &self.bearer.map(|_| "[REDACTED]"))
            .field("fields", &keys)
            .field("encoding", &self.encoding)
            .field("cap", &self.cap)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl<'a> Request<'a> {
    /// A GET, with a bearer token for API calls.
    pub fn get(url: &'a str, bearer: Option<&'a AccessToken>) -> Self {
        Request {
            method: Method::Get,
            url,
            bearer,
            fields: Vec::new(),
            encoding: BodyEncoding::Form,
            cap: MAX_BODY,
            deadline: DEADLINE,
        }
    }

    /// The same request with another body cap and deadline (`api`'s are larger).
    pub fn limits(mut self, cap: usize, deadline: Duration) -> Self {
        self.cap = cap;
        self.deadline = deadline;
        self
    }

    /// A POST of `fields` encoded as `encoding`, without any Authorization header.
    pub fn post(url: &'a str, fields: Vec<(&'a str, &'a str)>, encoding: BodyEncoding) -> Self {
        Request {
            method: Method::Post,
            url,
            bearer: None,
            fields,
            encoding,
            cap: MAX_BODY,
            deadline: DEADLINE,
        }
    }

    /// The secrets this request carries (the bearer token and the values of secret
    /// fields), for masking them in whatever error text comes back.
    pub fn secrets(&self) -> Vec<&'a str> {
        const SECRET_FIELDS: [&str; 4] =
            ["client_secret", "refresh_token", "code", "code_verifier"];
        let fields = self
            .fields
            .iter()
            .filter(|(k, _)| SECRET_FIELDS.contains(k))
            .map(|(_, v)| *v);
        self.bearer
            .map(|b| b.expose())
            .into_iter()
            .chain(fields)
            .collect()
    }

    /// The body as it goes on the wire, in a buffer wiped on drop.
    pub fn body(&self) -> Zeroizing<String> {
        match self.encoding {
            BodyEncoding::Form => self.form_body(),
            BodyEncoding::Json => self.json_body(),
        }
    }

    /// The fields form-encoded.
    pub fn form_body(&self) -> Zeroizing<String> {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.fields {
            ser.append_pair(k, v);
        }
        Zeroizing::new(ser.finish())
    }

    /// The fields as one JSON object of strings, in order.
    pub fn json_body(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::from("{"));
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Serializing a string cannot fail.
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push(':');
            let value = Zeroizing::new(serde_json::to_string(v).unwrap_or_default());
            out.push_str(&value);
        }
        out.push('}');
        out
    }
}

/// What came back: the one response type of every request (see [`crate::http`]).
pub use crate::http::Response;

/// Why no (usable) response came back. Each kind leads to different advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens there (or a firewall says no).
    Refused,
    /// No answer in time.
    Timeout,
    /// The connection broke mid-way: worth a retry.
    Reset,
    /// The answer was longer than [`MAX_BODY`]; reading stopped there.
    TooLarge,
    /// The URL is plain http to another computer: nothing was sent.
    Insecure,
    /// TLS or anything else.
    Other,
}

#[derive(Clone, Debug)]
pub struct TransportError {
    pub kind: TransportKind,
    /// A short description from the OS or TLS layer, never a request body.
    pub detail: String,
}

/// The seam: anything that can carry one request.
pub trait Http {
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError>;

    /// Abandons every exchange in flight and refuses new ones (the agent, ending while a
    /// refresh waits on a slow endpoint). Nothing to do for a seam that never waits.
    fn cancel(&self) {}
}

impl<F> Http for F
where
    F: Fn(&Request<'_>) -> Result<Response, TransportError>,
{
    fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        self(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_is_product_slash_version() {
        assert_eq!(USER_AGENT, format!("ttvault/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn form_body_is_percent_encoded() {
        let req = Request::post(
            "http://x/oauth/token",
            vec![
                ("grant_type", "refresh_token"),
                ("client_secret", "a b&c=d+é"),
            ],
            BodyEncoding::Form,
        );
        assert_eq!(
            req.body().as_str(),
            "grant_type=refresh_token&client_secret=a+b%26c%3Dd%2B%C3%A9"
        );
    }

    #[test]
    fn json_body_is_an_object_of_strings_in_order() {
        let req = Request::post(
            "http://x/oauth/token",
            vec![
                ("grant_type", "refresh_token"),
                ("client_secret", "a\"b\\c\n"),
            ],
            BodyEncoding::Json,
        );
        let body = req.body();
        assert_eq!(
            body.as_str(),
            r#"{"grant_type":"refresh_token","client_secret":"a\"b\\c\n"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back["client_secret"], "a\"b\\c\n");
        assert_eq!(
            Request::post("u", vec![], BodyEncoding::Json)
                .body()
                .as_str(),
            "{}"
        );
    }

    #[test]
    fn request_debug_shows_no_values() {
        let token = AccessToken::new("tok-hunter2");
        let mut req = Request::get("http://x/customers/me", Some(&token));
        req.fields = vec![("client_secret", "hunter2")];
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("client_secret"));
    }

    #[test]
    fn json_is_told_from_html() {
        let html = Response::new(
            401,
            None,
            "<html><body>401 Authorization Required</body></html>",
        );
        assert!(!html.looks_like_json());
        let json = Response::new(400, Some("application/json; charset=utf-8"), "{}");
        assert!(json.looks_like_json());
        let bare = Response::new(400, None, "  {\"error\":\"x\"}");
        assert!(bare.looks_like_json());
    }

    #[test]
    fn encodings_name_their_content_type() {
        assert_eq!(BodyEncoding::Json.other(), BodyEncoding::Form);
        assert_eq!(BodyEncoding::Form.other(), BodyEncoding::Json);
        assert_eq!(BodyEncoding::Json.content_type(), "application/json");
        assert_eq!(
            serde_json::to_string(&BodyEncoding::Form).unwrap(),
            "\"form\""
        );
    }
}
