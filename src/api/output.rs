//! How answers are printed, as `gh api` does: pretty JSON at a terminal and the body
//! exactly as received when piped; `--jq` results one per line, strings raw; `-i` puts
//! the status line and headers first. At a terminal, control characters from the other
//! side (controls, bidirectional and zero-width characters) are shown escaped, never sent
//! to the terminal (they could rewrite or reorder the screen).

use crate::http::Response;
use jaq_json::write::Pp;
use jaq_json::Val;
use std::io::{self, Write};

/// Where the output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// stdout is a terminal: pretty JSON, escaped control characters.
    pub terminal: bool,
}

/// A writer that stops quietly when the reader went away (`ttvault api … | head`), as
/// ripgrep does: a closed pipe is not an error. [`Sink::closed`] tells the caller to stop
/// fetching.
pub struct Sink<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Sink<W> {
    pub fn new(inner: W) -> Sink<W> {
        Sink {
            inner,
            closed: false,
        }
    }

    pub fn closed(&self) -> bool {
        self.closed
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// `-i`: the status line, the headers, a blank line.
pub fn head(out: &mut dyn Write, style: Style, response: &Response) -> io::Result<()> {
    let mut text = format!("{}\n", response.status_line);
    for (name, value) in &response.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    out.write_all(terminal_safe(style, &text).as_bytes())
}

/// A whole body with no filter: pretty at a terminal, the bytes as received otherwise.
pub fn body(out: &mut dyn Write, style: Style, body: &[u8]) -> io::Result<()> {
    if !style.terminal {
        return out.write_all(body);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match jaq_json::read::parse_single(body) {
        Ok(value) => value_line(out, style, &value),
        // Not JSON after all (the call checks 2xx bodies; this is a safety net).
        Err(_) => out.write_all(terminal_safe(style, &String::from_utf8_lossy(body)).as_bytes()),
    }
}

/// One value on its own line: pretty (two-space indent) at a terminal, compact when piped.
pub fn value_line(out: &mut dyn Write, style: Style, value: &Val) -> io::Result<()> {
    let text = format!("{}\n", json(style, value, 0));
    out.write_all(terminal_safe(style, &text).as_bytes())
}

/// A `--jq` result: a string prints raw (as `gh api --jq` and `jq -r` do), anything else
/// as JSON.
pub fn jq_result(out: &mut dyn Write, style: Style, value: &Val) -> io::Result<()> {
    match value {
        Val::TStr(bytes) => {
            let text = format!("{}\n", String::from_utf8_lossy(bytes));
            out.write_all(terminal_safe(style, &text).as_bytes())
        }
        _ => value_line(out, style, value),
    }
}

/// The items of every page as one JSON array, written as they come (so a long walk
/// shows progress and holds one page at a time).
pub struct Items {
    started: bool,
    first: bool,
}

impl Items {
    pub fn new() -> Items {
        Items {
            started: false,
            first: true,
        }
    }

    pub fn item(&mut self, out: &mut dyn Write, style: Style, item: &Val) -> io::Result<()> {
        self.begin(out)?;
        let separator = match (self.first, style.terminal) {
            (true, true) => "\n  ",
            (true, false) => "",
            (false, true) => ",\n  ",
            (false, false) => ",",
        };
        self.first = false;
        let text = format!("{separator}{}", json(style, item, 1));
        out.write_all(terminal_safe(style, &text).as_bytes())
    }

    /// Closes the array (an empty one when there were no items).
    pub fn end(&mut self, out: &mut dyn Write, style: Style) -> io::Result<()> {
        self.begin(out)?;
        let close = if style.terminal && !self.first {
            "\n]\n"
        } else {
            "]\n"
        };
        *self = Items::new();
        out.write_all(close.as_bytes())
    }

    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.started {
            self.started = true;
            out.write_all(b"[")?;
        }
        Ok(())
    }
}

impl Default for Items {
    fn default() -> Self {
        Items::new()
    }
}

fn json(style: Style, value: &Val, level: usize) -> String {
    let pp = Pp {
        indent: style.terminal.then(|| "  ".to_string()),
        sep_space: style.terminal,
        ..Pp::default()
    };
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = jaq_json::write::write(&mut buf, &pp, level, value);
    String::from_utf8_lossy(&buf).into_owned()
}

/// At a terminal, every character the server-text sanitizer hides (controls other than
/// newline and tab, bidirectional and zero-width characters) is shown as a `\u{…}`
/// escape; piped output is left alone, byte for byte.
pub fn terminal_safe(style: Style, text: &str) -> std::borrow::Cow<'_, str> {
    if !style.terminal {
        return std::borrow::Cow::Borrowed(text);
    }
    crate::oauth::sanitize::escape_hidden(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTY: Style = Style { terminal: true };
    const PIPE: Style = Style { terminal: false };

    fn val(json: &str) -> Val {
        jaq_json::read::parse_single(json.as_bytes()).unwrap()
    }

    fn text(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pretty_at_a_terminal_as_received_when_piped() {
        let raw = br#"{"data":{"b":1,"a":[1,2.50]},"context":"/x"}"#;
        assert_eq!(text(|o| body(o, PIPE, raw)).as_bytes(), raw);
        assert_eq!(
            text(|o| body(o, TTY, raw)),
            "{\n  \"data\": {\n    \"b\": 1,\n    \"a\": [\n      1,\n      2.50\n    ]\n  },\n  \"context\": \"/x\"\n}\n"
        );
    }

    #[test]
    fn strings_print_raw_other_results_as_json() {
        assert_eq!(text(|o| jq_result(o, PIPE, &val(r#""SPXW""#))), "SPXW\n");
        assert_eq!(
            text(|o| jq_result(o, PIPE, &val(r#"{"a": [1, "x"]}"#))),
            "{\"a\":[1,\"x\"]}\n"
        );
        assert_eq!(text(|o| jq_result(o, TTY, &val("[1]"))), "[\n  1\n]\n");
    }

    #[test]
    fn control_characters_never_reach_a_terminal() {
        let evil = val("\"\\u001b]0;pwned\\u0007 \\u009b31m\"");
        assert_eq!(
            text(|o| jq_result(o, TTY, &evil)),
            "\\u{1b}]0;pwned\\u{7} \\u{9b}31m\n"
        );
        // Piped, the bytes are the data's own.
        assert_eq!(
            text(|o| jq_result(o, PIPE, &evil)),
            "\x1b]0;pwned\x07 \u{9b}31m\n"
        );
        let pretty = text(|o| value_line(o, TTY, &val("[\"\\u009b\"]")));
        assert!(!pretty.contains('\u{9b}'), "{pretty:?}");
    }

    #[test]
    fn items_form_one_array() {
        for (style, expected) in [
            (PIPE, "[{\"a\":1},2]\n"),
            (TTY, "[\n  {\n    \"a\": 1\n  },\n  2\n]\n"),
        ] {
            let out = text(|o| {
                let mut items = Items::new();
                items.item(o, style, &val(r#"{"a":1}"#))?;
                items.item(o, style, &val("2"))?;
                items.end(o, style)
            });
            assert_eq!(out, expected);
        }
        assert_eq!(text(|o| Items::new().end(o, PIPE)), "[]\n");
    }

    #[test]
    fn head_lists_the_status_and_headers() {
        let r = Response::new(200, Some("application/json"), "{}");
        assert_eq!(
            text(|o| head(o, PIPE, &r)),
            "HTTP/1.1 200\ncontent-type: application/json\n\n"
        );
    }

    #[test]
    fn a_closed_pipe_ends_output_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut sink = Sink::new(Closed);
        assert!(sink.write_all(b"x").is_ok());
        assert!(sink.closed());
    }
}
