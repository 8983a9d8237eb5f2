//! Which vault a command works on and how it may be unlocked: the one input every command
//! turns its global options into (README "Commands" lists them). Finding the vault and
//! asking for its passphrase start from here, so changing either changes one place.

use crate::output::{Quiet, Reporter};
use crate::ui::{NoTerminal, Ui};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default vault file, in the current folder.
pub const DEFAULT_PATH: &str = ".secrets";

/// Where a command looks for a vault no option names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// The current folder, then each parent (commands that open a vault).
    Up,
    /// The current folder only (commands that create one: init, import).
    Here,
}

/// Where the passphrase or identity comes from when given on the command line. What is not
/// given here comes from `TTVAULT_PASSPHRASE` or a terminal prompt (see `passphrase`).
#[derive(Clone, Debug, Default)]
pub struct UnlockSources {
    /// `--passphrase-file`: the first line of this file.
    pub passphrase_file: Option<PathBuf>,
    /// `--passphrase-fd`: the first line read from this descriptor (Unix).
    pub passphrase_fd: Option<i32>,
    /// `-i`: an age or SSH identity that opens a recipient slot.
    pub identity: Option<PathBuf>,
}

/// A vault and how to reach it.
#[derive(Clone)]
pub struct VaultRef {
    /// The vault file, as named (not canonicalized).
    pub path: PathBuf,
    pub unlock: UnlockSources,
    /// Whether a running agent (`ttvault unlock`) may answer instead of the file.
    pub use_agent: bool,
    /// Where warnings, notes and verbose details go while the vault is used.
    pub report: Arc<dyn Reporter>,
    /// Who is asked for what the sources above do not give (the passphrase, a choice):
    /// the terminal in the command layer, nobody (`NoTerminal`), or a test's script.
    pub ui: Arc<dyn Ui>,
}

impl VaultRef {
    /// The vault file: the one named (`--vault`, `TTVAULT_VAULT`) as named; else, for a
    /// command that opens a vault ([`Search::Up`]), the nearest `.secrets` in the current
    /// folder or a parent the user owns (see `discover`); for one that creates a vault
    /// ([`Search::Here`]: init, import), `.secrets` in the current folder. Found paths are
    /// absolute, so errors and `-v` name the file unambiguously. A `.secrets` the search
    /// refused (another user's) is reported as a warning.
    pub fn locate(named: Option<&Path>, search: Search, report: &dyn Reporter) -> PathBuf {
        if let Some(named) = named {
            return named.to_path_buf();
        }
        let Ok(cwd) = std::env::current_dir() else {
            return PathBuf::from(DEFAULT_PATH);
        };
        if search == Search::Here {
            return cwd.join(DEFAULT_PATH);
        }
        let found = super::discover::search(&cwd, super::discover::current_uid());
        if let Some((refused, why)) = &found.refused {
            report.warning(
                &format!("ignored {}: {why}", refused.display()),
                Some("a vault is only looked for in your own folders; name one with --vault if this is wrong"),
            );
        }
        if found.exists {
            report.detail(&format!("using the vault {}", found.path.display()));
        }
        found.path
    }

    /// The vault at `path`, no unlock source given, the agent allowed, reports dropped,
    /// nobody to ask.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        VaultRef {
            path: path.into(),
            unlock: UnlockSources::default(),
            use_agent: true,
            report: Arc::new(Quiet),
            ui: Arc::new(NoTerminal),
        }
    }
}

impl std::fmt::Debug for VaultRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultRef")
            .field("path", &self.path)
            .field("unlock", &self.unlock)
            .field("use_agent", &self.use_agent)
            .finish_non_exhaustive()
    }
}
