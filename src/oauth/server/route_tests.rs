use super::*;
use crate::error::Error;

const STATE: &str = "st-abc-123";
const CSRF: &str = "csrf-tok";
const START: &str = "/start/Zr4nd0m";
const AUTH: &str = "http://127.0.0.1:1/auth.html?client_id=c&state=st-abc-123&code_challenge=ch4l";

fn authorize(id: &str) -> Result<String> {
    if id == "bad" {
        Err(Error::usage("the client id is empty"))
    } else {
        Ok(AUTH.to_string())
    }
}

fn send(
    flow: &mut Flow,
    start: &Start<'_>,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Decision {
    let (state, csrf) = (OAuthState::new(STATE), OAuthState::new(CSRF));
    let expect = Expect {
        port: 8000,
        callback_path: "/",
        start_path: START,
        state: &state,
        csrf: &csrf,
        start,
    };
    let mut all = vec![("Host".to_string(), "localhost:8000".to_string())];
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("host") {
            all[0].1 = v.to_string();
        } else {
            all.push((k.to_string(), v.to_string()));
        }
    }
    route(
        &expect,
        flow,
        &Incoming {
            method,
            url: target,
            headers: &all,
            body: body.as_bytes(),
        },
    )
}

fn get(flow: &mut Flow, start: &Start<'_>, target: &str) -> Decision {
    send(flow, start, "GET", target, &[], "")
}

/// The answer's status, and everything it shows (page or Location).
fn shown(d: &Decision) -> (u16, String) {
    match d {
        Decision::Answer(Answer::Page(s, p)) | Decision::Fail(Answer::Page(s, p), _) => {
            (*s, p.clone())
        }
        Decision::Answer(Answer::Redirect(s, l)) | Decision::Fail(Answer::Redirect(s, l), _) => {
            (*s, l.clone())
        }
        Decision::Accept { .. } => panic!("accepted"),
    }
}

#[test]
fn only_the_start_path_leads_to_the_authorize_url() {
    let start = Start::Authorize(AUTH);
    let mut flow = Flow::new(&start);
    for target in [
        "/",
        "/?",
        "/start",
        "/start/",
        "/start/zr4nd0m",
        "/credentials",
        "/favicon.ico",
        "/?foo=bar",
        "//start/Zr4nd0m",
    ] {
        let (status, shows) = shown(&get(&mut flow, &start, target));
        assert!(
            status == 404 || (status == 405 && target == "/credentials"),
            "{target}"
        );
        for secret in [STATE, "ch4l", "auth.html"] {
            assert!(!shows.contains(secret), "{target} shows {secret}");
        }
    }
    assert_eq!(
        shown(&get(&mut flow, &start, START)),
        (302, AUTH.to_string())
    );
    // Only GET: a POST to the start path is refused without revealing anything.
    let (status, page) = shown(&send(&mut flow, &start, "POST", START, &[], ""));
    assert_eq!(status, 405);
    assert!(!page.contains(STATE));
}

#[test]
fn in_form_mode_the_form_is_only_at_the_start_path_and_the_post_reveals_the_rest() {
    let start = Start::Form {
        client_id: None,
        authorize: &authorize,
    };
    let mut flow = Flow::new(&start);
    let (status, page) = shown(&get(&mut flow, &start, "/"));
    assert_eq!(status, 404);
    assert!(!page.contains(CSRF));
    let (status, page) = shown(&get(&mut flow, &start, START));
    assert_eq!(status, 200);
    assert!(page.contains(CSRF));
    let body = format!("csrf={CSRF}&client_id=cid&client_secret=s3cret");
    let d = send(&mut flow, &start, "POST", "/credentials", &[], &body);
    assert_eq!(shown(&d), (303, AUTH.to_string()));
    // Afterwards `/` still shows nothing; the start path goes on to Tastytrade.
    let (status, shows) = shown(&get(&mut flow, &start, "/"));
    assert_eq!(status, 404);
    assert!(!shows.contains(STATE));
    // The start path works once: loading it again ends the flow, revealing nothing.
    let again = get(&mut flow, &start, START);
    let (status, page) = shown(&again);
    assert_eq!(status, 410);
    assert!(!page.contains(STATE) && !page.contains(AUTH));
    assert!(matches!(
        again,
        Decision::Fail(_, LoopbackError::StartReused)
    ));
}

#[test]
fn only_the_exact_state_on_an_allowed_host_is_accepted() {
    let start = Start::Authorize(AUTH);
    let mut flow = Flow::new(&start);
    for (target, host) in [
        (format!("/?code=c&state={STATE}x"), "localhost:8000"),
        (
            format!("/?state=nope&state={STATE}&code=c"),
            "localhost:8000",
        ),
        (format!("/?code=c&state={STATE}"), "localhost:8001"),
        (format!("/?code=c&state={STATE}"), "evil.example:8000"),
        ("/?code=c".to_string(), "localhost:8000"),
    ] {
        let d = send(&mut flow, &start, "GET", &target, &[("Host", host)], "");
        assert!(
            matches!(d, Decision::Answer(Answer::Page(400, _))),
            "{target} {host}"
        );
    }
    let d = send(
        &mut flow,
        &start,
        "GET",
        &format!("/?code=a%2Bb+c&state={STATE}"),
        &[("Host", "[::1]:8000")],
        "",
    );
    let Decision::Accept { code, credentials } = d else {
        panic!("the real callback was not accepted")
    };
    assert_eq!(code.expose(), "a+b c");
    assert!(credentials.is_none());
}

#[test]
fn an_error_ends_the_flow_only_with_the_exact_state() {
    let start = Start::Authorize(AUTH);
    let mut flow = Flow::new(&start);
    for target in [
        "/?error=access_denied".to_string(),
        "/?error=access_denied&state=forged".to_string(),
        format!("/?error=invalid_request&state={STATE}x"),
    ] {
        let d = get(&mut flow, &start, &target);
        assert!(
            matches!(d, Decision::Answer(Answer::Page(400, _))),
            "{target} ended the flow"
        );
    }
    let d = get(
        &mut flow,
        &start,
        &format!("/?error=access_denied&state={STATE}"),
    );
    let Decision::Fail(Answer::Page(400, page), err) = d else {
        panic!("a declined consent did not end the flow")
    };
    assert_eq!(err, LoopbackError::Declined);
    assert!(page.contains("declined"));
    let d = get(
        &mut flow,
        &start,
        &format!("/?error=invalid_scope&error_description=no+such+scope&state={STATE}"),
    );
    let Decision::Fail(_, err) = d else {
        panic!("an authorize error did not end the flow")
    };
    assert_eq!(
        err,
        LoopbackError::AuthorizeError {
            code: "invalid_scope".into(),
            description: Some("no such scope".into())
        }
    );
}

#[test]
fn the_form_needs_its_csrf_token_and_origin() {
    let start = Start::Form {
        client_id: Some("pre"),
        authorize: &authorize,
    };
    let mut flow = Flow::new(&start);
    let good = format!("csrf={CSRF}&client_id=cid&client_secret=s3cret");
    let post = |flow: &mut Flow, origin: Option<&str>, body: &str| {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
        shown(&send(flow, &start, "POST", "/credentials", &headers, body))
    };
    assert_eq!(
        post(&mut flow, None, "csrf=wrong&client_id=c&client_secret=s").0,
        403
    );
    assert_eq!(post(&mut flow, Some("http://evil.example"), &good).0, 403);
    assert_eq!(post(&mut flow, Some("null"), &good).0, 403);
    let (status, page) = post(&mut flow, None, &format!("csrf={CSRF}&client_id=cid"));
    assert_eq!(status, 400);
    assert!(page.contains("Enter both"));
    let (status, page) = post(
        &mut flow,
        None,
        &format!("csrf={CSRF}&client_id=bad&client_secret=s3cret"),
    );
    assert_eq!(status, 400);
    assert!(!page.contains("s3cret"));
    let big = format!("{good}&pad={}", "x".repeat(17 * 1024));
    assert_eq!(post(&mut flow, None, &big).0, 413);
    assert!(flow.credentials.is_none());
    assert_eq!(
        post(&mut flow, Some("http://localhost:8000"), &good),
        (303, AUTH.to_string())
    );
    let d = get(&mut flow, &start, &format!("/?code=c0de&state={STATE}"));
    let Decision::Accept { credentials, .. } = d else {
        panic!("not accepted")
    };
    let (id, secret) = credentials.unwrap();
    assert_eq!((id.as_str(), secret.expose()), ("cid", "s3cret"));
}

#[test]
fn host_and_origin_checks() {
    assert!(allowed_authority("localhost:8000", 8000));
    assert!(allowed_authority("127.0.0.1:8000", 8000));
    assert!(allowed_authority("[::1]:8000", 8000));
    assert!(allowed_authority("LocalHost:8000", 8000));
    assert!(!allowed_authority("localhost:8001", 8000));
    assert!(!allowed_authority("evil.example:8000", 8000));
    assert!(!allowed_authority("localhost", 8000));
    assert!(allowed_authority("localhost", 80));
    assert!(origin_allowed("http://localhost:8000", 8000));
    assert!(!origin_allowed("https://localhost:8000", 8000));
    assert!(!origin_allowed("null", 8000));
    assert!(!origin_allowed("http://evil.example", 8000));
}
