//! Tests of the agent's state: the single-flight refresh, failures shared by waiting
//! clients, a rotated refresh token adopted, the refresh margin.

use super::*;
use crate::endpoints::Environment;
use crate::oauth::http::{Request, Response, TransportError};
use std::sync::atomic::AtomicUsize;

/// A token endpoint that counts its calls, answers slowly, and refuses or rotates on
/// request.
fn endpoint(calls: Arc<AtomicUsize>, refuse: bool, rotate: bool) -> Arc<dyn Http + Send + Sync> {
    endpoint_lasting(calls, refuse, rotate, 900)
}

fn endpoint_lasting(
    calls: Arc<AtomicUsize>,
    refuse: bool,
    rotate: bool,
    lifetime_secs: u64,
) -> Arc<dyn Http + Send + Sync> {
    Arc::new(move |_: &Request<'_>| -> Result<Response, TransportError> {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        Ok(if refuse {
            Response::new(
                400,
                Some("application/json"),
                r#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
            )
        } else {
            let rt = if rotate {
                format!(r#","refresh_token":"rt-{n}""#)
            } else {
                String::new()
            };
            Response::new(
                200,
                Some("application/json"),
                format!(
                    r#"{{"access_token":"at-{n}","expires_in":{lifetime_secs},"token_type":"Bearer"{rt}}}"#
                ),
            )
        })
    })
}

fn state(http: Arc<dyn Http + Send + Sync>) -> Arc<State> {
    let payload = Payload::new(
        "cid".into(),
        ClientSecret::new("cs"),
        RefreshToken::new("rt-old"),
        Environment::Production,
        vec!["read".into()],
    );
    let stamp = VaultStamp {
        len: 0,
        mtime_ns: 0,
        sha256: [0; 32],
    };
    Arc::new(State::new(
        PathBuf::from("/nonexistent"),
        &payload,
        stamp,
        Duration::from_secs(60),
        None,
        false,
        http,
    ))
}

async fn ask_many(state: &Arc<State>, n: usize) -> Vec<Result<String, ErrorKind>> {
    ask_many_for(state, n, Freshness::default()).await
}

async fn ask_many_for(
    state: &Arc<State>,
    n: usize,
    want: Freshness,
) -> Vec<Result<String, ErrorKind>> {
    let arrival = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let state = Arc::clone(state);
            tokio::spawn(async move {
                state
                    .fresh_token(arrival, want)
                    .await
                    .map(|(t, _)| t.expose().to_string())
                    .map_err(|e| e.kind)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn many_clients_one_refresh() {
    let calls = Arc::new(AtomicUsize::new(0));
    let state = state(endpoint(Arc::clone(&calls), false, false));
    let got = runtime().block_on(ask_many(&state, 50));
    assert!(got.iter().all(|r| r.as_deref() == Ok("at-0")), "{got:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(!state.unsaved());
}

#[test]
fn a_failure_reaches_every_waiter_once_and_later_clients_retry() {
    let calls = Arc::new(AtomicUsize::new(0));
    let state = state(endpoint(Arc::clone(&calls), true, false));
    let rt = runtime();
    let got = rt.block_on(ask_many(&state, 30));
    assert!(got.iter().all(|r| *r == Err(ErrorKind::Grant)), "{got:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    rt.block_on(ask_many(&state, 1));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_rotated_refresh_token_is_adopted_and_flagged() {
    let calls = Arc::new(AtomicUsize::new(0));
    let state = state(endpoint(Arc::clone(&calls), false, true));
    runtime().block_on(ask_many(&state, 3));
    assert!(state.unsaved());
    assert_eq!(state.payload().unwrap().refresh_token.expose(), "rt-0");
}

#[test]
fn margin_scales_down_for_short_tokens() {
    assert_eq!(margin(Duration::from_secs(900)), Duration::from_secs(60));
    assert_eq!(margin(Duration::from_secs(8)), Duration::from_secs(2));
    assert_eq!(margin(Duration::ZERO), Duration::ZERO);
}

#[test]
fn a_floor_refreshes_early_once_for_everybody_and_one_too_long_is_refused() {
    let calls = Arc::new(AtomicUsize::new(0));
    let state = state(endpoint_lasting(Arc::clone(&calls), false, false, 120));
    let rt = runtime();
    assert!(rt.block_on(ask_many(&state, 1))[0].is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // 100 s of a 120 s token are still left: served from the cache.
    let floor = |secs| Freshness::at_least(Duration::from_secs(secs));
    assert!(rt
        .block_on(ask_many_for(&state, 5, floor(100)))
        .iter()
        .all(|r| r.is_ok()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A floor of the whole lifetime: the cached token has less left, so 50 clients asking
    // at once cause one refresh, and all get its token.
    let got = rt.block_on(ask_many_for(&state, 50, floor(120)));
    assert!(got.iter().all(|r| r.as_deref() == Ok("at-1")), "{got:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // Longer than any token lives: refused without a request.
    let got = rt.block_on(ask_many_for(&state, 3, floor(121)));
    assert!(got.iter().all(|r| *r == Err(ErrorKind::Usage)), "{got:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_fresh_request_always_refreshes_once_for_all_waiting() {
    let calls = Arc::new(AtomicUsize::new(0));
    let state = state(endpoint(Arc::clone(&calls), false, false));
    let rt = runtime();
    rt.block_on(ask_many(&state, 1));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let got = rt.block_on(ask_many_for(&state, 30, Freshness::fresh()));
    assert!(got.iter().all(|r| r.as_deref() == Ok("at-1")), "{got:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    rt.block_on(ask_many_for(&state, 1, Freshness::fresh()));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // A plain request is served from the cache.
    rt.block_on(ask_many(&state, 1));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn long_lived_secrets_follow_the_vaults_choice_or_the_unlock_flag() {
    let http = endpoint(Arc::new(AtomicUsize::new(0)), false, false);
    let mut payload = Payload::new(
        "cid".into(),
        ClientSecret::new("cs"),
        RefreshToken::new("rt-old"),
        Environment::Production,
        vec!["read".into()],
    );
    let stamp = || VaultStamp {
        len: 0,
        mtime_ns: 0,
        sha256: [0; 32],
    };
    let make = |payload: &Payload, flag: bool| {
        State::new(
            PathBuf::from("/nonexistent"),
            payload,
            stamp(),
            Duration::MAX,
            Some(Duration::MAX),
            flag,
            Arc::clone(&http),
        )
    };
    assert!(!make(&payload, false).long_lived());
    assert!(make(&payload, true).long_lived());
    // The broker needs access tokens only: its programs never get the secrets.
    payload.handout = crate::vault::Handout::Broker;
    assert!(!make(&payload, false).long_lived());
    payload.handout = crate::vault::Handout::LongLived;
    let s = make(&payload, false);
    assert!(s.long_lived());
    // Absurd durations are bounded, not overflowed.
    assert!(s.until > SystemTime::now());
    assert!(s.is_vault_refresh_token(&RefreshToken::new("rt-old")));
    assert!(!s.is_vault_refresh_token(&RefreshToken::new("rt-other")));
}
