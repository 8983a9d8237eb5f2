use super::*;

fn error(f: Failure) -> Error {
    f.into()
}

#[test]
fn each_failure_has_its_exit_status() {
    let unreachable = Failure::Unreachable {
        url: "https://api.tastyworks.com/oauth/token".into(),
        kind: TransportKind::Refused,
        detail: "x".into(),
        attempts: 1,
    };
    assert_eq!(error(unreachable).code, Code::Network);
    let insecure = Failure::Insecure {
        url: "http://evil.example/oauth/token".into(),
    };
    assert_eq!(error(insecure).code, Code::Usage);
    let refused = Failure::Refused {
        refusal: Refusal::Grant,
        said: "`invalid_grant`".into(),
        sandbox: false,
    };
    assert_eq!(error(refused).code, Code::Grant);
    assert_eq!(
        error(Failure::ApiForbidden { sandbox: false }).code,
        Code::Grant
    );
}

#[test]
fn sandbox_grants_are_not_sent_to_tastytrade_com() {
    let e = error(Failure::Refused {
        refusal: Refusal::Grant,
        said: "`invalid_grant`".into(),
        sandbox: true,
    });
    let hint = e.hint.unwrap();
    assert!(hint.contains("sandbox's own tools"), "{hint}");
    assert!(hint.contains("not managed on tastytrade.com"), "{hint}");
    let e = error(Failure::Refused {
        refusal: Refusal::Grant,
        said: "`invalid_grant`".into(),
        sandbox: false,
    });
    assert!(e.hint.unwrap().contains("on tastytrade.com (Manage"));
}

#[test]
fn timeouts_at_tastytrade_hint_the_ip_block() {
    let timeout = |url: &str| {
        error(Failure::Unreachable {
            url: url.into(),
            kind: TransportKind::Timeout,
            detail: "operation timed out".into(),
            attempts: 2,
        })
    };
    let e = timeout("https://api.tastyworks.com/oauth/token");
    assert!(e.message.contains("again"), "{}", e.message);
    assert!(e.hint.unwrap().contains("8 hours"));
    let e = timeout("https://auth.example.com/oauth/token");
    assert!(!e.hint.unwrap().contains("8 hours"));
}

#[test]
fn the_redirect_advice_is_written_once_and_used() {
    let e = error(Failure::Refused {
        refusal: Refusal::RedirectMismatch {
            redirect_uri: "http://localhost:8000/".into(),
        },
        said: "`invalid_grant`".into(),
        sandbox: false,
    });
    assert!(
        e.message.contains("`http://localhost:8000/`"),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some(REGISTER_REDIRECT_URI));
    assert!(REGISTER_REDIRECT_URI
        .contains("exactly http://localhost:8000 (http, port 8000, no trailing slash)"));
}

#[test]
fn a_bad_token_is_never_repeated() {
    let e = error(Failure::BadToken {
        url: "http://127.0.0.1:9/oauth/token".into(),
        which: TokenKind::Access,
        problem: Problem::BadCharacter,
    });
    assert_eq!(e.code, Code::Network);
    assert!(e.message.contains("access token"), "{}", e.message);
    assert!(e.message.contains("http://127.0.0.1:9"), "{}", e.message);
}
