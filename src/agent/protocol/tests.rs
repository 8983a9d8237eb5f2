//! Tests of the wire format: frame shapes, size limits, reply kinds, error codes.

use super::*;

#[test]
fn request_round_trip_and_shape() {
    let op = Op::Token {
        secrets: true,
        fresh: false,
        min_ttl_secs: 300,
    };
    let frame = encode(&RequestFrame::new(op.clone()));
    let len = frame_len(frame[..4].try_into().unwrap()).unwrap();
    assert_eq!(len, frame.len() - 4);
    assert_eq!(frame.capacity(), frame.len());
    let text = std::str::from_utf8(&frame[4..]).unwrap();
    assert_eq!(
        text,
        r#"{"v":3,"op":"token","secrets":true,"fresh":false,"min_ttl_secs":300}"#
    );
    let back: RequestFrame = serde_json::from_slice(&frame[4..]).unwrap();
    assert_eq!(back.op, op);
    // The floor and freshness may be left out: any unexpired cached token.
    let short: RequestFrame =
        serde_json::from_str(r#"{"v":3,"op":"token","secrets":false}"#).unwrap();
    assert_eq!(
        short.op,
        Op::Token {
            secrets: false,
            fresh: false,
            min_ttl_secs: 0
        }
    );
}

#[test]
fn replies_have_one_shape_per_kind() {
    let text = |r: Reply| String::from_utf8(encode(&ReplyFrame::new(r))[4..].to_vec()).unwrap();
    assert_eq!(text(Reply::Done), r#"{"v":3,"reply":"done"}"#);
    assert_eq!(
        text(Reply::Error(WireError::new(ErrorKind::Stale, "changed"))),
        r#"{"v":3,"reply":{"error":{"kind":"stale","message":"changed"}}}"#
    );
    // A grant without secrets has no secret fields at all, not empty ones.
    let payload = Payload::new(
        "cid".into(),
        crate::secret::ClientSecret::new("cs-value"),
        crate::secret::RefreshToken::new("rt-value"),
        crate::endpoints::Environment::Production,
        vec!["read".into()],
    );
    let grant = |secrets: bool| GrantReply {
        grant: GrantInfo::of(&payload),
        secrets: secrets.then(|| GrantSecrets::of(&payload)),
        access_token: AccessToken::new("at-value"),
        expires_at: 1,
        unsaved_refresh_token: false,
    };
    let without = text(Reply::Grant(grant(false)));
    assert!(!without.contains("cs-value") && !without.contains("rt-value"));
    assert!(!without.contains("\"secrets\"") && !without.contains("client_secret"));
    let with = text(Reply::Grant(grant(true)));
    let back: ReplyFrame = serde_json::from_str(&with).unwrap();
    match back.reply {
        Reply::Grant(g) => {
            let s = g.secrets.expect("secrets sent when asked");
            assert_eq!(s.refresh_token.expose(), "rt-value");
            assert_eq!(g.grant.client_id, "cid");
        }
        _ => panic!("not a grant reply"),
    }
}

#[test]
fn oversized_prefix_is_refused() {
    assert!(frame_len(((MAX_FRAME + 1) as u32).to_be_bytes()).is_none());
    assert!(frame_len(u32::MAX.to_be_bytes()).is_none());
    let mut data: &[u8] = &[0xff, 0xff, 0xff, 0xff, 1, 2];
    assert!(read_frame(&mut data).is_err());
}

#[test]
fn wire_errors_keep_their_exit_code() {
    let refused = Error::grant("refused").hint("run `ttvault rotate`");
    let back = WireError::from_error(&refused).into_error();
    assert_eq!(
        (back.code, back.hint.as_deref()),
        (Code::Grant, Some("run `ttvault rotate`"))
    );
    assert_eq!(
        WireError::from_error(&Error::network("down"))
            .into_error()
            .code,
        Code::Network
    );
    // Anything else is a plain failure (the client opens the vault instead).
    assert_eq!(
        WireError::from_error(&Error::vault("x")).kind,
        ErrorKind::Failure
    );
}
