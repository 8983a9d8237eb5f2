//! Writing an [`Answer`] to a connection. tiny_http frames it (status line, `Date`,
//! `Content-Length`); every answer carries [`pages::SECURITY_HEADERS`], and no header
//! value with a control character (a line break would start a header of its own) is
//! ever written.

use super::route::Answer;
use crate::oauth::pages;
use std::io::{self, Write};
use tiny_http::{HTTPVersion, Header, Response};

/// Writes `answer`. (tiny_http writes no `Connection` header of ours; a connection the
/// server ends after an answer is simply closed, which HTTP/1.1 clients expect.)
pub(super) fn write(out: &mut dyn Write, answer: &Answer) -> io::Result<()> {
    let (status, body, location) = match answer {
        Answer::Page(status, html) => (*status, html.as_str(), None),
        Answer::Redirect(status, location) => (*status, "", Some(location.as_str())),
    };
    let mut response = Response::from_string(body).with_status_code(status);
    let mut headers: Vec<(&str, &str)> = pages::SECURITY_HEADERS.to_vec();
    if let Some(location) = location {
        headers.push(("Location", location));
    }
    for (name, value) in headers {
        let printable = value.bytes().all(|b| (b' '..=b'~').contains(&b));
        let header = Header::from_bytes(name.as_bytes(), value.as_bytes())
            .ok()
            .filter(|_| printable)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a header value is not printable",
                )
            })?;
        response.add_header(header);
    }
    let mut buffered = io::BufWriter::new(out);
    response.raw_print(&mut buffered, HTTPVersion(1, 1), &[], false, None)?;
    buffered.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(answer: &Answer) -> String {
        let mut out = Vec::new();
        write(&mut out, answer).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pages_carry_the_protective_headers_and_their_length() {
        let text = written(&Answer::Page(404, "<p>x</p>".into()));
        assert!(text.starts_with("HTTP/1.1 404 "), "{text}");
        let lower = text.to_ascii_lowercase();
        assert!(lower.contains("cache-control: no-store"));
        assert!(lower.contains("referrer-policy: same-origin"));
        assert!(lower.contains("content-security-policy: default-src 'none'"));
        assert!(lower.contains("content-length: 8\r\n"));
        assert!(text.ends_with("\r\n\r\n<p>x</p>"));
    }

    #[test]
    fn redirects_carry_their_location() {
        let text = written(&Answer::Redirect(302, "http://a.example/x?y=1".into()));
        assert!(text.starts_with("HTTP/1.1 302 "), "{text}");
        assert!(
            text.contains("Location: http://a.example/x?y=1\r\n"),
            "{text}"
        );
    }

    #[test]
    fn a_location_with_a_line_break_is_never_written() {
        let mut out = Vec::new();
        let e = write(
            &mut out,
            &Answer::Redirect(302, "http://a.example/\r\nSet-Cookie: x=y".into()),
        );
        assert!(e.is_err());
        assert!(!String::from_utf8_lossy(&out).contains("Set-Cookie"));
    }
}
