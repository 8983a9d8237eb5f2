//! Reading HTTP/1.1 requests off one connection within fixed bounds: a head of at most
//! [`MAX_HEAD`] bytes (request line and headers, parsed by `httparse`), a body of at most
//! [`MAX_BODY`] bytes framed by `Content-Length` only, and never more than one head and one
//! body buffered, however many requests a client pipelines. Deadlines are the caller's:
//! it passes a reader whose reads fail once the connection's time is up.
//!
//! docs/OAUTH.md ("The loopback server") says why this is not tiny_http's own reader.

use std::io::{self, Read};
use zeroize::Zeroizing;

/// The largest request head (request line and headers) read before refusing with 431.
pub const MAX_HEAD: usize = 16 * 1024;
/// The largest body read before refusing with 413 (the credentials form is far smaller).
pub const MAX_BODY: usize = 16 * 1024;
/// More header fields than this is a 431 too.
const MAX_HEADERS: usize = 64;
/// Bytes asked of the socket per read.
const CHUNK: usize = 4096;

/// One request a browser (or anything local) sent the loopback server, read whole.
#[derive(Debug)]
pub struct BrowserRequest {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    /// May hold the client secret (the credentials form): zeroized when dropped.
    pub body: Zeroizing<Vec<u8>>,
}

impl BrowserRequest {
    /// The first header called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the client asked for the connection to end after this request.
    pub fn wants_close(&self) -> bool {
        self.minor_version == 0
            || self
                .headers
                .iter()
                .filter(|(field, _)| field.eq_ignore_ascii_case("Connection"))
                .flat_map(|(_, value)| value.split(','))
                .any(|token| token.trim().eq_ignore_ascii_case("close"))
    }
}

/// A request the server answers with an error status and then closes the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not HTTP/1.x, or a bad `Content-Length`: 400.
    Malformed,
    /// The head is longer than [`MAX_HEAD`] or has too many fields: 431.
    HeadTooLarge,
    /// `Content-Length` over [`MAX_BODY`]: 413.
    BodyTooLarge,
    /// A `Transfer-Encoding` (chunked bodies are not needed by any page here): 501.
    Unsupported,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::Malformed => 400,
            Refusal::HeadTooLarge => 431,
            Refusal::BodyTooLarge => 413,
            Refusal::Unsupported => 501,
        }
    }

    /// A title and a sentence for the page.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Malformed => ("Bad request", "That request could not be read."),
            Refusal::HeadTooLarge => ("Too large", "That request's headers are too large."),
            Refusal::BodyTooLarge => ("Too large", "That request is larger than expected."),
            Refusal::Unsupported => ("Not supported", "That request's encoding is not supported."),
        }
    }
}

#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection between requests (or before the first).
    Closed,
    /// A read failed, its deadline passed, or the client closed mid-request.
    Io(io::Error),
    /// Answer with the refusal's status, then close.
    Refused(Refusal),
}

/// The requests of one connection, in order. Bytes a client sent ahead (pipelining) wait
/// in the buffer, which never grows past [`MAX_HEAD`] + [`MAX_BODY`].
pub struct RequestReader {
    buf: Zeroizing<Vec<u8>>,
    /// Bytes at the front of `buf` that belong to the request last returned.
    consumed: usize,
}

impl Default for RequestReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestReader {
    pub fn new() -> Self {
        RequestReader {
            // Allocated once at its largest, so no reallocation leaves a copy of a body
            // behind unzeroized.
            buf: Zeroizing::new(Vec::with_capacity(MAX_HEAD + MAX_BODY)),
            consumed: 0,
        }
    }

    /// Bytes read from the client but not yet part of a returned request.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed
    }

    /// Reads the next request from `source`.
    pub fn next(&mut self, source: &mut dyn Read) -> Result<BrowserRequest, ReadError> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        let mut scanned = 0;
        let head_len = loop {
            // Blank lines before a request line are ignored (RFC 9112 §2.2).
            let blank = self
                .buf
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if blank > 0 {
                self.buf.drain(..blank);
                scanned = 0;
            }
            if let Some(len) = self.complete_head(scanned)? {
                break len;
            }
            if self.buf.len() >= MAX_HEAD {
                return Err(ReadError::Refused(Refusal::HeadTooLarge));
            }
            // A head can only end at a new blank line: look again from just before the
            // bytes about to arrive, so a trickled head is not reparsed byte by byte.
            scanned = self.buf.len().saturating_sub(3);
            if self.fill(source, MAX_HEAD - self.buf.len())? == 0 {
                return Err(if self.buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Io(io::ErrorKind::UnexpectedEof.into())
                });
            }
        };
        let mut request = self.parse_head(head_len)?;
        let length = content_length(&request.headers)?;
        let end = head_len + length;
        while self.buf.len() < end {
            if self.fill(source, end - self.buf.len())? == 0 {
                return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
        request.body.extend_from_slice(&self.buf[head_len..end]);
        self.consumed = end;
        Ok(request)
    }

    /// The head's length once `buf` holds a whole head; `None` while it may still grow.
    fn complete_head(&self, scanned: usize) -> Result<Option<usize>, ReadError> {
        let blank_line = self.buf[scanned..]
            .windows(2)
            .any(|w| w == b"\n\n" || w == b"\n\r");
        if !blank_line {
            return Ok(None);
        }
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::Request::new(&mut fields).parse(&self.buf) {
            Ok(httparse::Status::Complete(len)) => Ok(Some(len)),
            Ok(httparse::Status::Partial) => Ok(None),
            Err(httparse::Error::TooManyHeaders) => Err(ReadError::Refused(Refusal::HeadTooLarge)),
            Err(_) => Err(ReadError::Refused(Refusal::Malformed)),
        }
    }

    fn parse_head(&self, head_len: usize) -> Result<BrowserRequest, ReadError> {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut fields);
        match parsed.parse(&self.buf[..head_len]) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(ReadError::Refused(Refusal::Malformed)),
        }
        let (Some(method), Some(target), Some(minor_version)) =
            (parsed.method, parsed.path, parsed.version)
        else {
            return Err(ReadError::Refused(Refusal::Malformed));
        };
        let headers = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        Ok(BrowserRequest {
            method: method.to_string(),
            target: target.to_string(),
            minor_version,
            headers,
            body: Zeroizing::new(Vec::new()),
        })
    }

    /// Reads at most `max` more bytes (and at most [`CHUNK`]) straight into the buffer.
    fn fill(&mut self, source: &mut dyn Read, max: usize) -> Result<usize, ReadError> {
        let start = self.buf.len();
        let want = max.min(CHUNK);
        self.buf.resize(start + want, 0);
        let read = loop {
            match source.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = *read.as_ref().unwrap_or(&0);
        self.buf.truncate(start + n.min(want));
        read.map_err(ReadError::Io)
    }
}

/// The body's length: `Content-Length` (every copy the same), 0 without one; a
/// `Transfer-Encoding` is refused.
fn content_length(headers: &[(String, String)]) -> Result<usize, ReadError> {
    if headers
        .iter()
        .any(|(field, _)| field.eq_ignore_ascii_case("Transfer-Encoding"))
    {
        return Err(ReadError::Refused(Refusal::Unsupported));
    }
    let mut length = None;
    for (_, value) in headers
        .iter()
        .filter(|(field, _)| field.eq_ignore_ascii_case("Content-Length"))
    {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::Refused(Refusal::Malformed));
        }
        // Past MAX_BODY the exact value does not matter (and may not fit a usize).
        let this = if value.trim_start_matches('0').len() > 6 {
            usize::MAX
        } else {
            value.parse().unwrap_or(usize::MAX)
        };
        if length.is_some_and(|l| l != this) {
            return Err(ReadError::Refused(Refusal::Malformed));
        }
        length = Some(this);
    }
    match length.unwrap_or(0) {
        l if l > MAX_BODY => Err(ReadError::Refused(Refusal::BodyTooLarge)),
        l => Ok(l),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
