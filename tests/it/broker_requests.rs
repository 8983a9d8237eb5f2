//! Requests inside a terminated connection: the token answer (both encodings, wrong values,
//! a failing token source), forwarding with the program's own headers, the read-only
//! policy, and placeholders outside a token request.

use crate::broker_client::*;
use ttvault::broker::Event;

#[test]
fn token_requests_are_answered_by_the_broker_in_json_and_form() {
    let (standin, running, access) = with_standin(false);
    let mut tls = terminated(&running, "api.tastyworks.com");
    let json = exchange(
        &mut tls,
        "POST",
        "/oauth/token",
        &[("Content-Type", "application/json")],
        &token_json(&running),
    );
    let (client_id, secret, refresh) = &running.placeholders;
    let form = format!("grant_type=refresh_token&refresh_token={refresh}&client_secret={secret}&client_id={client_id}");
    // The same connection, kept alive, in the other encoding.
    let formed = exchange(
        &mut tls,
        "POST",
        "/oauth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    for answer in [json, formed] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        let v = answer.json();
        assert_eq!(v["access_token"], access.as_str());
        assert_eq!(v["token_type"], "Bearer");
        let left = v["expires_in"].as_u64().unwrap();
        assert!(left > 60 && left <= 900, "{left}");
        assert_eq!(v["refresh_token"], refresh.as_str());
        assert!(answer
            .head
            .to_ascii_lowercase()
            .contains("cache-control: no-store"));
    }
    // Never forwarded: the stand-in saw no token request.
    assert!(standin.requests().is_empty(), "{:?}", standin.requests());
}

#[test]
fn a_token_request_with_wrong_values_gets_401_naming_ttvault_and_is_not_forwarded() {
    let (standin, running, _) = with_standin(false);
    let mut tls = terminated(&running, "api.tastytrade.com");
    let wrong =
        r#"{"grant_type":"refresh_token","refresh_token":"rt-real-looking","client_secret":"cs"}"#;
    let answer = exchange(
        &mut tls,
        "POST",
        "/oauth/token",
        &[("Content-Type", "application/json")],
        wrong,
    );
    assert_eq!(answer.status, 401);
    assert!(answer.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("ttvault"));
    assert!(standin.requests().is_empty());
}

#[test]
fn a_failing_token_source_answers_401_with_the_reason_and_an_event() {
    let standin = crate::common::standin();
    let running = start(
        &standin.base_url(),
        false,
        Tokens {
            token: Err("the agent is locked and no prompt is possible".into()),
        },
    );
    let mut tls = terminated(&running, "api.cert.tastyworks.com");
    let answer = exchange(&mut tls, "POST", "/oauth/token", &[], &token_json(&running));
    assert_eq!(answer.status, 401);
    let text = answer.json()["error_description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("ttvault") && text.contains("agent is locked"),
        "{text}"
    );
    assert_eq!(
        running.events.recv().unwrap(),
        Event::TokenFailed {
            reason: "the agent is locked and no prompt is possible".into(),
            hint: None,
        }
    );
}

#[test]
fn reads_are_forwarded_with_the_programs_own_headers() {
    let (standin, running, access) = with_standin(false);
    let mut tls = terminated(&running, "api.tastyworks.com");
    let bearer = format!("Bearer {access}");
    let answer = exchange(
        &mut tls,
        "GET",
        "/customers/me/accounts",
        &[
            ("Authorization", &bearer),
            ("Proxy-Authorization", "Basic eA=="),
        ],
        "",
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["data"]["items"].is_array());
    let seen = standin.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/customers/me/accounts");
    assert_eq!(seen[0].header("authorization"), Some(bearer.as_str()));
    assert_eq!(seen[0].header("user-agent"), Some("test/1"));
    let standin_host = url::Url::parse(&standin.base_url()).unwrap();
    let host = seen[0].header("host").unwrap();
    assert!(host.starts_with(standin_host.host_str().unwrap()), "{host}");
    assert_eq!(seen[0].header("proxy-authorization"), None);
    // HEAD passes too, and keeps the length of the body it describes.
    let get = exchange(
        &mut tls,
        "GET",
        "/customers/me",
        &[("Authorization", &bearer)],
        "",
    );
    let head = exchange(
        &mut tls,
        "HEAD",
        "/customers/me",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(head.status, 200);
    let length = format!("content-length: {}", get.body.len());
    assert!(
        head.head.to_ascii_lowercase().contains(&length),
        "{}",
        head.head
    );
}

#[test]
fn writes_are_refused_unless_trading_is_allowed() {
    let (standin, running, access) = with_standin(false);
    let mut tls = terminated(&running, "api.tastyworks.com");
    let bearer = format!("Bearer {access}");
    let order = r#"{"order-type":"Limit"}"#;
    let refused = exchange(
        &mut tls,
        "POST",
        "/accounts/5WT00001/orders?x=1",
        &[("Authorization", &bearer)],
        order,
    );
    assert_eq!(refused.status, 403);
    let error = &refused.json()["error"];
    assert_eq!(error["code"], "ttvault_read_only");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("ttvault exec --allow-trade"));
    assert_eq!(
        running.events.recv().unwrap(),
        Event::Refused {
            method: "POST".into(),
            host: "api.tastyworks.com".into(),
            path: "/accounts/5WT00001/orders".into()
        }
    );
    for (method, path) in [
        ("DELETE", "/accounts/5WT00001/orders/1"),
        ("PUT", "/customers/me"),
    ] {
        assert_eq!(exchange(&mut tls, method, path, &[], "").status, 403);
    }
    assert!(
        standin.requests().is_empty(),
        "a refused write reached upstream"
    );
    // Validation and dry-runs pass the policy and reach the stand-in.
    exchange(
        &mut tls,
        "POST",
        "/sessions/validate",
        &[("Authorization", &bearer)],
        "",
    );
    exchange(
        &mut tls,
        "POST",
        "/accounts/5WT00001/orders/dry-run",
        &[("Authorization", &bearer)],
        order,
    );
    let paths: Vec<String> = standin
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            "POST /sessions/validate",
            "POST /accounts/5WT00001/orders/dry-run"
        ]
    );

    // With --allow-trade the order goes through.
    let (standin, running, _) = with_standin(true);
    let mut tls = terminated(&running, "api.tastyworks.com");
    exchange(
        &mut tls,
        "POST",
        "/accounts/5WT00001/orders",
        &[("Authorization", &bearer)],
        order,
    );
    let seen = standin.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, order);
}

#[test]
fn a_placeholder_outside_a_token_request_is_refused_and_never_forwarded() {
    let (standin, running, _) = with_standin(true);
    let mut tls = terminated(&running, "api.tastyworks.com");
    let (_, secret, refresh) = running.placeholders.clone();
    let in_header = exchange(
        &mut tls,
        "GET",
        "/customers/me",
        &[("Authorization", &format!("Bearer {refresh}"))],
        "",
    );
    let in_query = exchange(
        &mut tls,
        "GET",
        &format!("/customers/me?secret={secret}"),
        &[],
        "",
    );
    let in_body = exchange(
        &mut tls,
        "POST",
        "/sessions/validate",
        &[],
        &format!(r#"{{"s":"{secret}"}}"#),
    );
    for answer in [in_header, in_query, in_body] {
        assert_eq!(answer.status, 401);
        assert_eq!(answer.json()["error"]["code"], "ttvault_placeholder");
        assert!(answer.body.contains("ttvault"));
    }
    assert!(standin.requests().is_empty());
    let event = running.events.recv().unwrap();
    assert_eq!(
        event,
        Event::PlaceholderMisused {
            host: "api.tastyworks.com".into(),
            path: "/customers/me".into()
        }
    );
}

#[test]
fn a_body_past_the_cap_is_refused_and_not_forwarded() {
    let (standin, running, _) = with_standin(true);
    let mut tls = terminated(&running, "api.tastyworks.com");
    let big = "x".repeat(1024 * 1024 + 1);
    let answer = exchange(&mut tls, "POST", "/sessions/validate", &[], &big);
    assert_eq!(answer.status, 413);
    assert!(answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ttvault"));
    // A body of exactly the cap passes.
    let mut tls = terminated(&running, "api.tastyworks.com");
    let fits = "x".repeat(1024 * 1024);
    exchange(&mut tls, "POST", "/sessions/validate", &[], &fits);
    let seen = standin.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body.len(), fits.len());
}
