//! The threads: one dispatcher takes requests from tiny_http and hands them to two small
//! worker pools, one for `/oauth/token` and one for everything else. Keeping the token
//! endpoint in its own pool means `set_token_delay` slows token requests only, never the API
//! routes or the authorize page, which single-flight tests rely on.

use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tiny_http::{Header, Request, Response, Server};

use crate::http::Reply;
use crate::{lock, router, Recorded, Shared};

const TOKEN_WORKERS: usize = 4;
const OTHER_WORKERS: usize = 4;
/// Bodies past this size are refused: nothing legitimate sent here is larger than a few KiB.
const MAX_BODY: u64 = 1 << 20;

/// A request tagged with its arrival number, so `requests()` lists them in arrival order even
/// though several workers record concurrently.
type Job = (u64, Request);

pub struct Threads {
    server: Arc<Server>,
    handles: Vec<JoinHandle<()>>,
}

impl Threads {
    pub fn spawn(shared: Arc<Shared>, server: Arc<Server>) -> io::Result<Threads> {
        let (token_tx, token_rx) = mpsc::channel::<Job>();
        let (other_tx, other_rx) = mpsc::channel::<Job>();
        let mut threads = Threads {
            server: Arc::clone(&server),
            handles: Vec::new(),
        };
        for (name, rx, count) in [
            ("token", token_rx, TOKEN_WORKERS),
            ("api", other_rx, OTHER_WORKERS),
        ] {
            let rx = Arc::new(Mutex::new(rx));
            for i in 0..count {
                let shared = Arc::clone(&shared);
                let rx = Arc::clone(&rx);
                let handle = thread::Builder::new()
                    .name(format!("tt-standin-{name}-{i}"))
                    .spawn(move || work(&shared, &rx))?;
                threads.handles.push(handle);
            }
        }
        let handle = thread::Builder::new()
            .name("tt-standin-dispatch".into())
            .spawn(move || {
                let mut seq = 0u64;
                loop {
                    match server.recv() {
                        Ok(request) => {
                            seq += 1;
                            let to_token = path_of(request.url()) == "/oauth/token";
                            let tx = if to_token { &token_tx } else { &other_tx };
                            // A send fails only when the workers are gone, i.e. shutting down.
                            let _ = tx.send((seq, request));
                        }
                        Err(_) if shared.is_shutting_down() => break,
                        // An accept error: keep serving, without spinning on a persistent one.
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
                // Dropping the senders here ends the workers once the queues are drained.
            })?;
        threads.handles.push(handle);
        Ok(threads)
    }

    /// Wakes the dispatcher (the caller has set the shutdown flag) and waits for every thread.
    pub fn stop(&mut self) {
        self.server.unblock();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

fn work(shared: &Shared, rx: &Mutex<Receiver<Job>>) {
    loop {
        // Holding the lock while waiting is the usual shared-receiver pattern: whoever holds
        // it takes the next job and releases it at once.
        let job = lock(rx).recv();
        match job {
            Ok((seq, request)) => serve(shared, seq, request),
            Err(_) => return,
        }
    }
}

fn path_of(url: &str) -> &str {
    url.split('?').next().unwrap_or_default()
}

fn serve(shared: &Shared, seq: u64, mut request: Request) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body);
    let recorded = Recorded {
        method: request.method().as_str().to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    lock(&shared.log).push((seq, recorded.clone()));

    let reply = match read {
        Err(_) => Reply::nginx(400),
        Ok(n) if n as u64 > MAX_BODY => Reply::nginx(413),
        // A bug in a route must cost one 500, not a worker thread.
        Ok(_) => catch_unwind(AssertUnwindSafe(|| router::route(shared, &recorded)))
            .unwrap_or_else(|_| Reply::nginx(500)),
    };
    // The client may have gone away; nothing to do about it.
    let _ = request.respond(to_response(reply));
}

fn to_response(reply: Reply) -> Response<io::Cursor<Vec<u8>>> {
    let mut headers = vec![("Server", "nginx".to_string())];
    if let Some(content_type) = reply.content_type {
        headers.push(("Content-Type", content_type.to_string()));
    }
    headers.extend(reply.headers);
    let mut response = Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in headers {
        match Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(header) => response.add_header(header),
            // Only a non-ASCII Location (from an odd registered redirect URI) gets here.
            Err(()) => {
                return Response::from_data(Vec::new()).with_status_code(500);
            }
        }
    }
    response
}
