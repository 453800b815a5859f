//! A [`ReadAt`] source backed by a JavaScript reader object: anything with a
//! `length` and a synchronous `read(offset, length)` returning the bytes,
//! and optionally `readRanges([[offset, length], ...])` returning one
//! array of bytes per range (a URL reader merges them into fewer requests).
//! The glue's readers (`blobReader`, `urlReader` in `www/readers.js`) and
//! the node test's file reader are such objects.
//!
//! Each call to the reader is a `FileReaderSync` read or an HTTP request, so
//! the source reads ahead on *streams*: a read that continues where an
//! earlier one ended (the chunks of `indices` while a density plot streams
//! them) fetches a growing window (256 KiB doubling up to the read-ahead
//! limit, 4 MiB by default) and serves the next reads from it. Scattered
//! reads (metadata) fetch only what they ask for.

use std::io;
use std::ops::Range;
use std::sync::{Mutex, MutexGuard};

use h5sparse::io::ReadAt;
use h5sparse::{Error, Result};
use js_sys::{ArrayBuffer, Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// The largest offset a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// The first read-ahead window of a stream; each next one is twice the last,
/// up to the limit.
const AHEAD_MIN: u64 = 256 << 10;
/// Streams followed at once (`indptr` and `indices` of a density plot
/// interleave).
const STREAMS: usize = 4;

/// A JavaScript reader: `{ length, read(offset, length) -> Uint8Array,
/// readRanges? }`, read ahead on streams (see the module docs).
#[derive(Debug)]
pub(crate) struct JsReader {
    reader: JsValue,
    read: Function,
    read_ranges: Option<Function>,
    len: u64,
    what: String,
    /// The largest read-ahead window (0: no read-ahead).
    ahead_max: u64,
    streams: Mutex<Streams>,
}

/// The read-ahead windows, least recently used first.
#[derive(Debug, Default)]
struct Streams(Vec<Stream>);

/// Bytes fetched from `start` for a stream of adjacent reads; `ahead` is the
/// size of its last window.
#[derive(Debug)]
struct Stream {
    start: u64,
    data: Vec<u8>,
    ahead: u64,
}

impl Stream {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

// SAFETY: wasm32-unknown-unknown without the `atomics` target feature has one
// thread: the JS values are never touched from another thread. A build with
// threads (atomics) would not compile this impl.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Send for JsReader {}
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for JsReader {}

/// `n` zero bytes, allocated fallibly (a refusal is [`Error::OutOfMemory`]).
fn zeroed(n: usize, what: &'static str) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::OutOfMemory {
        what,
        bytes: n as u64,
    })?;
    v.resize(n, 0);
    Ok(v)
}

/// Room for `n` byte vectors, allocated fallibly.
fn vecs(n: usize) -> Result<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::OutOfMemory {
        what: "ranges read",
        bytes: (n * std::mem::size_of::<Vec<u8>>()) as u64,
    })?;
    Ok(v)
}

/// The text of a thrown JS value: an `Error`'s message, else its string form.
pub(crate) fn js_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

impl JsReader {
    /// Checks `reader`'s shape: a `length` number and a `read` function;
    /// reads ahead up to `ahead_max` bytes on streams (0: never).
    pub(crate) fn new(reader: JsValue, ahead_max: u64) -> Result<JsReader> {
        let bad = |what: &str| Error::invalid(format!("the reader object: {what}"));
        let len = Reflect::get(&reader, &"length".into())
            .ok()
            .and_then(|v| v.as_f64())
            .ok_or_else(|| bad("expected a numeric `length`, found none"))?;
        if !(len >= 0.0 && len <= MAX_SAFE as f64 && len.fract() == 0.0) {
            return Err(bad(&format!("`length` {len} is not a byte count")));
        }
        let read = Reflect::get(&reader, &"read".into())
            .ok()
            .and_then(|v| v.dyn_into::<Function>().ok())
            .ok_or_else(|| bad("expected a `read(offset, length)` function, found none"))?;
        let read_ranges = Reflect::get(&reader, &"readRanges".into())
            .ok()
            .and_then(|v| v.dyn_into::<Function>().ok());
        let what = Reflect::get(&reader, &"name".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| format!("{len} bytes from a JavaScript reader"));
        Ok(JsReader {
            reader,
            read,
            read_ranges,
            len: len as u64,
            what,
            ahead_max,
            streams: Mutex::new(Streams::default()),
        })
    }

    fn streams(&self) -> MutexGuard<'_, Streams> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn io_error(&self, what: String) -> Error {
        Error::Io(io::Error::other(format!("{}: {what}", self.what)))
    }

    /// The bytes a reader's call returned: a `Uint8Array` or `ArrayBuffer`
    /// of exactly `n` bytes.
    fn bytes(&self, got: &JsValue, offset: u64, n: u64) -> Result<Uint8Array> {
        let fail =
            |msg: String| self.io_error(format!("reading {n} bytes at offset {offset}: {msg}"));
        let bytes = if let Some(b) = got.dyn_ref::<Uint8Array>() {
            b.clone()
        } else if let Some(b) = got.dyn_ref::<ArrayBuffer>() {
            Uint8Array::new(b)
        } else {
            return Err(fail(
                "the reader returned neither a Uint8Array nor an ArrayBuffer".into(),
            ));
        };
        if u64::from(bytes.length()) != n {
            return Err(fail(format!(
                "the reader returned {} bytes",
                bytes.length()
            )));
        }
        Ok(bytes)
    }

    /// One call to the reader's `read`: `buf.len()` bytes at `offset`
    /// (within the source).
    fn fetch(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() as u64;
        let got = self
            .read
            .call2(
                &self.reader,
                &JsValue::from_f64(offset as f64),
                &JsValue::from_f64(n as f64),
            )
            .map_err(|e| {
                self.io_error(format!(
                    "reading {n} bytes at offset {offset}: {}",
                    js_text(&e)
                ))
            })?;
        self.bytes(&got, offset, n)?.copy_to(buf);
        Ok(())
    }

    /// Reads through the streams' windows: served from one when it holds
    /// the range; a read that continues a stream fetches its next, larger
    /// window; any other read fetches just its bytes and starts a stream.
    fn read_streamed(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() as u64;
        let end = offset + n;
        let mut st = self.streams();
        let at =
            st.0.iter()
                .position(|s| offset >= s.start && offset <= s.end());
        if let Some(i) = at {
            let s = st.0.remove(i);
            if end <= s.end() {
                let from = (offset - s.start) as usize;
                buf.copy_from_slice(&s.data[from..from + buf.len()]);
                st.0.push(s);
                return Ok(());
            }
            // The stream goes on past its window: the next window from
            // `offset`, twice the last (and at least this read).
            let ahead = (s.ahead * 2).clamp(AHEAD_MIN, self.ahead_max.max(AHEAD_MIN));
            let want = n.max(ahead).min(self.len - offset);
            if want > self.ahead_max {
                drop(st);
                return self.fetch(offset, buf);
            }
            let mut data = zeroed(want as usize, "read-ahead")?;
            drop(st);
            self.fetch(offset, &mut data)?;
            buf.copy_from_slice(&data[..buf.len()]);
            self.keep(Stream {
                start: offset,
                data,
                ahead: want,
            });
            return Ok(());
        }
        drop(st);
        self.fetch(offset, buf)?;
        // A new stream: kept to serve a repeat, and to be continued. Large
        // reads are not kept, only where they end.
        let data = if n <= self.ahead_max {
            buf.to_vec()
        } else {
            Vec::new()
        };
        let start = end - data.len() as u64;
        self.keep(Stream {
            start,
            data,
            ahead: AHEAD_MIN / 2,
        });
        Ok(())
    }

    fn keep(&self, stream: Stream) {
        let mut st = self.streams();
        st.0.push(stream);
        if st.0.len() > STREAMS {
            st.0.remove(0);
        }
    }
}

impl ReadAt for JsReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() as u64;
        if offset.checked_add(n).is_none_or(|e| e > self.len) {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: reading {n} bytes at offset {offset} goes past the end ({} bytes)",
                    self.what, self.len
                ),
            )));
        }
        if buf.is_empty() {
            return Ok(());
        }
        if self.ahead_max == 0 {
            return self.fetch(offset, buf);
        }
        self.read_streamed(offset, buf)
    }

    /// With the reader's `readRanges`, one call for all the ranges (a URL
    /// reader merges them into fewer requests); else one read per range.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        let Some(read_ranges) = &self.read_ranges else {
            let mut out = vecs(ranges.len())?;
            for r in ranges {
                out.push(self.read_vec(r.clone())?);
            }
            return Ok(out);
        };
        let mut out = vecs(ranges.len())?;
        let asked = js_sys::Array::new();
        for r in ranges {
            if r.end < r.start || r.end > self.len {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: the byte range {}..{} is not within its {} bytes",
                        self.what, r.start, r.end, self.len
                    ),
                )));
            }
            let pair = js_sys::Array::of2(
                &JsValue::from_f64(r.start as f64),
                &JsValue::from_f64((r.end - r.start) as f64),
            );
            asked.push(&pair);
        }
        let got = read_ranges.call1(&self.reader, &asked).map_err(|e| {
            self.io_error(format!("reading {} ranges: {}", ranges.len(), js_text(&e)))
        })?;
        let got = got
            .dyn_into::<js_sys::Array>()
            .map_err(|_| self.io_error("readRanges returned no array".into()))?;
        if got.length() as usize != ranges.len() {
            return Err(self.io_error(format!(
                "readRanges returned {} arrays for {} ranges",
                got.length(),
                ranges.len()
            )));
        }
        for (i, r) in ranges.iter().enumerate() {
            let bytes = self.bytes(&got.get(i as u32), r.start, r.end - r.start)?;
            let mut v = zeroed(bytes.length() as usize, "ranges read")?;
            bytes.copy_to(&mut v);
            out.push(v);
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}
