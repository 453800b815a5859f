//! Sources over sources, for tests and benchmarks: [`Piecewise`] serves
//! data in small pieces, [`Counting`] counts what is read.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ReadAt;
use crate::error::Result;

/// A source that reads its inner source at most `piece` bytes per call, the
/// way a slow network or a pipe hands data over, and never lends its bytes
/// ([`as_bytes`](ReadAt::as_bytes) is `None`): whatever reads through it
/// must take the copying path and cope with any split of the data.
///
/// ```
/// use h5sparse::io::source::{Piecewise, ReadAt};
///
/// let bytes: Vec<u8> = (0..100).collect();
/// let source = Piecewise::new(&bytes, 7);
/// assert_eq!(source.read_vec(3..40)?, bytes[3..40]);
/// assert_eq!(source.pieces(), 6);            // 37 bytes in pieces of at most 7
/// assert!(source.as_bytes().is_none());
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug)]
pub struct Piecewise<S> {
    inner: S,
    piece: usize,
    pieces: AtomicU64,
}

impl<S: ReadAt> Piecewise<S> {
    /// Reads `inner` at most `piece` bytes at a time (at least 1).
    pub fn new(inner: S, piece: usize) -> Piecewise<S> {
        Piecewise {
            inner,
            piece: piece.max(1),
            pieces: AtomicU64::new(0),
        }
    }

    /// How many pieces were read from the inner source so far.
    pub fn pieces(&self) -> u64 {
        self.pieces.load(Ordering::Relaxed)
    }

    /// The inner source.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: ReadAt> ReadAt for Piecewise<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        super::check_range(self, offset, buf.len())?;
        let mut failure = None;
        let filled = super::fill_exact(&|| self.describe(), offset, buf, |at, part| {
            let n = part.len().min(self.piece);
            self.pieces.fetch_add(1, Ordering::Relaxed);
            match self.inner.read_at(at, &mut part[..n]) {
                Ok(()) => Ok(n),
                Err(e) => {
                    // Keep the inner error as it is (its kind and message).
                    failure = Some(e);
                    Err(std::io::Error::other("inner source failed"))
                }
            }
        });
        match failure {
            Some(e) => Err(e),
            None => filled,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} (in pieces of {} bytes)",
            self.inner.describe(),
            self.piece
        )
    }

    fn prefers_batches(&self) -> bool {
        self.inner.prefers_batches()
    }
}

/// What a [`Counting`] source has been asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountingStats {
    /// Calls of [`ReadAt::read_at`] (and [`ReadAt::read_vec`]), plus the
    /// buffers of [`ReadAt::read_at_many`] calls.
    pub reads: u64,
    /// Calls of [`ReadAt::read_ranges`].
    pub range_calls: u64,
    /// Calls of [`ReadAt::read_at_many`] (one batch each, whatever the
    /// number of buffers).
    pub many_calls: u64,
    /// Ranges asked for through [`ReadAt::read_ranges`].
    pub ranges: u64,
    /// Bytes read, by either.
    pub bytes: u64,
}

/// A source that counts the calls and bytes that go through it to its inner
/// source: how many requests a reader makes, in tests and benchmarks.
///
/// ```
/// use h5sparse::io::source::{CachedSource, Counting, ReadAt};
///
/// let file = Counting::new(vec![7u8; 1 << 20]);
/// let cached = CachedSource::new(&file);
/// for offset in [0, 10, 100, 1000] {
///     cached.read_at(offset, &mut [0u8; 8])?;
/// }
/// assert_eq!(file.stats().reads, 1);                 // one 64 KiB block
/// assert_eq!(file.stats().bytes, 64 << 10);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug)]
pub struct Counting<S> {
    inner: S,
    reads: AtomicU64,
    range_calls: AtomicU64,
    many_calls: AtomicU64,
    ranges: AtomicU64,
    bytes: AtomicU64,
    batches: Option<bool>,
}

impl<S: ReadAt> Counting<S> {
    /// Counts what is read from `inner`.
    pub fn new(inner: S) -> Counting<S> {
        Counting {
            inner,
            reads: AtomicU64::new(0),
            range_calls: AtomicU64::new(0),
            many_calls: AtomicU64::new(0),
            ranges: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            batches: None,
        }
    }

    /// Answers [`ReadAt::prefers_batches`] with `yes` instead of asking the
    /// inner source: a local file then stands in for a remote one, and
    /// readers announce their ranges to it (tests).
    ///
    /// ```
    /// use h5sparse::io::source::{Counting, ReadAt};
    /// let remote_like = Counting::new(vec![0u8; 16]).prefer_batches(true);
    /// assert!(remote_like.prefers_batches());
    /// ```
    pub fn prefer_batches(mut self, yes: bool) -> Counting<S> {
        self.batches = Some(yes);
        self
    }

    /// The counts so far.
    pub fn stats(&self) -> CountingStats {
        CountingStats {
            reads: self.reads.load(Ordering::Relaxed),
            range_calls: self.range_calls.load(Ordering::Relaxed),
            many_calls: self.many_calls.load(Ordering::Relaxed),
            ranges: self.ranges.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// Sets every count back to zero.
    pub fn reset(&self) {
        for c in [
            &self.reads,
            &self.range_calls,
            &self.many_calls,
            &self.ranges,
            &self.bytes,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// The inner source.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: ReadAt> ReadAt for Counting<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        self.inner.read_at(offset, buf)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        self.range_calls.fetch_add(1, Ordering::Relaxed);
        self.ranges
            .fetch_add(ranges.len() as u64, Ordering::Relaxed);
        let total = ranges
            .iter()
            .map(|r| r.end.saturating_sub(r.start))
            .fold(0u64, u64::saturating_add);
        self.bytes.fetch_add(total, Ordering::Relaxed);
        self.inner.read_ranges(ranges)
    }

    fn read_at_many(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        self.many_calls.fetch_add(1, Ordering::Relaxed);
        self.reads.fetch_add(reads.len() as u64, Ordering::Relaxed);
        let total = reads
            .iter()
            .map(|(_, b)| b.len() as u64)
            .fold(0u64, u64::saturating_add);
        self.bytes.fetch_add(total, Ordering::Relaxed);
        self.inner.read_at_many(reads)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn prefers_batches(&self) -> bool {
        self.batches.unwrap_or_else(|| self.inner.prefers_batches())
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.inner.as_bytes()
    }
}
