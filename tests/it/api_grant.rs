//! `ttvault api` when the grant or the endpoint fails: unreachable (5), a revoked grant and a
//! refused token (4), with and without the agent; and `--identity` where `-i` is `--include`.

use crate::api::{api, api_requests, assert_tokens_hidden, dead_token_standin};
use crate::common::*;
use tt_standin::Config;

#[test]
fn an_unreachable_endpoint_is_exit_5() {
    // A port below the ephemeral range: once this stand-in stops, no parallel test's
    // socket can be given it.
    let s = standin_with(Config {
        port: crate::flow::free_port(),
        ..Config::default()
    });
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    drop(s);
    api(&dir, &["/customers/me"])
        .code(5)
        .stderr_has("could not reach");
}

#[test]
fn a_revoked_grant_is_exit_4_without_the_agent() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    s.revoke(&refresh);
    let run = api(&dir, &["/customers/me"]);
    run.code(4).stderr_has("rotate");
    assert_tokens_hidden(&run, &s, &refresh);
    assert!(api_requests(&s).is_empty(), "the refused refresh ends it");
}

#[test]
fn a_refused_token_is_refreshed_once_then_exit_4() {
    let s = dead_token_standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    s.clear_requests();
    let run = api(&dir, &["/customers/me"]);
    run.code(4)
        .stderr_has("Token has expired")
        .stderr_has("rotate");
    assert_tokens_hidden(&run, &s, &refresh);
    assert_eq!(s.token_requests().len(), 2, "one fresh refresh");
    assert_eq!(api_requests(&s).len(), 2);
}

#[test]
fn identity_keeps_its_long_name_where_i_means_include() {
    let s = standin();
    let dir = Dir::new();
    let id = age::x25519::Identity::generate();
    {
        use age::secrecy::ExposeSecret;
        dir.write("key.txt", format!("{}\n", id.to_string().expose_secret()));
    }
    let refresh = s.personal_grant(CLIENT_ID, "read");
    dir.write(
        "legacy.env",
        format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={refresh}\n"),
    );
    let recipient = id.to_public().to_string();
    dir.run_at(
        &s,
        &["import", "legacy.env", "--no-passphrase", "-r", &recipient],
    )
    .success();
    let run = dir.run(&["api", "-i", "/customers/me", "--identity", "key.txt"]);
    run.success().stdout_has("HTTP/1.1 200 OK");
    dir.run(&["--identity", "key.txt", "api", "/customers/me"])
        .success()
        .stdout_has(tt_standin::CUSTOMER_ID);
    dir.run(&["-i", "key.txt", "api", "/customers/me"])
        .success()
        .stdout_has(tt_standin::CUSTOMER_ID);
}

#[cfg(unix)]
mod agent {
    use super::*;

    /// Locks the test directory's vault when the test ends, even on a failed assertion.
    struct Unlocked<'a>(&'a Dir);

    impl Drop for Unlocked<'_> {
        fn drop(&mut self) {
            let _ = self.0.cmd(&["lock"]).output();
        }
    }

    fn unlock(dir: &Dir) -> Unlocked<'_> {
        dir.run(&["unlock", "--passphrase-file", "pw"]).success();
        Unlocked(dir)
    }

    #[test]
    fn the_agent_serves_api_without_a_passphrase() {
        let s = standin();
        let dir = Dir::new();
        let refresh = dir.standin_vault(&s, "read");
        let _unlocked = unlock(&dir);
        s.clear_requests();
        for _ in 0..2 {
            let run = dir.run(&[
                "api",
                "/option-chains/SPX/nested",
                "--jq",
                ".data.items | length",
            ]);
            run.success();
            assert_eq!(run.stdout, "2\n");
            assert_tokens_hidden(&run, &s, &refresh);
        }
        assert_eq!(s.token_requests().len(), 1, "the agent's token served both");
    }

    #[test]
    fn a_revoked_grant_is_exit_4_through_the_agent() {
        let s = standin();
        let dir = Dir::new();
        let refresh = dir.standin_vault(&s, "read");
        let _unlocked = unlock(&dir);
        s.revoke(&refresh);
        let run = dir.run(&["api", "/customers/me"]);
        run.code(4);
        assert_tokens_hidden(&run, &s, &refresh);
        assert!(api_requests(&s).is_empty());
    }

    #[test]
    fn a_refused_token_from_the_agent_is_asked_for_again_then_exit_4() {
        let s = dead_token_standin();
        let dir = Dir::new();
        dir.standin_vault(&s, "read");
        let _unlocked = unlock(&dir);
        s.clear_requests();
        dir.run(&["api", "/customers/me"])
            .code(4)
            .stderr_has("Token has expired");
        assert_eq!(api_requests(&s).len(), 2);
    }
}
