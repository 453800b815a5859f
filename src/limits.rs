//! Budgets that keep hostile files from exhausting memory, stack or time.

use crate::error::{Error, Result};

/// Allocation, recursion and chain-length budgets applied while parsing.
///
/// Every count or size read from a file is checked against the file's length
/// (a structure must fit in the file) and against these budgets before
/// anything is allocated.
///
/// | field | [`Limits::default`] | [`Limits::strict`] |
/// |---|---|---|
/// | `max_alloc` | 16 GiB | 64 MiB |
/// | `max_depth` | 64 | 32 |
/// | `max_continuations` | 65536 | 1024 |
/// | `max_messages` | 1048576 | 65536 |
/// | `max_link_hops` | 40 | 16 |
///
/// What the limits guarantee, with either set (tested in `tests/bounds.rs`
/// and by the fuzz targets, which use `strict` with a 16 MiB `max_alloc`):
///
/// * **Opening and walking** a file (every group's links, every object's
///   header and attributes, every dataset's shape and chunk index) allocates
///   at most max(64 MiB, a small multiple of the file size): structures are
///   bounded by the bytes that hold them, a zero fill value is never
///   materialised, and variable-length strings resolved by one read may not
///   exceed 8 times the file size (32 MiB at least), so references sharing one
///   heap object cannot amplify a small file.
/// * **Reading data** allocates what the dataset declares, checked first:
///   the whole read, each decoded chunk and the decoded [`Values`] against
///   `max_alloc`. Compressed data can legitimately be much larger than the
///   file, which is why the default is large; use [`Limits::strict`] for
///   files from strangers.
/// * **No abort**: every allocation whose size comes from a file is
///   fallible; one the system refuses (an address-space limit, a small
///   machine), although within `max_alloc`, is an [`Error::OutOfMemory`]
///   naming the object and the size. Compact and contiguous storage that
///   cannot hold the dataset inside the file is refused before allocating
///   (tested in `tests/no_abort.rs`: damaged fixtures through the CLI under
///   a 1 GiB address-space limit).
/// * **Decompression** is bounded by the declared chunk size: a chunk that
///   inflates beyond it is an [`Error::Format`], and the output buffer grows
///   with what the stream really produces.
/// * **Time**: B-tree and continuation traversals refuse to visit a node
///   twice, recursion stops at `max_depth`, soft and external links at
///   `max_link_hops`, so cycles end in an error rather than a loop (the fuzz
///   campaigns flag any input that takes more than 10 s).
///
/// [`Values`]: crate::Values
///
/// ```
/// let tight = h5sparse::Limits { max_alloc: 1 << 20, ..Default::default() };
/// assert!(tight.check_alloc("chunk", 2 << 20).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest single allocation, in bytes, that reading may make
    /// (a decoded chunk, a whole-dataset read, a heap block).
    pub max_alloc: u64,
    /// Deepest recursion: B-tree levels, nested groups while walking, fractal
    /// heap indirect-block nesting.
    pub max_depth: u32,
    /// Longest chain of object-header continuation blocks.
    pub max_continuations: u32,
    /// Most messages in one object header.
    pub max_messages: u32,
    /// Most soft/external link hops while resolving one path.
    pub max_link_hops: u32,
    /// Most bytes of metadata a file read range by range (HTTP, object
    /// stores, positional reads) keeps in memory while it is open.
    pub max_metadata_cache: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_alloc: 16 << 30,
            max_depth: 64,
            max_continuations: 1 << 16,
            max_messages: 1 << 20,
            max_link_hops: 40,
            max_metadata_cache: 2 << 30,
        }
    }
}

impl Limits {
    /// Limits for untrusted input: 64 MiB per allocation, shallow recursion.
    pub fn strict() -> Self {
        Limits {
            max_alloc: 64 << 20,
            max_depth: 32,
            max_continuations: 1024,
            max_messages: 1 << 16,
            max_link_hops: 16,
            max_metadata_cache: 256 << 20,
        }
    }

    /// Fails with [`Error::LimitsExceeded`] if `bytes` exceeds `max_alloc`.
    pub fn check_alloc(&self, what: &'static str, bytes: u64) -> Result<()> {
        if bytes > self.max_alloc {
            return Err(Error::LimitsExceeded {
                what,
                requested: bytes,
                limit: self.max_alloc,
            });
        }
        Ok(())
    }

    /// Fails with [`Error::LimitsExceeded`] if `depth` exceeds `max_depth`.
    pub fn check_depth(&self, what: &'static str, depth: u32) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::LimitsExceeded {
                what,
                requested: u64::from(depth),
                limit: u64::from(self.max_depth),
            });
        }
        Ok(())
    }
}
