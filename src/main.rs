//! Parse, run, and map the outcome to an exit status; everything else is in the library.

fn main() {
    ttvault::harden::harden_process();
    // The environment, read once, before anything uses it (src/settings.rs).
    anstream::ColorChoice::write_global(ttvault::settings::get().colour());
    // A panic's message could quote data it was handling; print where, never what.
    // A closed stdout is no panic: every write to stdout goes through `output`, which
    // checks the write's error (`ttvault status | head -1` ends quietly).
    std::panic::set_hook(Box::new(|info| {
        // A panic during a hidden prompt must not leave the terminal without echo.
        ttvault::restore_terminal();
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
