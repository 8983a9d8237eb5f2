//! The one way to a grant, at a terminal (issue 16 §3): with a tokens-only agent running,
//! `show` needs no passphrase and `audit` (also `--offline`) opens the vault itself,
//! asking the passphrase with a note saying why; `export` at a terminal never asks a
//! passphrase only to refuse.

use crate::agent::unlock;
use crate::common::*;
use crate::terminal::{bin, pty_available, Terminal};

fn at(dir: &Dir, s: &tt_standin::StandIn, shell: &str) -> Terminal {
    Terminal::start(
        dir,
        shell,
        &[
            ("TTVAULT_API_URL", &s.base_url()),
            ("TTVAULT_AUTHORIZE_URL", &s.authorize_url()),
        ],
    )
}

/// Before, `show` asked for the passphrase while `status` said "unlocked".
#[test]
fn show_at_a_terminal_takes_the_grant_from_the_agent_without_a_prompt() {
    if !pty_available() {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    let b = bin();
    let mut tty = at(&dir, &s, &format!("{b} status; {b} show; echo show-rc=$?"));
    let first = tty.expect_any(&["show-rc=", "Passphrase for"]);
    if first == 1 {
        tty.type_line(PASSPHRASE); // so that the failing run still ends
    }
    let (status, screen) = tty.finish();
    assert_eq!(first, 0, "show asked for the passphrase:\n{screen}");
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("unlocked until"), "{screen}");
    assert!(screen.contains("show-rc=0"), "{screen}");
    assert!(
        screen.contains(&format!("client id:     {CLIENT_ID}")),
        "{screen}"
    );
    assert!(screen.contains("slot:          passphrase"), "{screen}");
    assert!(!screen.contains(CLIENT_SECRET) && !screen.contains(PASSPHRASE));
}

/// Before, both ended with exit 1 ("the agent hands out access tokens only…") although
/// a person was there to type the passphrase.
#[test]
fn audit_under_a_tokens_only_agent_asks_the_passphrase_with_a_note() {
    if !pty_available() {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let _guard = unlock(&dir, &[]);
    s.clear_requests();
    let b = bin();
    let shell = format!("{b} audit --offline; echo offline-rc=$?; {b} audit; echo audit-rc=$?");
    let mut tty = at(&dir, &s, &shell);
    for round in 1..=2 {
        tty.expect_nth("Passphrase for", round);
        tty.type_line(PASSPHRASE);
    }
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert_eq!(
        screen
            .matches("the agent hands out access tokens only; opening the vault here")
            .count(),
        2,
        "{screen}"
    );
    assert!(screen.contains("offline-rc=0"), "{screen}");
    assert!(screen.contains("audit-rc=0"), "{screen}");
    // The secrets were there: no "skipped" finding.
    assert!(!screen.contains("were skipped"), "{screen}");
    assert!(screen.contains("skipped (--offline)"), "{screen}");
    // Only the live audit refreshed, and the agent did it (one refresh for it, none for
    // the offline one).
    assert_eq!(s.token_requests().len(), 1);
    assert!(
        screen.contains("the agent refreshed the grant just now"),
        "{screen}"
    );
}

/// Before, a vault that records the long-lived choice asked for the passphrase (and ran
/// the KDF) only to refuse to print to the terminal, exit 2. Now the recorded choice is
/// not waited for at a terminal: the access token is printed, and a note says what was
/// left out; a run that must be long-lived (tastyware's preset) is refused before any
/// prompt.
#[test]
fn export_at_a_terminal_never_asks_a_passphrase_only_to_refuse() {
    if !pty_available() {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.run(&["set", "long-lived", "on", "--passphrase-file", "pw"])
        .success();
    let b = bin();
    let shell = format!(
        "{b} export --preset tastyware; echo tastyware-rc=$?; \
         {b} export --passphrase-file pw; echo export-rc=$?"
    );
    let mut tty = at(&dir, &s, &shell);
    let first = tty.expect_any(&["tastyware-rc=", "Passphrase for"]);
    if first == 1 {
        tty.type_line(PASSPHRASE); // so that the failing run still ends
    }
    let (status, screen) = tty.finish();
    assert_eq!(first, 0, "asked for a passphrase only to refuse:\n{screen}");
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("refusing to print"), "{screen}");
    assert!(screen.contains("tastyware-rc=2"), "{screen}");
    assert!(screen.contains("export TT_ACCESS_TOKEN='eyJ"), "{screen}");
    assert!(screen.contains("not printed to a terminal"), "{screen}");
    assert!(screen.contains("export-rc=0"), "{screen}");
    assert!(!screen.contains(CLIENT_SECRET), "{screen}");
    assert!(!screen.contains("TT_REFRESH_TOKEN"), "{screen}");
}
