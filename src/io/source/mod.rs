//! Random-access byte sources: anything that can read a byte range.
//!
//! The reader needs the bytes of a file at scattered offsets (the superblock,
//! object headers, B-tree nodes, heaps, chunks). [`ReadAt`] is that one
//! operation, plus the file's length; a source may also hand out all its
//! bytes at once ([`ReadAt::as_bytes`]) when it already holds them, which
//! keeps zero-copy views for memory maps and buffers.
//!
//! | source | what it reads | zero-copy |
//! |---|---|---|
//! | `[u8]`, `Vec<u8>`, `Arc<[u8]>`, `Box<[u8]>` | bytes in memory | yes |
//! | [`MmapSource`] (feature `mmap`) | a read-only memory map | yes |
//! | [`FileSource`] (Unix, Windows) | a file, with positional reads (`pread`) | no |
//! | [`HttpSource`](crate::io::http::HttpSource) (not on wasm) | HTTP range requests; HTTPS with feature `tls` | no |
//! | `ObjectStoreSource` (feature `object-store`) | S3, GCS, Azure, local and in-memory stores through `object_store` | no |
//! | [`CachedSource`] | any source, through an LRU cache of aligned blocks | as the inner source |
//! | [`Piecewise`], [`Counting`] | any source, in small pieces / with counters (tests, benchmarks) | no / as the inner source |
//!
//! Every read either fills its buffer completely or fails: a range that ends
//! past [`ReadAt::len`] is an [`Error::Io`] of kind
//! [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) naming the source,
//! the offset and the length, and so is a file that shrank under a reader.
//!
//! ```
//! use h5sparse::io::source::{CachedSource, ReadAt};
//!
//! let bytes: Vec<u8> = (0..=255).collect();
//! let source = CachedSource::new(bytes);            // any ReadAt works here
//! let mut buf = [0u8; 4];
//! source.read_at(100, &mut buf)?;
//! assert_eq!(buf, [100, 101, 102, 103]);
//! let parts = source.read_ranges(&[10..12, 250..256])?;
//! assert_eq!(parts, vec![vec![10, 11], vec![250, 251, 252, 253, 254, 255]]);
//! # Ok::<(), h5sparse::Error>(())
//! ```

mod cache;
mod file;
// Used by the HTTP source, which wasm32 lacks.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) mod plan;
#[cfg(feature = "object-store")]
mod store;
mod wrappers;

use std::fmt;
use std::io;
use std::ops::Range;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Apache Arrow's `object_store` crate, re-exported to build stores for
/// [`ObjectStoreSource`] (feature `object-store`).
#[cfg(feature = "object-store")]
pub use ::object_store;
pub use cache::{CacheOptions, CacheStats, CachedSource};
#[cfg(any(unix, windows))]
pub use file::FileSource;
#[cfg(feature = "mmap")]
pub use file::MmapSource;
#[cfg(feature = "object-store")]
pub use store::ObjectStoreSource;
pub use wrappers::{Counting, CountingStats, Piecewise};

/// A random-access byte source of fixed length: a file, a buffer, a URL, an
/// object in a store.
///
/// Implementations are shared between threads (`Send + Sync`, reads take
/// `&self`) and fill every buffer they are given completely, or fail.
///
/// ```
/// use h5sparse::io::source::ReadAt;
/// use std::sync::Arc;
///
/// // Bytes in memory are a source; so are Arc, Box and & of any source.
/// let source: Arc<dyn ReadAt> = Arc::new(b"\x89HDF\r\n\x1a\n".to_vec());
/// assert_eq!(source.len(), 8);
/// let mut magic = [0u8; 3];
/// source.read_at(1, &mut magic)?;
/// assert_eq!(&magic, b"HDF");
/// assert_eq!(source.read_vec(4..8)?, b"\r\n\x1a\n");
/// assert!(source.read_at(6, &mut [0u8; 4]).is_err());   // ends past the end
/// assert!(source.as_bytes().is_some());                 // zero-copy
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub trait ReadAt: Send + Sync + fmt::Debug {
    /// The length of the source in bytes, fixed when it was opened.
    fn len(&self) -> u64;

    /// Whether the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` with the bytes at `offset..offset + buf.len()`.
    ///
    /// A range that ends past [`len`](ReadAt::len) is an error of kind
    /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof), before anything
    /// is read. An empty `buf` always succeeds (at any offset up to the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;

    /// The bytes of each range, in the order given.
    ///
    /// The default reads them one by one with [`read_at`](ReadAt::read_at);
    /// remote sources override it to merge neighbouring ranges and fetch
    /// independent ones concurrently, each byte once. Ranges may overlap and
    /// come in any order.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        check_ranges(self, ranges)?;
        let mut out = crate::buf::try_with_capacity(ranges.len(), "ranges read")?;
        for r in ranges {
            out.push(self.read_vec(r.clone())?);
        }
        Ok(out)
    }

    /// Fills each buffer with the bytes at its offset: many reads given at
    /// once, which a source may serve concurrently (a local file's
    /// positional reads on several threads) instead of one after another.
    ///
    /// The default reads them one by one with [`read_at`](ReadAt::read_at).
    /// Every range is checked before anything is read; on an error the
    /// buffers hold unspecified bytes.
    ///
    /// ```
    /// use h5sparse::io::source::ReadAt;
    ///
    /// let source: Vec<u8> = (0..100).collect();
    /// let (mut a, mut b) = ([0u8; 3], [0u8; 2]);
    /// source.read_at_many(&mut [(90, &mut a[..]), (5, &mut b[..])])?;
    /// assert_eq!((a, b), ([90, 91, 92], [5, 6]));
    /// assert!(source.read_at_many(&mut [(99, &mut a[..])]).is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    fn read_at_many(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        for (offset, buf) in reads.iter() {
            check_range(self, *offset, buf.len())?;
        }
        reads
            .iter_mut()
            .try_for_each(|(offset, buf)| self.read_at(*offset, buf))
    }

    /// What the source reads, for messages: a path, a URL without its
    /// query, `"N bytes in memory"`.
    fn describe(&self) -> String;

    /// Whether one [`read_ranges`](ReadAt::read_ranges) call for many
    /// ranges is much cheaper than reading them one by one: true for remote
    /// sources (a round trip each, which planning merges and overlaps).
    /// Readers over such a source announce the data a read needs and fetch
    /// it in one call; over others (the default, `false`) they read each
    /// piece straight into its place.
    fn prefers_batches(&self) -> bool {
        false
    }

    /// Every byte of the source, when it holds them in memory (a memory map,
    /// a buffer): callers may borrow from it instead of copying.
    fn as_bytes(&self) -> Option<&[u8]> {
        None
    }

    /// The bytes of `range`, in a new vector allocated fallibly.
    fn read_vec(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let n = range_len(self, &range)?;
        let mut v = crate::buf::try_zeroed_vec::<u8>(n, "source read")?;
        self.read_at(range.start, &mut v)?;
        Ok(v)
    }
}

impl ReadAt for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(slice_at(self, self, offset, buf.len())?);
        Ok(())
    }
    fn describe(&self) -> String {
        format!("{} bytes in memory", <[u8]>::len(self))
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl ReadAt for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.as_slice().read_at(offset, buf)
    }
    fn describe(&self) -> String {
        self.as_slice().describe()
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

macro_rules! forward_read_at {
    ($($ptr:ty),*) => {$(
        impl<T: ReadAt + ?Sized> ReadAt for $ptr {
            fn len(&self) -> u64 {
                (**self).len()
            }
            fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
                (**self).read_at(offset, buf)
            }
            fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
                (**self).read_ranges(ranges)
            }
            fn read_at_many(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
                (**self).read_at_many(reads)
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
            fn prefers_batches(&self) -> bool {
                (**self).prefers_batches()
            }
            fn as_bytes(&self) -> Option<&[u8]> {
                (**self).as_bytes()
            }
            fn read_vec(&self, range: Range<u64>) -> Result<Vec<u8>> {
                (**self).read_vec(range)
            }
        }
    )*};
}
forward_read_at!(&T, Box<T>, Arc<T>);

/// The object-store URL schemes [`open_url`] hands to `ObjectStoreSource`.
const STORE_SCHEMES: [&str; 10] = [
    "s3", "s3a", "gs", "az", "abfs", "abfss", "adl", "azure", "file", "memory",
];

/// The scheme of `s` (lowercase) when it looks like a URL [`open_url`]
/// reads (`http`, `https`, or an object store's), `None` for a path.
///
/// ```
/// use h5sparse::io::source::url_scheme;
/// assert_eq!(url_scheme("HTTPS://host/x.h5ad").as_deref(), Some("https"));
/// assert_eq!(url_scheme("s3://bucket/x.h5ad").as_deref(), Some("s3"));
/// assert_eq!(url_scheme("data/x.h5ad"), None);
/// assert_eq!(url_scheme("C://x.h5"), None);
/// ```
pub fn url_scheme(s: &str) -> Option<String> {
    let (scheme, _) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    (scheme == "http" || scheme == "https" || STORE_SCHEMES.contains(&scheme.as_str()))
        .then_some(scheme)
}

/// Opens the file a URL names, with each source's default options:
/// `http://` and `https://` through [`HttpSource`](crate::io::http::HttpSource),
/// `s3://`, `gs://`, `az://` (and the other Azure forms), `file://` and
/// `memory://` through `ObjectStoreSource` (feature `object-store`, and
/// `s3`/`gcs`/`azure` for the clouds; credentials from the usual
/// environment variables). A scheme this build cannot read is an
/// [`Error::Unsupported`] naming the feature it needs.
///
/// ```
/// use h5sparse::io::source::{open_url, ReadAt};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
/// match open_url(&format!("file://{path}")) {
///     Ok(source) => assert_eq!(source.len(), std::fs::metadata(path)?.len()),
///     Err(h5sparse::Error::Unsupported { what }) => assert!(what.contains("object-store")),
///     Err(e) => return Err(e.into()),
/// }
/// assert!(open_url("ftp://host/x.h5").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn open_url(url: &str) -> Result<Box<dyn ReadAt>> {
    let scheme = url_scheme(url).ok_or_else(|| {
        Error::invalid(format!(
            "{}: not a URL h5sparse reads (http, https, s3, gs, az, file, memory)",
            redact_query(url)
        ))
    })?;
    if scheme == "http" || scheme == "https" {
        return Ok(Box::new(crate::io::http::HttpSource::open(url)?));
    }
    #[cfg(feature = "object-store")]
    {
        Ok(Box::new(ObjectStoreSource::from_url(url)?))
    }
    #[cfg(not(feature = "object-store"))]
    Err(Error::unsupported(format!(
        "{}: {scheme}:// URLs need h5sparse's `object-store` feature{}",
        redact_query(url),
        match scheme.as_str() {
            "s3" | "s3a" => " with `s3`",
            "gs" => " with `gcs`",
            "file" | "memory" => "",
            _ => " with `azure`",
        }
    )))
}

/// `url` for a message: its query, which may hold a signature or token,
/// elided.
#[cfg(any(feature = "object-store", not(target_arch = "wasm32")))]
pub(crate) fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((before, _)) => format!("{before}?…"),
        None => url.to_string(),
    }
}

/// The error for reading `n` bytes at `offset` from a source of `len` bytes
/// described by `what`, when the range ends past the end.
pub(crate) fn past_end(what: &str, offset: u64, n: u64, len: u64) -> Error {
    let end = offset.saturating_add(n);
    Error::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "{what}: reading {n} bytes at offset {offset} (up to {end}) goes past the end \
             ({len} bytes)"
        ),
    ))
}

/// Checks that `n` bytes at `offset` lie within `source`.
pub(crate) fn check_range<S: ReadAt + ?Sized>(source: &S, offset: u64, n: usize) -> Result<()> {
    let len = source.len();
    match offset.checked_add(n as u64) {
        Some(end) if end <= len => Ok(()),
        _ => Err(past_end(&source.describe(), offset, n as u64, len)),
    }
}

/// The length of `range` as a buffer size, checked against `source`.
pub(crate) fn range_len<S: ReadAt + ?Sized>(source: &S, range: &Range<u64>) -> Result<usize> {
    if range.end < range.start {
        return Err(Error::invalid(format!(
            "{}: byte range {}..{} ends before it starts",
            source.describe(),
            range.start,
            range.end
        )));
    }
    let n = usize::try_from(range.end - range.start).map_err(|_| {
        Error::invalid(format!(
            "{}: byte range {}..{} does not fit in memory on this platform",
            source.describe(),
            range.start,
            range.end
        ))
    })?;
    check_range(source, range.start, n)?;
    Ok(n)
}

/// Checks every range of a [`ReadAt::read_ranges`] call.
pub(crate) fn check_ranges<S: ReadAt + ?Sized>(source: &S, ranges: &[Range<u64>]) -> Result<()> {
    ranges
        .iter()
        .try_for_each(|r| range_len(source, r).map(drop))
}

/// [`ReadAt::read_ranges`] as one [`ReadAt::read_at_many`] call: a new
/// vector for each range (ranges checked first), all filled at once.
pub(crate) fn ranges_in_one_call<S: ReadAt + ?Sized>(
    source: &S,
    ranges: &[Range<u64>],
) -> Result<Vec<Vec<u8>>> {
    check_ranges(source, ranges)?;
    let mut out: Vec<Vec<u8>> = crate::buf::try_with_capacity(ranges.len(), "ranges read")?;
    for r in ranges {
        out.push(crate::buf::try_zeroed_vec(
            (r.end - r.start) as usize,
            "ranges read",
        )?);
    }
    let mut reads: Vec<(u64, &mut [u8])> = ranges
        .iter()
        .zip(out.iter_mut())
        .map(|(r, v)| (r.start, v.as_mut_slice()))
        .collect();
    source.read_at_many(&mut reads)?;
    Ok(out)
}

/// `n` bytes of `bytes` at `offset`, or the past-the-end error for `source`.
pub(crate) fn slice_at<'a, S: ReadAt + ?Sized>(
    source: &S,
    bytes: &'a [u8],
    offset: u64,
    n: usize,
) -> Result<&'a [u8]> {
    usize::try_from(offset)
        .ok()
        .and_then(|start| bytes.get(start..start.checked_add(n)?))
        .ok_or_else(|| past_end(&source.describe(), offset, n as u64, bytes.len() as u64))
}

/// Fills `buf` from `offset` by calling `read` until it is full: `read`
/// reads at most `part.len()` bytes at the given offset and returns how many
/// (0 meaning the end was reached). Interrupted reads are retried; an end
/// before `buf` is full is an [`UnexpectedEof`](io::ErrorKind::UnexpectedEof)
/// error naming `what`, the whole request and where it stopped.
pub(crate) fn fill_exact(
    what: &dyn Fn() -> String,
    offset: u64,
    buf: &mut [u8],
    mut read: impl FnMut(u64, &mut [u8]) -> io::Result<usize>,
) -> Result<()> {
    let mut done = 0usize;
    while done < buf.len() {
        let at = offset + done as u64;
        match read(at, &mut buf[done..]) {
            Ok(0) => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: reading {} bytes at offset {offset}: the source ended at offset \
                         {at} after {done} bytes (was it truncated while open?)",
                        what(),
                        buf.len()
                    ),
                )))
            }
            Ok(n) => done += n.min(buf.len() - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io(io::Error::new(
                    e.kind(),
                    format!(
                        "{}: reading {} bytes at offset {offset}: {e}",
                        what(),
                        buf.len()
                    ),
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
