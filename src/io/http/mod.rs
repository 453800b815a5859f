//! Reading a file over HTTP(S) with range requests: [`HttpSource`].
//!
//! A small HTTP/1.1 client of its own over [`std::net::TcpStream`], so the
//! default build needs no dependency and compiles no C:
//!
//! * The length comes from a first `GET` with `Range: bytes=0-65535` (the
//!   probe): its `Content-Range` gives the file's length and its body the
//!   first 64 KiB, kept for reads there (the superblock and usually the root
//!   group), so opening a file costs one request.
//! * Every read is a `GET` with `Range: bytes=a-b`, answered `206 Partial
//!   Content` with exactly `Content-Range: bytes a-b/LENGTH`; anything else
//!   is an error naming the URL (its query elided), the range, what was
//!   expected and what came. `Content-Length` and `chunked` bodies are
//!   read; an `ETag` or length that changes between responses is an error
//!   (the file changed under the reader).
//! * **A server that ignores `Range`** and answers `200 OK` with the whole
//!   file is refused with a clear error, and the connection dropped at once:
//!   reading past the first `offset` bytes of a large file to reach a range
//!   would be slower than any error. The one exception is a file that fits
//!   in the probe (64 KiB by default): then the whole file is the answer,
//!   kept, and no other request is made.
//! * Connections are kept alive and pooled (at most
//!   [`HttpOptions::max_idle`] idle ones); several threads read at once.
//! * Redirects (301, 302, 303, 307, 308) are followed, at most
//!   [`HttpOptions::max_redirects`] per request, never from `https` to
//!   `http`; the probe's final URL is used from then on. Custom headers
//!   (credentials) go to the original server only.
//! * Connect, read and whole-request timeouts are bounded (10 s, 30 s,
//!   300 s by default). Lost connections, timeouts, short bodies, 5xx, 408
//!   and 429 are retried [`HttpOptions::retries`] times with a doubling
//!   pause; 4xx, 416 and responses that do not match the request are not.
//! * [`ReadAt::read_ranges`] plans its requests: neighbouring ranges (at
//!   most [`HttpOptions::merge_gap`] bytes apart) merged into one, long ones
//!   cut into parts of [`HttpOptions::max_part`] bytes, each byte fetched
//!   once, up to [`HttpOptions::concurrency`] requests at a time on scoped
//!   threads. A part that is one range's bytes alone is read straight into
//!   that range's buffer; the bytes of merged gaps pass through a scratch
//!   buffer and are dropped, never held. Readers over a `File` use it
//!   through [`crate::format::FileView::prefetch`].
//! * **Multi-range requests.** Where a merged request would fetch mostly
//!   gaps (many small ranges far apart, such as the values of a column
//!   range in every row), the ranges are asked for in one request,
//!   `Range: bytes=a-b,c-d,...` (headers of at most 7000 bytes, so that
//!   nginx's default 8 KiB header buffer takes them; several requests in
//!   flight), and the `multipart/byteranges` answer is parsed part by part:
//!   each part's `Content-Range` must start and end where asked ranges do
//!   (a server may join neighbours, and send parts in any order), every
//!   range must come, and a malformed body is an error naming the URL and
//!   the ranges (a short one is retried). A server that answers `200`, a
//!   single range or a refusal is left at once and asked the ordinary way
//!   from then on ([`HttpSource::multi_range_refused`]);
//!   [`HttpOptions::multi_range`] turns them off.
//!
//! ## HTTPS and C
//! `https://` URLs need the non-default feature **`tls`**: rustls with the
//! *ring* crypto provider, trusting the Mozilla root certificates compiled
//! in (webpki-roots) plus any given with [`HttpOptions::root_certificate`].
//! *ring* compiles C and assembly (through the `cc` crate) for its
//! cryptography, which is why `tls` is off by default and the default build
//! compiles no C. Without it, an `https://` URL is an error saying so.
//!
//! Not on `wasm32` (no sockets there; a browser build reads through its own
//! [`ReadAt`] over `fetch`).
//!
//! ```no_run
//! use h5sparse::io::http::{HttpOptions, HttpSource};
//! use h5sparse::io::source::{CachedSource, ReadAt};
//! use std::time::Duration;
//!
//! let opts = HttpOptions::default()
//!     .io_timeout(Duration::from_secs(10))
//!     .header("Authorization", "Bearer <token>");
//! let remote = HttpSource::open_with("http://example.org/data/pbmc.h5ad", opts)?;
//! println!("{} bytes", remote.len());
//! let file = CachedSource::new(remote);     // metadata reads served from blocks
//! let mut superblock = [0u8; 96];
//! file.read_at(0, &mut superblock)?;
//! println!("{:?}", file.inner().stats());  // requests, bytes, connections, retries
//! # Ok::<(), h5sparse::Error>(())
//! ```

mod client;
mod conn;
mod multi;
mod response;
mod url;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::io::source::{self, plan, ReadAt};

use client::{Client, Expect, Seg};
use multi::{Answer, Targets};
use url::Url;

/// How an [`HttpSource`] connects, waits, retries and plans requests.
///
/// ```
/// use h5sparse::io::http::HttpOptions;
/// use std::time::Duration;
///
/// let opts = HttpOptions::default()
///     .connect_timeout(Duration::from_secs(3))
///     .retries(5)
///     .concurrency(16)
///     .merge_gap(1 << 20);
/// assert_eq!(opts.get_concurrency(), 16);
/// ```
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub(crate) connect_timeout: Duration,
    pub(crate) io_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) max_redirects: u32,
    pub(crate) concurrency: usize,
    pub(crate) merge_gap: u64,
    pub(crate) max_part: u64,
    pub(crate) multi_range: bool,
    pub(crate) max_idle: usize,
    pub(crate) probe_bytes: u64,
    pub(crate) headers: Vec<(String, String)>,
    #[cfg(feature = "tls")]
    pub(crate) roots: Vec<Vec<u8>>,
}

impl Default for HttpOptions {
    /// Connect within 10 s, at most 30 s without data, 300 s a request; 3
    /// retries from 250 ms; 8 redirects; 8 requests at a time; ranges up to
    /// 128 KiB apart merged, requests of at most 8 MiB; multi-range
    /// requests for many small ranges far apart; 8 idle connections; a
    /// 64 KiB probe.
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(300),
            retries: 3,
            backoff: Duration::from_millis(250),
            max_redirects: 8,
            concurrency: 8,
            merge_gap: 128 << 10,
            max_part: 8 << 20,
            multi_range: true,
            max_idle: 8,
            probe_bytes: 64 << 10,
            headers: Vec::new(),
            #[cfg(feature = "tls")]
            roots: Vec::new(),
        }
    }
}

impl HttpOptions {
    /// How long a connection may take to open (per address).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t.max(Duration::from_millis(1));
        self
    }

    /// How long the server may stay silent while sending or receiving.
    pub fn io_timeout(mut self, t: Duration) -> Self {
        self.io_timeout = t.max(Duration::from_millis(1));
        self
    }

    /// How long one request may take from sending to its last byte.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t.max(Duration::from_millis(1));
        self
    }

    /// How many times a failed request is tried again (lost connections,
    /// timeouts, short bodies, 5xx, 408, 429).
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The pause before the first retry, doubled for each next one (at most
    /// 8 s).
    pub fn backoff(mut self, t: Duration) -> Self {
        self.backoff = t;
        self
    }

    /// How many redirects one request follows.
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// How many requests [`ReadAt::read_ranges`] and large reads run at
    /// once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Ranges at most this many bytes apart are fetched by one request.
    pub fn merge_gap(mut self, bytes: u64) -> Self {
        self.merge_gap = bytes;
        self
    }

    /// Longer requests are cut into parts of this many bytes (at least 1),
    /// fetched concurrently.
    pub fn max_part(mut self, bytes: u64) -> Self {
        self.max_part = bytes.max(1);
        self
    }

    /// Whether [`ReadAt::read_ranges`] may ask for many ranges in one
    /// request (`Range: bytes=a-b,c-d,...`, answered with a
    /// `multipart/byteranges` body) where that fetches fewer bytes than
    /// merged requests (on by default). A server that does not answer such
    /// requests with multipart bodies is asked the ordinary way from then
    /// on.
    ///
    /// ```
    /// use h5sparse::io::http::HttpOptions;
    /// let opts = HttpOptions::default().multi_range(false);
    /// assert!(!opts.get_multi_range());
    /// ```
    pub fn multi_range(mut self, on: bool) -> Self {
        self.multi_range = on;
        self
    }

    /// Whether multi-range requests are allowed.
    pub fn get_multi_range(&self) -> bool {
        self.multi_range
    }

    /// How many idle connections are kept for later requests.
    pub fn max_idle(mut self, n: usize) -> Self {
        self.max_idle = n;
        self
    }

    /// How many bytes at the start of the file the first request fetches
    /// and keeps (at least 1).
    pub fn probe_bytes(mut self, n: u64) -> Self {
        self.probe_bytes = n.max(1);
        self
    }

    /// A header sent with every request to the file's server (not to other
    /// servers a redirect leads to), e.g. `Authorization`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Trusts this root certificate (DER) besides the Mozilla roots, for a
    /// server with a private certificate authority (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn root_certificate(mut self, der: Vec<u8>) -> Self {
        self.roots.push(der);
        self
    }

    /// The number of concurrent requests.
    pub fn get_concurrency(&self) -> usize {
        self.concurrency
    }

    fn check(&self) -> Result<()> {
        for (name, value) in &self.headers {
            let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if name.is_empty() || !name.bytes().all(token) {
                return Err(Error::invalid(format!("HTTP header name {name:?}")));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(Error::invalid(format!(
                    "HTTP header {name}: the value has a line break"
                )));
            }
        }
        Ok(())
    }
}

/// Counters of an [`HttpSource`], for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Requests sent (retries and redirects included).
    pub requests: u64,
    /// Body bytes received into the file's data.
    pub bytes_received: u64,
    /// Connections opened.
    pub connections_opened: u64,
    /// Requests sent on a kept-alive connection.
    pub connections_reused: u64,
    /// Attempts that failed and were tried again.
    pub retries: u64,
    /// Redirects followed.
    pub redirects: u64,
}

/// A file on an HTTP(S) server, read with range requests (see the
/// [module docs](self)).
///
/// ```
/// use h5sparse::io::http::HttpSource;
/// use h5sparse::io::source::ReadAt;
/// # use std::io::{Read, Write};
/// # // A one-request server on loopback standing in for a real one.
/// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// # let port = listener.local_addr()?.port();
/// # std::thread::spawn(move || {
/// #     let (mut s, _) = listener.accept().unwrap();
/// #     let _ = s.read(&mut [0u8; 4096]);
/// #     let _ = s.write_all(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-7/8\r\n\
/// #         Content-Length: 8\r\n\r\n\x89HDF\r\n\x1a\n");
/// # });
/// let source = HttpSource::open(&format!("http://127.0.0.1:{port}/pbmc.h5ad"))?;
/// assert_eq!(source.len(), 8);
/// assert_eq!(source.read_vec(1..4)?, b"HDF");   // in the first request's bytes
/// assert_eq!(source.stats().requests, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct HttpSource {
    client: Client,
    /// Where requests go (the probe's final URL).
    url: Url,
    /// The URL as given, query elided, for messages.
    name: String,
    expect: Expect,
    /// The first bytes of the file, from the probe.
    prefix: Vec<u8>,
    /// Set once the server answered a multi-range request with anything
    /// but a multipart body: ordinary requests from then on.
    multi_off: AtomicBool,
    /// What the server answered then.
    multi_refusal: Mutex<Option<String>>,
    /// What requests to this server were seen to cost.
    link: Mutex<multi::Link>,
}

impl HttpSource {
    /// Opens `url` with [`HttpOptions::default`]: one request, for the
    /// length and the first 64 KiB.
    pub fn open(url: &str) -> Result<HttpSource> {
        HttpSource::open_with(url, HttpOptions::default())
    }

    /// Opens `url` with `opts`.
    pub fn open_with(url: &str, opts: HttpOptions) -> Result<HttpSource> {
        opts.check()?;
        let parsed = Url::parse(url)?;
        let probe_bytes = opts.probe_bytes;
        let client = Client::new(opts, &parsed);
        let probe = client.probe(&parsed, probe_bytes)?;
        Ok(HttpSource {
            client,
            name: parsed.redacted(),
            url: probe.url,
            expect: Expect {
                len: probe.len,
                etag: probe.etag,
            },
            prefix: probe.prefix,
            multi_off: AtomicBool::new(false),
            multi_refusal: Mutex::new(None),
            link: Mutex::new(multi::Link::default()),
        })
    }

    /// What the server answered to a multi-range request instead of a
    /// multipart body (`"200 OK"`, a single range, a refusal), which
    /// turned them off for this source; `None` while it serves them (or
    /// none was made).
    pub fn multi_range_refused(&self) -> Option<String> {
        self.multi_refusal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether multi-range requests are still tried: allowed by the
    /// options and not refused by the server so far.
    pub fn multi_range_active(&self) -> bool {
        self.client.opts.multi_range && !self.multi_off.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn stats(&self) -> HttpStats {
        self.client.stats()
    }

    /// Where requests go, after the redirects of the first request (query
    /// elided).
    pub fn url(&self) -> String {
        self.url.redacted()
    }

    /// One range request filling `buf` from `offset`.
    fn get(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.client.get_range(&self.url, offset, buf, &self.expect)
    }

    /// The costs seen so far.
    fn link(&self) -> std::sync::MutexGuard<'_, multi::Link> {
        self.link.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` on each job, up to [`HttpOptions::concurrency`] at a
    /// time on scoped threads; the first error wins and stops the rest.
    fn run_all<J: Send>(&self, jobs: Vec<J>, work: impl Fn(J) -> Result<()> + Sync) -> Result<()> {
        crate::par::each(self.client.opts.concurrency, jobs, work)
    }

    /// Fills the `(offset, buffer)` items, whose ranges are `remote` in the
    /// same order (any order: planning sorts): planned into requests
    /// (neighbours merged, long ones cut), of which those that fetch mostly
    /// gaps become multi-range requests while the server serves them
    /// ([`multi::split`]). An ordinary request's body goes straight into the
    /// buffers it serves, its gaps passed over ([`HttpSource::fetch_part`]);
    /// the gaps are dropped, never held.
    fn fetch_items(&self, remote: &[Range<u64>], items: Vec<(u64, &mut [u8])>) -> Result<()> {
        let opts = &self.client.opts;
        let parts = plan::plan(remote, opts.merge_gap, opts.max_part);
        let (whole, groups) = if self.multi_range_active() {
            let total: u64 = remote.iter().map(|r| r.end - r.start).sum();
            // Several multi-range requests at once when there is enough.
            let payload = (total / opts.concurrency as u64)
                .max(256 << 10)
                .min(opts.max_part);
            let part_cost = self.link().part_cost();
            multi::split(remote, parts, opts.merge_gap, part_cost, payload)
        } else {
            (parts, Vec::new())
        };
        // Every request's range, sorted, tagged with its group (or none).
        let mut units: Vec<(Range<u64>, Option<usize>)> =
            whole.into_iter().map(|r| (r, None)).collect();
        for (g, group) in groups.iter().enumerate() {
            units.extend(group.iter().map(|r| (r.clone(), Some(g))));
        }
        units.sort_unstable_by_key(|u| u.0.start);
        let ranges: Vec<Range<u64>> = units.iter().map(|u| u.0.clone()).collect();
        let targets = assign(&ranges, items.into_iter())?;
        let mut singles: Vec<(Range<u64>, Targets<'_>)> = Vec::new();
        let mut multis: Vec<Vec<(Range<u64>, Targets<'_>)>> =
            groups.iter().map(|_| Vec::new()).collect();
        for ((r, g), t) in units.into_iter().zip(targets) {
            match g {
                _ if t.is_empty() => {}
                Some(g) => multis[g].push((r, t)),
                None => singles.push((r, t)),
            }
        }
        let jobs: Vec<Job<'_>> = multis
            .into_iter()
            .filter(|m| !m.is_empty())
            .map(Job::Multi)
            .chain(singles.into_iter().map(|(r, t)| Job::Single(r, t)))
            .collect();
        // The batch is timed as a whole (requests in flight together share
        // the link): ordinary requests alone give the link's throughput,
        // multi-range ones alone the time a part costs.
        let parts: usize = jobs
            .iter()
            .map(|j| match j {
                Job::Multi(units) => units.len(),
                Job::Single(..) => 0,
            })
            .sum();
        let all_multi = jobs.iter().all(|j| matches!(j, Job::Multi(_)));
        let received = self.client.stats().bytes_received;
        let started = std::time::Instant::now();
        // Ranges of multi-range requests the server did not serve as such.
        let redo: Mutex<Vec<(Range<u64>, Targets<'_>)>> = Mutex::new(Vec::new());
        self.run_all(jobs, |job| match job {
            Job::Single(r, t) => self.fetch_part(r, t),
            Job::Multi(mut units) => {
                if self.multi_range_active() {
                    let answer = SCRATCH.with(|scratch| {
                        let mut scratch = scratch.borrow_mut();
                        self.client
                            .get_multi(&self.url, &self.expect, &mut units, &mut scratch)
                    })?;
                    match answer {
                        Answer::Done => return Ok(()),
                        Answer::Fallback(why) => {
                            self.multi_off.store(true, Ordering::Relaxed);
                            self.multi_refusal
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(why);
                        }
                    }
                }
                redo.lock().unwrap_or_else(|e| e.into_inner()).extend(units);
                Ok(())
            }
        })?;
        let redo = redo.into_inner().unwrap_or_else(|e| e.into_inner());
        if redo.is_empty() {
            let took = started.elapsed();
            if parts == 0 {
                let bytes = self.client.stats().bytes_received - received;
                self.link().saw_bytes(bytes, took);
            } else if all_multi {
                self.link().saw_parts(parts, took);
            }
            return Ok(());
        }
        // The ordinary way: merged and cut as planned without multi-range.
        let ranges: Vec<Range<u64>> = redo.iter().map(|(r, _)| r.clone()).collect();
        let parts = plan::plan(&ranges, opts.merge_gap, opts.max_part);
        let items = redo.into_iter().flat_map(|(_, t)| t);
        let targets = assign(&parts, items)?;
        let jobs: Vec<(Range<u64>, Targets<'_>)> = parts
            .into_iter()
            .zip(targets)
            .filter(|(_, t)| !t.is_empty())
            .collect();
        self.run_all(jobs, |(r, t)| self.fetch_part(r, t))
    }

    /// Fetches `p` with one range request into its targets: straight into
    /// them when they do not overlap, else through the thread's scratch
    /// (at most [`HttpOptions::max_part`] bytes).
    fn fetch_part(&self, p: Range<u64>, mut t: Targets<'_>) -> Result<()> {
        let n = (p.end - p.start) as usize;
        // Targets that do not overlap (chunks of one read, values of many
        // rows) take the body one after another, the gaps passed over in
        // the connection's buffer: no scratch copy of the whole range.
        t.sort_by_key(|(at, _)| *at);
        let mut end = p.start;
        let apart = t.iter().all(|(at, buf)| {
            let ok = *at >= end;
            end = at + buf.len() as u64;
            ok
        });
        if apart && end <= p.end {
            let mut segs: Vec<Seg<'_>> = Vec::with_capacity(2 * t.len() + 1);
            let mut at = p.start;
            for (start, buf) in t.iter_mut() {
                if *start > at {
                    segs.push(Seg::Skip((*start - at) as usize));
                }
                at = *start + buf.len() as u64;
                segs.push(Seg::Into(buf));
            }
            if p.end > at {
                segs.push(Seg::Skip((p.end - at) as usize));
            }
            return self
                .client
                .get_range_into(&self.url, p.start, &mut segs, &self.expect);
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            if scratch.len() < n {
                scratch.clear();
                scratch
                    .try_reserve_exact(n)
                    .map_err(|_| Error::OutOfMemory {
                        what: "HTTP ranges",
                        bytes: n as u64,
                    })?;
                scratch.resize(n, 0);
            }
            self.get(p.start, &mut scratch[..n])?;
            for (at, dst) in t {
                let from = (at - p.start) as usize;
                dst.copy_from_slice(&scratch[from..from + dst.len()]);
            }
            Ok(())
        })
    }
}

thread_local! {
    /// A thread's buffer for requests whose bytes go to several places.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One request of a planned [`ReadAt::read_ranges`].
enum Job<'b> {
    /// An ordinary range request.
    Single(Range<u64>, Targets<'b>),
    /// A multi-range request for these ranges.
    Multi(Vec<(Range<u64>, Targets<'b>)>),
}

/// Cuts each `(offset, buffer)` item into the pieces that each of `units`
/// (sorted, disjoint, covering every item's bytes) holds: the targets of
/// each unit, in the order of `units`.
fn assign<'b>(
    units: &[Range<u64>],
    items: impl Iterator<Item = (u64, &'b mut [u8])>,
) -> Result<Vec<Targets<'b>>> {
    let mut targets: Vec<Targets<'b>> = units.iter().map(|_| Vec::new()).collect();
    for (start, buf) in items {
        let end = start + buf.len() as u64;
        let (mut rest, mut at) = (buf, start);
        let mut i = units.partition_point(|p| p.end <= start);
        while !rest.is_empty() {
            // Cannot fail for units made by the planning: an error, not
            // wrong data.
            let Some(p) = units.get(i).filter(|p| p.start <= at) else {
                return Err(Error::Io(std::io::Error::other(format!(
                    "range planning: bytes {at}..{end} were not planned"
                ))));
            };
            let n = (p.end.min(end) - at) as usize;
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(n);
            targets[i].push((at, head));
            (rest, at, i) = (tail, at + n as u64, i + 1);
        }
    }
    Ok(targets)
}

impl ReadAt for HttpSource {
    fn len(&self) -> u64 {
        self.expect.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.read_at_many(&mut [(offset, buf)])
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        source::check_ranges(self, ranges)?;
        let mut out: Vec<Vec<u8>> = crate::buf::try_with_capacity(ranges.len(), "HTTP ranges")?;
        for r in ranges {
            out.push(crate::buf::try_zeroed_vec(
                (r.end - r.start) as usize,
                "HTTP ranges",
            )?);
        }
        let mut reads: Vec<(u64, &mut [u8])> = ranges
            .iter()
            .zip(out.iter_mut())
            .map(|(r, b)| (r.start, b.as_mut_slice()))
            .collect();
        self.read_at_many(&mut reads)?;
        Ok(out)
    }

    /// Every read planned together (long ones cut into parts fetched at
    /// once, small ones merged or asked for in multi-range requests), the
    /// bytes straight into the buffers; what the probe brought is copied.
    fn read_at_many(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        let prefix = self.prefix.len() as u64;
        let mut remote = Vec::with_capacity(reads.len());
        let mut items = Vec::with_capacity(reads.len());
        for (offset, buf) in reads.iter_mut() {
            source::check_range(self, *offset, buf.len())?;
            // The part in the probe's bytes is at hand.
            let head = prefix.saturating_sub(*offset).min(buf.len() as u64) as usize;
            let (near, rest) = buf.split_at_mut(head);
            if let Some(bytes) = self.prefix.get(*offset as usize..*offset as usize + head) {
                near.copy_from_slice(bytes);
            }
            if !rest.is_empty() {
                let start = *offset + head as u64;
                remote.push(start..start + rest.len() as u64);
                items.push((start, rest));
            }
        }
        self.fetch_items(&remote, items)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn prefers_batches(&self) -> bool {
        true
    }
}
