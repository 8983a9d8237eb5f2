//! The one way ttvault starts another program (the browser opener, `git` in audit, the
//! agent, exec's program): every child gets a command built here, which never carries
//! ttvault's own secret inputs in its environment. Descriptors are handled elsewhere:
//! `--passphrase-fd`'s is close-on-exec from the start (`passphrase::protect_descriptor`),
//! and everything ttvault opens itself is close-on-exec (Rust's default).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variables that carry ttvault's own secrets in (README "Environment"); no child
/// ever inherits them.
pub const SECRET_INPUTS: &[&str] = &[
    "TTVAULT_PASSPHRASE",
    "TTVAULT_NEW_PASSPHRASE",
    "TTVAULT_CLIENT_SECRET",
    "TTVAULT_REFRESH_TOKEN",
];

/// A command for `program` whose environment is ttvault's minus [`SECRET_INPUTS`].
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    for name in SECRET_INPUTS {
        command.env_remove(name);
    }
    command
}

/// Where `program` would be found, as a shell finds it: a name with a `/` as it is, any
/// other name in each folder of `PATH`. `None` when there is no such file, so that exec
/// can stop with 127 before anything is asked or sent (README "exec").
pub fn find_program(program: &OsStr) -> Option<PathBuf> {
    let as_path = Path::new(program);
    if program.is_empty() {
        return None;
    }
    if as_path.components().count() > 1 || program.as_encoded_bytes().contains(&b'/') {
        return as_path.is_file().then(|| as_path.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(as_path))
        .find(|candidate| is_executable_file(candidate))
}

#[cfg(unix)]
fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable_file(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_inputs_are_removed_and_others_kept() {
        let mut cmd = command("true");
        cmd.env("KEPT", "1");
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for name in SECRET_INPUTS {
            assert!(removed.iter().any(|r| r == name), "{name} is not removed");
        }
        assert!(cmd.get_envs().any(|(k, v)| k == "KEPT" && v.is_some()));
    }

    #[cfg(unix)]
    #[test]
    fn programs_are_found_as_a_shell_finds_them() {
        assert!(find_program(OsStr::new("sh")).is_some());
        assert!(find_program(OsStr::new("/bin/sh")).is_some());
        assert!(find_program(OsStr::new("ttvault-no-such-program")).is_none());
        assert!(find_program(OsStr::new("./ttvault-no-such-program")).is_none());
        assert!(find_program(OsStr::new("")).is_none());
    }
}
