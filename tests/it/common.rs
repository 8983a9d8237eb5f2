//! Runs the real `ttvault` binary in a fresh temporary directory (after ripgrep's
//! tests/util.rs). Every test gets its own directory, so tests run in parallel.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Secret values used by tests; `assert_no_secrets` checks output never shows them.
pub const CLIENT_ID: &str = "test-client-id-7f3a";
pub const CLIENT_SECRET: &str = "cs-SECRET-9b1e-do-not-print";
pub const REFRESH_TOKEN: &str = "rt-SECRET-41c8-do-not-print";
pub const PASSPHRASE: &str = "pp-SECRET-correct horse battery";
pub const NEW_PASSPHRASE: &str = "pp-SECRET-new staple";

/// `passwd` from the passphrase in `pw` to the one in `pw2`.
pub const PW_TO_PW2: &[&str] = &[
    "passwd",
    "--passphrase-file",
    "pw",
    "--new-passphrase-file",
    "pw2",
];

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("ttvault-test")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.join(name)).unwrap()
    }

    /// A `ttvault` command in this directory with a clean, non-interactive environment:
    /// no terminal (stdin is null), and the debug-only test knobs: argon2id at 8 MiB, t=1
    /// (real vaults calibrate 256 MiB or more, never below 64 MiB, t=3) and retry pauses a
    /// fiftieth as long.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = ttvault_without_terminal();
        cmd.args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env_remove("TTVAULT_PASSPHRASE")
            .env_remove("TTVAULT_NEW_PASSPHRASE")
            .env_remove("TTVAULT_VAULT")
            .env_remove("TTVAULT_IDENTITY")
            .env_remove("TTVAULT_API_URL")
            .env_remove("TTVAULT_AUTHORIZE_URL")
            .env_remove("TTVAULT_CLIENT_SECRET")
            .env_remove("TTVAULT_REFRESH_TOKEN")
            .env("TTVAULT_KDF_TARGET_MS", "1")
            .env("TTVAULT_KDF_MEMORY_MIB", "8")
            .env("TTVAULT_TEST_WEAK_KDF", "1")
            .env("TTVAULT_TEST_FAST_RETRY", "1")
            .env_remove("TTVAULT_LOCK_WAIT_SECS")
            .env("XDG_RUNTIME_DIR", self.path());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().unwrap())
    }

    /// Writes the passphrase files `pw` and `pw2`.
    pub fn passphrase_files(&self) {
        self.write("pw", format!("{PASSPHRASE}\n"));
        self.write("pw2", format!("{NEW_PASSPHRASE}\n"));
    }

    /// A legacy plaintext `.secrets` as the old setup script wrote it.
    pub fn legacy_secrets(&self, name: &str) -> PathBuf {
        self.write(
            name,
            format!(
                "TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={REFRESH_TOKEN}\n"
            ),
        )
    }

    /// A vault at `.secrets` with the test grant, opened by the passphrase in `pw`; it
    /// records handout tokens (import records broker where nothing is asked).
    pub fn vault(&self) {
        self.passphrase_files();
        self.legacy_secrets(".secrets");
        self.run(&["import", "--short-lived", "--passphrase-file", "pw"])
            .success();
    }
}

/// The `ttvault` binary, never with the terminal `cargo test` may have been started from:
/// ttvault asks on the controlling terminal even when stdin is null (as ssh does), so a
/// test run from a terminal starts it in a new session (util-linux `setsid`), as CI has
/// no terminal at all.
/// The ttvault under test: cargo's build, or the binary `TTVAULT_TEST_BIN` names (CI runs
/// the SDK test with the one the wheel installed: `.ci/run`).
pub fn ttvault_bin() -> PathBuf {
    std::env::var_os("TTVAULT_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ttvault")))
}

fn ttvault_without_terminal() -> Command {
    let bin = ttvault_bin();
    let has_terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok();
    if has_terminal {
        let mut cmd = Command::new("setsid");
        cmd.arg(bin);
        cmd
    } else {
        Command::new(bin)
    }
}

pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            status: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.status,
            Some(0),
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert_no_secrets(self);
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status,
            Some(code),
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert_no_secrets(self);
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
}

/// No test secret may appear in anything ttvault prints.
#[track_caller]
pub fn assert_no_secrets(run: &Run) {
    for secret in [CLIENT_SECRET, REFRESH_TOKEN, PASSPHRASE, NEW_PASSPHRASE] {
        assert!(
            !run.stdout.contains(secret),
            "stdout shows a secret:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(secret),
            "stderr shows a secret:\n{}",
            run.stderr
        );
    }
}

/// Whether an external tool exists; outside CI a missing tool skips the test with a
/// printed reason, in CI it fails the test (CI installs it).
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is required in CI (.ci/run installs it)");
        }
        eprintln!("skipping: {tool} is not installed (CI installs it)");
    }
    found
}

/// The redirect URI the test application registers unless a test names another.
pub const REDIRECT_URI: &str = "http://localhost:8000";

/// A stand-in Tastytrade with the test application registered.
pub fn standin() -> tt_standin::StandIn {
    standin_at_with(tt_standin::Config::default(), REDIRECT_URI)
}

pub fn standin_with(config: tt_standin::Config) -> tt_standin::StandIn {
    standin_at_with(config, REDIRECT_URI)
}

/// A stand-in with the test application registered for `redirect`.
pub fn standin_at(redirect: &str) -> tt_standin::StandIn {
    standin_at_with(tt_standin::Config::default(), redirect)
}

/// The one place a test's stand-in starts.
pub fn standin_at_with(config: tt_standin::Config, redirect: &str) -> tt_standin::StandIn {
    let s = tt_standin::StandIn::start(config).unwrap();
    s.register_app(CLIENT_ID, CLIENT_SECRET, &[redirect]);
    s
}

impl Dir {
    /// Points a command at the stand-in's endpoints.
    pub fn cmd_at(&self, standin: &tt_standin::StandIn, args: &[&str]) -> Command {
        let mut cmd = self.cmd(args);
        cmd.env("TTVAULT_API_URL", standin.base_url())
            .env("TTVAULT_AUTHORIZE_URL", standin.authorize_url());
        cmd
    }

    pub fn run_at(&self, standin: &tt_standin::StandIn, args: &[&str]) -> Run {
        Run::from(self.cmd_at(standin, args).output().unwrap())
    }

    /// A vault at `.secrets` holding a personal grant of the stand-in with `scopes`; the
    /// vault records the stand-in's endpoints and handout tokens. Returns the grant's
    /// refresh token.
    pub fn standin_vault(&self, standin: &tt_standin::StandIn, scopes: &str) -> String {
        self.passphrase_files();
        let refresh = standin.personal_grant(CLIENT_ID, scopes);
        self.write(
            "legacy.env",
            format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={refresh}\n"),
        );
        self.run_at(
            standin,
            &[
                "import",
                "legacy.env",
                "--short-lived",
                "--passphrase-file",
                "pw",
            ],
        )
        .success();
        refresh
    }
}

/// A Python that can import `module`: the virtual environment `.ci/run` makes with the
/// pinned packages of tests/sdk/requirements.txt (tastyware's SDK and python-dotenv), else
/// the system's python3. None (skip, with the reason printed) outside CI; in CI a missing
/// one fails the test.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/sdk-venv/bin/python");
    let found = [venv.clone(), PathBuf::from("python3")]
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        let setup = "python3 -m venv target/sdk-venv && target/sdk-venv/bin/pip install -r tests/sdk/requirements.txt";
        if std::env::var_os("CI").is_some() {
            panic!(
                "no Python with `{module}` at {} or on PATH: .ci/run runs {setup}",
                venv.display()
            );
        }
        eprintln!("skipping: no Python with `{module}` ({setup})");
    }
    found
}

/// A test run started in the background of a non-interactive shell (`cargo test &`) hands
/// its children SIGINT ignored, and under `nohup` SIGHUP; ttvault keeps a signal it was
/// started ignoring ignored. The Ctrl-C and hang-up tests need the dispositions a terminal
/// gives, so the child gets them back.
#[allow(unsafe_code)]
pub fn default_signals(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal() is async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
            Ok(())
        });
    }
}
