use super::answer::{DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN};
use super::*;
use crate::oauth::http::{Method, TransportError};
use crate::oauth::retry::tests::NoSleep;
use crate::{Code, Error};
use std::cell::RefCell;

pub(super) const URL: &str = "https://api.tastyworks.com/oauth/token";
const CUSTOM: &str = "https://auth.example.com/oauth/token";

pub(super) fn secret() -> ClientSecret {
    ClientSecret::new("cs-hunter2")
}
fn rt() -> RefreshToken {
    RefreshToken::new("rt-hunter2")
}

fn answer(
    status: u16,
    ct: &'static str,
    body: &'static str,
) -> impl Fn(&Request<'_>) -> std::result::Result<Response, TransportError> {
    move |_| Ok(Response::new(status, Some(ct), body))
}

pub(super) fn refresh_at(http: &dyn Http, url: &str) -> crate::Result<TokenResponse> {
    refresh_with(http, &NoSleep::default(), url, "cid", &secret(), &rt())
}

pub(super) fn refresh_err(status: u16, ct: &'static str, body: &'static str) -> Error {
    refresh_at(&answer(status, ct, body), URL).unwrap_err()
}

const OK: &str = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":900}"#;

/// Records every body sent (content type and text) and answers with `reply(n)`.
fn recording<'a>(
    seen: &'a RefCell<Vec<(BodyEncoding, String)>>,
    reply: impl Fn(usize, BodyEncoding) -> Response + 'a,
) -> impl Fn(&Request<'_>) -> std::result::Result<Response, TransportError> + 'a {
    move |r| {
        assert_eq!(r.method, Method::Post);
        assert!(
            r.bearer.is_none(),
            "never an Authorization header on /oauth/token"
        );
        let n = seen.borrow().len();
        seen.borrow_mut().push((r.encoding, r.body().to_string()));
        Ok(reply(n, r.encoding))
    }
}

#[test]
fn tastytrade_refreshes_are_json_without_client_id() {
    let seen = RefCell::new(Vec::new());
    let http = recording(&seen, |_, _| {
        Response::new(200, Some("application/json"), OK)
    });
    for url in [
        URL,
        "https://api.tastytrade.com/oauth/token",
        "https://api.cert.tastyworks.com/oauth/token",
    ] {
        seen.borrow_mut().clear();
        let t = refresh_at(&http, url).unwrap();
        assert_eq!(t.access_token.expose(), "at-1");
        assert_eq!(t.encoding, BodyEncoding::Json);
        assert_eq!(
            seen.borrow().as_slice(),
            [(
                BodyEncoding::Json,
                r#"{"grant_type":"refresh_token","refresh_token":"rt-hunter2","client_secret":"cs-hunter2"}"#
                    .to_string()
            )]
        );
    }
}

#[test]
fn other_servers_get_an_rfc6749_form() {
    let seen = RefCell::new(Vec::new());
    let http = recording(&seen, |_, _| {
        Response::new(200, Some("application/json"), OK)
    });
    let t = refresh_at(&http, CUSTOM).unwrap();
    assert_eq!(t.encoding, BodyEncoding::Form);
    assert_eq!(t.expires_in, 900);
    assert!(t.refresh_token.is_none());
    assert_eq!(
        seen.borrow()[0].1,
        "grant_type=refresh_token&refresh_token=rt-hunter2&client_id=cid&client_secret=cs-hunter2"
    );
}

#[test]
fn a_body_not_understood_is_sent_once_in_the_other_encoding() {
    // A JSON-only server: the form first (custom host), then JSON, which works.
    let seen = RefCell::new(Vec::new());
    let http = recording(&seen, |_, enc| match enc {
        BodyEncoding::Json => Response::new(200, Some("application/json"), OK),
        BodyEncoding::Form => Response::new(
            415,
            Some("application/json"),
            r#"{"error_code":"invalid_request","error_description":"Content-Type must be application/json"}"#,
        ),
    });
    let t = refresh_at(&http, CUSTOM).unwrap();
    assert_eq!(
        t.encoding,
        BodyEncoding::Json,
        "the answer says which one worked"
    );
    let encodings: Vec<_> = seen.borrow().iter().map(|(e, _)| *e).collect();
    assert_eq!(encodings, [BodyEncoding::Form, BodyEncoding::Json]);
    // The JSON retry carries Tastytrade's documented fields.
    assert!(!seen.borrow()[1].1.contains("client_id"));

    // Remembered: the next refresh starts with JSON and needs one request.
    seen.borrow_mut().clear();
    let endpoint = TokenEndpoint {
        url: CUSTOM,
        client_id: "cid",
        client_secret: &secret(),
        encoding: Some(BodyEncoding::Json),
    };
    endpoint.refresh(&http, &NoSleep::default(), &rt()).unwrap();
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn a_refused_grant_or_client_is_not_resent() {
    for body in [
        r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
        r#"{"error":"invalid_client"}"#,
        r#"{"error_code":"invalid_request","error_description":"User is not a TastyTrade customer"}"#,
    ] {
        let seen = RefCell::new(Vec::new());
        let http = recording(&seen, |_, _| {
            Response::new(400, Some("application/json"), body)
        });
        assert!(refresh_at(&http, URL).is_err());
        let encodings: Vec<_> = seen.borrow().iter().map(|(e, _)| *e).collect();
        assert!(
            encodings.iter().all(|e| *e == BodyEncoding::Json),
            "{body}: {encodings:?}"
        );
    }
    // Nor a rate limit, an unknown URL or nginx's User-Agent page.
    for (status, ct, body) in [
        (429, "text/html", ""),
        (404, "text/html", "no"),
        (401, "text/html", "<html>"),
    ] {
        let seen = RefCell::new(Vec::new());
        let http = recording(&seen, |_, _| Response::new(status, Some(ct), body));
        let _ = refresh_at(&http, URL);
        assert!(
            seen.borrow().iter().all(|(e, _)| *e == BodyEncoding::Json),
            "{status}"
        );
    }
}

#[test]
fn when_neither_encoding_works_the_first_answer_is_explained() {
    let seen = RefCell::new(Vec::new());
    let http = recording(&seen, |n, _| {
        let body: &'static str = if n == 0 {
            r#"{"error_code":"invalid_request","error_description":"first"}"#
        } else {
            r#"{"error_code":"invalid_request","error_description":"second"}"#
        };
        Response::new(400, Some("application/json"), body)
    });
    let e = refresh_at(&http, URL).unwrap_err();
    assert_eq!(seen.borrow().len(), 2);
    assert!(e.message.contains("first"), "{}", e.message);
}

#[test]
fn exchange_sends_a_form_with_code_redirect_uri_and_verifier() {
    let seen = RefCell::new(Vec::new());
    let http = recording(&seen, |_, _| {
        Response::new(
            200,
            Some("application/json"),
            r#"{"access_token":"at","refresh_token":"rt-new","expires_in":"900","scope":"read"}"#,
        )
    });
    let t = exchange_code_with(
        &http,
        &NoSleep::default(),
        URL,
        "cid",
        &secret(),
        &AuthCode::new("code 1"),
        "http://localhost:8000",
        &PkceVerifier::new("v-1"),
    )
    .unwrap();
    assert_eq!(t.refresh_token.unwrap().expose(), "rt-new");
    assert_eq!(t.scope.as_deref(), Some("read"));
    assert_eq!(
        seen.borrow()[0],
        (BodyEncoding::Form, "grant_type=authorization_code&code=code+1&redirect_uri=http%3A%2F%2Flocalhost%3A8000&code_verifier=v-1&client_id=cid&client_secret=cs-hunter2".to_string())
    );
}

#[test]
fn tokens_outside_rfc6750_are_refused_unrepeated() {
    for body in [
        r#"{"access_token":"$(touch /tmp/pwned)"}"#,
        r#"{"access_token":"a\u0000b"}"#,
        r#"{"access_token":"\u001b[31mred"}"#,
        r#"{"access_token":"at","refresh_token":"rt'; rm -rf ~; '"}"#,
    ] {
        let e = refresh_err(200, "application/json", body);
        assert_eq!(e.code, Code::Network, "{body}");
        assert!(e.message.contains("will not use"), "{}", e.message);
        for bad in ["touch", "\u{1b}", "rm -rf", "31m"] {
            assert!(!e.message.contains(bad), "{}", e.message);
        }
    }
    let long = format!(r#"{{"access_token":"{}"}}"#, "a".repeat(9000));
    let http =
        move |_: &Request<'_>| Ok(Response::new(200, Some("application/json"), long.clone()));
    let e = refresh_at(&http, URL).unwrap_err();
    assert!(e.message.contains("9000 bytes"), "{}", e.message);
}

#[test]
fn absurd_lifetimes_are_capped() {
    let t = refresh_at(
        &answer(
            200,
            "application/json",
            r#"{"access_token":"a","expires_in":18446744073709551615}"#,
        ),
        URL,
    )
    .unwrap();
    assert_eq!(t.expires_in, MAX_EXPIRES_IN);
}

#[test]
fn token_response_debug_is_redacted() {
    let t = TokenResponse {
        access_token: AccessToken::new("at-hunter2"),
        expires_in: 900,
        refresh_token: Some(RefreshToken::new("rt-hunter2")),
        scope: Some("read".into()),
        token_type: "Bearer".into(),
        encoding: BodyEncoding::Json,
    };
    let dbg = format!("{t:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(dbg.contains("read"));
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let calls = RefCell::new(0);
    let http = |_: &Request<'_>| {
        *calls.borrow_mut() += 1;
        if *calls.borrow() == 1 {
            Ok(Response::new(503, Some("text/html"), "<html>down</html>"))
        } else {
            Ok(Response::new(200, None, r#"{"access_token":"a"}"#))
        }
    };
    let t = refresh_at(&http, URL).unwrap();
    assert_eq!(t.expires_in, DEFAULT_EXPIRES_IN);
    assert_eq!(t.token_type, "Bearer");
}

#[test]
fn plain_http_elsewhere_is_refused_before_sending() {
    let calls = RefCell::new(0);
    let http = |_: &Request<'_>| {
        *calls.borrow_mut() += 1;
        Ok(Response::new(200, None, OK))
    };
    let e = refresh_at(&http, "http://auth.example.com/oauth/token").unwrap_err();
    assert_eq!(e.code, Code::Usage);
    assert_eq!(*calls.borrow(), 0);
}

#[test]
fn success_without_access_token_is_nonsense() {
    let e = refresh_err(200, "application/json", r#"{"token":"x"}"#);
    assert_eq!(e.code, Code::Network);
    let e = refresh_err(200, "text/html", "<html>login</html>");
    assert_eq!(e.code, Code::Network);
}

#[test]
fn arbitrary_answers_never_panic_nor_echo() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let shapes = [
        r#"{"access_token":"x"}"#,
        r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
        r#"{"error":{"code":"c","message":"m"}}"#,
        r#"{"access_token":"a","expires_in":-1,"scope":["read",1,null]}"#,
    ];
    for _ in 0..2_000 {
        let mut body = shapes[rng.gen_range(0..shapes.len())].as_bytes().to_vec();
        for _ in 0..rng.gen_range(0..4) {
            if body.is_empty() {
                break;
            }
            let i = rng.gen_range(0..body.len());
            body[i] = rng.gen();
        }
        let status = [200u16, 400, 401, 403, 418, 302][rng.gen_range(0..6)];
        let ct = ["application/json", "text/html", ""][rng.gen_range(0..3)];
        let http = move |_: &Request<'_>| Ok(Response::new(status, Some(ct), body.clone()));
        if let Err(e) = refresh_at(&http, URL) {
            assert!(!e.message.contains("hunter2"));
            assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);
        }
    }
}

/// A server that echoes what it was sent in its error description: the pieces of the
/// secrets are masked, its error code is still read (the token fuzzer found a description
/// holding 12 characters of the PKCE verifier).
#[test]
fn an_error_description_that_echoes_a_secret_is_masked() {
    let e = refresh_err(
        400,
        "application/json",
        r#"{"error":"invalid_client","error_description":"bad secret (cs-hunter2) for rt-hunter2"}"#,
    );
    let said = format!("{} {}", e.message, e.hint.as_deref().unwrap_or(""));
    assert!(!said.contains("hunter2"), "{said}");
    assert!(
        said.contains("invalid_client") && said.contains("[…]"),
        "{said}"
    );
    assert_eq!(e.code, Code::Grant);
}

/// The same for a redirect whose Location (its origin is named) echoes what was sent.
#[test]
fn a_redirect_that_echoes_a_secret_is_masked() {
    let http = |_: &Request<'_>| {
        Ok(Response::new(302, Some("text/html"), "")
            .with_header("Location", "https://login.cs-hunter2.example/"))
    };
    let e = refresh_at(&http, URL).unwrap_err();
    let said = format!("{} {}", e.message, e.hint.as_deref().unwrap_or(""));
    assert!(!said.contains("hunter2"), "{said}");
    assert!(said.contains("302"), "{said}");
}
