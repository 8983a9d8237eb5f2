//! How the token endpoint's failures are explained: refusals, statuses, transport.

use super::tests::{refresh_at, refresh_err, secret, URL};
use super::*;
use crate::oauth::http::{TransportError, TransportKind};
use crate::oauth::retry::tests::NoSleep;
use crate::Code;
use std::cell::RefCell;

fn answer(
    status: u16,
    ct: &'static str,
    body: &'static str,
) -> impl Fn(&Request<'_>) -> std::result::Result<Response, TransportError> {
    move |_| Ok(Response::new(status, Some(ct), body))
}

#[test]
fn invalid_jwt_means_a_damaged_token() {
    let e = refresh_err(
        400,
        "application/json",
        r#"{"error_code":"invalid_grant","error_description":"Invalid JWT"}"#,
    );
    assert_eq!(e.code, Code::Grant);
    assert!(e.message.contains("Invalid JWT"), "{}", e.message);
    assert!(e.hint.unwrap().contains("paste it again"));
}

#[test]
fn revoked_grant_says_recreate_then_rotate() {
    for body in [
        r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
        r#"{"error":"invalid_grant","message":"Grant revoked"}"#,
        r#"{"error":"invalid_grant"}"#,
    ] {
        let e = refresh_err(401, "application/json", body);
        assert_eq!(e.code, Code::Grant, "{body}");
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("ttvault rotate") && hint.contains("tastytrade.com"),
            "{hint}"
        );
    }
}

#[test]
fn a_client_secret_mismatch_is_the_secret_not_the_grant() {
    let e = refresh_err(
        400,
        "application/json",
        r#"{"error_code":"invalid_grant","error_description":"Client secret mismatch"}"#,
    );
    assert_eq!(e.code, Code::Grant);
    assert!(
        e.message.contains("Client secret mismatch"),
        "{}",
        e.message
    );
    assert!(e.message.contains("another application"), "{}", e.message);
    let hint = e.hint.unwrap();
    assert!(
        hint.contains("do not re-create the grant for this"),
        "{hint}"
    );
    // Not the revoked grant's advice.
    assert!(!hint.contains(", then run `ttvault rotate`"), "{hint}");
}

#[test]
fn a_sandbox_grant_is_managed_with_the_sandbox_tools() {
    let http = answer(
        400,
        "application/json",
        r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
    );
    let e = refresh_at(&http, "https://api.cert.tastyworks.com/oauth/token").unwrap_err();
    let hint = e.hint.unwrap();
    assert!(hint.contains("sandbox's own tools"), "{hint}");
    assert!(!hint.contains("Manage → My Profile"), "{hint}");
}

#[test]
fn the_transient_sandbox_refusal_is_retried_then_named() {
    let calls = RefCell::new(0);
    let http = |_: &Request<'_>| {
        *calls.borrow_mut() += 1;
        Ok(Response::new(
            400,
            Some("application/json"),
            r#"{"error_code":"invalid_request","error_description":"User is not a TastyTrade customer"}"#,
        ))
    };
    let e = refresh_at(&http, "https://api.cert.tastyworks.com/oauth/token").unwrap_err();
    assert_eq!(*calls.borrow(), 4, "bounded: three retries");
    assert_eq!(e.code, Code::Network, "not the grant's fault");
    assert!(
        e.message.contains("User is not a TastyTrade customer"),
        "{}",
        e.message
    );
    let hint = e.hint.unwrap();
    assert!(hint.contains("known transient error"), "{hint}");
    assert!(!hint.contains("rotate"), "{hint}");
}

#[test]
fn html_401_names_the_user_agent() {
    let e = refresh_err(401, "text/html", "<html><head><title>401 Authorization Required</title></head><body><center>nginx</center></body></html>");
    assert_eq!(e.code, Code::Network);
    assert!(e.message.contains("User-Agent"), "{}", e.message);
    assert!(!e.message.contains("nginx"));
}

#[test]
fn error_bodies_are_never_echoed_whole() {
    let e = refresh_err(
        400,
        "application/json",
        r#"{"error":"invalid_grant","error_description":"token rt-hunter2-hunter2-hunter2-hunter2 is bad \u001b[2J"}"#,
    );
    assert!(!e.message.contains("hunter2"), "{}", e.message);
    assert!(!e.message.contains('\u{1b}'), "{}", e.message);
    let e = refresh_err(418, "text/plain", "rt-hunter2 teapot");
    assert!(!e.message.contains("hunter2"), "{}", e.message);
    assert_eq!(e.code, Code::Network);
}

#[test]
fn rate_limit_is_retried_then_reported() {
    let calls = RefCell::new(0);
    let http = |_: &Request<'_>| {
        *calls.borrow_mut() += 1;
        Ok(Response::new(429, None, ""))
    };
    let e = refresh_at(&http, URL).unwrap_err();
    assert_eq!(*calls.borrow(), 4);
    assert_eq!(e.code, Code::Network);
    assert!(e.message.contains("429"));
}

#[test]
fn unreachable_endpoint_is_exit_5_naming_it() {
    let http = |_: &Request<'_>| {
        Err(TransportError {
            kind: TransportKind::Refused,
            detail: "Connection refused (os error 111)".into(),
        })
    };
    let e = refresh_at(&http, "http://127.0.0.1:9/oauth/token").unwrap_err();
    assert_eq!(e.code, Code::Network);
    assert!(e.message.contains("http://127.0.0.1:9"), "{}", e.message);
}

#[test]
fn a_crossed_sandbox_name_gets_the_right_host() {
    let http = |_: &Request<'_>| {
        Err(TransportError {
            kind: TransportKind::Dns,
            detail: "failed to lookup address information".into(),
        })
    };
    let e = refresh_at(&http, "https://api.sandbox.tastyworks.com/oauth/token").unwrap_err();
    assert!(e.hint.unwrap().contains("https://api.cert.tastyworks.com"));
    // A host seen only in third-party code is accepted, not called a typo, and not
    // confirmed either: the hint names the documented one.
    let e = refresh_at(&http, "https://api.sandbox.tastytrade.com/oauth/token").unwrap_err();
    let hint = e.hint.unwrap();
    assert!(!hint.contains("does not exist"), "{hint}");
    assert!(hint.contains("only in third-party code"), "{hint}");
    assert!(hint.contains("https://api.cert.tastyworks.com"), "{hint}");
}

#[test]
fn redirect_mismatch_quotes_the_uri_and_the_advice() {
    let http = answer(
        400,
        "application/json",
        r#"{"error_code":"invalid_grant","error_description":"redirect_uri does not match"}"#,
    );
    let e = exchange_code_with(
        &http,
        &NoSleep::default(),
        URL,
        "cid",
        &secret(),
        &AuthCode::new("c"),
        "http://localhost:8000/",
        &PkceVerifier::new("v"),
    )
    .unwrap_err();
    assert!(
        e.message.contains("`http://localhost:8000/`"),
        "{}",
        e.message
    );
    assert!(e
        .hint
        .unwrap()
        .contains("exactly http://localhost:8000 (http, port 8000, no trailing slash)"));
}

#[test]
fn a_redirect_is_not_followed() {
    let http = |_: &Request<'_>| {
        Ok(Response::new(301, None, "").with_header("Location", "https://evil.example/steal?x=1"))
    };
    let e = refresh_at(&http, URL).unwrap_err();
    assert_eq!(e.code, Code::Network);
    assert!(e.message.contains("https://evil.example") && !e.message.contains("steal"));
}

#[test]
fn a_redirect_target_that_looks_like_a_token_is_not_repeated() {
    let long = "eyJhbGciOiJFUzI1NiJ9eyJzdWIiOiJ4In0";
    for location in [
        format!("{long}hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhtps:/"),
        format!("https://{long}.example.com/"),
        format!("x-{long}://host/"),
    ] {
        let http = move |_: &Request<'_>| {
            Ok(Response::new(302, Some("text/html"), "").with_header("Location", &location))
        };
        let e = refresh_at(&http, URL).unwrap_err();
        assert_eq!(e.code, Code::Network);
        assert!(!e.message.contains(long), "{}", e.message);
        assert!(e.message.contains("to elsewhere"), "{}", e.message);
    }
}
