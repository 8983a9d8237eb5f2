//! One connection, on its own thread: read a request within its deadline, hand it to the
//! flow, write the flow's answer within a deadline of its own, and end the connection
//! after a bounded number of requests. The flow never touches a socket, so no client can
//! stall it, whatever it sends or fails to send.

use super::request::{BrowserRequest, ReadError, RequestReader};
use super::response;
use super::route::Answer;
use crate::oauth::pages;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

/// How long a client has to send a whole request (head and body) once the connection is
/// open or the previous answer was written: a browser sends one at once; a keep-alive
/// connection idle this long is closed, and browsers reconnect.
pub(super) const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// How long writing one answer may take.
pub(super) const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// Requests served on one connection before it is closed, however many are pipelined.
pub(super) const MAX_REQUESTS_PER_CONNECTION: usize = 32;

/// What the listeners and connections tell the flow.
pub(super) enum Event {
    /// A request, read whole, waiting for its answer.
    Request(Exchange),
    /// A listener stopped for good.
    ListenerDied { address: SocketAddr, reason: String },
}

pub(super) struct Exchange {
    pub request: BrowserRequest,
    /// Where the answer goes; the connection waits for it.
    pub reply: Sender<Reply>,
}

impl Exchange {
    pub fn answer(self, answer: Answer) {
        // The connection may have gone; nothing to do about it.
        let _ = self.reply.send(Reply {
            answer,
            close: false,
            written: None,
        });
    }

    /// Answers and waits until the answer is written (the write deadline bounds that):
    /// for the answer that ends the flow, which the process may exit right after.
    pub fn answer_and_wait(self, answer: Answer) {
        send_and_wait(&self.reply, answer);
    }
}

/// Sends the last answer of a connection and waits until it is written (the write
/// deadline bounds that), so the process may exit right after.
pub(super) fn send_and_wait(reply: &Sender<Reply>, answer: Answer) {
    let (written, done) = std::sync::mpsc::channel();
    let sent = reply.send(Reply {
        answer,
        close: true,
        written: Some(written),
    });
    // Not sent: the browser went away. Sent: the connection drops `written` once the
    // page is out (or cannot be).
    if sent.is_ok() {
        let _ = done.recv();
    }
}

pub(super) struct Reply {
    pub answer: Answer,
    /// End the connection after this answer.
    pub close: bool,
    /// Dropped once the answer is written (or cannot be): whoever waits on its receiver
    /// knows the browser has its page before, say, the process exits.
    pub written: Option<Sender<()>>,
}

/// Serves one connection until it ends. `_permit` holds its place among the connections
/// the listeners allow at once.
pub(super) fn serve<P>(stream: TcpStream, events: Sender<Event>, _permit: P) {
    let _ = stream.set_nodelay(true);
    let mut reader = RequestReader::new();
    for served in 1..=MAX_REQUESTS_PER_CONNECTION {
        let mut source = Deadlined::new(&stream, REQUEST_DEADLINE);
        let request = match reader.next(&mut source) {
            Ok(request) => request,
            Err(ReadError::Refused(refusal)) => {
                let (title, message) = refusal.words();
                let answer = Answer::Page(refusal.status(), pages::refused(title, message));
                let _ = write(&stream, &answer);
                return;
            }
            Err(ReadError::Closed) | Err(ReadError::Io(_)) => return,
        };
        let last = request.wants_close() || served == MAX_REQUESTS_PER_CONNECTION;
        let (reply, answered) = mpsc::channel();
        if events
            .send(Event::Request(Exchange { request, reply }))
            .is_err()
        {
            return;
        }
        // The flow answers at once, except the real callback, whose answer waits until
        // the grant is verified and saved (or the flow gives up, which drops the sender).
        let Ok(reply) = answered.recv() else { return };
        let Reply {
            answer,
            close,
            written,
        } = reply;
        let failed = write(&stream, &answer).is_err();
        drop(written);
        if failed || close || last {
            return;
        }
    }
}

fn write(stream: &TcpStream, answer: &Answer) -> io::Result<()> {
    response::write(&mut Deadlined::new(stream, WRITE_DEADLINE), answer)
}

/// A connection whose reads and writes fail once `until` has passed, whatever the client
/// does: each call's socket timeout is the time left.
struct Deadlined<'s> {
    stream: &'s TcpStream,
    until: Instant,
}

impl<'s> Deadlined<'s> {
    fn new(stream: &'s TcpStream, within: Duration) -> Self {
        Deadlined {
            stream,
            until: Instant::now() + within,
        }
    }

    fn left(&self) -> io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            Ok(left)
        }
    }
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        (&mut &*self.stream).read(buf)
    }
}

impl Write for Deadlined<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
