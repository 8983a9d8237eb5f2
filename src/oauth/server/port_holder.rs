//! Who holds a busy loopback port, when it is one of this user's own processes: "port 8000
//! is already in use" is far more useful as "by python3 (pid 4242)" or "by another
//! `ttvault init` (pid 4242)". Linux only, from /proc, no new dependency: the listening
//! socket's inode and owner come from /proc/net/tcp{,6}, and the process from the
//! descriptors it has open. Other users' processes are never named (their descriptors
//! cannot be read, and their socket is left alone on purpose); only the program's name is
//! read from its command line, never its arguments, which may hold anything.

/// A process of this user listening on the port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// The program's file name (argv[0] without its folder).
    pub program: String,
    /// `init` or `rotate` when it is another ttvault browser flow waiting.
    pub ttvault_flow: Option<&'static str>,
}

/// The holder of `port` on the loopback, if it is this user's and can be found.
#[cfg(target_os = "linux")]
pub fn of_port(port: u16) -> Option<Holder> {
    let uid = crate::harden::current_uid();
    let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| listeners(&text, port, uid))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let pids = own_pids(uid);
    if let Some(pid) = pids.iter().copied().find(|&pid| holds_any(pid, &inodes)) {
        return describe(pid);
    }
    // The socket is ours, yet no readable process holds it: a hardened (non-dumpable)
    // process, whose descriptors only root may read. Of ours, a ttvault browser flow is
    // what listens on a loopback port: the one whose --redirect-uri names the port, else
    // the only one running. (ttvault takes no secret on its command line.)
    let flows: Vec<(Holder, bool)> = pids
        .into_iter()
        .filter(|&pid| pid != std::process::id())
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let holder = from_cmdline(pid, &cmdline);
            let names_port = String::from_utf8_lossy(&cmdline)
                .split('\0')
                .any(|a| a.contains(&format!(":{port}")));
            holder
                .ttvault_flow
                .is_some()
                .then_some((holder, names_port))
        })
        .collect();
    let naming: Vec<&Holder> = flows.iter().filter(|f| f.1).map(|f| &f.0).collect();
    match (naming.as_slice(), flows.as_slice()) {
        ([only], _) => Some((*only).clone()),
        ([], [(only, _)]) => Some(only.clone()),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
pub fn of_port(_port: u16) -> Option<Holder> {
    None
}

/// The inodes of listening sockets on `port` owned by `uid`, from a /proc/net/tcp table.
fn listeners(table: &str, port: u16, uid: u32) -> Vec<u64> {
    let wanted = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            let (local, state, owner, inode) = (
                fields.get(1)?,
                fields.get(3)?,
                fields.get(7)?,
                fields.get(9)?,
            );
            let listening = *state == "0A" && local.ends_with(&wanted);
            (listening && owner.parse::<u32>().ok()? == uid)
                .then(|| inode.parse().ok())
                .flatten()
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn own_pids(uid: u32) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse().ok()?;
            (e.metadata().ok()?.uid() == uid).then_some(pid)
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn holds_any(pid: u32, inodes: &[u64]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .ok()
            .and_then(|target| socket_inode(&target.to_string_lossy()))
            .is_some_and(|inode| inodes.contains(&inode))
    })
}

fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
fn describe(pid: u32) -> Option<Holder> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(from_cmdline(pid, &cmdline))
}

/// The holder as its command line names it: the program's file name, and whether it is a
/// ttvault browser flow (its subcommand, never any other argument, is looked at).
fn from_cmdline(pid: u32, cmdline: &[u8]) -> Holder {
    let mut args = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned());
    let argv0 = args.next().unwrap_or_default();
    let program = argv0.rsplit('/').next().unwrap_or_default().to_string();
    let ttvault_flow = if program == "ttvault" {
        args.find_map(|a| ["init", "rotate"].into_iter().find(|&c| c == a))
    } else {
        None
    };
    let program = crate::oauth::sanitize::sanitize(&program, 40);
    Holder {
        pid,
        program,
        ttvault_flow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_sockets_of_the_user_on_the_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1 0\n   1: 0100007F:1F40 0100007F:9999 01 00000000:00000000 00:00000000 00000000  1000        0 556 1 0\n   2: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 557 1 0\n";
        assert_eq!(listeners(table, 8000, 1000), vec![555]);
        assert!(listeners(table, 8001, 1000).is_empty());
    }

    #[test]
    fn a_command_line_gives_the_program_name_only() {
        let h = from_cmdline(7, b"/usr/bin/python3\0-m\0http.server\0--token\0s3cret\0");
        assert_eq!(h.program, "python3");
        assert_eq!(h.ttvault_flow, None);
        let h = from_cmdline(8, b"/home/me/.cargo/bin/ttvault\0--vault\0x\0init\0");
        assert_eq!(h.ttvault_flow, Some("init"));
        assert_eq!(socket_inode("socket:[42]"), Some(42));
        assert_eq!(socket_inode("/dev/null"), None);
    }
}
