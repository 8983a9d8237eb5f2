//! The authorize page: validation, the consent form, and the redirects.

use crate::common::*;
use tt_standin::Config;

fn post_auth(base: &str, target: &str, body: &str) -> Response {
    request(
        base,
        "POST",
        target,
        &[
            ("User-Agent", UA),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body,
    )
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `(name, value)` of every `<input type="hidden">`, as a browser would submit them.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|rest| {
            let name = rest
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = rest
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name.to_string(), html_unescape(value))
        })
        .collect()
}

#[test]
fn consent_page_round_trips_through_a_browser_like_submit() {
    let s = standin(Config::default());
    let base = s.base_url();
    let state = "x\"<&>' é+/%?";
    let r = get(
        &base,
        &authorize_target(&[("scope", "read trade"), ("state", state)]),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.body.contains(CLIENT_ID));
    assert!(r.body.contains("<code>read</code>") && r.body.contains("<code>trade</code>"));
    assert!(r
        .body
        .contains("<form method=\"post\" action=\"/auth.html\">"));
    assert!(r.body.contains("name=\"decision\" value=\"approve\""));
    assert!(r.body.contains("name=\"decision\" value=\"deny\""));
    assert!(!r.body.contains("<&>"), "state must be escaped");
    assert!(r.body.contains(REDIRECT));

    let mut fields = hidden_fields(&r.body);
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ]
    );
    fields.push(("decision".into(), "approve".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = post_auth(&base, "/auth.html", &form(&pairs));
    assert_eq!(r.status, 302, "{r:?}");
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with("http://localhost:8000?code="),
        "{location}"
    );
    assert_eq!(param(location, "state").as_deref(), Some(state));
    let code = param(location, "code").unwrap();
    let t = exchange(&base, &code);
    assert_eq!(t.status, 200, "{t:?}");
    let (_, claims) = jwt_parts(t.json()["refresh_token"].as_str().unwrap());
    assert_eq!(claims["scope"], "read trade");
}

#[test]
fn consent_form_carries_the_pkce_challenge() {
    let s = standin(Config::default());
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let r = get(
        &s.base_url(),
        &authorize_target(&[
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let fields = hidden_fields(&r.body);
    assert!(fields.contains(&("code_challenge".into(), challenge.into())));
    assert!(fields.contains(&("code_challenge_method".into(), "S256".into())));
    assert!(
        fields.contains(&("scope".into(), "read".into())),
        "default scope"
    );
}

#[test]
fn unknown_client_gets_an_error_page_not_a_redirect() {
    let s = standin(Config::default());
    let target = format!(
        "/auth.html?{}",
        form(&[
            ("client_id", "nobody"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
        ])
    );
    let r = get(&s.base_url(), &target);
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.body.contains("Unknown client_id"), "{}", r.body);
}

#[test]
fn redirect_uri_must_match_byte_for_byte() {
    let s = standin(Config::default());
    for uri in [
        "http://localhost:8000/",
        "http://127.0.0.1:8000",
        "https://localhost:8000",
        "http://localhost:8001",
        "http://LOCALHOST:8000",
        "http://localhost:8000?x=1",
    ] {
        let target = format!(
            "/auth.html?{}",
            form(&[
                ("client_id", CLIENT_ID),
                ("redirect_uri", uri),
                ("response_type", "code"),
            ])
        );
        let r = get(&s.base_url(), &target);
        assert_eq!(r.status, 400, "{uri}");
        assert!(r.header("location").is_none(), "{uri}");
        assert!(
            r.body.contains("redirect_uri mismatch"),
            "{uri}: {}",
            r.body
        );
        // The decision does not bypass the check either.
        let r = post_auth(&s.base_url(), &target, "decision=approve");
        assert_eq!(r.status, 400, "{uri}");
        assert!(r.body.contains("redirect_uri mismatch"));
        assert!(s
            .decide_url(&format!("{}{target}", s.base_url()), true)
            .is_err());
    }
    let r = get(
        &s.base_url(),
        "/auth.html?client_id=test-client&response_type=code",
    );
    assert_eq!(r.status, 400, "missing redirect_uri");
}

#[test]
fn approve_redirects_with_code_and_exact_state() {
    let s = standin(Config::default());
    for state in ["abc", "a b&c=d#e", "é/?+%20", ""] {
        let location = approve(&s.base_url(), &[("state", state)]);
        let q = query_of(&location);
        assert_eq!(q.len(), 2, "{location}");
        assert_eq!(q[0].0, "code");
        assert_eq!(q[1], ("state".to_string(), state.to_string()), "{location}");
        assert!(
            !location.contains(' ') && !location.contains('#'),
            "{location}"
        );
    }
    // Without state, none comes back.
    let location = approve(&s.base_url(), &[]);
    assert!(param(&location, "state").is_none());
    assert!(param(&location, "code").is_some());
}

#[test]
fn redirect_uri_with_a_query_gets_an_ampersand() {
    let s = standin(Config::default());
    let uri = "http://localhost:8000/cb?app=1";
    s.register_app("q-client", "q-secret", &[uri]);
    let body = form(&[
        ("client_id", "q-client"),
        ("redirect_uri", uri),
        ("response_type", "code"),
        ("state", "st"),
        ("decision", "approve"),
    ]);
    let r = post_auth(&s.base_url(), "/auth.html", &body);
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with("http://localhost:8000/cb?app=1&code="),
        "{location}"
    );
    assert!(location.ends_with("&state=st"), "{location}");
}

#[test]
fn deny_redirects_with_access_denied() {
    let s = standin(Config::default());
    let body = form(&[
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "s 1"),
        ("decision", "deny"),
    ]);
    let r = post_auth(&s.base_url(), "/auth.html", &body);
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap();
    assert_eq!(
        location,
        "http://localhost:8000?error=access_denied&state=s%201"
    );
}

#[test]
fn post_may_keep_the_query_and_send_only_the_decision() {
    let s = standin(Config::default());
    let target = authorize_target(&[("state", "q"), ("scope", "openid")]);
    let r = post_auth(&s.base_url(), &target, "decision=approve");
    assert_eq!(r.status, 302, "{r:?}");
    let location = r.header("location").unwrap();
    assert_eq!(param(location, "state").as_deref(), Some("q"));
    let t = exchange(&s.base_url(), &param(location, "code").unwrap());
    assert!(t.json()["id_token"].is_string());
}

#[test]
fn post_without_a_decision_is_refused() {
    let s = standin(Config::default());
    for decision in ["", "decision=maybe"] {
        let r = post_auth(&s.base_url(), &authorize_target(&[]), decision);
        assert_eq!(r.status, 400, "{decision}");
        assert!(r.header("location").is_none());
    }
}

#[test]
fn bad_requests_after_a_good_redirect_uri_go_back_to_the_client() {
    let s = standin(Config::default());
    let base = s.base_url();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "")], "invalid_request"),
        (&[("scope", "read write")], "invalid_scope"),
        (&[("scope", "admin")], "invalid_scope"),
        (
            &[
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[(
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            )],
            "invalid_request",
        ),
        (
            &[
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (&[("code_challenge_method", "S256")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let mut fields = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "st"),
        ];
        if !extra.iter().any(|(k, _)| *k == "response_type") {
            fields.push(("response_type", "code"));
        }
        fields.extend_from_slice(extra);
        let r = get(&base, &format!("/auth.html?{}", form(&fields)));
        assert_eq!(r.status, 302, "{extra:?}: {r:?}");
        let location = r.header("location").unwrap();
        assert_eq!(
            param(location, "error").as_deref(),
            Some(*error),
            "{extra:?}"
        );
        assert_eq!(param(location, "state").as_deref(), Some("st"));
        assert!(param(location, "code").is_none());
    }
}

#[test]
fn malformed_and_repeated_parameters_get_an_error_page() {
    let s = standin(Config::default());
    let base = s.base_url();
    let r = get(&base, "/auth.html?client_id=%zz&redirect_uri=x");
    assert_eq!(r.status, 400);
    let r = get(
        &base,
        &format!("{}&client_id={CLIENT_ID}", authorize_target(&[])),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("repeated"));
    assert!(r.header("location").is_none());
    let r = get(&base, "/auth.html");
    assert_eq!(r.status, 400);
}

#[test]
fn auto_decide_skips_the_page() {
    let s = standin(Config::default());
    let base = s.base_url();
    s.decide(true);
    let r = get(&base, &authorize_target(&[("state", "a")]));
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap();
    assert_eq!(param(location, "state").as_deref(), Some("a"));
    assert_eq!(
        exchange(&base, &param(location, "code").unwrap()).status,
        200
    );
    s.decide(false);
    let r = get(&base, &authorize_target(&[("state", "a")]));
    assert_eq!(
        r.header("location"),
        Some("http://localhost:8000?error=access_denied&state=a")
    );
    // Validation still comes first.
    let r = get(&base, &authorize_target(&[("scope", "bogus")]));
    assert_eq!(
        param(r.header("location").unwrap(), "error").as_deref(),
        Some("invalid_scope")
    );
    s.auto_decide(Some(true));
    let r = get(&base, &authorize_target(&[]).replace("8000", "9000"));
    assert_eq!(r.status, 400);
    s.auto_decide(None);
    assert_eq!(get(&base, &authorize_target(&[])).status, 200);
}

#[test]
fn decide_turns_an_authorize_url_into_the_callback() {
    let s = standin(Config::default());
    let url = format!(
        "{}{}",
        s.base_url(),
        authorize_target(&[("state", "z"), ("scope", "read")])
    );
    let location = s.decide_url(&url, true).unwrap();
    assert_eq!(param(&location, "state").as_deref(), Some("z"));
    let t = exchange(&s.base_url(), &param(&location, "code").unwrap());
    assert_eq!(t.status, 200, "{t:?}");
    assert_eq!(
        s.decide_url(&url, false).unwrap(),
        "http://localhost:8000?error=access_denied&state=z"
    );
    let err = s
        .decide_url(&url.replace("8000", "9000"), true)
        .unwrap_err();
    assert!(err.contains("redirect_uri mismatch"), "{err}");
    // Deciding made no HTTP request: only the code exchange was recorded.
    assert!(s.requests().iter().all(|r| r.path != "/auth.html"));
}
