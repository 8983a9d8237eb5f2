//! Running exec's program as a child, when ttvault cannot become it (the broker lives in
//! ttvault's process): signals sent to ttvault reach the program, and the program's exit
//! status becomes ttvault's (128+N for a program killed by signal N, as shells report it).

use std::process::{Command, ExitStatus};

/// The signals a person or a supervisor sends to "the program" (README "exec").
#[cfg(unix)]
pub const FORWARDED: [i32; 5] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGWINCH,
];

/// Starts `command`, forwards [`FORWARDED`] signals to it until it ends, and returns its
/// status code. A signal the terminal generated (Ctrl-C, Ctrl-\, a resize) reached the
/// program already, being in the terminal's foreground group, so only signals a process
/// sent (`kill`, a supervisor) are forwarded: the program never sees one Ctrl-C twice.
#[cfg(unix)]
pub fn run(mut command: Command) -> std::io::Result<i32> {
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use signal_hook::iterator::SignalsInfo;
    // Registered before the spawn: a signal in between is caught, not lost (or fatal to
    // ttvault, which would leave the program without its broker).
    let mut signals = SignalsInfo::<WithOrigin>::new(FORWARDED)?;
    let handle = signals.handle();
    let mut child = command.spawn()?;
    let pid = child.id();
    let forwarder = std::thread::spawn(move || {
        for origin in signals.forever() {
            let from_child = origin.process.as_ref().is_some_and(|p| p.pid as u32 == pid);
            if is_sent(&origin.cause) && !from_child {
                crate::harden::send_signal(pid, origin.signal);
            }
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    Ok(code_of(status?))
}

#[cfg(unix)]
fn is_sent(cause: &signal_hook::low_level::siginfo::Cause) -> bool {
    matches!(cause, signal_hook::low_level::siginfo::Cause::Sent(_))
}

#[cfg(not(unix))]
pub fn run(mut command: Command) -> std::io::Result<i32> {
    Ok(code_of(command.status()?))
}

/// The exit status a shell would report for the program.
pub fn code_of(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_signals_come_back_as_a_shell_reports_them() {
        let sh = |script: &str| {
            let mut c = Command::new("/bin/sh");
            c.args(["-c", script]);
            run(c).unwrap()
        };
        assert_eq!(sh("exit 7"), 7);
        assert_eq!(sh("kill -TERM $$"), 128 + 15);
        assert_eq!(sh("kill -KILL $$"), 128 + 9);
    }
}
