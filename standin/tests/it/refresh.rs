//! The token endpoint's refresh: Tastytrade's error shapes, revocation, rotation, token
//! shapes, and the modes for Tastytrade's unknowns (scope claim, opaque tokens, body
//! encodings, the sandbox's transient refusal).

use std::time::Duration;

use crate::common::*;
use serde_json::json;
use tt_standin::{Config, ScopeClaim, TokenBodies};

#[test]
fn refresh_returns_access_token_but_no_refresh_token_by_default() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = refresh(&base, &rt);
        assert_eq!(r.status, 200, "{r:?}");
        let v = r.json();
        assert!(v.get("refresh_token").is_none(), "{v}");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["expires_in"], 900);
        let at = v["access_token"].as_str().unwrap().to_string();
        assert!(!seen.contains(&at), "each refresh mints a new access token");
        seen.push(at);
    }
}

#[test]
fn refresh_accepts_json_and_a_matching_client_id() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let r = token_json(
        &base,
        &json!({
            "grant_type": "refresh_token",
            "refresh_token": rt,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = token_json(
        &base,
        &json!({
            "grant_type": "refresh_token",
            "refresh_token": rt,
            "client_id": "someone-else",
            "client_secret": SECRET,
        }),
    );
    assert_oauth_error(&r, 401, "invalid_client", None);
}

#[test]
fn malformed_or_unknown_refresh_tokens_are_invalid_jwt() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    let other = tt_standin::StandIn::start(Config::default()).unwrap();
    other.register_app(CLIENT_ID, SECRET, &[REDIRECT]);
    let foreign = other.personal_grant(CLIENT_ID, "read");
    for bad in [
        "garbage".to_string(),
        rt[..rt.len() - 5].to_string(),
        format!("{rt} "),
        at,
        foreign,
    ] {
        assert_oauth_error(
            &refresh(&base, &bad),
            400,
            "invalid_grant",
            Some("Invalid JWT"),
        );
    }
}

#[test]
fn revoked_grants_say_grant_revoked() {
    let s = standin(Config::default());
    let base = s.base_url();
    let a = s.personal_grant(CLIENT_ID, "read");
    let b = s.personal_grant(CLIENT_ID, "read");
    s.revoke(&a);
    assert_oauth_error(
        &refresh(&base, &a),
        400,
        "invalid_grant",
        Some("Grant revoked"),
    );
    assert_eq!(refresh(&base, &b).status, 200, "other grants live on");
}

#[test]
fn revoke_all_kills_every_grant_of_the_app_only() {
    let s = standin(Config::default());
    let base = s.base_url();
    s.register_app("other", "other-secret", &[REDIRECT]);
    let a = s.personal_grant(CLIENT_ID, "read");
    let from_code = exchange(&base, &code_for(&base, "read")).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let pending_code = code_for(&base, "read");
    let o = s.personal_grant("other", "read");
    s.revoke_all(CLIENT_ID);
    for rt in [&a, &from_code] {
        assert_oauth_error(
            &refresh(&base, rt),
            400,
            "invalid_grant",
            Some("Grant revoked"),
        );
    }
    assert_oauth_error(&exchange(&base, &pending_code), 400, "invalid_grant", None);
    let r = token_form(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &o),
            ("client_secret", "other-secret"),
        ],
    );
    assert_eq!(r.status, 200);
    // A new grant works again.
    assert_eq!(exchange(&base, &code_for(&base, "read")).status, 200);
}

#[test]
fn rotation_replaces_the_refresh_token() {
    let s = standin(Config {
        rotate_refresh_tokens: true,
        ..Config::default()
    });
    let base = s.base_url();
    let first = s.personal_grant(CLIENT_ID, "read trade");
    let v = refresh(&base, &first).json();
    let second = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let (_, claims) = jwt_parts(&second);
    assert_eq!(claims["scope"], "read trade");
    assert_oauth_error(&refresh(&base, &first), 400, "invalid_grant", None);
    let third = refresh(&base, &second).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_oauth_error(&refresh(&base, &second), 400, "invalid_grant", None);
    s.revoke(&third);
    assert_oauth_error(
        &refresh(&base, &third),
        400,
        "invalid_grant",
        Some("Grant revoked"),
    );
}

#[test]
fn grant_types_are_checked() {
    let s = standin(Config::default());
    let base = s.base_url();
    assert_oauth_error(
        &token_form(
            &base,
            &[("grant_type", "password"), ("client_secret", SECRET)],
        ),
        400,
        "unsupported_grant_type",
        None,
    );
    assert_oauth_error(
        &token_json(&base, &json!({ "grant_type": "client_credentials" })),
        400,
        "unsupported_grant_type",
        None,
    );
}

#[test]
fn refresh_tokens_are_shaped_like_a_real_one() {
    let s = standin(Config::default());
    let base = s.base_url();
    let pasted = s.personal_grant(CLIENT_ID, "read trade");
    let from_code = exchange(&base, &code_for(&base, "read")).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for (token, scope) in [(&pasted, "read trade"), (&from_code, "read")] {
        let (header, claims) = jwt_parts(token);
        assert_eq!(header, json!({ "alg": "EdDSA", "typ": "rt+jwt" }));
        assert_eq!(claims["iss"], "https://api.tastytrade.com");
        assert_eq!(claims["aud"], CLIENT_ID);
        assert_eq!(claims["scope"], scope);
        assert!(claims["iat"].as_u64().unwrap() > 1_700_000_000);
        assert!(claims["sub"].is_string());
        assert!(claims.get("exp").is_none(), "refresh tokens never expire");
        ids.push(claims["grant_id"].as_str().unwrap().to_string());
        // Unpadded base64url, three parts, no whitespace: pasteable as is.
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    }
    assert_ne!(ids[0], ids[1], "two grants, two grant ids");
}

#[test]
fn the_scope_claim_can_be_named_scopes_or_left_out() {
    let s = standin(Config {
        scope_claim: ScopeClaim::Scopes,
        ..Config::default()
    });
    let (_, claims) = jwt_parts(&s.personal_grant(CLIENT_ID, "read trade"));
    assert_eq!(claims["scopes"], json!(["read", "trade"]));
    assert!(claims.get("scope").is_none());
    let s = standin(Config {
        scope_claim: ScopeClaim::None,
        ..Config::default()
    });
    let rt = s.personal_grant(CLIENT_ID, "read");
    let (_, claims) = jwt_parts(&rt);
    assert!(claims.get("scope").is_none() && claims.get("scopes").is_none());
    assert_eq!(
        refresh(&s.base_url(), &rt).status,
        200,
        "the grant still works"
    );
}

#[test]
fn opaque_refresh_tokens_are_no_jwts_but_work() {
    let s = standin(Config {
        opaque_refresh_tokens: true,
        ..Config::default()
    });
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    assert!(tt_standin::decode_unverified(&rt).is_none());
    assert!(!rt.contains('.'));
    assert!(rt.len() >= 40);
    let from_code = exchange(&base, &code_for(&base, "read")).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(tt_standin::decode_unverified(&from_code).is_none());
    assert_eq!(refresh(&base, &rt).status, 200);
    assert_eq!(refresh(&base, &from_code).status, 200);
}

#[test]
fn a_json_only_endpoint_refuses_forms_and_takes_json() {
    let s = standin(Config {
        token_bodies: TokenBodies::JsonOnly,
        ..Config::default()
    });
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    assert_oauth_error(
        &refresh(&base, &rt),
        415,
        "invalid_request",
        Some("Request body must be JSON"),
    );
    let r = token_json(
        &base,
        &json!({ "grant_type": "refresh_token", "refresh_token": rt, "client_secret": SECRET }),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn a_form_only_endpoint_refuses_json_and_takes_forms() {
    let s = standin(Config {
        token_bodies: TokenBodies::FormOnly,
        ..Config::default()
    });
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let r = token_json(
        &base,
        &json!({ "grant_type": "refresh_token", "refresh_token": rt, "client_secret": SECRET }),
    );
    assert_oauth_error(
        &r,
        400,
        "invalid_request",
        Some("Request body must be form-encoded"),
    );
    assert_eq!(refresh(&base, &rt).status, 200);
}

#[test]
fn the_transient_sandbox_refusal_passes() {
    let s = standin(Config {
        transient_not_customer: 2,
        ..Config::default()
    });
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    for _ in 0..2 {
        assert_oauth_error(
            &refresh(&base, &rt),
            400,
            "invalid_request",
            Some("User is not a TastyTrade customer"),
        );
    }
    assert_eq!(refresh(&base, &rt).status, 200);
}

#[test]
fn access_tokens_are_jwt_shaped() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = refresh(&base, &rt).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (header, claims) = jwt_parts(&at);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["scope"], "read");
    assert_eq!(
        claims["exp"].as_u64().unwrap(),
        claims["iat"].as_u64().unwrap() + 900
    );
}

#[test]
fn fail_next_answers_bare_errors_then_recovers() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    s.fail_next(429, 2);
    for _ in 0..2 {
        let r = refresh(&base, &rt);
        assert_eq!(r.status, 429);
        assert!(r.header("retry-after").is_none());
        assert!(r.body.contains("429 Too Many Requests"), "{r:?}");
        // API routes are not affected.
        assert_eq!(api_get(&base, "/customers/me", &at).status, 200);
    }
    assert_eq!(refresh(&base, &rt).status, 200);

    for status in [500, 503] {
        s.fail_next(status, 1);
        assert_eq!(refresh(&base, &rt).status, status);
        assert_eq!(refresh(&base, &rt).status, 200);
    }
    assert_eq!(s.token_requests().len(), 7);
}

#[test]
fn only_post_is_accepted() {
    let s = standin(Config::default());
    let r = get(&s.base_url(), "/oauth/token");
    assert_eq!(r.status, 405);
    assert!(r.json()["error_code"].is_string());
}

#[test]
fn malformed_bodies_are_invalid_request() {
    let s = standin(Config::default());
    let base = s.base_url();
    let cases = [
        ("application/json", "{\"grant_type\":"),
        ("application/json", "[\"refresh_token\"]"),
        ("application/json", "{\"grant_type\":{\"a\":1}}"),
        ("application/x-www-form-urlencoded", "grant_type=%E0%A4%A"),
        (
            "application/x-www-form-urlencoded",
            "grant_type=a&grant_type=b",
        ),
        ("text/plain", "\u{0}\u{1}\u{2}"),
    ];
    for (content_type, body) in cases {
        let r = request(
            &base,
            "POST",
            "/oauth/token",
            &[("User-Agent", UA), ("Content-Type", content_type)],
            body,
        );
        assert_eq!(r.status, 400, "{body:?}: {r:?}");
        assert!(r.json()["error_code"].is_string(), "{body:?}");
    }
}

#[test]
fn absurd_lifetimes_do_not_panic() {
    let s = standin(Config {
        access_token_ttl: Duration::MAX,
        ..Config::default()
    });
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read openid");
    let at = s.access_token(&rt);
    assert_eq!(api_get(&base, "/customers/me", &at).status, 200);
    let v = exchange(&base, &code_for(&base, "openid")).json();
    assert_eq!(v["expires_in"], u64::MAX);
}
