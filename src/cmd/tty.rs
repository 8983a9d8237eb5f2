//! The controlling terminal, as ssh and sudo use it: questions are written to and answers
//! read from `/dev/tty` (even when stdin is a pipe), and a hidden answer turns echo off
//! only for as long as it is read. The terminal's mode is restored on every way out of a
//! hidden read: the answer, an error, a panic (the guard's drop, and `restore_now` from
//! main's panic hook), and Ctrl-C, SIGTERM or SIGHUP (a handler restores it, then the
//! signal ends the process as it would have: Ctrl-C still exits 130).
//!
//! This is the second module allowed to use `unsafe` (src/harden.rs is the first): each
//! block is one libc call on values it owns, or the signal handler's restore, which uses
//! only async-signal-safe calls (tcsetattr, signal, raise) on state written before the
//! handler was installed.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// Longest answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// The controlling terminal, opened for reading and writing.
pub struct Tty {
    file: File,
}

impl Tty {
    /// Opens `/dev/tty`; fails (ENXIO) when the process has no controlling terminal,
    /// whatever stdin, stdout and stderr are.
    pub fn open() -> std::io::Result<Tty> {
        let file = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        Ok(Tty { file })
    }

    /// Writes `text` to the terminal as it is.
    pub fn say(&mut self, text: &str) -> std::io::Result<()> {
        self.file.write_all(text.as_bytes())?;
        self.file.flush()
    }

    /// Shows `prompt` and reads one line, echoed.
    pub fn line(&mut self, prompt: &str) -> std::io::Result<Zeroizing<String>> {
        self.say(prompt)?;
        self.read_line()
    }

    /// Shows `prompt` and reads one line with echo off; the newline the person types is
    /// still shown (ECHONL), so the next line starts below. Echo goes off before the
    /// prompt shows: whatever is typed once the prompt is visible stays hidden.
    pub fn hidden(&mut self, prompt: &str) -> std::io::Result<Zeroizing<String>> {
        let _quiet = mode::Quiet::start(&self.file)?;
        self.say(prompt)?;
        // Debug builds only (the knob is never set in a release build).
        if crate::settings::get().test_panic_at_prompt {
            panic!("a panic at the prompt, as the test asked");
        }
        self.read_line()
    }

    /// Reads bytes up to a newline (the terminal's line discipline edits the line), without
    /// the newline; an end of input before any newline is an error, never an empty answer.
    fn read_line(&mut self) -> std::io::Result<Zeroizing<String>> {
        let mut bytes = Zeroizing::new(Vec::new());
        let mut byte = [0u8; 1];
        loop {
            match self.file.read(&mut byte) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the terminal closed",
                    ))
                }
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) if bytes.len() < MAX_ANSWER => bytes.push(byte[0]),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let line = bytes.strip_suffix(b"\r").unwrap_or(&bytes);
        let text = std::str::from_utf8(line).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "the answer is not UTF-8")
        })?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}

/// Puts the terminal back as it was before a hidden read, if one is under way; for main's
/// panic hook (the guard's drop covers unwinding, this covers a hook that exits).
pub fn restore_now() {
    mode::restore_saved();
}

#[cfg(unix)]
mod mode {
    use std::cell::UnsafeCell;
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The signals that end a prompt: Ctrl-C, `kill`, a closed terminal.
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// The mode saved before echo went off, for the signal handler. It is written only
    /// while `ARMED` is -1 (no handler reads it) and read only after `ARMED` holds the
    /// descriptor (Release/Acquire), so the handler never sees a half-written value.
    struct Saved(UnsafeCell<libc::termios>);
    // SAFETY: access is ordered by ARMED as described above; one prompt at a time (the
    // prompt lock and `&mut Tty`) means one writer.
    unsafe impl Sync for Saved {}
    // SAFETY: termios is plain data; all-zero is a valid value that is never applied
    // (ARMED stays -1 until a real mode is saved).
    static SAVED: Saved = Saved(UnsafeCell::new(unsafe { std::mem::zeroed() }));
    /// The terminal's descriptor while echo is off; -1 otherwise.
    static ARMED: AtomicI32 = AtomicI32::new(-1);

    /// Echo off until dropped.
    pub struct Quiet {
        fd: libc::c_int,
        before: libc::termios,
        handlers: Vec<(libc::c_int, libc::sigaction)>,
    }

    impl Quiet {
        pub fn start(file: &File) -> std::io::Result<Quiet> {
            let fd = file.as_raw_fd();
            // SAFETY: tcgetattr writes into a termios we own.
            let mut before: libc::termios = unsafe { std::mem::zeroed() };
            if unsafe { libc::tcgetattr(fd, &mut before) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: no handler is armed (ARMED is -1), so nothing reads SAVED now.
            unsafe { *SAVED.0.get() = before };
            ARMED.store(fd, Ordering::Release);
            let handlers = SIGNALS.iter().map(|&s| (s, install(s))).collect();
            let mut quiet = before;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            let guard = Quiet {
                fd,
                before,
                handlers,
            };
            // SAFETY: tcsetattr reads the termios we pass.
            if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(guard)
        }
    }

    impl Drop for Quiet {
        fn drop(&mut self) {
            // SAFETY: tcsetattr reads the termios we saved.
            unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.before) };
            ARMED.store(-1, Ordering::Release);
            for (signal, old) in self.handlers.drain(..) {
                // SAFETY: puts back the disposition sigaction gave us.
                unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
            }
        }
    }

    /// Installs the restoring handler for `signal`; returns the disposition it replaces.
    /// A signal the process was started ignoring (`nohup`, a background job's Ctrl-C)
    /// stays ignored: the prompt then ends only by its answer, as before.
    fn install(signal: libc::c_int) -> libc::sigaction {
        // SAFETY: sigaction reads the struct we pass and writes the old one into ours;
        // the handler is an extern "C" fn that lives for the whole program.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old);
            if old.sa_sigaction == libc::SIG_IGN {
                return old;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(signal, &new, &mut old);
            old
        }
    }

    /// Restores the terminal, then lets the signal do what it does by default (end the
    /// process), so the shell sees the usual status (130 for Ctrl-C).
    extern "C" fn on_signal(signal: libc::c_int) {
        restore_saved();
        // SAFETY: signal and raise are async-signal-safe.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    pub fn restore_saved() {
        let fd = ARMED.load(Ordering::Acquire);
        if fd >= 0 {
            // SAFETY: SAVED was written before ARMED was set (see SAVED); tcsetattr is
            // async-signal-safe.
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, SAVED.0.get()) };
        }
    }
}

#[cfg(not(unix))]
mod mode {
    pub struct Quiet;
    impl Quiet {
        pub fn start(_: &std::fs::File) -> std::io::Result<Quiet> {
            Err(std::io::Error::other("hidden input needs a Unix terminal"))
        }
    }
    pub fn restore_saved() {}
}
