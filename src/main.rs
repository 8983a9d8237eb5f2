//! Parse, run, and map the outcome to an exit status; everything else is in the library.

fn main() {
    ttvault::harden::harden_process();
    // The environment, read once, before anything uses it (src/settings.rs).
    anstream::ColorChoice::write_global(ttvault::settings::get().colour());
    // A panic's message could quote data it was handling; print where, never what.
    std::panic::set_hook(Box::new(|info| {
        // A panic during a hidden prompt must not leave the terminal without echo.
        ttvault::restore_terminal();
        if is_closed_stdout(info) {
            // `ttvault status | head -1`: the reader has gone, as with any Unix tool the
            // rest of the report is not wanted. Whatever was written is complete (vault
            // writes are atomic), so end quietly.
            std::process::exit(0);
        }
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let err = ttvault::Error::failure(format!(
            "internal error at {place}; nothing was written after it"
        ))
        .hint("please report this bug");
        ttvault::output::error(&err);
    }));
    let cli = ttvault::cli::parse();
    let code = match ttvault::run(cli) {
        Ok(code) => code,
        Err(err) => {
            ttvault::output::error(&err);
            err.exit_code()
        }
    };
    std::process::exit(code);
}

/// Whether `info` is std's panic for printing into a closed stdout (`println!` after the
/// reading end of a pipe was closed: "failed printing to stdout: Broken pipe").
fn is_closed_stdout(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| info.payload().downcast_ref::<&str>().copied())
        .unwrap_or_default();
    // std's wording: "failed printing to stdout: Broken pipe (os error 32)".
    message.starts_with("failed printing to stdout")
        && message.to_ascii_lowercase().contains("broken pipe")
}
