//! Messages that used to guess wrong (issue 16, item 6), each as a person meets it.

use crate::common::*;
use crate::flow::{follow_start, free_port, get, redirect_for, start};

/// A refresh token ttvault got from the browser flow, refused later as "Invalid JWT" (here
/// the stand-in was restarted and forgot it): nobody typed it, so it is not called
/// "damaged or mistyped when it was saved".
#[test]
fn a_token_from_the_browser_is_not_called_mistyped() {
    let dir = Dir::new();
    let port = free_port();
    let first = standin_at(&redirect_for(port));
    let flow = start(
        &dir,
        &first,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &redirect_for(port),
            "--short-lived",
        ],
        &[("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)],
    );
    let callback = first.decide_url(&follow_start(&flow.url()), true).unwrap();
    assert_eq!(get(&callback).status, 200);
    flow.finish().success();
    // The endpoint restarted: it knows the application but not the grant.
    first.forget_grants();
    let run = dir.run_at(&first, &["--no-agent", "--passphrase-file", "pw", "token"]);
    run.code(4)
        .stderr_has("no longer recognises the refresh token")
        .stderr_has("not mistyped")
        .stderr_has("ttvault rotate");
    assert!(!run.stderr.contains("damaged"), "{}", run.stderr);
}
