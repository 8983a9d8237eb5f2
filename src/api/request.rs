//! What `ttvault api` may send: a read (GET or HEAD) of a path under the vault's own API
//! base, with query fields. All of it is checked before the vault is opened or anything
//! is sent, so a refused call costs nothing and reaches no server.

use crate::error::{Error, Result};
use crate::oauth::sanitize::sanitize;
use url::Url;

/// The methods `ttvault api` sends. Anything that changes state at Tastytrade (orders,
/// settings) is out of ttvault's scope, so there is no way to send one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
}

impl Method {
    /// `-X` as typed, in any case.
    pub fn parse(text: &str) -> Result<Method> {
        let upper = text.trim().to_ascii_uppercase();
        match upper.as_str() {
            "GET" => Ok(Method::Get),
            "HEAD" => Ok(Method::Head),
            "POST" | "PUT" | "PATCH" | "DELETE" => Err(Error::usage(format!(
                "`api` only reads: {upper} would change something at Tastytrade, and \
                 trading is out of ttvault's scope; nothing was sent"
            ))
            .hint("ttvault api sends GET (the default) or HEAD")),
            _ => Err(Error::usage(format!(
                "-X {}: not a method ttvault api sends; nothing was sent",
                sanitize(text, 20)
            ))
            .hint("ttvault api sends GET (the default) or HEAD")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

/// A `-F key=value` query field.
pub fn parse_field(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(
            Error::usage(format!("-F {}: expected key=value", sanitize(text, 40)))
                .hint("for example -F per-page=50 -F page-offset=0"),
        ),
    }
}

/// The full URL of `path` (which may carry its own `?query`) under `api_base`, with the
/// fields appended as query parameters. The access token goes only to the vault's own
/// endpoint: a full URL, a `//host` path or anything that would leave `api_base`'s
/// scheme, host and port is refused.
pub fn url(api_base: &str, path: &str, fields: &[(String, String)]) -> Result<Url> {
    let path = check_path(path)?;
    let base = Url::parse(api_base).map_err(|e| {
        Error::failure(format!("the vault's API base URL does not parse: {e}"))
            .hint("check the vault with `ttvault show`")
    })?;
    let joined = format!("{}{path}", api_base.trim_end_matches('/'));
    let mut url = Url::parse(&joined).map_err(|e| {
        Error::usage(format!(
            "PATH {}: not a valid path ({e})",
            sanitize(&path, 60)
        ))
    })?;
    if url.origin() != base.origin() {
        return Err(off_base(&path));
    }
    if !fields.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in fields {
            pairs.append_pair(key, value);
        }
    }
    Ok(url)
}

/// `path` with its leading `/` (added when missing), or why it is refused.
fn check_path(path: &str) -> Result<String> {
    if path.trim().is_empty() {
        return Err(Error::usage("PATH is empty").hint("for example: ttvault api /customers/me"));
    }
    if path.contains("://") || path.starts_with("//") {
        return Err(off_base(path));
    }
    if path.chars().any(char::is_control) {
        return Err(Error::usage("PATH holds control characters")
            .hint("percent-encode them, e.g. %0A for a line break"));
    }
    if path.contains('#') {
        return Err(
            Error::usage("PATH holds a `#` fragment, which is never sent")
                .hint("percent-encode it as %23 if it belongs to the path"),
        );
    }
    Ok(if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    })
}

/// Names what was given in words a person recognises: a full URL by its host (the whole
/// URL reads as a token to the sanitizer), a path as typed unless it looks like a secret.
fn off_base(path: &str) -> Error {
    let given = match Url::parse(path).ok().as_ref().and_then(Url::host_str) {
        Some(host) => format!("the full URL to {} is", sanitize(host, 60)),
        None => match sanitize(path, 60) {
            shown if shown.contains("[…]") || shown.is_empty() => "the path given is".into(),
            shown => format!("the path {shown} is"),
        },
    };
    Error::usage(format!("{given} not a path under the vault's API base")).hint(
        "give only the path, e.g. /customers/me: ttvault sends the access token to the \
         vault's own API endpoint and nowhere else",
    )
}

/// The URL for page `offset` of a paginated list: every `page-offset` parameter the
/// URL already had is replaced.
pub fn with_page_offset(url: &Url, offset: u64) -> Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != super::pagination::OFFSET_PARAM)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next = url.clone();
    next.set_query(None);
    {
        let mut pairs = next.query_pairs_mut();
        for (k, v) in &kept {
            pairs.append_pair(k, v);
        }
        pairs.append_pair(super::pagination::OFFSET_PARAM, &offset.to_string());
    }
    next
}

/// The `page-offset` the URL asks for (0 when none or not a number).
pub fn page_offset(url: &Url) -> u64 {
    url.query_pairs()
        .filter(|(k, _)| k == super::pagination::OFFSET_PARAM)
        .filter_map(|(_, v)| v.trim().parse().ok())
        .last()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    const BASE: &str = "https://api.tastyworks.com";

    /// A full URL is named by its host, never as a literal "PATH […]".
    #[test]
    fn a_full_url_is_named_by_its_host() {
        let err = url(BASE, "https://api.tastyworks.com/customers/me", &[]).unwrap_err();
        assert_eq!(
            err.message,
            "the full URL to api.tastyworks.com is not a path under the vault's API base"
        );
        let err = url(BASE, "//evil.example/x", &[]).unwrap_err();
        assert!(!err.message.contains("PATH"), "{}", err.message);
        assert!(err.message.contains("//evil.example/x"), "{}", err.message);
    }

    #[test]
    fn only_reads_are_sent() {
        assert_eq!(Method::parse("get").unwrap(), Method::Get);
        assert_eq!(Method::parse("HEAD").unwrap(), Method::Head);
        for m in ["POST", "put", "Patch", "DELETE"] {
            let e = Method::parse(m).unwrap_err();
            assert_eq!(e.code, Code::Usage);
            assert!(
                e.message.contains("trading is out of ttvault's scope"),
                "{}",
                e.message
            );
        }
        let e = Method::parse("OPTIONS").unwrap_err();
        assert_eq!(e.code, Code::Usage);
    }

    #[test]
    fn fields_are_key_value() {
        assert_eq!(
            parse_field("per-page=5").unwrap(),
            ("per-page".to_string(), "5".to_string())
        );
        assert_eq!(parse_field("a=b=c").unwrap().1, "b=c");
        assert_eq!(parse_field("empty=").unwrap().1, "");
        assert_eq!(parse_field("nokey").unwrap_err().code, Code::Usage);
        assert_eq!(parse_field("=v").unwrap_err().code, Code::Usage);
    }

    #[test]
    fn paths_stay_under_the_base() {
        let u = url(BASE, "/customers/me", &[]).unwrap();
        assert_eq!(u.as_str(), "https://api.tastyworks.com/customers/me");
        let u = url(BASE, "customers/me", &[]).unwrap();
        assert_eq!(u.path(), "/customers/me");
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "http://api.tastyworks.com/x",
            "",
            "/a\nb",
            "/a#b",
        ] {
            assert_eq!(
                url(BASE, bad, &[]).unwrap_err().code,
                Code::Usage,
                "{bad:?}"
            );
        }
        // `@` or `:` after the base's authority stays in the path.
        let u = url(BASE, "/@evil.example/x", &[]).unwrap();
        assert_eq!(u.host_str(), Some("api.tastyworks.com"));
        let u = url("http://127.0.0.1:8001", ":9999/x", &[]).unwrap();
        assert_eq!(u.port(), Some(8001));
    }

    #[test]
    fn fields_become_query_parameters() {
        let fields = vec![
            ("symbol[]".to_string(), "SPXW  251219C05900000".to_string()),
            ("per-page".to_string(), "2".to_string()),
        ];
        let u = url(BASE, "/x?a=1", &fields).unwrap();
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("a".into(), "1".into()));
        assert_eq!(
            pairs[1],
            ("symbol[]".into(), "SPXW  251219C05900000".into())
        );
        assert_eq!(pairs[2], ("per-page".into(), "2".into()));
    }

    #[test]
    fn page_offsets_are_replaced() {
        let u = url(BASE, "/t?page-offset=3&per-page=2", &[]).unwrap();
        assert_eq!(page_offset(&u), 3);
        let next = with_page_offset(&u, 4);
        assert_eq!(next.query(), Some("per-page=2&page-offset=4"));
        assert_eq!(page_offset(&next), 4);
        assert_eq!(page_offset(&url(BASE, "/t", &[]).unwrap()), 0);
    }
}
