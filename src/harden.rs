//! Process hardening: no core dumps, no debugger attach by other processes of the same
//! user, every descriptor the process may have for the loopback server. This is the only
//! module allowed to use `unsafe`: each block is a single libc call on values it owns.
#![allow(unsafe_code)]

/// Makes this process non-dumpable and refuses core files, where the OS allows.
/// Returns which protections are in force, for `-v` and `status`.
pub fn harden_process() -> Vec<&'static str> {
    let mut applied = Vec::new();
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no memory is retained.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } == 0 {
            applied.push("no core dumps");
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers. A non-dumpable process
        // cannot be ptrace-attached by unprivileged processes of the same user, and its
        // /proc/<pid>/{mem,environ} become unreadable to them.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } == 0 {
            applied.push("not dumpable or traceable");
        }
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: PT_DENY_ATTACH takes no pointers.
        if unsafe { libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) } == 0 {
            applied.push("debugger attach denied");
        }
    }
    applied
}

/// Raises the soft limit on open descriptors to the hard limit, so a flood of
/// connections to the loopback server runs into the connection cap long before the
/// descriptor limit. Where the OS refuses, the limit stays as it was.
#[cfg(unix)]
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and retains nothing.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
        || limit.rlim_cur >= limit.rlim_max
    {
        return;
    }
    let mut wanted = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we pass; no memory is retained.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } != 0 {
        // macOS refuses a soft limit above OPEN_MAX even when the hard limit is
        // unlimited: take that much instead.
        wanted.rlim_cur = limit.rlim_max.min(10_240);
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) };
    }
}

#[cfg(not(unix))]
pub fn raise_fd_limit() {}

/// Whether this process is dumpable (Linux), for the test of `harden_process`.
#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
fn is_dumpable() -> bool {
    // SAFETY: PR_GET_DUMPABLE takes no pointers.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) == 1 }
}

/// Sends `signal` to process `pid` (exec's program, when ttvault forwards a signal to it).
/// Signal 0 only asks whether the process exists (a stale broker directory's owner).
#[cfg(unix)]
pub fn send_signal(pid: u32, signal: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // A pid of 0 or below would address a process group or every process.
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill takes plain integers and no pointers.
    unsafe { libc::kill(pid, signal) == 0 }
}

/// Whether a process `pid` exists (of any user: EPERM means it does).
#[cfg(unix)]
pub fn process_exists(pid: u32) -> bool {
    send_signal(pid, 0) || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The real user id, for the agent's peer check and the vault's owner check.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    // SAFETY: getuid cannot fail and takes no arguments.
    unsafe { libc::getuid() }
}

/// The login name of `uid`, from the password database; None when it has none.
#[cfg(unix)]
pub fn user_name(uid: u32) -> Option<String> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the right type and `buf`'s length is
    // passed with it; getpwuid_r writes only within them and sets `found` to `&mut pw` or
    // null. The name is copied out before `buf` goes.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() || pw.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points into `buf`, NUL-terminated by getpwuid_r.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// Locks `buf`'s pages into RAM so they are never written to swap (the agent's secrets).
/// Returns false where the OS refuses (e.g. RLIMIT_MEMLOCK) or has no mlock; the caller
/// says so.
#[cfg(unix)]
pub fn mlock(buf: &[u8]) -> bool {
    if buf.is_empty() {
        return true;
    }
    // SAFETY: mlock only reads the address range of a live slice we borrow; it does not
    // retain the pointer.
    unsafe { libc::mlock(buf.as_ptr().cast(), buf.len()) == 0 }
}

/// Undoes `mlock` (after the caller has zeroized the buffer).
#[cfg(unix)]
pub fn munlock(buf: &[u8]) {
    if buf.is_empty() {
        return;
    }
    // SAFETY: as for mlock: an address range of a live slice, not retained.
    unsafe {
        libc::munlock(buf.as_ptr().cast(), buf.len());
    }
}

#[cfg(not(unix))]
pub fn mlock(_buf: &[u8]) -> bool {
    false
}

#[cfg(not(unix))]
pub fn munlock(_buf: &[u8]) {}

/// Marks an inherited descriptor (`--passphrase-fd N`) close-on-exec, so no program
/// ttvault starts (exec's, the browser, git, the agent) inherits it, whether or not
/// ttvault ever reads it. Fails when `fd` is not an open descriptor.
#[cfg(unix)]
pub fn close_on_exec(fd: i32) -> std::io::Result<()> {
    // SAFETY: fcntl on an integer descriptor; F_GETFD/F_SETFD take and return plain flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Takes ownership of an inherited descriptor (`--passphrase-fd N`): reading the returned
/// file reads the descriptor itself (pipe, file at its offset, socket), and dropping it
/// closes it. Each descriptor is taken at most once per process (a second call, or a
/// closed descriptor, is an error), so two owners never close the same number.
#[cfg(unix)]
pub fn take_descriptor(fd: i32) -> std::io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    static TAKEN: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    if fd < 0 || taken.contains(&fd) {
        return Err(std::io::Error::from_raw_os_error(libc::EBADF));
    }
    close_on_exec(fd)?;
    taken.push(fd);
    // SAFETY: `fd` is open (checked just above) and no other owner exists in this process:
    // ttvault never opens it itself (it was inherited) and `TAKEN` lets it be taken once.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn hardening_makes_the_process_non_dumpable_without_core_files() {
        let applied = super::harden_process();
        assert!(
            applied.contains(&"not dumpable or traceable"),
            "{applied:?}"
        );
        assert!(!super::is_dumpable());
        let mut limit = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY (test): getrlimit writes into the struct we own.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) };
        assert_eq!(rc, 0);
        assert_eq!(limit.rlim_cur, 0);
    }

    #[cfg(unix)]
    #[test]
    fn the_descriptor_limit_is_raised_to_the_hard_limit() {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY (test): getrlimit and setrlimit read or write structs we own. Lowering
        // the soft limit a little does not disturb the tests running beside this one.
        #[allow(unsafe_code)]
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
            if limit.rlim_cur == limit.rlim_max && limit.rlim_max > 512 {
                let lower = libc::rlimit {
                    rlim_cur: limit.rlim_max - 1,
                    rlim_max: limit.rlim_max,
                };
                assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lower), 0);
            }
        }
        super::raise_fd_limit();
        #[allow(unsafe_code)]
        // SAFETY (test): as above.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        assert_eq!(rc, 0);
        assert!(
            limit.rlim_cur == limit.rlim_max || limit.rlim_cur >= 10_240,
            "{} of {}",
            limit.rlim_cur,
            limit.rlim_max
        );
    }
}
