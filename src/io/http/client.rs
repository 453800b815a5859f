//! One range request, end to end: connection from the pool, redirects,
//! status and `Content-Range` checks, the body into the caller's buffer,
//! retries with backoff.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::conn::{self, Conn, ConnKey, Pool, TlsConfig};
use super::response::{self, Body, Framing, Head};
use super::url::Url;
use super::{HttpOptions, HttpStats};
use crate::error::{Error, Result};

/// Where one stretch of a response body goes.
#[derive(Debug)]
pub(crate) enum Seg<'b> {
    /// Into this buffer (its length is the stretch's).
    Into(&'b mut [u8]),
    /// Nowhere: this many bytes are passed over.
    Skip(usize),
}

impl Seg<'_> {
    fn len(&self) -> usize {
        match self {
            Seg::Into(b) => b.len(),
            Seg::Skip(n) => *n,
        }
    }
}

/// The bytes `segs` take in all.
fn seg_total(segs: &[Seg<'_>]) -> usize {
    segs.iter().map(Seg::len).sum()
}

/// How an attempt failed, which decides whether to try again.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A kept-alive connection the server had closed: try again at once on
    /// a new one (not counted as a retry).
    Stale(Error),
    /// Worth trying again after a pause: connection lost, timeout, short
    /// body, 5xx, 429.
    Retry(Error),
    /// Trying again would give the same answer: 4xx, a server that ignores
    /// ranges, a response that does not match the request.
    Fatal(Error),
}

/// Counters behind [`HttpStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    connections: AtomicU64,
    reused: AtomicU64,
    retries: AtomicU64,
    redirects: AtomicU64,
}

/// What the probe learnt about the file.
#[derive(Debug)]
pub(crate) struct Probe {
    /// The URL after redirects.
    pub url: Url,
    pub len: u64,
    pub etag: Option<String>,
    /// The first bytes of the file (all of it when it is small).
    pub prefix: Vec<u8>,
}

/// What every range response of one file must agree on.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    pub len: u64,
    pub etag: Option<String>,
}

/// Requests, connections and counters, shared by a source's threads.
#[derive(Debug)]
pub(crate) struct Client {
    pub opts: HttpOptions,
    pool: Pool,
    tls: TlsConfig,
    counters: Counters,
    /// The server the custom headers (credentials) are sent to.
    origin: ConnKey,
}

/// `"GET url (bytes=a-b)"`, the start of every message; `what` is the
/// range asked for (`bytes=a-b`), or a summary of many.
pub(super) fn context(url: &Url, what: &str) -> String {
    format!("GET {} ({what})", url.redacted())
}

pub(super) fn io_error(kind: io::ErrorKind, ctx: &str, what: impl std::fmt::Display) -> Error {
    Error::Io(io::Error::new(kind, format!("{ctx}: {what}")))
}

impl Client {
    pub fn new(opts: HttpOptions, origin: &Url) -> Client {
        #[cfg(feature = "tls")]
        let tls = TlsConfig::new(opts.roots.clone());
        #[cfg(not(feature = "tls"))]
        let tls = TlsConfig::new(Vec::new());
        Client {
            pool: Pool::new(opts.max_idle),
            tls,
            counters: Counters::default(),
            origin: ConnKey::of(origin),
            opts,
        }
    }

    /// Counts `n` body bytes received into the file's data.
    pub(super) fn received(&self, n: u64) {
        self.counters.bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Keeps `conn` for a later request.
    pub(super) fn keep(&self, conn: Conn) {
        self.pool.put(conn);
    }

    pub fn stats(&self) -> HttpStats {
        let c = &self.counters;
        HttpStats {
            requests: c.requests.load(Ordering::Relaxed),
            bytes_received: c.bytes.load(Ordering::Relaxed),
            connections_opened: c.connections.load(Ordering::Relaxed),
            connections_reused: c.reused.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            redirects: c.redirects.load(Ordering::Relaxed),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries
    /// are spent (pausing `backoff`, doubled each time, at most 8 s).
    pub(super) fn with_retries<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T> {
        let (mut retries, mut stale) = (0u32, 0u32);
        loop {
            match attempt() {
                Ok(v) => return Ok(v),
                Err(Failure::Stale(_)) if stale < 3 => stale += 1,
                Err(Failure::Retry(e) | Failure::Stale(e)) if retries < self.opts.retries => {
                    let _ = e;
                    retries += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let pause = self
                        .opts
                        .backoff
                        .saturating_mul(1 << (retries - 1).min(16))
                        .min(Duration::from_secs(8));
                    std::thread::sleep(pause);
                }
                Err(Failure::Retry(e) | Failure::Stale(e)) if retries > 0 => {
                    return Err(match e {
                        Error::Io(io) => Error::Io(io::Error::new(
                            io.kind(),
                            format!("{io} (gave up after {} attempts)", retries + 1),
                        )),
                        other => other,
                    })
                }
                Err(Failure::Retry(e) | Failure::Stale(e) | Failure::Fatal(e)) => return Err(e),
            }
        }
    }

    /// Sends `GET url` with `Range: bytes={spec}` (`a-b`, or `a-b,c-d,...`;
    /// `what` names it in messages) and reads the response head, following
    /// redirects. The connection is left at the body.
    pub(super) fn exchange(
        &self,
        url: &Url,
        spec: &str,
        what: &str,
    ) -> Result<(Conn, Head, Url), Failure> {
        let mut url = url.clone();
        let mut redirects = 0;
        loop {
            let ctx = context(&url, what);
            let key = ConnKey::of(&url);
            let mut conn = match self.pool.take(&key) {
                Some(c) => {
                    self.counters.reused.fetch_add(1, Ordering::Relaxed);
                    c
                }
                None => {
                    self.counters.connections.fetch_add(1, Ordering::Relaxed);
                    conn::connect(&url, &self.opts, &self.tls).map_err(|e| {
                        let fatal = e.kind() == io::ErrorKind::Unsupported;
                        let e = io_error(e.kind(), &ctx, e);
                        if fatal {
                            Failure::Fatal(e)
                        } else {
                            Failure::Retry(e)
                        }
                    })?
                }
            };
            conn.io
                .get_mut()
                .set_deadline(Instant::now() + self.opts.request_timeout);
            let mut request = format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nRange: bytes={spec}\r\n\
                 User-Agent: h5sparse/{}\r\nAccept-Encoding: identity\r\n",
                url.target,
                url.authority(),
                env!("CARGO_PKG_VERSION")
            );
            if key == self.origin {
                for (name, value) in &self.opts.headers {
                    request.push_str(&format!("{name}: {value}\r\n"));
                }
            }
            request.push_str("\r\n");
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let reused = conn.reused;
            let lost = |e: io::Error| {
                // A TLS failure (an untrusted certificate) would fail again.
                let fatal = e.kind() == io::ErrorKind::InvalidData;
                let e = io_error(e.kind(), &ctx, e);
                if fatal {
                    Failure::Fatal(e)
                } else if reused {
                    Failure::Stale(e)
                } else {
                    Failure::Retry(e)
                }
            };
            let sent = conn.io.get_mut().write_all(request.as_bytes());
            sent.and_then(|()| conn.io.get_mut().flush())
                .map_err(lost)?;
            let head = match response::read_head(&mut conn.io) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    return Err(lost(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the server closed the connection without answering",
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(Failure::Fatal(io_error(e.kind(), &ctx, e)))
                }
                // A kept-alive connection the server had closed resets.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::BrokenPipe
                    ) =>
                {
                    return Err(lost(e))
                }
                Err(e) => return Err(Failure::Retry(io_error(e.kind(), &ctx, e))),
            };
            let location = head.header("location").map(str::to_string);
            match (head.status, location) {
                (301 | 302 | 303 | 307 | 308, Some(location)) => {
                    if redirects >= self.opts.max_redirects {
                        return Err(Failure::Fatal(io_error(
                            io::ErrorKind::Other,
                            &ctx,
                            format!("more than {} redirects", self.opts.max_redirects),
                        )));
                    }
                    let next = url.join(&location).map_err(Failure::Fatal)?;
                    if url.https && !next.https {
                        return Err(Failure::Fatal(io_error(
                            io::ErrorKind::PermissionDenied,
                            &ctx,
                            format!("refusing a redirect from https to {}", next.redacted()),
                        )));
                    }
                    redirects += 1;
                    self.counters.redirects.fetch_add(1, Ordering::Relaxed);
                    url = next;
                }
                _ => return Ok((conn, head, url)),
            }
        }
    }

    /// The failure for a response that is neither what was asked nor a
    /// redirect: what was expected, what came, a little of the body.
    pub(super) fn status_failure(
        &self,
        ctx: &str,
        expected: &str,
        mut conn: Conn,
        head: &Head,
    ) -> Failure {
        let mut snippet = Vec::new();
        if let Ok(framing) = head.framing() {
            let _ = Body::new(&mut conn.io, framing)
                .take(300)
                .read_to_end(&mut snippet);
        }
        let snippet: String = String::from_utf8_lossy(&snippet)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut what = format!("expected {expected}, got {}", head.status_line());
        if let Some(cr) = head.header("content-range") {
            what.push_str(&format!(" (Content-Range: {cr})"));
        }
        if !snippet.is_empty() {
            what.push_str(&format!(": {}", response::truncate(&snippet, 200)));
        }
        let kind = match head.status {
            404 | 410 => io::ErrorKind::NotFound,
            401 | 403 => io::ErrorKind::PermissionDenied,
            408 => io::ErrorKind::TimedOut,
            416 => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        let e = io_error(kind, ctx, what);
        match head.status {
            408 | 429 | 500 | 502 | 503 | 504 => Failure::Retry(e),
            _ => Failure::Fatal(e),
        }
    }

    /// Reads exactly `buf.len()` body bytes, then checks that the body ends
    /// there; the connection goes back to the pool when it can serve again.
    fn read_body(
        &self,
        ctx: &str,
        conn: Conn,
        head: &Head,
        framing: Framing,
        buf: &mut [u8],
    ) -> Result<(), Failure> {
        self.read_body_into(ctx, conn, head, framing, &mut [Seg::Into(buf)])
    }

    /// [`Client::read_body`] into `segs`, one after another: the body's
    /// bytes are the segments' bytes in order.
    fn read_body_into(
        &self,
        ctx: &str,
        mut conn: Conn,
        head: &Head,
        framing: Framing,
        segs: &mut [Seg<'_>],
    ) -> Result<(), Failure> {
        let total = seg_total(segs);
        let mut body = Body::new(&mut conn.io, framing);
        let mut done = 0;
        for seg in segs.iter_mut() {
            let mut at = 0;
            while at < seg.len() {
                let got = match seg {
                    Seg::Into(buf) => body.read(&mut buf[at..]),
                    Seg::Skip(n) => body.skip_some(*n - at),
                };
                match got {
                    Ok(0) => {
                        return Err(Failure::Retry(io_error(
                            io::ErrorKind::UnexpectedEof,
                            ctx,
                            format!("the body ended after {done} of {total} bytes"),
                        )))
                    }
                    Ok(n) => {
                        at += n;
                        done += n;
                        self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                        return Err(Failure::Fatal(io_error(e.kind(), ctx, e)))
                    }
                    Err(e) => {
                        return Err(Failure::Retry(io_error(
                            e.kind(),
                            ctx,
                            format!("after {done} of {total} body bytes: {e}"),
                        )))
                    }
                }
            }
        }
        if framing != Framing::UntilClose {
            // A chunked body's last chunk and trailers follow its data.
            match body.read(&mut [0u8; 1]) {
                Ok(0) => {}
                Ok(_) => {
                    return Err(Failure::Fatal(io_error(
                        io::ErrorKind::InvalidData,
                        ctx,
                        format!("the body is longer than the {total} bytes asked for"),
                    )))
                }
                Err(e) => return Err(Failure::Retry(io_error(e.kind(), ctx, e))),
            }
        }
        if body.finished() && head.keep_alive() {
            self.pool.put(conn);
        }
        Ok(())
    }

    /// Fills `buf` with the bytes at `first..` of the file at `url`.
    pub fn get_range(&self, url: &Url, first: u64, buf: &mut [u8], expect: &Expect) -> Result<()> {
        self.get_range_into(url, first, &mut [Seg::Into(buf)], expect)
    }

    /// Reads the bytes at `first..` of the file at `url` with one request
    /// into `segs`, one after another: the bytes a segment wants land in
    /// its buffer, those of a gap are passed over in the connection's
    /// buffer (no scratch copy of the whole range).
    pub fn get_range_into(
        &self,
        url: &Url,
        first: u64,
        segs: &mut [Seg<'_>],
        expect: &Expect,
    ) -> Result<()> {
        let total = seg_total(segs);
        if total == 0 {
            return Ok(());
        }
        let last = first + total as u64 - 1;
        let spec = format!("{first}-{last}");
        let what = format!("bytes={spec}");
        self.with_retries(|| {
            let (conn, head, at) = self.exchange(url, &spec, &what)?;
            let ctx = context(&at, &what);
            let fatal = |kind, what: String| Failure::Fatal(io_error(kind, &ctx, what));
            match head.status {
                206 => {}
                200 => {
                    return Err(fatal(
                        io::ErrorKind::Unsupported,
                        "expected 206 Partial Content, got 200 OK: the server ignored the \
                         Range header and sent the whole file (h5sparse needs range requests)"
                            .into(),
                    ))
                }
                _ => return Err(self.status_failure(&ctx, "206 Partial Content", conn, &head)),
            }
            let cr = head.header("content-range").unwrap_or("");
            let parsed = response::parse_content_range(cr);
            let Some(response::ContentRange {
                range: Some((a, b)),
                complete,
            }) = parsed
            else {
                return Err(fatal(
                    io::ErrorKind::InvalidData,
                    format!(
                        "expected Content-Range: bytes {first}-{last}/{}, got {cr:?}",
                        expect.len
                    ),
                ));
            };
            if (a, b) != (first, last) {
                return Err(fatal(
                    io::ErrorKind::InvalidData,
                    format!("asked for bytes {first}-{last}, the server sent {a}-{b}"),
                ));
            }
            if complete.is_some_and(|n| n != expect.len) {
                return Err(fatal(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the file changed size while open: it had {} bytes, the server now \
                         says {cr:?}",
                        expect.len
                    ),
                ));
            }
            if let (Some(was), Some(now)) = (&expect.etag, head.header("etag")) {
                if was != now {
                    return Err(fatal(
                        io::ErrorKind::InvalidData,
                        format!("the file changed while open: ETag was {was}, now {now}"),
                    ));
                }
            }
            let framing = head
                .framing()
                .map_err(|e| fatal(io::ErrorKind::InvalidData, e.to_string()))?;
            if let Framing::Length(n) = framing {
                if n != total as u64 {
                    return Err(fatal(
                        io::ErrorKind::InvalidData,
                        format!("Content-Length {n} for a range of {total} bytes"),
                    ));
                }
            }
            self.read_body_into(&ctx, conn, &head, framing, segs)
        })
    }

    /// Asks for the first `n` bytes (at least 1): the file's length from
    /// `Content-Range`, its ETag, where redirects lead, and the bytes. A
    /// server that ignores ranges is accepted only when its whole file fits
    /// in `n` bytes (then nothing else is ever asked of it).
    pub fn probe(&self, url: &Url, n: u64) -> Result<Probe> {
        let n = n.max(1);
        let spec = format!("0-{}", n - 1);
        let what = format!("bytes={spec}");
        self.with_retries(|| {
            let (mut conn, head, at) = self.exchange(url, &spec, &what)?;
            let ctx = context(&at, &what);
            let fatal = |kind, what: String| Failure::Fatal(io_error(kind, &ctx, what));
            let etag = head.header("etag").map(str::to_string);
            let framing = head
                .framing()
                .map_err(|e| fatal(io::ErrorKind::InvalidData, e.to_string()))?;
            let cr = head.header("content-range").unwrap_or("");
            let parsed = response::parse_content_range(cr);
            let (len, body_len) = match (head.status, parsed) {
                (
                    206,
                    Some(response::ContentRange {
                        range: Some((0, b)),
                        complete: Some(len),
                    }),
                ) if b < len && b == n.min(len) - 1 => (len, b + 1),
                (206, _) => {
                    return Err(fatal(
                        io::ErrorKind::InvalidData,
                        format!(
                            "expected Content-Range: bytes 0-{}/LENGTH, got {cr:?}",
                            n - 1
                        ),
                    ))
                }
                (
                    416,
                    Some(response::ContentRange {
                        range: None,
                        complete: Some(0),
                    }),
                ) => {
                    // An empty file: no byte 0 to send.
                    return Ok(Probe {
                        url: at,
                        len: 0,
                        etag,
                        prefix: Vec::new(),
                    });
                }
                (200, _) => {
                    // The whole file came: fine if it is small, refused if not.
                    let refuse = |size: String| {
                        fatal(
                            io::ErrorKind::Unsupported,
                            format!(
                                "expected 206 Partial Content, got 200 OK with the whole file \
                                 ({size}): the server does not support range requests, which \
                                 h5sparse needs for files larger than {n} bytes"
                            ),
                        )
                    };
                    if let Framing::Length(l) = framing {
                        if l > n {
                            return Err(refuse(format!("{l} bytes")));
                        }
                    }
                    let mut whole = Vec::new();
                    let read = Body::new(&mut conn.io, framing)
                        .take(n + 1)
                        .read_to_end(&mut whole);
                    read.map_err(|e| Failure::Retry(io_error(e.kind(), &ctx, e)))?;
                    if whole.len() as u64 > n {
                        return Err(refuse(format!("more than {n} bytes")));
                    }
                    if let Framing::Length(l) = framing {
                        if l != whole.len() as u64 {
                            return Err(Failure::Retry(io_error(
                                io::ErrorKind::UnexpectedEof,
                                &ctx,
                                format!("the body ended after {} of {l} bytes", whole.len()),
                            )));
                        }
                    }
                    self.counters
                        .bytes
                        .fetch_add(whole.len() as u64, Ordering::Relaxed);
                    return Ok(Probe {
                        url: at,
                        len: whole.len() as u64,
                        etag,
                        prefix: whole,
                    });
                }
                _ => return Err(self.status_failure(&ctx, "206 Partial Content", conn, &head)),
            };
            if let Framing::Length(l) = framing {
                if l != body_len {
                    return Err(fatal(
                        io::ErrorKind::InvalidData,
                        format!("Content-Length {l} for a range of {body_len} bytes"),
                    ));
                }
            }
            let mut prefix = crate::buf::try_zeroed_vec::<u8>(body_len as usize, "HTTP probe")
                .map_err(Failure::Fatal)?;
            self.read_body(&ctx, conn, &head, framing, &mut prefix)?;
            Ok(Probe {
                url: at,
                len,
                etag,
                prefix,
            })
        })
    }
}
