//! The write side's byte sink: every byte the HDF5 writer puts in a file goes
//! through [`Sink`].
//!
//! * [`FileSink`]: a file on disk, written with positional I/O through a
//!   write-back buffer, holding an exclusive advisory lock while open.
//! * [`MemSink`]: bytes in memory (tests, wasm).
//! * [`FaultSink`]: wraps a sink and simulates a crash after the N-th write,
//!   for crash-consistency tests.
//! * [`CountingSink`]: wraps a sink and counts calls and bytes.
//!
//! # Ordering and durability
//!
//! [`Sink::sync`] is the only ordering barrier. Between two syncs a
//! [`FileSink`] may merge, reorder (within its buffer) and delay writes, just
//! as the page cache does for any file; after `sync` returns, everything
//! written before it is on stable storage. A writer that must publish new data
//! only after the data itself is durable writes the data, syncs, then writes
//! the small in-place update that publishes it, and syncs again.
//!
//! A process that dies without calling `sync` (or dropping the sink) loses
//! what is still in the write-back buffer, but never sees a write reach the
//! file before a write it issued earlier *and* that was flushed earlier: the
//! buffer holds one contiguous range and is written out whole, before any
//! write outside it.
//!
//! # Locking, and how it matches libhdf5
//!
//! libhdf5 (1.10 and later, including the 2.0 that h5py 3.16 bundles) locks
//! every file it opens with the POSIX/BSD `flock(2)` call on the whole file,
//! non-blocking: `LOCK_EX` when it opens for writing (`H5F_ACC_RDWR`, file
//! creation) and `LOCK_SH` when it opens read-only (the sec2, core, log and
//! direct drivers all do this in `H5FD__*_lock`). A failed lock makes
//! `H5Fopen`/`H5Fcreate` fail with "unable to lock file, errno = 11". On
//! systems without `flock` it falls back to an `fcntl` emulation, and on
//! Windows to `LockFileEx` over the whole file.
//!
//! The environment variable `HDF5_USE_FILE_LOCKING` controls it: `FALSE` or
//! `0` turns locking off, `TRUE` or `1` makes a file system that cannot lock
//! (`ENOSYS`) an error, `BEST_EFFORT` ignores that case. libhdf5's default
//! (its `--enable-file-locking=best-effort` build default) is best effort.
//!
//! [`FileSink`] takes the same lock with std's [`File::try_lock`](std::fs::File::try_lock), which is
//! `flock(fd, LOCK_EX | LOCK_NB)` on Linux, the BSDs and macOS and
//! `LockFileEx` on Windows, and reads the same environment variable
//! ([`FileLocking::from_env`]). So a `FileSink` and an h5py writer exclude
//! each other, and an h5py *reader* (which holds `LOCK_SH` while the file is
//! open) also keeps a `FileSink` out, and the other way round: h5py cannot
//! open a file for reading while a `FileSink` holds it (nor can Debian's
//! `h5dump` 1.10; both checked in `tests/external_tools.rs`). This crate's own
//! readers map the file and take no lock. On Windows `LockFileEx` locks are
//! mandatory: while a `FileSink` is open, other processes cannot read the
//! file at all.
//!
//! `flock` locks belong to the *open file description*, not to the process:
//! two `FileSink`s in one process exclude each other exactly like two
//! processes do (`fcntl` record locks would not). The lock is released when
//! the file is closed, including when the process dies.
//!
//! libhdf5 also keeps a "file is open for writing" flag in superblocks v3 (the
//! status flags that `h5clear` resets); that is part of the file format and
//! belongs to the writer, not to this module.

use std::io;

pub use super::file_sink::{CopySource, FileLocking, FileSink, DEFAULT_WRITE_BUFFER};

/// A random-access byte sink: a file being written, or bytes in memory.
///
/// Every write of the HDF5 writer goes through this trait, so tests can count
/// writes, keep files in memory, or simulate a crash ([`FaultSink`]).
pub trait Sink {
    /// Writes all of `data` at absolute byte position `pos` (extending the
    /// file if needed; a gap between the old end and `pos` reads as zeros).
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()>;
    /// Reads exactly `buf.len()` bytes at `pos` (the writer re-reads metadata
    /// it will patch). Reading past [`len`](Sink::len) is an
    /// [`io::ErrorKind::UnexpectedEof`] error.
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Current length in bytes, including writes not yet flushed.
    fn len(&self) -> io::Result<u64>;
    /// Makes everything written so far durable (fsync / fdatasync).
    fn sync(&mut self) -> io::Result<()>;
    /// Truncates or extends (with zeros) to `len` bytes.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// Whether [`sync`](Sink::sync) makes writes durable (the default).
    /// `false` is for scratch files that are worth nothing after a crash
    /// of the machine: `sync` then only writes out buffered bytes, which
    /// other readers of the file see all the same, and a file sink stops
    /// starting writeback early. A power loss may then lose or tear what
    /// was written; a crash of the process alone loses nothing written.
    /// Sinks with nothing to sync ignore it.
    ///
    /// ```
    /// use h5sparse::io::sink::{MemSink, Sink};
    /// let mut s = MemSink::default();
    /// s.set_durable(false);                       // nothing to sync in memory
    /// s.write_at(0, b"abc")?;
    /// s.sync()?;
    /// assert_eq!(s.bytes, b"abc");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn set_durable(&mut self, durable: bool) {
        let _ = durable;
    }
    /// Registers a file whose in-memory bytes may be written through this
    /// sink: a file sink then copies such slices in the kernel (see
    /// [`CopySource`]). Other sinks write them as any slice.
    fn add_copy_source(&mut self, source: CopySource) {
        let _ = source;
    }
    /// Where this sink would rather have large slices placed in the file
    /// (see [`Placement`]): a file sink with registered [`CopySource`]s
    /// asks for their slices at positions congruent to where they lie in
    /// their source, so the file system can share the blocks. Other sinks
    /// have no preference.
    ///
    /// ```
    /// use h5sparse::io::sink::{MemSink, Sink};
    /// assert_eq!(MemSink::default().placement().residue(&[0u8; 1 << 20]), None);
    /// ```
    fn placement(&self) -> Placement {
        Placement::default()
    }
    /// Whether [`len`](Sink::len) is zero.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        (**self).write_at(pos, data)
    }
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_at(pos, buf)
    }
    fn len(&self) -> io::Result<u64> {
        (**self).len()
    }
    fn sync(&mut self) -> io::Result<()> {
        (**self).sync()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        (**self).set_len(len)
    }
    fn set_durable(&mut self, durable: bool) {
        (**self).set_durable(durable)
    }
    fn add_copy_source(&mut self, source: CopySource) {
        (**self).add_copy_source(source)
    }
    fn placement(&self) -> Placement {
        (**self).placement()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        (**self).write_at(pos, data)
    }
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_at(pos, buf)
    }
    fn len(&self) -> io::Result<u64> {
        (**self).len()
    }
    fn sync(&mut self) -> io::Result<()> {
        (**self).sync()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        (**self).set_len(len)
    }
    fn set_durable(&mut self, durable: bool) {
        (**self).set_durable(durable)
    }
    fn add_copy_source(&mut self, source: CopySource) {
        (**self).add_copy_source(source)
    }
    fn placement(&self) -> Placement {
        (**self).placement()
    }
}

/// Where a sink would rather have slices of memory placed in its file: for
/// a large slice of a registered [`CopySource`]'s memory, at a position
/// congruent to the slice's offset in that source modulo
/// [`Placement::BLOCK`]. Then the file's blocks and the source's line up,
/// and a file system that shares extents (XFS with reflink, btrfs) makes
/// the aligned middle of the slice point at the source's blocks instead of
/// copying them. The writer asks for it when it allocates space for
/// chunks it writes unchanged from such memory, padding the allocation by
/// less than a block (unused space, which HDF5 allows).
///
/// ```
/// use h5sparse::io::sink::{CopySource, FileSink, Placement, Sink};
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-placement", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let input = dir.join("in.bin");
/// std::fs::write(&input, vec![7u8; 1 << 20])?;
/// let bytes = std::sync::Arc::new(std::fs::read(&input)?);     // stands for a map
/// let mut out = FileSink::create(dir.join("out.bin"))?;
/// assert_eq!(out.placement().residue(&bytes[5000..]), None);   // no source yet
/// out.add_copy_source(CopySource::new(std::fs::File::open(&input)?, &bytes[..], bytes.clone()));
/// assert_eq!(out.placement().residue(&bytes[5000..]), Some(5000 % Placement::BLOCK));
/// assert_eq!(out.placement().residue(&[0u8; 1 << 20]), None);  // not the source's memory
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Address and length of each source's memory (file offset 0 at the
    /// address).
    regions: Vec<(usize, usize)>,
    /// Slices shorter than this get no preference (the sink writes them
    /// through its buffer, not from the source).
    min_len: usize,
}

impl Placement {
    /// The block size positions are made congruent modulo: 4096 bytes,
    /// the block of XFS and btrfs on common systems.
    pub const BLOCK: u64 = 4096;

    /// A preference for slices of the memory ranges `regions` (address,
    /// length; file offset 0 at the address) of at least `min_len` bytes.
    pub(super) fn new(regions: Vec<(usize, usize)>, min_len: usize) -> Placement {
        Placement { regions, min_len }
    }

    /// The residue modulo [`Placement::BLOCK`] of the file position where
    /// `data` would best start, or `None` when any position will do.
    ///
    /// ```
    /// let none = h5sparse::io::sink::Placement::default();
    /// assert_eq!(none.residue(b"anything"), None);
    /// ```
    pub fn residue(&self, data: &[u8]) -> Option<u64> {
        if data.len() < self.min_len.max(1) {
            return None;
        }
        let addr = data.as_ptr() as usize;
        self.regions.iter().find_map(|&(start, len)| {
            let at = addr.checked_sub(start)?;
            (at.checked_add(data.len())? <= len).then_some(at as u64 % Placement::BLOCK)
        })
    }

    /// Whether no slice gets a preference.
    ///
    /// ```
    /// assert!(h5sparse::io::sink::Placement::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }
}

/// `pos + len` as a u64, or an `InvalidInput` error naming the operation.
pub(super) fn end_of(pos: u64, len: usize, op: &str) -> io::Result<u64> {
    u64::try_from(len)
        .ok()
        .and_then(|l| pos.checked_add(l))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{op} of {len} bytes at {pos} overflows a 64-bit file position"),
            )
        })
}

pub(super) fn past_end(pos: u64, n: usize, len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("read of {n} bytes at {pos} goes past the end of the sink ({len} bytes)"),
    )
}

// ---------------------------------------------------------------------------------------
// MemSink
// ---------------------------------------------------------------------------------------

/// A sink in memory: the whole file as a `Vec<u8>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemSink {
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl MemSink {
    /// An empty sink.
    pub fn new() -> MemSink {
        MemSink::default()
    }

    /// A sink starting with `bytes` (an existing file to modify).
    pub fn from_bytes(bytes: Vec<u8>) -> MemSink {
        MemSink { bytes }
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Resizes to `len`, failing (instead of aborting) when memory runs out.
    fn resize(&mut self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("an in-memory sink cannot hold {len} bytes on this platform"),
            )
        })?;
        if len > self.bytes.len() {
            self.bytes
                .try_reserve(len - self.bytes.len())
                .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
        }
        self.bytes.resize(len, 0);
        Ok(())
    }
}

impl Sink for MemSink {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = end_of(pos, data.len(), "write")?;
        if end > self.bytes.len() as u64 {
            self.resize(end)?;
        }
        // Both fit in usize: `end` does, as the buffer now holds `end` bytes.
        let start = pos as usize;
        self.bytes[start..start + data.len()].copy_from_slice(data);
        Ok(())
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = end_of(pos, buf.len(), "read")?;
        let len = self.bytes.len() as u64;
        if end > len {
            return Err(past_end(pos, buf.len(), len));
        }
        let start = pos as usize;
        buf.copy_from_slice(&self.bytes[start..start + buf.len()]);
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.bytes.len() as u64)
    }

    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.resize(len)
    }
}

// ---------------------------------------------------------------------------------------
// FaultSink
// ---------------------------------------------------------------------------------------

/// A change the crashed process believes it made, kept to answer its reads.
#[derive(Debug, Clone)]
enum Lost {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

/// Wraps a sink and simulates a crash: after `n` successful `write_at` calls,
/// every further `write_at` and `set_len` is silently dropped (returns `Ok`,
/// changes nothing underneath) and `sync` does nothing.
///
/// The wrapped process does not notice the crash: reads and `len` after it
/// answer as if the dropped writes had happened (they are kept in memory), the
/// way a process's own view of a file includes writes the disk never got. So
/// the code under test runs to completion exactly as it would have, and
/// [`into_inner`](FaultSink::into_inner) gives what was on "disk" when the
/// crash happened.
///
/// Crash tests run an operation with `n = 0, 1, 2, ...` until
/// [`crashed`](FaultSink::crashed) stays false.
#[derive(Debug)]
pub struct FaultSink<S: Sink> {
    inner: S,
    allowed: u64,
    attempted: u64,
    lost: Vec<Lost>,
}

impl<S: Sink> FaultSink<S> {
    /// Wraps `inner`, letting the first `n` `write_at` calls through.
    pub fn new(inner: S, n: u64) -> FaultSink<S> {
        FaultSink {
            inner,
            allowed: n,
            attempted: 0,
            lost: Vec::new(),
        }
    }

    /// How many `write_at` calls were attempted (passed through or dropped).
    pub fn writes(&self) -> u64 {
        self.attempted
    }

    /// Whether any `write_at` or `set_len` was dropped.
    pub fn crashed(&self) -> bool {
        !self.lost.is_empty()
    }

    /// The wrapped sink, as the crash left it.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped sink, mutably (reads of what reached "disk").
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Whether the crash point has been reached (`n` writes went through).
    fn past_crash(&self) -> bool {
        self.attempted >= self.allowed || !self.lost.is_empty()
    }

    /// The length the crashed process believes the file has.
    fn believed_len(&self) -> io::Result<u64> {
        let mut len = self.inner.len()?;
        for op in &self.lost {
            len = match op {
                Lost::Write(_, data) if data.is_empty() => len,
                Lost::Write(pos, data) => len.max(end_of(*pos, data.len(), "write")?),
                Lost::SetLen(l) => *l,
            };
        }
        Ok(len)
    }
}

impl<S: Sink> Sink for FaultSink<S> {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        let crashed = self.past_crash();
        self.attempted = self.attempted.saturating_add(1);
        if crashed {
            end_of(pos, data.len(), "write")?;
            self.lost.push(Lost::Write(pos, data.to_vec()));
            Ok(())
        } else {
            self.inner.write_at(pos, data)
        }
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        if self.lost.is_empty() {
            return self.inner.read_at(pos, buf);
        }
        let end = end_of(pos, buf.len(), "read")?;
        let len = self.believed_len()?;
        if end > len {
            return Err(past_end(pos, buf.len(), len));
        }
        // What is underneath, then replay the lost changes over the range.
        let inner_len = self.inner.len()?;
        let below = inner_len.clamp(pos, end) - pos;
        let (disk, rest) = buf.split_at_mut(below as usize);
        if !disk.is_empty() {
            self.inner.read_at(pos, disk)?;
        }
        rest.fill(0);
        for op in &self.lost {
            match op {
                Lost::Write(wpos, data) => {
                    let wend = *wpos + data.len() as u64;
                    let from = pos.max(*wpos);
                    let to = end.min(wend);
                    if from < to {
                        let n = (to - from) as usize;
                        let dst = (from - pos) as usize;
                        let src = (from - *wpos) as usize;
                        buf[dst..dst + n].copy_from_slice(&data[src..src + n]);
                    }
                }
                Lost::SetLen(l) => {
                    if *l < end {
                        let from = (*l).max(pos) - pos;
                        buf[from as usize..].fill(0);
                    }
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        self.believed_len()
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.past_crash() {
            Ok(())
        } else {
            self.inner.sync()
        }
    }

    fn set_durable(&mut self, durable: bool) {
        self.inner.set_durable(durable)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        if self.past_crash() {
            self.lost.push(Lost::SetLen(len));
            Ok(())
        } else {
            self.inner.set_len(len)
        }
    }
}

// ---------------------------------------------------------------------------------------
// CountingSink
// ---------------------------------------------------------------------------------------

/// Wraps a sink and counts the calls made and the bytes moved.
#[derive(Debug, Default)]
pub struct CountingSink<S: Sink> {
    inner: S,
    writes: u64,
    bytes_written: u64,
    reads: std::cell::Cell<u64>,
    bytes_read: std::cell::Cell<u64>,
    syncs: u64,
    set_lens: u64,
}

impl<S: Sink> CountingSink<S> {
    /// Wraps `inner` with all counters at zero.
    pub fn new(inner: S) -> CountingSink<S> {
        CountingSink {
            inner,
            writes: 0,
            bytes_written: 0,
            reads: std::cell::Cell::new(0),
            bytes_read: std::cell::Cell::new(0),
            syncs: 0,
            set_lens: 0,
        }
    }

    /// `write_at` calls.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Bytes passed to `write_at`.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// `read_at` calls.
    pub fn reads(&self) -> u64 {
        self.reads.get()
    }

    /// Bytes asked for with `read_at`.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.get()
    }

    /// `sync` calls.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// `set_len` calls.
    pub fn set_lens(&self) -> u64 {
        self.set_lens
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped sink, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Sink for CountingSink<S> {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        self.writes += 1;
        self.bytes_written += data.len() as u64;
        self.inner.write_at(pos, data)
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        self.reads.set(self.reads.get() + 1);
        self.bytes_read
            .set(self.bytes_read.get() + buf.len() as u64);
        self.inner.read_at(pos, buf)
    }

    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }

    fn sync(&mut self) -> io::Result<()> {
        self.syncs += 1;
        self.inner.sync()
    }

    fn set_durable(&mut self, durable: bool) {
        self.inner.set_durable(durable)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.set_lens += 1;
        self.inner.set_len(len)
    }
}

#[cfg(test)]
mod tests;
