//! The redirect URI, checked: it must point at this computer over plain http, because
//! ttvault's loopback server is what answers it.

use super::error::{LoopbackError, UriProblem};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri {
    /// Exactly as given: sent to Tastytrade byte for byte.
    pub uri: String,
    pub port: u16,
    /// The path the callback arrives on (`/` for `http://localhost:8000`).
    pub path: String,
    /// `localhost`, `127.0.0.1` or `[::1]`, as written.
    pub host: String,
}

impl RedirectUri {
    pub fn parse(uri: &str) -> Result<Self, LoopbackError> {
        let refuse = |problem| LoopbackError::RedirectUri {
            uri: uri.to_string(),
            problem,
        };
        let parsed =
            url::Url::parse(uri).map_err(|e| refuse(UriProblem::NotAUrl(e.to_string())))?;
        if parsed.scheme() != "http" {
            return Err(refuse(UriProblem::NotHttp));
        }
        let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();
        if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err(refuse(UriProblem::NotLoopback));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(refuse(UriProblem::QueryOrFragment));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse(UriProblem::UserInfo));
        }
        Ok(RedirectUri {
            uri: uri.to_string(),
            port: parsed.port_or_known_default().unwrap_or(80),
            path: parsed.path().to_string(),
            host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_http_uris_are_taken_apart() {
        let r = RedirectUri::parse("http://localhost:8000").unwrap();
        assert_eq!(
            (r.port, r.path.as_str(), r.uri.as_str()),
            (8000, "/", "http://localhost:8000")
        );
        let r = RedirectUri::parse("http://127.0.0.1:9000/callback").unwrap();
        assert_eq!((r.port, r.path.as_str()), (9000, "/callback"));
        assert_eq!(r.host, "127.0.0.1");
        assert_eq!(RedirectUri::parse("http://[::1]/").unwrap().port, 80);
    }

    #[test]
    fn other_uris_are_usage_errors_naming_the_problem() {
        for (bad, problem) in [
            ("https://localhost:8000", UriProblem::NotHttp),
            ("localhost:8000", UriProblem::NotHttp),
            ("http://example.com:8000", UriProblem::NotLoopback),
            ("http://0.0.0.0:8000", UriProblem::NotLoopback),
            ("http://localhost:8000/?x=1", UriProblem::QueryOrFragment),
            ("http://localhost:8000/#x", UriProblem::QueryOrFragment),
            ("http://me@localhost:8000", UriProblem::UserInfo),
        ] {
            let e = RedirectUri::parse(bad).unwrap_err();
            assert_eq!(e.code(), crate::Code::Usage, "{bad}");
            assert_eq!(
                e,
                LoopbackError::RedirectUri {
                    uri: bad.into(),
                    problem
                }
            );
            assert!(e.to_string().contains(bad), "{e}");
        }
        let e = RedirectUri::parse("not a url").unwrap_err();
        assert!(
            matches!(
                &e,
                LoopbackError::RedirectUri {
                    problem: UriProblem::NotAUrl(_),
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
