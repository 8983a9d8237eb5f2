//! Driving `ttvault init` / `rotate` against the stand-in Tastytrade: the real binary in a
//! temporary directory, the browser played over plain HTTP.

use crate::common::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;
use tt_standin::StandIn;

/// A port nothing listens on right now, for ttvault's loopback server. It is taken below
/// the kernel's ephemeral range (32768 and up on Linux), so a stand-in or client socket
/// bound to port 0 in a parallel test cannot be handed the same port before ttvault binds
/// it; each test process starts at its own offset.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 600) as u16 * 20;
    loop {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % 700;
        let v4 = std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        let v6 = std::net::TcpListener::bind(("::1", port)).is_ok()
            || std::net::TcpListener::bind(("::1", 0)).is_err();
        if v4 && v6 {
            return port;
        }
    }
}

pub fn redirect_for(port: u16) -> String {
    format!("http://localhost:{port}")
}

/// A running `ttvault` whose stderr is watched for the address to open.
pub struct Flow {
    child: Child,
    urls: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
    stdout_thread: Option<JoinHandle<String>>,
}

/// Starts `ttvault ARGS` pointed at the stand-in, with the passphrase file `pw`, no
/// browser, and the given extra environment.
pub fn start(dir: &Dir, standin: &StandIn, args: &[&str], env: &[(&str, &str)]) -> Flow {
    let mut args = args.to_vec();
    args.push("--no-browser");
    start_with_browser(dir, standin, &args, env)
}

/// Like [`start`], but ttvault opens the browser itself (`$BROWSER` from `env`).
pub fn start_with_browser(
    dir: &Dir,
    standin: &StandIn,
    args: &[&str],
    env: &[(&str, &str)],
) -> Flow {
    dir.passphrase_files();
    let mut cmd = dir.cmd(args);
    cmd.args(["--passphrase-file", "pw"])
        .env("TTVAULT_API_URL", standin.base_url())
        .env("TTVAULT_AUTHORIZE_URL", standin.authorize_url())
        .env_remove("BROWSER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    crate::common::default_signals(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let (tx, urls) = mpsc::channel();
    let stderr = Arc::new(Mutex::new(String::new()));
    let err_pipe = child.stderr.take().unwrap();
    let buf = Arc::clone(&stderr);
    let stderr_thread = thread::spawn(move || {
        for line in BufReader::new(err_pipe).lines() {
            let Ok(line) = line else { break };
            let t = line.trim();
            if t.starts_with("http://") || t.starts_with("https://") {
                let _ = tx.send(t.to_string());
            }
            let mut b = buf.lock().unwrap();
            b.push_str(&line);
            b.push('\n');
        }
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let stdout_thread = thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    Flow {
        child,
        urls,
        stderr,
        stderr_thread: Some(stderr_thread),
        stdout_thread: Some(stdout_thread),
    }
}

impl Flow {
    /// The address ttvault printed for the browser.
    pub fn url(&self) -> String {
        match self.urls.recv_timeout(Duration::from_secs(60)) {
            Ok(u) => u,
            Err(_) => panic!(
                "ttvault printed no URL; stderr:\n{}",
                self.stderr.lock().unwrap()
            ),
        }
    }

    /// Where ttvault's start page (the printed address) sends the browser: the
    /// authorize URL.
    pub fn authorize_url(&self) -> String {
        follow_start(&self.url())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit (at most a minute) and collects the output.
    pub fn finish(mut self) -> Run {
        let mut waited = Duration::ZERO;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if waited > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!(
                    "ttvault did not exit; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            thread::sleep(Duration::from_millis(20));
            waited += Duration::from_millis(20);
        };
        let stdout = self.stdout_thread.take().unwrap().join().unwrap();
        self.stderr_thread.take().unwrap().join().unwrap();
        let stderr = self.stderr.lock().unwrap().clone();
        Run {
            status: status.code(),
            stdout,
            stderr,
        }
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a start page sends the browser (a redirect to the authorize URL).
pub fn follow_start(start_url: &str) -> String {
    let start = get(start_url);
    assert_eq!(start.status, 302, "the start page: {}", start.body);
    start.location.expect("the start page's Location")
}

/// The test's browser: plain HTTP, no redirects followed, so every hop is checked.
pub fn browser() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .user_agent("test-browser/1.0")
        .build()
        .unwrap()
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

pub fn get(url: &str) -> Page {
    get_with_host(url, None)
}

/// GET with an optional forged Host header.
pub fn get_with_host(url: &str, host: Option<&str>) -> Page {
    let mut req = browser().get(url);
    if let Some(h) = host {
        req = req.header("Host", h);
    }
    page(req.send().unwrap())
}

pub fn post_form(url: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
    let mut req = browser().post(url).form(form);
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    page(req.send().unwrap())
}

fn page(resp: reqwest::blocking::Response) -> Page {
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.text().unwrap_or_default();
    Page {
        status,
        location,
        body,
    }
}

/// The query parameters of a URL.
pub fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A page or output must show none of these.
#[track_caller]
pub fn assert_absent(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty());
        // The text is not printed: it would show the secret.
        assert!(!text.contains(s), "a secret appears in the checked text");
    }
}
