//! Sends each request to its route, after the check nginx makes in front of everything.

use crate::http::Reply;
use crate::{api, oauth, Recorded, Shared};

pub fn route(shared: &Shared, req: &Recorded) -> Reply {
    // Tastytrade's nginx rejects requests without a `product/version` User-Agent before the
    // application sees them, so the answer is an HTML page, even on /oauth/token.
    if !req.header("user-agent").is_some_and(valid_user_agent) {
        return Reply::nginx(401);
    }
    match req.path.as_str() {
        "/oauth/token" => oauth::token(shared, req),
        "/auth.html" => oauth::authorize(shared, req),
        _ => api::handle(shared, req),
    }
}

/// The first product token must look like `product/version`, both parts non-empty
/// (`ttvault/0.1.0`, `curl/8.5.0`, `Mozilla/5.0 (X11; …)`).
fn valid_user_agent(ua: &str) -> bool {
    ua.split_whitespace()
        .next()
        .and_then(|product| product.split_once('/'))
        .is_some_and(|(name, version)| !name.is_empty() && !version.is_empty())
}

#[cfg(test)]
mod tests {
    use super::valid_user_agent;

    #[test]
    fn user_agents() {
        assert!(valid_user_agent("ttvault/0.1.0"));
        assert!(valid_user_agent("Mozilla/5.0 (X11; Linux x86_64)"));
        assert!(!valid_user_agent(""));
        assert!(!valid_user_agent("ttvault"));
        assert!(!valid_user_agent("ttvault/"));
        assert!(!valid_user_agent("/1.0"));
    }
}
