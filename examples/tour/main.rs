//! A tour of ttvault in under a minute, without a Tastytrade account:
//!
//!     cargo run --release --example tour
//!
//! In a throwaway folder it starts a stand-in of Tastytrade in this process and runs the
//! real `ttvault` through init (the tour approves the consent page as your browser would),
//! `exec -- fetch-spx`, `unlock`, `status`, `api … --jq`, `audit`, `lock` and `rotate`,
//! printing each command and its output. It leaves nothing behind.
//!
//! `cargo run --example` builds only the example, so the tour first runs `cargo build` for
//! the `ttvault` binary and the `fetch-spx` example (in the same profile, beside its own
//! executable); a no-op when they are up to date. Run outside cargo, it uses the binaries
//! already beside it.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

mod script;

fn main() -> ExitCode {
    let profile_dir = match std::env::current_exe() {
        Ok(exe) => exe
            .parent()
            .and_then(|examples| examples.parent())
            .map(PathBuf::from),
        Err(_) => None,
    };
    let Some(profile_dir) = profile_dir else {
        eprintln!("tour: cannot tell where cargo put this example");
        return ExitCode::FAILURE;
    };
    if let Err(message) = build_the_binaries() {
        eprintln!("tour: {message}");
        return ExitCode::FAILURE;
    }
    let settings = script::Settings {
        ttvault: profile_dir.join(format!("ttvault{}", std::env::consts::EXE_SUFFIX)),
        programs: profile_dir.join("examples"),
        prefer_port_8000: true,
        env: Vec::new(),
    };
    match script::run(&settings, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tour: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo build [--release] --bin ttvault --example fetch-spx`, when run by cargo (which
/// sets `CARGO`); the profile is this example's own.
fn build_the_binaries() -> Result<(), String> {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return Ok(());
    };
    let mut cmd = Command::new(cargo);
    // What `cargo run` set for this example (its package's variables, the build script's
    // `rustc-env`, the library path) would make the inner build look different from the
    // outer one, and each would rebuild what the other built.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let run_only = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
            || [
                "CARGO_PRIMARY_PACKAGE",
                "OUT_DIR",
                "TTVAULT_COMMIT",
                "LD_LIBRARY_PATH",
            ]
            .contains(&name.as_ref());
        if run_only {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.args([
        "build",
        "--quiet",
        "--bin",
        "ttvault",
        "--example",
        "fetch-spx",
    ])
    .arg("--manifest-path")
    .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    eprintln!("tour: building the ttvault binary and the fetch-spx example (cargo build)…");
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build failed ({status})"))
    }
}
