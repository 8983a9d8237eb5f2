//! Which vault a command works on and how it may be unlocked: the one input every command
//! turns its global options into (README "Commands" lists them). Finding the vault and
//! asking for its passphrase start from here, so changing either changes one place.

use crate::output::{Quiet, Reporter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default vault file, in the current folder.
pub const DEFAULT_PATH: &str = ".secrets";

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
}

impl VaultRef {
    /// The vault file: the one named (`--vault`, `TTVAULT_VAULT`), else `.secrets` in the
    /// current folder.
    pub fn locate(named: Option<&Path>) -> PathBuf {
        named.map_or_else(|| PathBuf::from(DEFAULT_PATH), Path::to_path_buf)
    }

    /// The vault at `path`, no unlock source given, the agent allowed, reports dropped.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        VaultRef {
            path: path.into(),
            unlock: UnlockSources::default(),
            use_agent: true,
            report: Arc::new(Quiet),
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
