//! The order of init's questions (issue 16, item 4): the new passphrase is asked only once
//! the grant is proven; a declined consent or a refused client secret is tried again in
//! the same run asking only what was wrong; and nothing on disk changes (`.gitignore`
//! included) before the vault is written, a busy port being found before anything.

use crate::common::*;
use crate::flow::{assert_absent, follow_start, free_port, get, redirect_for, start};
use crate::terminal::{bin, pty_available, Terminal};

/// The `n`th (from 1) start page address the terminal showed.
fn start_url(tty: &Terminal, n: usize) -> String {
    tty.expect_nth("/start/", n);
    tty.screen()
        .split_whitespace()
        .filter(|w| w.contains("/start/"))
        .nth(n - 1)
        .unwrap()
        .to_string()
}

/// At a terminal: the client id and a wrong secret are typed; Tastytrade refuses the
/// secret after the browser round trip, and only the secret is asked again; the consent
/// is then declined, and the sign-in starts again without asking anything; only after the
/// grant is proven come what programs get and the new passphrase. Before, the passphrase
/// came first and any of these failures ended the run: everything was typed again.
#[test]
fn init_asks_the_passphrase_last_and_keeps_what_was_typed_across_failures() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    let port = free_port();
    let standin = standin_at(&redirect_for(port));
    let shell = format!(
        "{} init --no-browser --redirect-uri {} --timeout 60s",
        bin(),
        redirect_for(port)
    );
    let mut tty = Terminal::start(
        &dir,
        &shell,
        &[
            ("TTVAULT_API_URL", &standin.base_url()),
            ("TTVAULT_AUTHORIZE_URL", &standin.authorize_url()),
        ],
    );
    tty.expect("Client ID");
    tty.type_line(CLIENT_ID);
    tty.expect("Client secret");
    tty.type_line("cs-SECRET-mistyped");
    let callback = standin
        .decide_url(&follow_start(&start_url(&tty, 1)), true)
        .unwrap();
    // Tastytrade refused the client: the page says so, with no "server error" status.
    assert_eq!(get(&callback).status, 200);
    tty.expect("Type the client secret again and sign in again?");
    tty.type_line("");
    tty.expect_nth("Client secret (input hidden)", 2);
    tty.type_line(CLIENT_SECRET);
    let callback = standin
        .decide_url(&follow_start(&start_url(&tty, 2)), false)
        .unwrap();
    get(&callback);
    tty.expect("Sign in again?");
    tty.type_line("");
    let callback = standin
        .decide_url(&follow_start(&start_url(&tty, 3)), true)
        .unwrap();
    // The browser's last page waits until the vault is written.
    let page = std::thread::spawn(move || get(&callback));
    tty.expect("Answer [tokens/broker/long-lived]");
    tty.type_line("");
    tty.expect("New passphrase");
    tty.type_line(PASSPHRASE);
    tty.expect("Repeat it");
    tty.type_line(PASSPHRASE);
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert_eq!(page.join().unwrap().status, 200);
    assert_eq!(screen.matches("Client ID").count(), 1, "{screen}");
    assert_eq!(screen.matches("Client secret (input hidden)").count(), 2);
    let last_sign_in = screen.rfind("/start/").unwrap();
    assert!(
        screen.find("New passphrase").unwrap() > last_sign_in,
        "{screen}"
    );
    assert_absent(&screen, &[CLIENT_SECRET, PASSPHRASE, "cs-SECRET-mistyped"]);
    dir.passphrase_files();
    dir.run(&["--no-agent", "--passphrase-file", "pw", "show"])
        .success()
        .stdout_has(CLIENT_ID);
}

/// A busy port ends init before anything is written: a repository's `.gitignore` is
/// untouched. Before, init added the vault to `.gitignore` first.
#[test]
fn a_failed_init_leaves_the_gitignore_alone() {
    if !require_tool("git") {
        return;
    }
    let dir = Dir::new();
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    let holder = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let standin = standin_at(&redirect_for(port));
    let args = [
        "init",
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        &redirect_for(port),
    ];
    let flow = start(
        &dir,
        &standin,
        &args,
        &[("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)],
    );
    flow.finish().code(1).stderr_has(&format!("port {port}"));
    assert!(!dir.join(".gitignore").exists());
    assert!(!dir.join(".secrets").exists());
}

/// import asks what init asks, in init's order and with the same default: what programs
/// get (its words matching its default, the broker), then the new passphrase; its own question about
/// other plaintext copies comes after them. Before, the copies came between the two.
#[test]
fn import_asks_init_s_questions_in_init_s_order() {
    if !pty_available() {
        return;
    }
    let dir = Dir::new();
    dir.legacy_secrets(".secrets");
    dir.legacy_secrets(".secrets.backup");
    let mut tty = Terminal::start(&dir, &format!("{} import", bin()), &[]);
    tty.expect("the broker runs them unchanged");
    tty.expect("broker (default)");
    tty.expect("Answer [tokens/broker/long-lived]");
    tty.type_line("");
    tty.expect("New passphrase");
    tty.type_line(PASSPHRASE);
    tty.expect("Repeat it");
    tty.type_line(PASSPHRASE);
    tty.expect("Overwrite and remove them after the vault is written? [y/N]");
    tty.type_line("");
    let (status, screen) = tty.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(
        screen.contains("Recorded: programs get access token, placeholders and ttvault's broker"),
        "{screen}"
    );
    assert_absent(&screen, &[CLIENT_SECRET, PASSPHRASE]);
}
