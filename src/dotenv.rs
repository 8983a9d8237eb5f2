//! The plaintext dotenv `.secrets` written by the legacy setup script, read by
//! `ttvault import` and recognized wherever a vault was expected. Tolerates what editors
//! and shells leave behind: a BOM, CRLF line ends, comments, `export ` prefixes, blanks
//! around `=`, single or double quotes. Errors name lines and keys, never values.

use crate::error::{Error, Result};
use crate::secret::{ClientSecret, RefreshToken};
use zeroize::Zeroizing;

pub const KEY_CLIENT_ID: &str = "TT_API_CLIENT_ID";
pub const KEY_CLIENT_SECRET: &str = "TT_API_CLIENT_SECRET";
pub const KEY_REFRESH_TOKEN: &str = "TT_REFRESH_TOKEN";

/// The three values of a legacy `.secrets`.
#[derive(Debug)]
pub struct LegacySecrets {
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub refresh_token: RefreshToken,
}

/// One `KEY=value` pair; the value is zeroized on drop.
pub type Pair = (String, Zeroizing<String>);

/// Whether these bytes look like the legacy plaintext file (so any command pointed at one
/// can say that `ttvault import` encrypts it).
pub fn looks_like_legacy_secrets(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    [KEY_CLIENT_ID, KEY_CLIENT_SECRET, KEY_REFRESH_TOKEN]
        .iter()
        .any(|k| text.contains(&format!("{k}=")) || text.contains(&format!("{k} =")))
}

/// Reads the three legacy values; a missing one is named.
pub fn parse_legacy(bytes: &[u8]) -> Result<LegacySecrets> {
    let pairs = parse(bytes)?;
    let take = |key: &str| -> Result<Zeroizing<String>> {
        pairs
            .iter()
            .rev() // the last assignment wins, as in a shell
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Error::usage(format!("the plaintext file has no value for {key}")).hint(format!(
                    "add a line `{key}=…` (or run `ttvault init` to start from the browser flow)"
                ))
            })
    };
    Ok(LegacySecrets {
        client_id: take(KEY_CLIENT_ID)?.trim().to_string(),
        client_secret: ClientSecret::new(take(KEY_CLIENT_SECRET)?.trim()),
        refresh_token: RefreshToken::new(take(KEY_REFRESH_TOKEN)?.trim()),
    })
}

/// Parses a dotenv file into its pairs, in order.
pub fn parse(bytes: &[u8]) -> Result<Vec<Pair>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::usage("the plaintext file is not UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pairs = Vec::new();
    let mut lines = text.split('\n').enumerate();
    while let Some((index, raw)) = lines.next() {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let bad = || {
            Error::usage(format!(
                "line {} of the plaintext file is not KEY=value",
                index + 1
            ))
        };
        let (key, rest) = line.split_once('=').ok_or_else(bad)?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(bad());
        }
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                // A quoted value may span lines; gather until the closing quote.
                let mut body = Zeroizing::new(rest[1..].to_string());
                loop {
                    if let Some(value) = close_quote(&body, q) {
                        break value;
                    }
                    match lines.next() {
                        Some((_, next)) => {
                            body.push('\n');
                            body.push_str(next.strip_suffix('\r').unwrap_or(next));
                        }
                        None => {
                            return Err(Error::usage(format!(
                                "the value of {key} (line {}) has no closing quote",
                                index + 1
                            )))
                        }
                    }
                }
            }
            // Unquoted: up to an inline ` #` comment, trailing blanks dropped.
            _ => {
                let end = rest
                    .find(" #")
                    .or_else(|| rest.find("\t#"))
                    .unwrap_or(rest.len());
                Zeroizing::new(rest[..end].trim_end().to_string())
            }
        };
        pairs.push((key.to_string(), value));
    }
    Ok(pairs)
}

/// Finds the closing quote `q` in `body` and returns the unescaped value before it.
/// Double quotes understand `\"`, `\\`, `\n`, `\r`, `\t`; single quotes are literal.
fn close_quote(body: &str, q: char) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::new());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == q => return Some(out),
            '\\' if q == '"' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            other => out.push(other),
        }
    }
    None
}

/// Renders pairs for `ttvault export --format dotenv`: every value single-quoted, so
/// `set -a; . ./file` expands nothing, python-dotenv reads every byte back, and so does
/// [`parse`]. Those readers disagree about `'`, `\` and `${` inside single quotes (sh keeps
/// them literal, python-dotenv unescapes and interpolates), and about control characters,
/// so a value holding one is refused, naming the variable only. Tokens never do (they are
/// RFC 6750 tokens by the time they get here).
pub fn render_sourceable(pairs: &[(&str, &str)]) -> Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::new());
    for (key, value) in pairs {
        if let Some(why) = unsafe_in_single_quotes(value) {
            return Err(Error::failure(format!(
                "{key} holds {why}, which a dotenv file cannot carry so that both `. ./file` \
                 and python-dotenv read it back exactly"
            ))
            .hint("use `--format sh` for shells or `--format json` for programs"));
        }
        out.push_str(key);
        out.push_str("='");
        out.push_str(value);
        out.push_str("'\n");
    }
    Ok(out)
}

fn unsafe_in_single_quotes(value: &str) -> Option<&'static str> {
    if value.contains('\'') {
        Some("a single quote")
    } else if value.contains('\\') {
        Some("a backslash")
    } else if value.contains("${") {
        Some("`${`")
    } else if value.chars().any(char::is_control) {
        Some("a control character (a line break, tab or escape)")
    } else {
        None
    }
}

/// Renders pairs as a dotenv file that `parse` reads back exactly: every value
/// double-quoted, with `\`, `"`, newlines, carriage returns and tabs escaped.
pub fn render(pairs: &[(&str, &str)]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for (key, value) in pairs {
        out.push_str(key);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push_str("\"\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_legacy_script_and_editors_write() {
        let file = "\u{feff}# written by get_refresh_token.py\r\n\
                    export TT_API_CLIENT_ID = abc-123 \r\n\
                    TT_API_CLIENT_SECRET='s3cr3t \"x\"'\r\n\
                    TT_REFRESH_TOKEN=\"eyJ.a\\\"b.c\"  # the token\r\n";
        let s = parse_legacy(file.as_bytes()).unwrap();
        assert_eq!(s.client_id, "abc-123");
        assert_eq!(s.client_secret.expose(), "s3cr3t \"x\"");
        assert_eq!(s.refresh_token.expose(), "eyJ.a\"b.c");
    }

    #[test]
    fn a_missing_key_is_named_and_values_never_echoed() {
        let err =
            parse_legacy(b"TT_API_CLIENT_ID=id\nTT_API_CLIENT_SECRET=hush-value\n").unwrap_err();
        assert!(err.message.contains(KEY_REFRESH_TOKEN), "{}", err.message);
        let err = parse(b"TT_API_CLIENT_SECRET hush-value\n").unwrap_err();
        assert!(err.message.contains("line 1"));
        assert!(!err.message.contains("hush"));
    }

    #[test]
    fn sourceable_output_is_single_quoted_and_read_back_by_parse() {
        let values = [
            "eyJhbGciOiJFZERTQSJ9.eyJzIjoxfQ.c2ln",
            "with \"double\" quotes, $HOME, $(id) and `id`",
            "ünïcödé # not a comment",
            "",
        ];
        for v in values {
            let text = render_sourceable(&[("K", v)]).unwrap();
            assert_eq!(text.as_str(), format!("K='{v}'\n"));
            let parsed = parse(text.as_bytes()).unwrap();
            assert_eq!(parsed[0].1.as_str(), v, "{text:?}");
        }
    }

    #[test]
    fn values_the_readers_disagree_on_are_refused_by_name() {
        for v in [
            "it's",
            "back\\slash",
            "${HOME}",
            "line\nbreak",
            "tab\t",
            "esc\u{1b}[2J",
        ] {
            let e = render_sourceable(&[("TT_API_CLIENT_SECRET", v)]).unwrap_err();
            assert!(e.message.contains("TT_API_CLIENT_SECRET"), "{}", e.message);
            assert!(!e.message.contains(v), "{}", e.message);
            assert!(e.hint.unwrap().contains("--format sh"));
        }
    }

    #[test]
    fn render_round_trips_awkward_values() {
        let values = [
            "plain",
            "with \"quotes\" and 'single'",
            "$HOME `x` \\ back",
            "multi\nline\r\n\ttab",
            " # not a comment",
            "",
        ];
        for v in values {
            let text = render(&[("K", v)]);
            let parsed = parse(text.as_bytes()).unwrap();
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].1.as_str(), v, "{text:?}");
        }
    }
}
