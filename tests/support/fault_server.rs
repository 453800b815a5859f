//! A misbehaving HTTP server on 127.0.0.1 for the HTTP source's fault
//! tests: it serves one file with range requests, and answers each request
//! as the next step of its script says (drop the connection, send a short
//! body, a 416 or a 500, ignore the range, stall, ...), then correctly once
//! the script is used up.
//!
//! Bounded: it stops accepting after `MAX_REQUESTS` requests or
//! `LIFETIME`, whichever comes first, and stops when dropped. Loopback only.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAX_REQUESTS: u64 = 2000;
const LIFETIME: Duration = Duration::from_secs(120);

/// What the server does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Answers correctly: `206` with the range (`Content-Length` framing).
    Serve,
    /// Answers correctly with a `chunked` body in pieces of this size.
    Chunked(usize),
    /// Closes the connection without answering.
    Drop,
    /// Sends the headers and half the body, then closes.
    ShortBody,
    /// Answers with this status and a small text body.
    Status(u16),
    /// Ignores `Range`: `200` and the whole file.
    IgnoreRange,
    /// Sends nothing for this long, then closes.
    Stall(Duration),
    /// Sends headers, then stalls this long in the middle of the body.
    StallBody(Duration),
    /// Sends a `Content-Range` one byte off from what was asked.
    WrongRange,
    /// Sends a different `ETag`.
    OtherEtag,
    /// Answers correctly with `Connection: keep-alive`, then closes the
    /// connection anyway (an idle timeout on the server's side).
    ServeThenClose,
    /// Redirects (`302`) to this path on the same server.
    Redirect(String),
    /// Answers with a `Content-Range` of another complete length.
    OtherLength,
    /// A multi-range request answered with one `206` of its first range
    /// (a server that ignores the others).
    FirstRangeOnly,
    /// A multi-range request answered with its parts in reverse order, the
    /// first two ranges joined into one part with the bytes between them.
    Shuffled,
    /// A multipart body whose closing boundary is wrong.
    BadBoundary,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
    pub step: Step,
}

struct Shared {
    data: Vec<u8>,
    script: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<Seen>>,
    stop: AtomicBool,
    requests: AtomicU64,
    connections: AtomicU64,
}

/// The server; stops when dropped.
pub struct FaultServer {
    pub port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Serves `data` at every path, following `script` for the first
    /// requests.
    pub fn start(data: Vec<u8>, script: impl IntoIterator<Item = Step>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let shared = Arc::new(Shared {
            data,
            script: Mutex::new(script.into_iter().collect()),
            seen: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        });
        let s = shared.clone();
        // Connection threads are not waited for: one stalling on purpose
        // ends by itself (its stall is bounded), the others within 200 ms
        // of the stop.
        let accept = std::thread::spawn(move || {
            let started = Instant::now();
            while !s.stop.load(Ordering::Relaxed) && started.elapsed() < LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        s.connections.fetch_add(1, Ordering::Relaxed);
                        let s = s.clone();
                        std::thread::spawn(move || serve(&s, stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        FaultServer {
            port,
            shared,
            accept: Some(accept),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Appends steps to the script.
    pub fn push(&self, steps: impl IntoIterator<Item = Step>) {
        self.shared.script.lock().unwrap().extend(steps);
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

/// Serves requests on one connection until it closes, a step closes it,
/// or the server stops.
fn serve(s: &Shared, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        // Wait for a request, checking for the stop now and then.
        let mut request_line = String::new();
        loop {
            if s.stop.load(Ordering::Relaxed) {
                return;
            }
            match reader.read_line(&mut request_line) {
                Ok(0) => return,
                Ok(_) => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
        let mut range = None;
        for _ in 0..100 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("range") {
                    range = Some(value.trim().to_string());
                }
            }
        }
        if s.requests.fetch_add(1, Ordering::Relaxed) >= MAX_REQUESTS {
            return;
        }
        let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
        let step = s.script.lock().unwrap().pop_front().unwrap_or(Step::Serve);
        s.seen.lock().unwrap().push(Seen {
            path: path.clone(),
            range: range.clone(),
            step: step.clone(),
        });
        if !respond(s, &mut out, &path, range.as_deref(), &step) {
            let _ = out.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Parses `bytes=a-b` against a file of `len` bytes: the inclusive range
/// to send, or `None` when it cannot be satisfied.
fn parse_range(range: &str, len: u64) -> Option<(u64, u64)> {
    let (a, b) = range.strip_prefix("bytes=")?.split_once('-')?;
    let a: u64 = a.parse().ok()?;
    let b: u64 = b.parse().ok()?;
    if a >= len || b < a {
        return None;
    }
    Some((a, b.min(len - 1)))
}

/// Parses a multi-range `bytes=a-b,c-d,...` (at least two ranges), each
/// satisfiable.
fn parse_ranges(range: &str, len: u64) -> Option<Vec<(u64, u64)>> {
    let list = range.strip_prefix("bytes=")?;
    if !list.contains(',') {
        return None;
    }
    list.split(',')
        .map(|r| parse_range(&format!("bytes={}", r.trim()), len))
        .collect()
}

/// Answers a multi-range request with a `multipart/byteranges` body (or as
/// `step` says); `false` when the connection must close.
fn respond_multi(s: &Shared, out: &mut TcpStream, ranges: &[(u64, u64)], step: &Step) -> bool {
    let len = s.data.len() as u64;
    let bytes = |a: u64, b: u64| &s.data[a as usize..=b as usize];
    if *step == Step::FirstRangeOnly {
        let (a, b) = ranges[0];
        let head = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {a}-{b}/{len}\r\n\
             Content-Length: {}\r\nETag: \"v1\"\r\n\r\n",
            b - a + 1
        );
        return out
            .write_all(head.as_bytes())
            .and_then(|()| out.write_all(bytes(a, b)))
            .is_ok();
    }
    let mut parts: Vec<(u64, u64)> = ranges.to_vec();
    if *step == Step::Shuffled && parts.len() >= 2 {
        let (a, _) = parts[0];
        let (_, b) = parts.remove(1);
        parts[0] = (a, b);
        parts.reverse();
    }
    let boundary = "fault-boundary-0001";
    let mut body = Vec::new();
    for (k, &(a, b)) in parts.iter().enumerate() {
        let (cr_a, cr_b) = if *step == Step::WrongRange && k == 0 {
            (a + 1, b + 1)
        } else {
            (a, b)
        };
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\
                 Content-Range: bytes {cr_a}-{cr_b}/{len}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes(a, b));
    }
    let end = if *step == Step::BadBoundary {
        "--another-boundary--"
    } else {
        "--fault-boundary-0001--"
    };
    body.extend_from_slice(format!("\r\n{end}\r\n").as_bytes());
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; \
         boundary={boundary}\r\nContent-Length: {}\r\nETag: \"v1\"\r\n\
         Connection: keep-alive\r\n\r\n",
        body.len()
    );
    if *step == Step::ShortBody {
        let _ = out
            .write_all(head.as_bytes())
            .and_then(|()| out.write_all(&body[..body.len() / 2]));
        return false;
    }
    out.write_all(head.as_bytes())
        .and_then(|()| out.write_all(&body))
        .is_ok()
}

/// Answers one request; `false` when the connection must close.
fn respond(s: &Shared, out: &mut TcpStream, path: &str, range: Option<&str>, step: &Step) -> bool {
    let len = s.data.len() as u64;
    let multi = range.and_then(|r| parse_ranges(r, len));
    if let Some(ranges) = &multi {
        if matches!(
            step,
            Step::Serve
                | Step::FirstRangeOnly
                | Step::Shuffled
                | Step::BadBoundary
                | Step::WrongRange
                | Step::ShortBody
        ) {
            return respond_multi(s, out, ranges, step);
        }
    }
    if path.starts_with("/missing") {
        let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such\r\n");
        return true;
    }
    let status = |out: &mut TcpStream, code: u16, extra: &str| {
        let body = format!("status {code} from the fault server");
        let head = format!(
            "HTTP/1.1 {code} Fault\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        );
        out.write_all(head.as_bytes())
            .and_then(|()| out.write_all(body.as_bytes()))
    };
    let wanted = range.and_then(|r| parse_range(r, len));
    let (a, b) = match (step, wanted) {
        (Step::Drop, _) => return false,
        (Step::Stall(t), _) => {
            std::thread::sleep(*t);
            return false;
        }
        (Step::Status(code), _) => return status(out, *code, "").is_ok(),
        (Step::Redirect(to), _) => {
            return status(out, 302, &format!("Location: {to}\r\n")).is_ok();
        }
        (Step::IgnoreRange, _) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nETag: \"v1\"\r\n\r\n");
            let _ = out
                .write_all(head.as_bytes())
                .and_then(|()| out.write_all(&s.data));
            return true;
        }
        (_, None) => {
            return status(out, 416, &format!("Content-Range: bytes */{len}\r\n")).is_ok();
        }
        (_, Some(r)) => r,
    };
    let body = &s.data[a as usize..=b as usize];
    let (cr_a, cr_b) = if *step == Step::WrongRange {
        (a + 1, b + 1)
    } else {
        (a, b)
    };
    let complete = if *step == Step::OtherLength {
        len + 1
    } else {
        len
    };
    let etag = if *step == Step::OtherEtag {
        "\"v2\""
    } else {
        "\"v1\""
    };
    let common = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {cr_a}-{cr_b}/{complete}\r\n\
         ETag: {etag}\r\nConnection: keep-alive\r\n"
    );
    match step {
        Step::Chunked(piece) => {
            let mut msg = format!("{common}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
            for c in body.chunks((*piece).max(1)) {
                msg.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                msg.extend_from_slice(c);
                msg.extend_from_slice(b"\r\n");
            }
            msg.extend_from_slice(b"0\r\n\r\n");
            out.write_all(&msg).is_ok()
        }
        Step::ShortBody => {
            let head = format!("{common}Content-Length: {}\r\n\r\n", body.len());
            let _ = out
                .write_all(head.as_bytes())
                .and_then(|()| out.write_all(&body[..body.len() / 2]));
            false
        }
        Step::StallBody(t) => {
            let head = format!("{common}Content-Length: {}\r\n\r\n", body.len());
            let _ = out
                .write_all(head.as_bytes())
                .and_then(|()| out.write_all(&body[..body.len() / 2]));
            std::thread::sleep(*t);
            false
        }
        _ => {
            let head = format!("{common}Content-Length: {}\r\n\r\n", body.len());
            let ok = out
                .write_all(head.as_bytes())
                .and_then(|()| out.write_all(body))
                .is_ok();
            ok && *step != Step::ServeThenClose
        }
    }
}
