use super::*;
use std::cell::RefCell;
use std::sync::mpsc;

/// A listener that fails with the given errors, in order.
struct Failing(RefCell<Vec<io::Error>>);

impl Accept for Failing {
    fn accept_one(&self) -> io::Result<TcpStream> {
        let mut errors = self.0.borrow_mut();
        assert!(
            !errors.is_empty(),
            "accept called again after a fatal error"
        );
        Err(errors.remove(0))
    }
}

#[cfg(unix)]
#[test]
fn passing_accept_errors_are_waited_out_and_a_dead_socket_is_reported() {
    let errors = [
        libc::EMFILE,
        libc::ENFILE,
        libc::ECONNABORTED,
        libc::ENOBUFS,
        libc::EMFILE,
        libc::EBADF,
    ]
    .map(io::Error::from_raw_os_error);
    let listener = Failing(RefCell::new(errors.into()));
    let gate = Arc::new(Gate::new(4));
    let (tx, rx) = mpsc::channel();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 8000));
    accept_loop(&listener, address, &gate, &tx);
    assert!(listener.0.borrow().is_empty(), "every error was tried past");
    match rx.try_recv() {
        Ok(Event::ListenerDied { address: a, reason }) => {
            assert_eq!(a, address);
            assert_eq!(
                reason,
                io::Error::from_raw_os_error(libc::EBADF).to_string()
            );
        }
        _ => panic!("the dead listener was not reported"),
    }
    assert_eq!(gate.open(), 0, "no place is kept by a failed accept");
}

#[test]
fn the_gate_lets_in_at_most_its_maximum_and_the_next_when_one_leaves() {
    let gate = Arc::new(Gate::new(2));
    let first = Gate::enter(&gate).unwrap();
    let _second = Gate::enter(&gate).unwrap();
    assert_eq!(gate.open(), 2);
    let (tx, rx) = mpsc::channel();
    let waiting = {
        let gate = Arc::clone(&gate);
        thread::spawn(move || {
            let permit = Gate::enter(&gate);
            tx.send(()).unwrap();
            permit
        })
    };
    drop(first);
    rx.recv().unwrap();
    let third = waiting.join().unwrap();
    assert!(third.is_some());
    assert_eq!(gate.open(), 2);
}

#[test]
fn closing_the_gate_releases_a_waiting_accept_loop() {
    let gate = Arc::new(Gate::new(1));
    let _only = Gate::enter(&gate).unwrap();
    let waiting = {
        let gate = Arc::clone(&gate);
        thread::spawn(move || Gate::enter(&gate).is_none())
    };
    gate.close();
    assert!(waiting.join().unwrap(), "a closed gate lets no one in");
    assert!(gate.is_closed());
}

#[test]
fn a_busy_port_is_named_and_a_free_one_found() {
    let holder = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let (tx, _rx) = mpsc::channel();
    match Listeners::bind(port, &tx) {
        Err(e) => assert_eq!(e, LoopbackError::PortInUse { port }),
        Ok(_) => panic!("bound a busy port"),
    }
    let (_listeners, port) = Listeners::bind(0, &tx).unwrap();
    assert_ne!(port, 0);
    // Both loopback addresses are taken, so no other program can have either.
    assert!(TcpListener::bind(("127.0.0.1", port)).is_err());
    if TcpListener::bind(("::1", 0)).is_ok() {
        assert!(TcpListener::bind(("::1", port)).is_err());
    }
}
