//! Every environment variable ttvault reads, read once when the process starts (`main`
//! calls [`get`] before anything else; a library caller's first use reads it). One rule
//! for all of them: a variable that is empty, or only blanks, is unset. (Before,
//! `TTVAULT_API_URL=` was "set" for rotate and "unset" for the endpoints it chose.)
//!
//! The user-facing options that have a command-line form (`TTVAULT_VAULT`,
//! `TTVAULT_IDENTITY`) are read by clap's `env =` in cli.rs instead, under the same rule
//! (clap ignores an empty value). Not here, with their reasons: `PATH`, which the child
//! process's spawn resolves itself (spawn.rs looks it up to report a missing program
//! first, and must see what the spawn will); and, when neither `NO_COLOR` nor
//! `CLICOLOR_FORCE` decides the colour ([`Settings::colour`]), the terminal's own
//! capability (`TERM`, `CLICOLOR`, `CI`), which anstream reads when it decides.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;
use zeroize::Zeroizing;

pub const API_URL: &str = "TTVAULT_API_URL";
pub const AUTHORIZE_URL: &str = "TTVAULT_AUTHORIZE_URL";
pub const PASSPHRASE: &str = "TTVAULT_PASSPHRASE";
pub const NEW_PASSPHRASE: &str = "TTVAULT_NEW_PASSPHRASE";
pub const CLIENT_SECRET: &str = "TTVAULT_CLIENT_SECRET";
pub const REFRESH_TOKEN: &str = "TTVAULT_REFRESH_TOKEN";
/// Set in the shell `ttvault exec` starts, to the vault's absolute path.
pub const SHELL_MARK: &str = "TTVAULT_SHELL";
/// The time a KDF write aims for (tests and benchmarks), in milliseconds.
pub const KDF_TARGET_MS: &str = "TTVAULT_KDF_TARGET_MS";
/// For tests and benchmarks only: a fixed KDF memory in MiB instead of calibrating.
pub const KDF_MEMORY_MIB: &str = "TTVAULT_KDF_MEMORY_MIB";
/// Lowers every whole-exchange HTTP deadline to this many seconds (never raises one):
/// for tests against a stalling server, and for people who would rather fail fast.
pub const HTTP_TIMEOUT_SECS: &str = "TTVAULT_HTTP_TIMEOUT_SECS";
/// Debug builds only: panic right after a hidden prompt is shown (the pty test that a
/// panic gives the terminal its echo back).
pub const TEST_PANIC_AT_PROMPT: &str = "TTVAULT_TEST_PANIC_AT_PROMPT";
/// Debug builds only: write and accept argon2id at 8 MiB, t=1 (kdf::floor), for the tests.
pub const TEST_WEAK_KDF: &str = "TTVAULT_TEST_WEAK_KDF";
/// Debug builds only: retry backoffs a fiftieth as long (oauth/retry.rs), for the tests.
pub const TEST_FAST_RETRY: &str = "TTVAULT_TEST_FAST_RETRY";
/// How long a writer waits for the vault's write lock, in seconds (tests).
pub const LOCK_WAIT_SECS: &str = "TTVAULT_LOCK_WAIT_SECS";

/// A secret variable as read: its text, or the fact that it was not UTF-8 (an error
/// only when the secret is used).
type SecretVar = Option<std::result::Result<Zeroizing<String>, ()>>;

/// The environment, read once.
#[derive(Default)]
pub struct Settings {
    /// `TTVAULT_API_URL`, `TTVAULT_AUTHORIZE_URL`: endpoints for a new grant.
    pub api_url: Option<String>,
    pub authorize_url: Option<String>,
    passphrase: SecretVar,
    new_passphrase: SecretVar,
    client_secret: SecretVar,
    refresh_token: SecretVar,
    /// `TTVAULT_SHELL`: this process runs inside a shell `ttvault exec` started.
    pub shell_mark: Option<OsString>,
    /// `$SHELL`, for `exec` without a program.
    pub shell: Option<OsString>,
    /// `$BROWSER`, for the sign-in page.
    pub browser: Option<String>,
    /// `XDG_RUNTIME_DIR`, where the agent's socket directory goes.
    pub runtime_dir: Option<PathBuf>,
    /// The user's own proxy (`HTTPS_PROXY`, else `https_proxy`), `NO_PROXY` and `no_proxy`
    /// (each as set, `NO_PROXY` first), and `SSL_CERT_FILE`: what `exec --broker` keeps
    /// for its outgoing connections and the program's CA bundle.
    pub https_proxy: Option<String>,
    pub no_proxy: Vec<(&'static str, String)>,
    pub ssl_cert_file: Option<PathBuf>,
    /// `HOME`: the agent's socket directory when there is no `XDG_RUNTIME_DIR`.
    pub home: Option<PathBuf>,
    /// Test knobs (see the constants).
    pub kdf_target_ms: Option<u64>,
    pub kdf_memory_mib: Option<u32>,
    pub lock_wait_secs: Option<u64>,
    pub http_timeout_secs: Option<u64>,
    pub test_panic_at_prompt: bool,
    pub test_weak_kdf: bool,
    pub test_fast_retry: bool,
    /// `NO_COLOR` (no-color.org), `CLICOLOR_FORCE` (set and not `0`).
    pub no_color: bool,
    pub clicolor_force: bool,
    /// The variables set to a blank value (so clap's `env =` arguments skip them too).
    blank: Vec<String>,
}

/// This process's settings, read from the environment on first use.
pub fn get() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| Settings::from_vars(std::env::vars_os()))
}

impl Settings {
    /// From `vars` (the environment, or a test's list), under the one rule for empty
    /// values. A later variable of the same name wins, as in an environment.
    pub fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Settings {
        let mut s = Settings::default();
        for (name, value) in vars {
            let Some(name) = name.to_str() else { continue };
            let set = !value.as_encoded_bytes().iter().all(u8::is_ascii_whitespace);
            if !set {
                s.blank.push(name.to_owned());
            }
            let text = || set.then(|| value.to_str().map(str::to_owned)).flatten();
            let secret = || {
                set.then(|| {
                    value
                        .to_str()
                        .map(|v| Zeroizing::new(v.to_owned()))
                        .ok_or(())
                })
            };
            let number = || text().and_then(|v| v.trim().parse().ok());
            match name {
                API_URL => s.api_url = text(),
                AUTHORIZE_URL => s.authorize_url = text(),
                PASSPHRASE => s.passphrase = secret(),
                NEW_PASSPHRASE => s.new_passphrase = secret(),
                CLIENT_SECRET => s.client_secret = secret(),
                REFRESH_TOKEN => s.refresh_token = secret(),
                SHELL_MARK => s.shell_mark = set.then(|| value.clone()),
                "SHELL" => s.shell = set.then(|| value.clone()),
                "BROWSER" => s.browser = text(),
                "XDG_RUNTIME_DIR" => s.runtime_dir = set.then(|| PathBuf::from(&value)),
                "HTTPS_PROXY" => s.https_proxy = text().or(s.https_proxy.take()),
                "https_proxy" => s.https_proxy = s.https_proxy.take().or(text()),
                "NO_PROXY" | "no_proxy" => {
                    let name = if name == "NO_PROXY" {
                        "NO_PROXY"
                    } else {
                        "no_proxy"
                    };
                    s.no_proxy.retain(|(n, _)| *n != name);
                    s.no_proxy
                        .push((name, value.to_string_lossy().into_owned()));
                    s.no_proxy.sort_by_key(|(n, _)| *n != "NO_PROXY");
                }
                "SSL_CERT_FILE" => s.ssl_cert_file = set.then(|| PathBuf::from(&value)),
                "HOME" => s.home = set.then(|| PathBuf::from(&value)),
                KDF_TARGET_MS => s.kdf_target_ms = number(),
                KDF_MEMORY_MIB => s.kdf_memory_mib = number().and_then(|n: u64| n.try_into().ok()),
                LOCK_WAIT_SECS => s.lock_wait_secs = number(),
                HTTP_TIMEOUT_SECS => s.http_timeout_secs = number(),
                TEST_PANIC_AT_PROMPT => s.test_panic_at_prompt = cfg!(debug_assertions) && set,
                TEST_WEAK_KDF => s.test_weak_kdf = cfg!(debug_assertions) && set,
                TEST_FAST_RETRY => s.test_fast_retry = cfg!(debug_assertions) && set,
                "NO_COLOR" => s.no_color = set,
                "CLICOLOR_FORCE" => s.clicolor_force = set && value != "0",
                _ => {}
            }
        }
        s
    }

    /// Colour on stdout and stderr: never with `NO_COLOR`, always with `CLICOLOR_FORCE`,
    /// else where the stream is a terminal that takes it (anstream decides).
    pub fn colour(&self) -> anstream::ColorChoice {
        if self.no_color {
            anstream::ColorChoice::Never
        } else if self.clicolor_force {
            anstream::ColorChoice::Always
        } else {
            anstream::ColorChoice::Auto
        }
    }

    /// Whether the variable `name` is set to a blank value (which counts as unset).
    pub fn is_blank(&self, name: &str) -> bool {
        self.blank.iter().any(|b| b == name)
    }

    /// `TTVAULT_PASSPHRASE`.
    pub fn passphrase(&self) -> Result<Option<Zeroizing<String>>> {
        secret(&self.passphrase, PASSPHRASE)
    }

    /// `TTVAULT_NEW_PASSPHRASE`.
    pub fn new_passphrase(&self) -> Result<Option<Zeroizing<String>>> {
        secret(&self.new_passphrase, NEW_PASSPHRASE)
    }

    /// `TTVAULT_CLIENT_SECRET`.
    pub fn client_secret(&self) -> Result<Option<Zeroizing<String>>> {
        secret(&self.client_secret, CLIENT_SECRET)
    }

    /// `TTVAULT_REFRESH_TOKEN`.
    pub fn refresh_token(&self) -> Result<Option<Zeroizing<String>>> {
        secret(&self.refresh_token, REFRESH_TOKEN)
    }

    /// Whether `TTVAULT_PASSPHRASE` gives a passphrase (without using it).
    pub fn has_passphrase(&self) -> bool {
        self.passphrase.is_some()
    }

    /// Whether `TTVAULT_NEW_PASSPHRASE` gives one.
    pub fn has_new_passphrase(&self) -> bool {
        self.new_passphrase.is_some()
    }
}

fn secret(var: &SecretVar, name: &str) -> Result<Option<Zeroizing<String>>> {
    match var {
        None => Ok(None),
        Some(Ok(v)) => Ok(Some(v.clone())),
        Some(Err(())) => Err(Error::usage(format!("{name} is not valid UTF-8"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(vars: &[(&str, &str)]) -> Settings {
        Settings::from_vars(vars.iter().map(|(k, v)| (k.into(), v.into())))
    }

    #[test]
    fn an_empty_or_blank_variable_is_unset_whatever_it_is() {
        let s = of(&[
            (API_URL, ""),
            (AUTHORIZE_URL, "  "),
            (PASSPHRASE, ""),
            (CLIENT_SECRET, " "),
            ("XDG_RUNTIME_DIR", ""),
            ("SHELL", ""),
            (KDF_TARGET_MS, ""),
            ("NO_COLOR", ""),
            ("CLICOLOR_FORCE", "0"),
        ]);
        assert_eq!(s.colour(), anstream::ColorChoice::Auto);
        assert!(s.is_blank(AUTHORIZE_URL) && !s.is_blank("HOME"));
        assert_eq!(s.api_url, None);
        assert_eq!(s.authorize_url, None);
        assert!(!s.has_passphrase());
        assert!(s.client_secret().unwrap().is_none());
        assert_eq!(s.runtime_dir, None);
        assert_eq!(s.shell, None);
        assert_eq!(s.kdf_target_ms, None);
    }

    #[test]
    fn set_values_are_kept_and_numbers_parsed() {
        let s = of(&[
            (API_URL, "http://127.0.0.1:9"),
            (PASSPHRASE, " spaced "),
            (KDF_MEMORY_MIB, " 64 "),
            (LOCK_WAIT_SECS, "soon"),
            ("NO_COLOR", "1"),
            ("CLICOLOR_FORCE", "1"),
        ]);
        // NO_COLOR wins over CLICOLOR_FORCE, as no-color.org asks.
        assert_eq!(s.colour(), anstream::ColorChoice::Never);
        assert_eq!(s.api_url.as_deref(), Some("http://127.0.0.1:9"));
        // A secret is kept as given: only the whole value being blank makes it unset.
        assert_eq!(s.passphrase().unwrap().unwrap().as_str(), " spaced ");
        assert_eq!(s.kdf_memory_mib, Some(64));
        assert_eq!(s.lock_wait_secs, None);
    }

    #[cfg(unix)]
    #[test]
    fn the_upper_case_proxy_variables_win_whatever_their_order() {
        let s = of(&[
            ("https_proxy", "http://lower:1"),
            ("no_proxy", "lower.example"),
            ("HTTPS_PROXY", "http://upper:2"),
            ("NO_PROXY", "upper.example"),
        ]);
        assert_eq!(s.https_proxy.as_deref(), Some("http://upper:2"));
        assert_eq!(s.no_proxy[0], ("NO_PROXY", "upper.example".to_string()));
        assert_eq!(s.no_proxy[1].0, "no_proxy");
        let lower = of(&[("https_proxy", "http://lower:1"), ("HTTPS_PROXY", " ")]);
        assert_eq!(lower.https_proxy.as_deref(), Some("http://lower:1"));
    }

    #[test]
    fn a_secret_that_is_not_utf8_is_an_error_when_used() {
        use std::os::unix::ffi::OsStringExt;
        let s = Settings::from_vars([(
            OsString::from(REFRESH_TOKEN),
            OsString::from_vec(vec![0xff, 0xfe]),
        )]);
        let err = s.refresh_token().unwrap_err();
        assert!(err.message.contains(REFRESH_TOKEN), "{}", err.message);
    }
}
