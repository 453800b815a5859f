//! Local files: positional reads ([`FileSource`]) and memory maps
//! ([`MmapSource`]).

#[cfg(any(unix, windows))]
use std::ops::Range;
#[cfg(any(unix, windows))]
use std::path::Path;

use super::ReadAt;
use crate::error::Result;

/// A local file read with positional reads (`pread` on Unix, `ReadFile` at an
/// offset on Windows): no memory map, so a file truncated while open gives an
/// error instead of a `SIGBUS`, and it works where maps are unavailable
/// (some network file systems, `/proc`-like files).
///
/// The length is the file's size when it was opened; reads never move a
/// shared cursor, so threads read concurrently. Many reads given at once
/// ([`ReadAt::read_at_many`], [`ReadAt::read_ranges`]) and single reads of
/// several MiB are spread over a thread per core (at most 8): a network file system gets independent requests in flight,
/// and on a local disk each core copies its share out of the page cache.
///
/// ```
/// use h5sparse::io::source::{FileSource, ReadAt};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
/// let source = FileSource::open(path)?;
/// let mut signature = [0u8; 8];
/// source.read_at(0, &mut signature)?;
/// assert_eq!(&signature, b"\x89HDF\r\n\x1a\n");
/// assert_eq!(source.len(), std::fs::metadata(path)?.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(any(unix, windows))]
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    len: u64,
    name: String,
}

#[cfg(any(unix, windows))]
impl FileSource {
    /// Opens `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<FileSource> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        })?;
        FileSource::from_file(file, path.display().to_string())
    }

    /// Reads an already open `file`, named `name` in messages.
    pub fn from_file(file: std::fs::File, name: impl Into<String>) -> Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource {
            file,
            len,
            name: name.into(),
        })
    }

    #[cfg(unix)]
    fn read_some(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_some(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        // `seek_read` moves the file cursor, which no reader here uses.
        std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
    }
}

#[cfg(any(unix, windows))]
impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        super::check_range(self, offset, buf.len())?;
        if buf.len() >= CONCURRENT_SINGLE {
            return self.read_concurrently(&mut [(offset, buf)]);
        }
        self.read_exact(offset, buf)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        super::ranges_in_one_call(self, ranges)
    }

    fn read_at_many(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        for (offset, buf) in reads.iter() {
            super::check_range(self, *offset, buf.len())?;
        }
        self.read_concurrently(reads)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Concurrent reads are cut into pieces of at most this many bytes, and of
/// about a quarter of each thread's share when there is less (so that a
/// thread slowed by a busy core leaves its remaining pieces to the others).
#[cfg(any(unix, windows))]
const PIECE: usize = 2 << 20;

/// Pieces are at least this large (a 64 KiB read costs about ten times a
/// system call's overhead).
#[cfg(any(unix, windows))]
const MIN_PIECE: usize = 64 << 10;

/// A single read of at least this many bytes is cut into pieces read
/// concurrently.
#[cfg(any(unix, windows))]
const CONCURRENT_SINGLE: usize = 1 << 20;

/// Reads of fewer bytes than this in all stay on the calling thread: a
/// thread costs tens of microseconds to start, the time of copying about
/// this much out of the page cache.
#[cfg(any(unix, windows))]
const CONCURRENT_MIN: usize = 256 << 10;

/// At most this many threads read for one call (a network file system
/// serves more requests in flight; a local disk gains little past two).
#[cfg(any(unix, windows))]
const MAX_READERS: usize = 8;

#[cfg(any(unix, windows))]
impl FileSource {
    /// Fills `buf` from `offset` (checked by the caller) on this thread.
    fn read_exact(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        super::fill_exact(&|| self.name.clone(), offset, buf, |at, part| {
            self.read_some(at, part)
        })
    }

    /// Fills every buffer (ranges checked by the caller): on this thread
    /// when there is little to read, one core or the caller is already one
    /// of several workers; otherwise cut into pieces of at most [`PIECE`]
    /// bytes that up to [`MAX_READERS`] threads take in the order given,
    /// each the next piece not taken (so a thread that a busy core slows
    /// down takes fewer). The first error stops the others at their next
    /// piece.
    fn read_concurrently(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        let total = reads
            .iter()
            .map(|(_, b)| b.len())
            .fold(0usize, usize::saturating_add);
        let threads = crate::par::workers()
            .min(MAX_READERS)
            .min(reads.len().max(total / MIN_PIECE));
        if threads <= 1 || total < CONCURRENT_MIN || crate::par::in_worker() {
            return reads
                .iter_mut()
                .try_for_each(|(offset, buf)| self.read_exact(*offset, buf));
        }
        let piece = (total / (threads * 4)).clamp(MIN_PIECE, PIECE);
        let mut pieces: Vec<(u64, &mut [u8])> =
            crate::buf::try_with_capacity(reads.len() + total / piece, "read pieces")?;
        for (offset, buf) in reads.iter_mut() {
            let mut at = *offset;
            for piece in buf.chunks_mut(piece) {
                let n = piece.len() as u64;
                pieces.push((at, piece));
                at += n;
            }
        }
        crate::par::each(threads, pieces, |(at, piece)| self.read_exact(at, piece))
    }
}

/// A local file, memory-mapped read-only: the fastest source, and zero-copy
/// ([`ReadAt::as_bytes`] is the whole map).
///
/// ```
/// use h5sparse::io::source::{MmapSource, ReadAt};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
/// let source = MmapSource::open(path)?;
/// assert_eq!(&source.as_bytes().unwrap()[1..4], b"HDF");
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[cfg(feature = "mmap")]
#[derive(Debug)]
pub struct MmapSource {
    storage: crate::io::Storage,
    name: String,
}

#[cfg(feature = "mmap")]
impl MmapSource {
    /// Maps `path` read-only (an empty file becomes an empty buffer).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<MmapSource> {
        let path = path.as_ref();
        let named = |e: std::io::Error| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        };
        let file = std::fs::File::open(path).map_err(named)?;
        let storage = crate::io::Storage::map(&file).map_err(named)?;
        Ok(MmapSource {
            storage,
            name: path.display().to_string(),
        })
    }

    /// The map (or buffer) underneath.
    pub fn storage(&self) -> &crate::io::Storage {
        &self.storage
    }
}

#[cfg(feature = "mmap")]
impl ReadAt for MmapSource {
    fn len(&self) -> u64 {
        ReadAt::len(&self.storage)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.storage.read_at(offset, buf)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.storage.bytes()
    }
}

/// The bytes of an opened [`Storage`](crate::io::Storage) are a source too.
impl ReadAt for crate::io::Storage {
    fn len(&self) -> u64 {
        crate::io::Storage::len(self)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        match self {
            crate::io::Storage::Paged(p) => p.read_at(offset, buf),
            _ => {
                let bytes = self.bytes().unwrap_or(&[]);
                buf.copy_from_slice(super::slice_at(self, bytes, offset, buf.len())?);
                Ok(())
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            #[cfg(feature = "mmap")]
            crate::io::Storage::Mmap(m) => format!("memory map of {} bytes", m.len()),
            crate::io::Storage::Bytes(b) => format!("{} bytes in memory", b.len()),
            crate::io::Storage::Paged(p) => p.describe(),
        }
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.bytes()
    }
}
