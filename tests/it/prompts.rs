//! Prompts at a terminal that other things happen around (issue 16): two ttvault commands
//! asking on one terminal take turns, and the terminal gets its echo back however a
//! prompt ends (Ctrl-C, SIGTERM, SIGHUP). Driven on a pseudo-terminal like terminal.rs.

use crate::common::*;
use crate::terminal::{bin, pty_available, Terminal};

/// Two `exec` started together on one terminal (a split pane, `make -j`): one prompt is
/// visible at a time, the other says it waits, both run with the passphrase typed twice,
/// and the passphrase never shows. Before, both prompted at once, one turned echo back on
/// under the other, the passphrase appeared in clear and both said it was wrong.
#[test]
fn two_commands_on_one_terminal_ask_one_at_a_time() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    let standin = standin();
    dir.standin_vault(&standin, "read");
    let exec = |word: &str| format!("{} --no-agent exec -- sh -c 'echo ran-{word}'", bin());
    let shell = format!(
        "{} & a=$!; {}; b=$?; wait $a; echo \"statuses $? $b\"",
        exec("one"),
        exec("two")
    );
    let mut tty = Terminal::start(
        &dir,
        &shell,
        &[
            ("TTVAULT_API_URL", &standin.base_url()),
            ("TTVAULT_AUTHORIZE_URL", &standin.authorize_url()),
        ],
    );
    tty.expect("Passphrase for");
    tty.expect("waiting for another ttvault prompt");
    // The waiter is waiting: still only one prompt on the screen.
    assert_eq!(tty.screen().matches("Passphrase for").count(), 1);
    tty.type_line(PASSPHRASE);
    tty.expect_nth("Passphrase for", 2);
    tty.type_line(PASSPHRASE);
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("statuses 0 0"), "{screen}");
    assert!(
        screen.contains("ran-one") && screen.contains("ran-two"),
        "{screen}"
    );
    assert!(
        !screen.contains("pp-SECRET"),
        "the passphrase showed:\n{screen}"
    );
    assert!(!screen.contains("wrong passphrase"), "{screen}");
}

/// Ctrl-C at the passphrase prompt ends the command with 130 and the terminal echoes
/// again (`stty -a` shows `echo`, not `-echo`). Before, echo stayed off.
#[test]
fn ctrl_c_at_the_prompt_gives_the_terminal_back_its_echo() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    // The shell traps INT so that it survives the Ctrl-C and can report; its child gets
    // the default disposition back, as from an interactive shell.
    let shell = format!(
        "trap ':' INT; {} --no-agent show; echo \"status $?\"; stty -a",
        bin()
    );
    let mut tty = Terminal::start(&dir, &shell, &[]);
    tty.expect("Passphrase for");
    tty.type_raw(b"\x03");
    let (_, screen) = tty.finish();
    assert!(screen.contains("status 130"), "{screen}");
    assert_echo_on(&screen);
}

/// A panic while the prompt has echo off (a bug): the terminal gets its echo back, and the
/// panic is reported as an internal error (exit 101), never with what was being handled.
#[test]
fn a_panic_at_the_prompt_gives_the_terminal_back_its_echo() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    let shell = format!(
        "TTVAULT_TEST_PANIC_AT_PROMPT=1 {} --no-agent show; echo \"status $?\"; stty -a",
        bin()
    );
    let tty = Terminal::start(&dir, &shell, &[]);
    let (_, screen) = tty.finish();
    assert!(screen.contains("Passphrase for"), "{screen}");
    assert!(screen.contains("internal error"), "{screen}");
    assert!(screen.contains("status 101"), "{screen}");
    assert_echo_on(&screen);
}

/// SIGTERM and SIGHUP at the prompt (a `kill`, a closed terminal window): the terminal's
/// echo is restored, and the signal still ends the command as it would have (128+N).
#[test]
fn sigterm_and_sighup_at_the_prompt_give_the_terminal_back_its_echo() {
    if !pty_available() {
        return;
    }
    for (signal, status) in [("TERM", 143), ("HUP", 129)] {
        let dir = Dir::new();
        dir.vault();
        let shell = format!(
            "{} --no-agent show & echo \"pid=$!.\"; wait $!; echo \"status $?\"; stty -a",
            bin()
        );
        let tty = Terminal::start(&dir, &shell, &[]);
        tty.expect("Passphrase for");
        let screen = tty.screen();
        let pid = screen
            .split("pid=")
            .nth(1)
            .and_then(|rest| rest.split('.').next())
            .unwrap()
            .to_string();
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let (_, screen) = tty.finish();
        assert!(screen.contains(&format!("status {status}")), "{screen}");
        assert_echo_on(&screen);
    }
}

/// `stty -a` lists `echo` (on) rather than `-echo` (off).
#[track_caller]
fn assert_echo_on(screen: &str) {
    let words: Vec<&str> = screen.split_whitespace().collect();
    assert!(words.contains(&"echo"), "{screen}");
    assert!(!words.contains(&"-echo"), "{screen}");
}
