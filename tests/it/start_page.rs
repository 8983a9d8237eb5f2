//! The start address never on a command line: ttvault hands it to the browser through a
//! private redirect page (a `file://` path), so another local user reading every
//! `/proc/*/cmdline` during `init` never learns it; and the address is good for one load,
//! so a replay ends the flow with nothing written.

use crate::common::*;
use crate::flow::*;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// A browser as a real program: reads the page it is given, finds where it leads and
/// loads that `loads` times with curl, following redirects on the last load; the address
/// goes to curl on its stdin, never in its arguments (a real browser does not put where it
/// navigates on its command line either). Then it stays until `stop` exists, so its own
/// command line stays readable for the test's attacker.
fn opener(dir: &Dir, loads: usize, stop: &std::path::Path) -> String {
    let mut script = String::from(
        "page=\"${1#file://}\"\n\
         url=$(sed -n 's/.*http-equiv=\"refresh\" content=\"0;url=\\([^\"]*\\)\".*/\\1/p' \"$page\")\n",
    );
    for i in 1..=loads {
        let follow = if i == loads { "-L" } else { "" };
        script.push_str(&format!(
            "printf 'url = \"%s\"\\n' \"$url\" | curl -s {follow} -o /dev/null -K -\n"
        ));
    }
    // Until the stop file exists, or its folder is gone (the test may end and remove it
    // between two looks; the opener must not outlive it).
    let folder = stop.parent().unwrap();
    script.push_str(&format!(
        "while [ ! -e '{}' ] && [ -d '{}' ]; do sleep 0.05; done\n",
        stop.display(),
        folder.display()
    ));
    let path = dir.write("opener.sh", script);
    format!("sh {}", path.display())
}

/// Another user (uid 65534 when the tests run as root) reading every process's command
/// line over and over, printing whatever looks like a start path or a file address.
struct Attacker {
    child: std::process::Child,
    seen: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Attacker {
    fn start(stop: &std::path::Path) -> Attacker {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(
                "while [ ! -e \"$1\" ]; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' \
                 | grep -aoE '/start/[A-Za-z0-9_-]+|file://[^ ]+'; done",
            )
            .arg("attacker")
            .arg(stop)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if ttvault::harden::current_uid() == 0 {
            cmd.uid(65534).gid(65534);
        }
        let mut child = cmd.spawn().unwrap();
        let mut out = child.stdout.take().unwrap();
        let seen = Arc::new(Mutex::new(String::new()));
        let buf = Arc::clone(&seen);
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = out.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Attacker {
            child,
            seen,
            reader: Some(reader),
        }
    }

    fn seen(&self) -> String {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for it to end (the stop file exists) and returns everything it saw.
    fn finish(mut self) -> String {
        let _ = self.child.wait();
        self.reader.take().unwrap().join().unwrap();
        self.seen()
    }
}

fn init_args(redirect: &str) -> Vec<String> {
    [
        "init",
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        redirect,
        "--timeout",
        "90s",
    ]
    .map(String::from)
    .to_vec()
}

/// No leftover start page in the private runtime directory (the tests' XDG_RUNTIME_DIR).
fn assert_no_start_page(dir: &Dir) {
    let left: Vec<_> = std::fs::read_dir(dir.join("ttvault"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().starts_with("start-")),
        "{left:?}"
    );
}

#[test]
fn another_user_reading_every_command_line_never_learns_the_start_address() {
    if !require_tool("curl") {
        return;
    }
    let dir = Dir::new();
    // Another user may look for the stop file; nothing else of the test is theirs.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let port = free_port();
    let redirect = redirect_for(port);
    let standin = standin_at(&redirect);
    standin.decide(true);
    let stop = dir.join("stop");
    let attacker = Attacker::start(&stop);
    let browser = opener(&dir, 1, &stop);
    let args = init_args(&redirect);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let flow = start_with_browser(
        &dir,
        &standin,
        &args,
        &[
            ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
            ("BROWSER", &browser),
        ],
    );
    let run = flow.finish();
    run.success().stdout_has("saved to");
    assert!(!run.stderr.contains("could not open"), "{}", run.stderr);
    // The attacker was reading all along: it saw the opener's argument, the page's path.
    crate::agent::eventually("the attacker to see the opener's command line", || {
        attacker.seen().contains("file://")
    });
    std::fs::write(&stop, "").unwrap();
    let seen = attacker.finish();
    assert!(seen.contains("/ttvault/start-"), "{seen}");
    assert!(
        !seen.contains("/start/"),
        "the start address leaked: {seen}"
    );
    assert_no_start_page(&dir);
}

#[test]
fn a_second_load_of_the_start_address_ends_init_with_nothing_written() {
    if !require_tool("curl") {
        return;
    }
    let dir = Dir::new();
    let port = free_port();
    let redirect = redirect_for(port);
    let standin = standin_at(&redirect);
    standin.decide(true);
    let stop = dir.join("stop");
    let browser = opener(&dir, 2, &stop);
    let args = init_args(&redirect);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let flow = start_with_browser(
        &dir,
        &standin,
        &args,
        &[
            ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
            ("BROWSER", &browser),
        ],
    );
    let run = flow.finish();
    std::fs::write(&stop, "").unwrap();
    run.code(1)
        .stderr_has("opened a second time")
        .stderr_has("nothing was written");
    assert!(!dir.join(".secrets").exists());
    assert!(
        standin.requests().iter().all(|r| r.path != "/oauth/token"),
        "no code was exchanged"
    );
    assert_no_start_page(&dir);
}
