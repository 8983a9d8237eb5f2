//! The token endpoint's code exchange: Tastytrade's fields, single-use codes, PKCE, client
//! authentication and request shapes (refresh: refresh.rs).

use std::time::Duration;

use crate::common::*;
use serde_json::json;
use tt_standin::Config;

#[test]
fn code_exchange_returns_tastytrade_fields() {
    let s = standin(Config::default());
    let base = s.base_url();
    let r = exchange(&base, &code_for(&base, "read"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 900);
    assert!(v["access_token"].is_string());
    assert!(v["refresh_token"].is_string());
    assert!(v.get("id_token").is_none(), "no openid, no id_token");
    assert!(v.get("scope").is_none(), "scope only when configured");
}

#[test]
fn code_exchange_accepts_json_bodies() {
    let s = standin(Config::default());
    let base = s.base_url();
    let code = code_for(&base, "read");
    let r = token_json(
        &base,
        &json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "redirect_uri": REDIRECT,
        }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.json()["refresh_token"].is_string());
}

#[test]
fn openid_adds_an_id_token() {
    let s = standin(Config::default());
    let base = s.base_url();
    let v = exchange(&base, &code_for(&base, "read openid")).json();
    let (header, claims) = jwt_parts(v["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["iss"], base);
    // Refreshing does not repeat it.
    let r = refresh(&base, v["refresh_token"].as_str().unwrap());
    assert!(r.json().get("id_token").is_none());
}

#[test]
fn config_controls_lifetime_and_scope_field() {
    let s = standin(Config {
        access_token_ttl: Duration::from_secs(60),
        scope_in_response: true,
        ..Config::default()
    });
    let base = s.base_url();
    let v = exchange(&base, &code_for(&base, "read trade")).json();
    assert_eq!(v["expires_in"], 60);
    assert_eq!(v["scope"], "read trade");
    let (_, claims) = jwt_parts(v["access_token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );
    let v = refresh(&base, v["refresh_token"].as_str().unwrap()).json();
    assert_eq!(v["expires_in"], 60);
    assert_eq!(v["scope"], "read trade");
}

#[test]
fn codes_are_single_use() {
    let s = standin(Config::default());
    let base = s.base_url();
    let code = code_for(&base, "read");
    assert_eq!(exchange(&base, &code).status, 200);
    assert_oauth_error(
        &exchange(&base, &code),
        400,
        "invalid_grant",
        Some("Invalid authorization code"),
    );
    assert_oauth_error(
        &exchange(&base, "made-up"),
        400,
        "invalid_grant",
        Some("Invalid authorization code"),
    );
}

#[test]
fn codes_expire() {
    let s = standin(Config::default());
    let base = s.base_url();
    s.set_code_ttl(Duration::from_millis(100));
    let code = code_for(&base, "read");
    std::thread::sleep(Duration::from_millis(200));
    assert_oauth_error(
        &exchange(&base, &code),
        400,
        "invalid_grant",
        Some("Invalid authorization code"),
    );
}

#[test]
fn codes_are_bound_to_client_and_redirect_uri() {
    let s = standin(Config::default());
    let base = s.base_url();
    s.register_app(
        "other",
        "other-secret",
        &[REDIRECT, "http://localhost:9000"],
    );
    s.register_app(CLIENT_ID, SECRET, &[REDIRECT, "http://localhost:9000"]);

    let code = code_for(&base, "read");
    let r = token_form(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "other"),
            ("client_secret", "other-secret"),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_oauth_error(&r, 400, "invalid_grant", Some("Invalid authorization code"));

    let code = code_for(&base, "read");
    let r = token_form(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", "http://localhost:9000"),
        ],
    );
    assert_oauth_error(&r, 400, "invalid_grant", None);
}

#[test]
fn bad_client_credentials_are_invalid_client() {
    let s = standin(Config::default());
    let base = s.base_url();
    let code = code_for(&base, "read");
    for (id, secret) in [(CLIENT_ID, "wrong"), ("nobody", SECRET)] {
        let r = token_form(
            &base,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", id),
                ("client_secret", secret),
                ("redirect_uri", REDIRECT),
            ],
        );
        assert_oauth_error(&r, 401, "invalid_client", None);
    }
    // A failed client authentication does not burn the code.
    assert_eq!(exchange(&base, &code).status, 200);
}

#[test]
fn missing_parameters_are_invalid_request() {
    let s = standin(Config::default());
    let base = s.base_url();
    for missing in ["code", "client_id", "client_secret", "redirect_uri"] {
        let code = code_for(&base, "read");
        let fields: Vec<(&str, &str)> = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", REDIRECT),
        ]
        .into_iter()
        .filter(|(k, _)| *k != missing)
        .collect();
        assert_oauth_error(&token_form(&base, &fields), 400, "invalid_request", None);
    }
    assert_oauth_error(
        &token_form(&base, &[("client_secret", SECRET)]),
        400,
        "invalid_request",
        None,
    );
}

#[test]
fn pkce_is_checked_when_a_challenge_was_sent() {
    let s = standin(Config::default());
    let base = s.base_url();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce_code = || {
        let location = approve(
            &base,
            &[
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        param(&location, "code").unwrap()
    };
    let with_verifier = |code: &str, verifier: Option<&str>| {
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(v) = verifier {
            fields.push(("code_verifier", v));
        }
        token_form(&base, &fields)
    };
    assert_oauth_error(
        &with_verifier(&pkce_code(), None),
        400,
        "invalid_grant",
        None,
    );
    assert_oauth_error(
        &with_verifier(&pkce_code(), Some(&verifier.replace('d', "e"))),
        400,
        "invalid_grant",
        None,
    );
    assert_eq!(with_verifier(&pkce_code(), Some(verifier)).status, 200);
    // Without a challenge a verifier is ignored, as RFC 7636 lets servers do.
    let plain = code_for(&base, "read");
    assert_eq!(with_verifier(&plain, Some(verifier)).status, 200);
}

#[test]
fn authorization_header_is_refused() {
    let s = standin(Config::default());
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_secret", SECRET),
    ]);
    for auth in ["Basic dGVzdC1jbGllbnQ6dGVzdC1zZWNyZXQ=", "Bearer x"] {
        let r = request(
            &base,
            "POST",
            "/oauth/token",
            &[
                ("User-Agent", UA),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", auth),
            ],
            &body,
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json(),
            json!({
                "error_code": "invalid_request",
                "error_description": "Authorization header is not accepted",
            })
        );
    }
}
