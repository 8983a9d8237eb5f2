//! The listening sockets on 127.0.0.1 and ::1 and their accept loops. A flood of
//! connections must never free the port for another program (which would then receive
//! the browser's form or callback), so:
//! - at most [`MAX_CONNECTIONS`] connections are served at once; the rest wait in the
//!   kernel's backlog, costing ttvault nothing;
//! - an accept error that can pass (out of descriptors or memory, a connection aborted
//!   before it was accepted) is waited out with a growing pause, never a reason to stop;
//! - an error that cannot pass (the socket itself is gone) is reported at once, and the
//!   flow ends rather than wait for a callback that could now go elsewhere.

use super::connection::{self, Event};
use super::error::LoopbackError;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// Connections served at once, over both listeners.
pub(super) const MAX_CONNECTIONS: usize = 32;
/// The first pause after an accept error; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// Both listeners; dropping this stops them and releases the port.
pub(super) struct Listeners {
    addresses: Vec<SocketAddr>,
    gate: Arc<Gate>,
}

impl Listeners {
    /// Listens on 127.0.0.1 and, where the machine has IPv6, on ::1 at `port` (0: any
    /// free port, the same on both). Returns the port.
    pub fn bind(port: u16, events: &Sender<Event>) -> Result<(Listeners, u16), LoopbackError> {
        let v4 = bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
        let port = v4.local_addr().map(|a| a.port()).unwrap_or(port);
        let mut listeners = vec![v4];
        match bind_one(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            Ok(v6) => listeners.push(v6),
            // Another program on [::1]:port would receive the browser's callback whenever
            // `localhost` resolves to ::1: as bad as a busy 127.0.0.1.
            Err(busy @ LoopbackError::PortInUse { .. }) => return Err(busy),
            // No IPv6 on this machine: browsers will use 127.0.0.1.
            Err(_) => {}
        }
        // Built first, so an error below stops the accept loops already started.
        let mut bound = Listeners {
            addresses: Vec::new(),
            gate: Arc::new(Gate::new(MAX_CONNECTIONS)),
        };
        for listener in listeners {
            let address = listener.local_addr().map_err(|e| LoopbackError::Listen {
                address: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                reason: e.to_string(),
            })?;
            let (gate, events) = (Arc::clone(&bound.gate), events.clone());
            thread::Builder::new()
                .name("ttvault-accept".into())
                .spawn(move || accept_loop(&listener, address, &gate, &events))
                .map_err(|e| LoopbackError::Listen {
                    address,
                    reason: e.to_string(),
                })?;
            bound.addresses.push(address);
        }
        Ok((bound, port))
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.gate.close();
        // An accept loop blocked in accept() only sees the gate closed once a connection
        // arrives: make one, from a thread of its own so dropping never waits.
        let addresses = std::mem::take(&mut self.addresses);
        let _ = thread::Builder::new()
            .name("ttvault-wake".into())
            .spawn(move || {
                for address in addresses {
                    let _ = TcpStream::connect_timeout(&address, Duration::from_secs(1));
                }
            });
    }
}

fn bind_one(address: SocketAddr) -> Result<TcpListener, LoopbackError> {
    TcpListener::bind(address).map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            LoopbackError::PortInUse {
                port: address.port(),
            }
        } else {
            LoopbackError::Listen {
                address,
                reason: e.to_string(),
            }
        }
    })
}

/// Something connections are accepted from: a listener, or a test's stand-in for one.
pub(super) trait Accept {
    fn accept_one(&self) -> io::Result<TcpStream>;
}

impl Accept for TcpListener {
    fn accept_one(&self) -> io::Result<TcpStream> {
        self.accept().map(|(stream, _)| stream)
    }
}

/// Accepts connections until the gate closes or the listener fails for good.
pub(super) fn accept_loop(
    listener: &dyn Accept,
    address: SocketAddr,
    gate: &Arc<Gate>,
    events: &Sender<Event>,
) {
    let mut pause = FIRST_PAUSE;
    loop {
        let Some(permit) = Gate::enter(gate) else {
            return;
        };
        match listener.accept_one() {
            Ok(stream) => {
                if gate.is_closed() {
                    return;
                }
                pause = FIRST_PAUSE;
                let events = events.clone();
                let started = thread::Builder::new()
                    .name("ttvault-conn".into())
                    .spawn(move || connection::serve(stream, events, permit));
                // Out of threads: the connection was dropped with the closure; wait as
                // for any other shortage.
                if started.is_err() {
                    gate.pause(pause);
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
            Err(e) if is_fatal(&e) => {
                let _ = events.send(Event::ListenerDied {
                    address,
                    reason: e.to_string(),
                });
                return;
            }
            Err(_) => {
                drop(permit);
                // Out of descriptors (EMFILE, ENFILE), memory, or a connection that went
                // away (ECONNABORTED): the pending connections stay in the backlog. Try
                // again when a connection ends (freeing a descriptor) or after the pause.
                gate.pause(pause);
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// Errors after which the listening socket cannot accept again. (Linux also passes a new
/// connection's pending network errors, such as EPROTO or EOPNOTSUPP, through accept:
/// those pass.)
fn is_fatal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EFAULT)
        )
    }
    #[cfg(not(unix))]
    {
        e.kind() == io::ErrorKind::InvalidInput
    }
}

/// Counts the connections being served, so no more than `max` are; closing it stops the
/// accept loops.
pub(super) struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
    max: usize,
}

struct GateState {
    open: usize,
    closed: bool,
    /// Bumped whenever a connection ends, to end a pause early.
    released: u64,
}

/// One connection's place; dropping it lets the next one in.
pub(super) struct Permit(Arc<Gate>);

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.open -= 1;
        state.released = state.released.wrapping_add(1);
        self.0.changed.notify_all();
    }
}

impl Gate {
    pub fn new(max: usize) -> Gate {
        Gate {
            state: Mutex::new(GateState {
                open: 0,
                closed: false,
                released: 0,
            }),
            changed: Condvar::new(),
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // A panic elsewhere cannot leave the counters half-updated: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a free place; `None` once the gate is closed.
    pub fn enter(gate: &Arc<Gate>) -> Option<Permit> {
        let mut state = gate.lock();
        loop {
            if state.closed {
                return None;
            }
            if state.open < gate.max {
                state.open += 1;
                return Some(Permit(Arc::clone(gate)));
            }
            state = gate.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits `pause`, or less if a connection ends or the gate closes meanwhile.
    pub fn pause(&self, pause: Duration) {
        let state = self.lock();
        let released = state.released;
        let _ = self
            .changed
            .wait_timeout_while(state, pause, |s| !s.closed && s.released == released);
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Connections being served now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.lock().open
    }
}

#[cfg(test)]
#[path = "listener_tests.rs"]
mod tests;
