//! `ttvault init` with a real browser (headless Chromium): ttvault opens it through
//! `$BROWSER`, and, driven over WebDriver, it fills in the local credentials form. These
//! check what a plain HTTP client cannot: real redirects, real Host and Origin headers,
//! `localhost` resolving to 127.0.0.1 or ::1, and the pages as a browser renders them.
//! Outside CI a missing Chromium skips them with a note; CI installs it (.ci/run).

use crate::common::*;
use crate::flow::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROME_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
];

#[test]
fn browser_variable_opens_chromium_which_completes_init() {
    if !require_tool("chromium") {
        return;
    }
    let dir = Dir::new();
    let port = free_port();
    let redirect = redirect_for(port);
    let standin = standin_at(&redirect);
    // The user approves on Tastytrade's page at once.
    standin.decide(true);
    let profile = dir.join("chromium-profile");
    let browser = format!(
        "chromium {} --user-data-dir={} --dump-dom",
        CHROME_FLAGS.join(" "),
        profile.display()
    );
    let flow = start_with_browser(
        &dir,
        &standin,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &redirect,
            "--timeout",
            "90s",
        ],
        &[
            ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
            ("BROWSER", &browser),
        ],
    );
    let run = flow.finish();
    run.success().stdout_has("saved to");
    assert!(
        !run.stderr.contains("could not open a browser"),
        "{}",
        run.stderr
    );
    // The authorize page was fetched by Chromium itself.
    let authorize = standin
        .requests()
        .into_iter()
        .find(|r| r.path == "/auth.html")
        .expect("the browser opened the authorize page");
    assert!(
        authorize
            .header("user-agent")
            .unwrap_or_default()
            .contains("Chrome"),
        "{:?}",
        authorize.header("user-agent")
    );
    dir.run(&["show", "--passphrase-file", "pw"])
        .success()
        .stdout_has(CLIENT_ID);
}

#[test]
fn chromium_fills_in_the_form_and_approves() {
    if !require_tool("chromium") || !require_tool("chromedriver") {
        return;
    }
    fill_in_and_approve(None);
}

/// The same, with Chromium resolving `localhost` to ::1, as some systems do first: the
/// loopback server must answer there too.
#[test]
fn chromium_with_localhost_on_ipv6() {
    if !require_tool("chromium") || !require_tool("chromedriver") {
        return;
    }
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipping: this machine has no IPv6 loopback (::1)");
        return;
    }
    fill_in_and_approve(Some("--host-resolver-rules=MAP localhost [::1]"));
}

fn fill_in_and_approve(extra_flag: Option<&str>) {
    let dir = Dir::new();
    let port = free_port();
    let redirect = redirect_for(port);
    let standin = standin_at(&redirect);
    // No client id or secret anywhere: the local page asks for them.
    let flow = start(
        &dir,
        &standin,
        &["init", "--redirect-uri", &redirect, "--timeout", "90s"],
        &[],
    );
    let start_url = flow.url();
    assert!(
        start_url.starts_with(&format!("http://localhost:{port}/start/")),
        "{start_url}"
    );

    let driver = Driver::start(&dir, extra_flag);
    driver.navigate(&start_url);
    let form = driver.source();
    assert!(form.contains("Client Secret"), "{form}");
    driver.type_into("#client_id", CLIENT_ID);
    driver.type_into("#client_secret", CLIENT_SECRET);
    driver.click("button[type=submit]");
    // Chromium posts the form (Origin: http://localhost:PORT) and follows the 303 to the
    // stand-in's consent page, where the user approves.
    driver.wait_for_source("Approve", Duration::from_secs(20));
    assert!(driver.current_url().starts_with(&standin.authorize_url()));
    driver.click("button[value=approve]");
    // Sent back to the callback, it waits for the vault to be written.
    let page = driver.wait_for_source("ttvault is connected", Duration::from_secs(20));
    assert_absent(&page, &[CLIENT_SECRET]);
    let url = driver.current_url();
    assert!(
        url.starts_with(&format!("http://localhost:{port}/?code=")),
        "{url}"
    );
    drop(driver);

    let run = flow.finish();
    run.success().stdout_has(CLIENT_ID);
    let exchange = &standin.token_requests()[0];
    assert_eq!(exchange.header("authorization"), None);
    assert!(exchange
        .form()
        .contains(&("client_id".to_string(), CLIENT_ID.to_string())));
    // The vault holds the grant that was approved.
    let shown = dir.run(&["show", "--passphrase-file", "pw", "--json"]);
    shown.success();
    let doc: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["client_id"], CLIENT_ID);
    assert_eq!(doc["scopes_requested"], json!(["read"]));
    assert_eq!(doc["api_url"], standin.base_url());
}

/// A minimal WebDriver client for chromedriver (W3C protocol over plain HTTP).
struct Driver {
    process: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
}

impl Driver {
    fn start(dir: &Dir, extra_flag: Option<&str>) -> Driver {
        let port = free_port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(90))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = dir.join("chromedriver-profile");
        let mut args: Vec<String> = CHROME_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra_flag.map(str::to_string));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {resp}"))
            .to_string();
        Driver {
            process,
            base,
            session,
            http,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().unwrap().json().unwrap();
        v["value"].clone()
    }

    fn navigate(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })));
    }

    fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        );
    }

    fn wait_for_source(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.source();
            if s.contains(needle) {
                return s;
            }
            if Instant::now() >= deadline {
                let shown = s.replace(CLIENT_SECRET, "[the secret]");
                panic!(
                    "the page never showed {needle:?}; at {}:\n{shown}",
                    self.current_url().replace(CLIENT_SECRET, "[the secret]")
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
