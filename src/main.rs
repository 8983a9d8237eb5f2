//! Parse, run, and map the outcome to an exit status; everything else is in the library.

use clap::Parser;
use std::io::Write;

fn main() {
    ttvault::harden::harden_process();
    // A panic's message could quote data it was handling; print where, never what.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("ttvault: internal error at {place}; nothing was written after it. Please report this bug.");
    }));
    let cli = ttvault::cli::Cli::parse();
    let code = match ttvault::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "ttvault: {}", err.message);
            if let Some(hint) = &err.hint {
                let _ = writeln!(stderr, "  hint: {hint}");
            }
            err.exit_code()
        }
    };
    std::process::exit(code);
}
