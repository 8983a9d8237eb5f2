//! The tour's script: the real `ttvault` against an in-process stand-in of Tastytrade, in a
//! throwaway folder, each command printed as typed and its output as a terminal shows it
//! (stdout and stderr through one pipe, in the order written). examples/tour/main.rs runs
//! it for people; tests/it/tour.rs runs it and compares the transcript.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tt_standin::{Config, StandIn};

pub const CLIENT_ID: &str = "demo-client-id";
pub const CLIENT_SECRET: &str = "demo-client-secret";

/// What the tour runs with.
pub struct Settings {
    /// The `ttvault` binary.
    pub ttvault: PathBuf,
    /// The folder holding `fetch-spx` (put first on the commands' PATH).
    pub programs: PathBuf,
    /// Use the redirect URI Tastytrade users register, `http://localhost:8000`, when that
    /// port is free (people); otherwise, and for tests, a free port given with
    /// `--redirect-uri`.
    pub prefer_port_8000: bool,
    /// Extra environment for every ttvault command (tests: a cheaper KDF).
    pub env: Vec<(String, String)>,
}

/// The values a run chose, which a transcript comparison replaces by name.
#[derive(Default)]
pub struct Chosen {
    pub folder: String,
    pub api: String,
    pub redirect: String,
    pub passphrase: String,
}

pub fn run(settings: &Settings, out: &mut dyn Write) -> Result<Chosen, String> {
    let folder = tempfile::Builder::new()
        .prefix("ttvault-tour")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let standin =
        StandIn::start(Config::default()).map_err(|e| format!("cannot start the stand-in: {e}"))?;
    let port = redirect_port(settings.prefer_port_8000)?;
    let redirect = format!("http://localhost:{port}");
    standin.register_app(CLIENT_ID, CLIENT_SECRET, &[&redirect]);
    let passphrase = passphrase();
    write_private(&folder.path().join("passphrase.txt"), &passphrase)?;
    let chosen = Chosen {
        folder: folder.path().display().to_string(),
        api: standin.base_url(),
        redirect: redirect.clone(),
        passphrase: passphrase.clone(),
    };
    let mut tour = Tour {
        settings,
        folder: folder.path().to_path_buf(),
        standin: &standin,
        out,
        unlocked: false,
    };
    let result = tour.script(&chosen, port);
    if tour.unlocked {
        // However the tour ended, no agent outlives it.
        let _ = tour.command(&["lock"]).output();
    }
    result?;
    drop(standin);
    folder
        .close()
        .map_err(|e| format!("cannot remove the tour's folder: {e}"))?;
    Ok(chosen)
}

struct Tour<'a> {
    settings: &'a Settings,
    folder: PathBuf,
    standin: &'a StandIn,
    out: &'a mut dyn Write,
    unlocked: bool,
}

impl Tour<'_> {
    fn script(&mut self, chosen: &Chosen, port: u16) -> Result<(), String> {
        let pw = ["--passphrase-file", "passphrase.txt"];
        let redirect = (port != 8000).then(|| chosen.redirect.clone());
        self.say(&format!(
            "ttvault tour: the real ttvault against a stand-in of Tastytrade on this computer, in a\n\
             throwaway folder. No account, no network. Each command is shown as you would type it.\n\n\
             folder:      {} (removed at the end)\n\
             stand-in:    {} (a demo application: client id {CLIENT_ID}, secret {CLIENT_SECRET})\n\
             passphrase:  {} (for this tour's vault, in passphrase.txt; at a terminal ttvault asks\n             \
             for it instead, hidden)\n",
            chosen.folder, chosen.api, chosen.passphrase
        ))?;
        self.say(&format!(
            "$ export TTVAULT_API_URL={} TTVAULT_AUTHORIZE_URL={}",
            self.standin.base_url(),
            self.standin.authorize_url()
        ))?;
        self.say(
            "\n# 1. Sign in once (the browser step is done by the tour), verify, write .secrets",
        )?;
        let mut init = vec!["init", "--client-id", CLIENT_ID, "--no-browser"];
        if let Some(r) = &redirect {
            init.extend(["--redirect-uri", r.as_str()]);
        }
        init.extend(pw);
        self.show(&init, &[("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)], 0)?;

        self.say("\n# 2. Run a program with a 15-minute access token in its environment")?;
        self.show(&["exec", pw[0], pw[1], "--", "fetch-spx"], &[], 0)?;

        self.say("\n# 3. One passphrase for the next 15 minutes: an agent holds the vault open")?;
        self.show(&["unlock", pw[0], pw[1]], &[], 0)?;
        self.unlocked = true;
        self.show(&["status"], &[], 0)?;
        self.show(
            &[
                "api",
                "/option-chains/SPX/nested",
                "--jq",
                r#".data.items[] | "\(."root-symbol"): next \(.expirations[0]."expiration-date"), \(.expirations[0].strikes | length) strikes""#,
            ],
            &[],
            0,
        )?;
        self.say(
            "\n# 4. Every risk ttvault can see: scopes, files, endpoints, and the grant, live\n\
             #    (the agent serves tokens only, so audit opens the vault for its file checks)",
        )?;
        self.show(&["audit", pw[0], pw[1]], &[], 0)?;
        self.show(&["lock"], &[], 0)?;
        self.unlocked = false;

        self.say(
            "\n# 5. A new grant: on tastytrade.com you would create one and delete the old one\n\
             #    (the stand-in deletes it now), then put the new one in the same vault",
        )?;
        self.standin.revoke_all(CLIENT_ID);
        let mut rotate = vec!["rotate", "--no-browser"];
        rotate.extend(pw);
        self.show(&rotate, &[], 0)?;

        self.say(
            "\nWith a real account (README \"Before you start\"): on tastytrade.com, Manage → My Profile\n\
             → API → OAuth Applications, create an application with Read only and the redirect URI\n\
             http://localhost:8000, keep its client id and secret at hand; then, in your project's\n\
             folder, without the two TTVAULT_*_URL variables:\n\
             \x20 ttvault init\n\
             \x20 ttvault exec -- python option_chain_fetcher.py",
        )
    }

    fn say(&mut self, text: &str) -> Result<(), String> {
        writeln!(self.out, "{text}").map_err(|e| format!("cannot write the transcript: {e}"))
    }

    /// A ttvault command in the tour's folder, pointed at the stand-in.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.settings.ttvault);
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.settings.programs.clone()];
        paths.extend(std::env::split_paths(&path));
        cmd.args(args)
            .current_dir(&self.folder)
            .stdin(Stdio::null())
            .env("PATH", std::env::join_paths(paths).unwrap_or(path))
            .env("TTVAULT_API_URL", self.standin.base_url())
            .env("TTVAULT_AUTHORIZE_URL", self.standin.authorize_url())
            // The agent's socket lives in the tour's folder, and goes with it.
            .env("XDG_RUNTIME_DIR", &self.folder)
            .env("NO_COLOR", "1");
        for name in [
            "TTVAULT_PASSPHRASE",
            "TTVAULT_VAULT",
            "TTVAULT_IDENTITY",
            "BROWSER",
        ] {
            cmd.env_remove(name);
        }
        for (k, v) in &self.settings.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Prints `$ ttvault ARGS`, runs it, prints its output as it comes, and acts as the
    /// browser when it prints a sign-in address.
    fn show(&mut self, args: &[&str], env: &[(&str, &str)], expect: i32) -> Result<(), String> {
        let prefix: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        self.say(&format!("$ {prefix}ttvault {}", shell_words::join(args)))?;
        let (reader, writer) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
        let mut cmd = self.command(args);
        let stderr = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
        cmd.stdout(writer).stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.settings.ttvault.display()))?;
        // The command holds the pipe's write ends; without it, the pipe ends with the child.
        drop(cmd);
        let mut address = None;
        for line in BufReader::new(reader).lines() {
            let line = line.map_err(|e| format!("reading ttvault's output: {e}"))?;
            self.say(&line)?;
            let trimmed = line.trim();
            if trimmed.starts_with("http://localhost:") && trimmed.contains("/start/") {
                address = Some(trimmed.to_string());
            }
            // ttvault waits from here: the person switches to the browser.
            if line.starts_with("Waiting for the browser") {
                if let Some(start) = address.take() {
                    self.browse(&start)?;
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("waiting for ttvault: {e}"))?;
        if status.code() != Some(expect) {
            return Err(format!("`ttvault {}` ended with {status}", args.join(" ")));
        }
        Ok(())
    }

    /// What a person's browser does with the sign-in address: ttvault's start page sends it
    /// to the consent page, where the tour presses Approve; the consent page sends it back
    /// to ttvault with the code.
    fn browse(&mut self, start: &str) -> Result<(), String> {
        let browser = reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .user_agent("ttvault-tour-browser/1.0")
            .build()
            .map_err(|e| format!("browser: {e}"))?;
        let hop = |r: reqwest::Result<reqwest::blocking::Response>| -> Result<String, String> {
            let r = r.map_err(|e| format!("browser: {e}"))?;
            r.headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| format!("browser: {} without a redirect", r.status()))
        };
        let consent = hop(browser.get(start).send())?;
        let page = browser
            .get(&consent)
            .send()
            .and_then(|r| r.text())
            .map_err(|e| format!("browser: {e}"))?;
        if !page.contains("approve") {
            return Err("browser: the consent page has no Approve button".into());
        }
        self.say(
            "  [the tour, as your browser: opened the address, pressed Approve on the consent page]",
        )?;
        let back = hop(browser
            .post(&consent)
            .form(&[("decision", "approve")])
            .send())?;
        browser
            .get(&back)
            .send()
            .map_err(|e| format!("browser: {e}"))?;
        Ok(())
    }
}

/// 8000 when preferred and free, else any free port.
fn redirect_port(prefer_8000: bool) -> Result<u16, String> {
    if prefer_8000 && std::net::TcpListener::bind(("127.0.0.1", 8000)).is_ok() {
        return Ok(8000);
    }
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// Four groups of four letters and digits: easy to read back, 80 bits.
fn passphrase() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| writeln!(f, "{text}"))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
