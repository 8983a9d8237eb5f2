//! Tastytrade's nginx rejects requests without a `product/version` User-Agent with an HTML
//! 401 before the application sees them, on every route.

use crate::common::*;
use tt_standin::Config;

fn assert_nginx_401(r: &Response) {
    assert_eq!(r.status, 401, "{r:?}");
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html"),
        "{r:?}"
    );
    assert!(
        r.body.contains("<html>") && r.body.contains("nginx"),
        "{r:?}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_err());
}

#[test]
fn missing_user_agent_is_an_html_401_everywhere() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    let bearer = format!("Bearer {at}");

    // Even a request that would otherwise succeed.
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_secret", SECRET),
    ]);
    let r = request(&base, "POST", "/oauth/token", &[], &body);
    assert_nginx_401(&r);

    for target in [
        "/customers/me",
        "/customers/me/accounts",
        "/option-chains/SPX/nested",
        "/api-quote-tokens",
        "/no/such/route",
    ] {
        let r = request(&base, "GET", target, &[("Authorization", &bearer)], "");
        assert_nginx_401(&r);
    }
    let r = request(&base, "GET", &authorize_target(&[]), &[], "");
    assert_nginx_401(&r);
}

#[test]
fn user_agent_must_look_like_product_slash_version() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    let bearer = format!("Bearer {at}");
    for ua in ["ttvault", "ttvault/", "/1.0", " "] {
        let r = request(
            &base,
            "GET",
            "/customers/me",
            &[("User-Agent", ua), ("Authorization", &bearer)],
            "",
        );
        assert_nginx_401(&r);
    }
    for ua in ["ttvault/0.1.0", "Mozilla/5.0 (X11; Linux x86_64)"] {
        let r = request(
            &base,
            "GET",
            "/customers/me",
            &[("User-Agent", ua), ("Authorization", &bearer)],
            "",
        );
        assert_eq!(r.status, 200, "{ua}: {r:?}");
    }
}

#[test]
fn rejected_requests_are_recorded_too() {
    let s = standin(Config::default());
    request(&s.base_url(), "POST", "/oauth/token", &[], "grant_type=x");
    let token_requests = s.token_requests();
    assert_eq!(token_requests.len(), 1);
    assert_eq!(token_requests[0].header("user-agent"), None);
    assert_eq!(token_requests[0].body, "grant_type=x");
}
