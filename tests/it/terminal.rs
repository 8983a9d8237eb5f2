//! A person at a terminal (README "At a terminal"): the passphrase is asked on the
//! controlling terminal even when stdin is a pipe, mistakes may be typed again there (and
//! only there), nothing is asked when there is no terminal, a program exec cannot find is
//! reported before anything is asked, colour follows NO_COLOR / CLICOLOR_FORCE, and a
//! closed stdout ends quietly. (What children get: children.rs.)
//!
//! The terminal is a pseudo-terminal from util-linux `script` (installed in CI), driven
//! like a person: wait for the prompt, then type.

use crate::common::*;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// `ttvault`'s path, for shell command lines.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ttvault")
}

/// A shell command line running on a pseudo-terminal; what the terminal shows is
/// collected, and lines are typed into it.
pub(crate) struct Terminal {
    child: Child,
    keys: ChildStdin,
    screen: Arc<(Mutex<String>, Condvar)>,
}

impl Terminal {
    /// `shell` (sh syntax) in `dir` with the test environment, on a fresh terminal.
    pub(crate) fn start(dir: &Dir, shell: &str, env: &[(&str, &str)]) -> Terminal {
        let template = dir.cmd(&[]);
        let mut cmd = Command::new("script");
        cmd.args(["-qec", shell, "/dev/null"])
            .current_dir(dir.path())
            .env_clear()
            .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        crate::common::default_signals(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let keys = child.stdin.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        let screen = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let shared = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            loop {
                let n = out.read(&mut buf).unwrap_or(0);
                let (text, changed) = &*shared;
                let mut text = text.lock().unwrap();
                if n == 0 {
                    text.push('\u{4}'); // the end, for `expect` to stop waiting
                    changed.notify_all();
                    return;
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                changed.notify_all();
            }
        });
        Terminal {
            child,
            keys,
            screen,
        }
    }

    /// Waits until the terminal has shown `needle` `times` times in all (the person waits
    /// for the prompt). A terminal that ends first fails the test, showing the screen.
    #[track_caller]
    pub(crate) fn expect_nth(&self, needle: &str, times: usize) {
        // Not a timing assertion: a guard so that a program stuck at an unexpected
        // question fails the test with what the terminal showed, instead of hanging.
        let give_up = std::time::Instant::now() + Duration::from_secs(300);
        let (text, changed) = &*self.screen;
        let mut text = text.lock().unwrap();
        while text.matches(needle).count() < times {
            assert!(
                !text.contains('\u{4}') && std::time::Instant::now() < give_up,
                "the terminal never showed {needle:?}; it showed:\n{text}"
            );
            text = changed
                .wait_timeout(text, Duration::from_secs(1))
                .unwrap()
                .0;
        }
    }

    /// Waits until the terminal shows one of `needles`; returns which one came first. For
    /// a test that must see that a prompt did NOT come: the prompt, or the end, is
    /// waited for.
    #[track_caller]
    pub(crate) fn expect_any(&self, needles: &[&str]) -> usize {
        let give_up = std::time::Instant::now() + Duration::from_secs(300);
        let (text, changed) = &*self.screen;
        let mut text = text.lock().unwrap();
        loop {
            let first = needles
                .iter()
                .enumerate()
                .filter_map(|(i, n)| text.find(n).map(|at| (at, i)))
                .min();
            if let Some((_, i)) = first {
                return i;
            }
            assert!(
                !text.contains('\u{4}') && std::time::Instant::now() < give_up,
                "the terminal never showed any of {needles:?}; it showed:\n{text}"
            );
            text = changed
                .wait_timeout(text, Duration::from_secs(1))
                .unwrap()
                .0;
        }
    }

    #[track_caller]
    pub(crate) fn expect(&self, needle: &str) {
        self.expect_nth(needle, 1);
    }

    /// What the terminal has shown so far.
    pub(crate) fn screen(&self) -> String {
        self.screen.0.lock().unwrap().clone()
    }

    /// Bytes typed as they are (a Ctrl-C is `\x03`).
    pub(crate) fn type_raw(&mut self, bytes: &[u8]) {
        self.keys.write_all(bytes).unwrap();
        self.keys.flush().unwrap();
    }

    pub(crate) fn type_line(&mut self, line: &str) {
        self.keys.write_all(line.as_bytes()).unwrap();
        self.keys.write_all(b"\r").unwrap();
        self.keys.flush().unwrap();
    }

    /// Waits for the end; returns the exit status (script passes it on with -e) and what
    /// the terminal showed.
    pub(crate) fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        self.expect("\u{4}");
        let text = self.screen.0.lock().unwrap().clone();
        (status.code(), text)
    }
}

pub(crate) fn pty_available() -> bool {
    require_tool("script")
}

/// `echo hello | ttvault exec -- cat` at a terminal: the passphrase is asked on the
/// terminal although stdin is a pipe, and cat reads the pipe. Before, exec stopped with
/// "there is no terminal to ask it on".
#[test]
fn a_pipe_on_stdin_still_asks_on_the_terminal() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    let standin = standin();
    dir.standin_vault(&standin, "read");
    let shell = format!(
        "echo hello-from-the-pipe | {} --no-agent exec -- cat",
        bin()
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
    tty.type_line(PASSPHRASE);
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("hello-from-the-pipe"), "{screen}");
    // Echo goes off before the prompt shows, so even typing the moment it appears (sooner
    // than a person can) shows nothing.
    assert!(!screen.contains(PASSPHRASE), "{screen}");
}

/// A mistyped passphrase is asked again (3 tries in all); the right one then opens the
/// vault. Before, the first mistake ended the command.
#[test]
fn a_mistyped_passphrase_may_be_typed_again() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    let mut tty = Terminal::start(&dir, &format!("{} --no-agent show", bin()), &[]);
    tty.expect("Passphrase for");
    tty.type_line("not the passphrase");
    tty.expect("try again (2/3)");
    tty.expect_nth("Passphrase for", 2);
    tty.type_line(PASSPHRASE);
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains(CLIENT_ID), "{screen}");
}

/// Three wrong passphrases end with exit 3, asking no fourth time.
#[test]
fn three_wrong_passphrases_end_with_exit_3() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    let mut tty = Terminal::start(&dir, &format!("{} --no-agent show", bin()), &[]);
    for round in 1..=3 {
        tty.expect_nth("Passphrase for", round);
        tty.type_line("wrong");
    }
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(3), "{screen}");
    assert_eq!(screen.matches("Passphrase for").count(), 3, "{screen}");
    assert!(screen.contains("wrong passphrase"), "{screen}");
}

/// A wrong passphrase from a file is tried once, even at a terminal: retrying a file
/// only repeats the mistake, and nothing is asked.
#[test]
fn a_passphrase_file_is_never_retried() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    dir.write("bad", "wrong\n");
    let tty = Terminal::start(
        &dir,
        &format!("{} --no-agent --passphrase-file bad show", bin()),
        &[],
    );
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(3), "{screen}");
    assert!(!screen.contains("Passphrase for"), "{screen}");
    assert!(!screen.contains("try again ("), "{screen}");
}

/// A new passphrase whose repeat differs, or that is empty, is asked again; the one
/// finally typed twice is the vault's. Before, either mistake ended the command.
#[test]
fn a_new_passphrase_is_asked_again_after_a_mismatch_or_an_empty_one() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    let mut tty = Terminal::start(&dir, &format!("{} passwd --passphrase-file pw", bin()), &[]);
    tty.expect("New passphrase");
    tty.type_line("first-attempt-123");
    tty.expect("Repeat it");
    tty.type_line("not-the-same-456");
    tty.expect("differ; type them again");
    tty.expect_nth("New passphrase", 2);
    tty.type_line("");
    tty.expect("is empty; type it again");
    tty.expect_nth("New passphrase", 3);
    tty.type_line(NEW_PASSPHRASE);
    tty.expect_nth("Repeat it", 2);
    tty.type_line(NEW_PASSPHRASE);
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    dir.run(&["--no-agent", "--passphrase-file", "pw2", "show"])
        .success();
    dir.run(&["--no-agent", "--passphrase-file", "pw", "show"])
        .code(3);
}

/// With no terminal at all (a new session, stdin a pipe that stays open), the command
/// stops at once with exit 2 and names the other sources: it never waits for input.
#[test]
fn with_no_terminal_at_all_nothing_is_asked() {
    if !require_tool("setsid") {
        return;
    }
    let dir = Dir::new();
    dir.vault();
    let template = dir.cmd(&[]);
    let mut cmd = Command::new("setsid");
    cmd.args([bin(), "--no-agent", "show"])
        .current_dir(dir.path())
        .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("TTVAULT_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // stdin stays open (held by `child.stdin`) while ttvault runs: it must not read it.
    let run = Run::from(child.wait_with_output().unwrap());
    run.code(2)
        .stderr_has("no terminal to ask it on")
        .stderr_has("--passphrase-file");
}

/// exec finds its program before anything else: a missing one is exit 127 at once, with
/// no passphrase asked (here: none could be) and nothing sent.
#[test]
fn exec_reports_a_missing_program_before_asking_anything() {
    let dir = Dir::new();
    dir.vault();
    let run = dir.run(&["--no-agent", "exec", "--", "ttvault-test-no-such-program"]);
    run.code(127).stderr_has("no such program");
    assert!(!run.stderr.contains("passphrase"), "{}", run.stderr);
}

/// Writing into a closed pipe (`ttvault show | head -1`, `audit --offline | true`) ends
/// quietly with the usual status. Before: "internal error … please report this bug", 101.
#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = Dir::new();
    dir.vault();
    for args in [
        &["--no-agent", "--passphrase-file", "pw", "show"][..],
        &[
            "--no-agent",
            "--passphrase-file",
            "pw",
            "audit",
            "--offline",
        ][..],
        &["status"][..],
        &["lock"][..],
        &["--passphrase-file", "pw", "set", "long-lived", "off"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // closed before ttvault writes a byte
        let out = dir
            .cmd(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
    }
}

/// Colour: off when stderr is not a terminal, on with CLICOLOR_FORCE, off with NO_COLOR
/// even at a terminal, on at a terminal otherwise.
#[test]
fn colour_follows_the_terminal_no_color_and_clicolor_force() {
    let dir = Dir::new();
    let plain = dir.run(&["show"]);
    plain.code(3).stderr_has("ttvault: error:");
    assert!(!plain.stderr.contains('\u{1b}'), "{:?}", plain.stderr);
    let forced = Run::from(
        dir.cmd(&["show"])
            .env("CLICOLOR_FORCE", "1")
            .output()
            .unwrap(),
    );
    assert!(forced.stderr.contains("\u{1b}["), "{:?}", forced.stderr);
    if !pty_available() {
        return;
    }
    let tty = Terminal::start(&dir, &format!("{} show", bin()), &[]);
    let (_, coloured) = tty.finish();
    assert!(coloured.contains("\u{1b}["), "{coloured:?}");
    let tty = Terminal::start(&dir, &format!("{} show", bin()), &[("NO_COLOR", "1")]);
    let (_, uncoloured) = tty.finish();
    assert!(uncoloured.contains("error:"), "{uncoloured:?}");
    assert!(!uncoloured.contains('\u{1b}'), "{uncoloured:?}");
}

/// init checks what it can before asking anything: a busy port, or a folder it cannot
/// write, is reported first (here no passphrase source exists, so any prompt would have
/// ended with "no terminal" instead). Before, the port was found busy only after the
/// passphrase (twice), the client id and the secret were typed.
#[test]
fn init_reports_a_busy_port_or_an_unwritable_folder_before_asking() {
    let dir = Dir::new();
    let busy = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = busy.local_addr().unwrap().port();
    let redirect = crate::flow::redirect_for(port);
    let run = dir.run(&[
        "init",
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        &redirect,
    ]);
    assert!(!run.stderr.contains("no terminal"), "{}", run.stderr);
    assert!(run.stderr.contains(&port.to_string()), "{}", run.stderr);
    assert_ne!(run.status, Some(0));
    drop(busy);

    let free = crate::flow::redirect_for(crate::flow::free_port());
    let run = dir.run(&[
        "--vault",
        "no-such-folder/.secrets",
        "init",
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        &free,
    ]);
    run.code(1)
        .stderr_has("cannot write the vault in no-such-folder");
    assert!(!run.stderr.contains("no terminal"), "{}", run.stderr);
}

/// While waiting for the browser at a terminal, a spinner shows the time left.
#[test]
fn the_browser_wait_shows_the_time_left_at_a_terminal() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    let standin = standin();
    let redirect = crate::flow::redirect_for(crate::flow::free_port());
    let shell = format!(
        "{} init --short-lived --no-browser --client-id {CLIENT_ID} --redirect-uri {redirect} --timeout 10m",
        bin()
    );
    let tty = Terminal::start(
        &dir,
        &shell,
        &[
            ("TTVAULT_API_URL", &standin.base_url()),
            ("TTVAULT_AUTHORIZE_URL", &standin.authorize_url()),
            ("TTVAULT_PASSPHRASE", PASSPHRASE),
            ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
        ],
    );
    tty.expect("Waiting for the browser");
    tty.expect("s left)");
    // One parenthesis, the time left inside it: not "times out in 1m) (59s left)".
    tty.expect("; ");
    assert!(!tty.screen().contains(") ("), "{}", tty.screen());
    let mut child = tty.child;
    let _ = child.kill();
    let _ = child.wait();
}
