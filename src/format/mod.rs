//! Pure parsing (and later encoding) of HDF5's on-disk structures.
//!
//! One file per structure of the HDF5 File Format Specification. Nothing here
//! performs I/O: everything works on the bytes of the whole file, a
//! [`FileView`], which is a memory map or a buffer.

pub mod btree_v1;
pub mod btree_v2;
pub mod checksum;
pub mod chunk_index;
pub mod cursor;
pub mod fractal_heap;
pub mod global_heap;
pub mod local_heap;
pub mod message;
pub mod object_header;
pub mod selection;
pub mod superblock;
pub mod symbol_table;
pub mod types;

pub use cursor::Cursor;

use crate::error::{Error, Result};

/// A file address, relative to the superblock's base address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub u64);

impl Address {
    /// The "undefined address" (all bits set in the file).
    pub const UNDEFINED: Address = Address(u64::MAX);

    /// Normalises an all-ones value of `width` bytes to [`Address::UNDEFINED`].
    pub fn from_raw(v: u64, width: usize) -> Address {
        let all_ones = if width >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        if width > 0 && v == all_ones {
            Address::UNDEFINED
        } else {
            Address(v)
        }
    }

    /// True for the undefined address.
    pub fn is_undefined(self) -> bool {
        self == Address::UNDEFINED
    }
}

/// Widths of offsets and lengths, from the superblock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Size of offsets (addresses) in bytes: 2, 4 or 8.
    pub offset: u8,
    /// Size of lengths in bytes: 2, 4 or 8.
    pub length: u8,
}

impl Sizes {
    /// 8-byte offsets and lengths, what libhdf5 writes by default.
    pub const DEFAULT: Sizes = Sizes {
        offset: 8,
        length: 8,
    };
}

/// A file read range by range (over HTTP, from an object store, through
/// positional reads) instead of held whole in memory.
///
/// Parsers borrow what they parse: [`Pages::pinned`] returns bytes that
/// stay valid as long as the implementation lives (metadata, fetched once
/// and kept), [`Pages::copy`] bytes the caller owns (bulk data, not kept).
pub trait Pages: Send + Sync {
    /// The file's length in bytes.
    fn len(&self) -> u64;
    /// Whether the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// At least `len` bytes from absolute position `pos` (more when the
    /// implementation has them at hand), kept for as long as `self` lives.
    /// `pos + len` is within the file (callers check).
    fn pinned(&self, pos: u64, len: usize) -> Result<&[u8]>;
    /// Exactly `len` bytes from `pos`, copied out and not kept.
    fn copy(&self, pos: u64, len: usize) -> Result<Vec<u8>>;
    /// Fills `buf` with the bytes at `pos` (bulk data, not kept): straight
    /// into the caller's buffer, with no copy in between where the source
    /// allows.
    fn read_into(&self, pos: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(&self.copy(pos, buf.len())?);
        Ok(())
    }
    /// Fills each buffer with the bytes at its position (bulk data, not
    /// kept): many reads at once, which a source may serve concurrently.
    /// Every range lies within the file (callers check).
    fn read_many_into(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        reads
            .iter_mut()
            .try_for_each(|(pos, buf)| self.read_into(*pos, buf))
    }
    /// Announces the (position, length) ranges of data that the next reads
    /// will ask for, so that a remote source fetches them together (merged,
    /// concurrently, each byte once) instead of one request per read. A
    /// hint: errors surface when the data is read.
    fn prefetch(&self, _ranges: &[(u64, u64)]) {}
    /// Whether [`Pages::prefetch`] does anything: readers skip collecting
    /// ranges when it does not (local files).
    fn wants_prefetch(&self) -> bool {
        false
    }
}

/// Where a [`FileView`]'s bytes come from.
#[derive(Clone, Copy)]
pub enum Src<'a> {
    /// Every byte of the file, in memory or mapped.
    Bytes(&'a [u8]),
    /// Fetched on demand.
    Pages(&'a dyn Pages),
}

impl std::fmt::Debug for Src<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Src::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Src::Pages(p) => write!(f, "Pages({} bytes)", p.len()),
        }
    }
}

/// The file plus what is needed to resolve addresses.
#[derive(Debug, Clone, Copy)]
pub struct FileView<'a> {
    /// The file's bytes, user block included.
    pub src: Src<'a>,
    /// Offset/length widths.
    pub sizes: Sizes,
    /// Absolute position that relative addresses count from (the superblock's
    /// base address, which is non-zero with a user block).
    pub base: u64,
}

impl<'a> FileView<'a> {
    /// A view of a file held whole in `bytes`.
    pub fn new(bytes: &'a [u8], sizes: Sizes, base: u64) -> FileView<'a> {
        FileView {
            src: Src::Bytes(bytes),
            sizes,
            base,
        }
    }

    /// A view of a file read range by range.
    pub fn paged(pages: &'a dyn Pages, sizes: Sizes, base: u64) -> FileView<'a> {
        FileView {
            src: Src::Pages(pages),
            sizes,
            base,
        }
    }

    /// The whole file, when it is in memory or mapped.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self.src {
            Src::Bytes(b) => Some(b),
            Src::Pages(_) => None,
        }
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        match self.src {
            Src::Bytes(b) => b.len() as u64,
            Src::Pages(p) => p.len(),
        }
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Absolute byte position of `addr`, checked against the file length.
    pub fn absolute(&self, addr: Address, what: &str) -> Result<u64> {
        if addr.is_undefined() {
            return Err(Error::format(
                self.base,
                format!("{what}: expected an address, found the undefined address"),
            ));
        }
        let abs = self.base.checked_add(addr.0).ok_or_else(|| {
            Error::format(addr.0, format!("{what}: address {:#x} overflows", addr.0))
        })?;
        if abs > self.len() {
            return Err(Error::format(
                abs,
                format!(
                    "{what}: address {abs:#x} is past the end of the file ({} bytes)",
                    self.len()
                ),
            ));
        }
        Ok(abs)
    }

    /// Checks that `len` bytes at `addr` lie in the file; their absolute
    /// start.
    pub fn check_range(&self, addr: Address, len: u64, what: &str) -> Result<u64> {
        let start = self.absolute(addr, what)?;
        let avail = self.len() - start;
        if len > avail {
            return Err(Error::format(
                start,
                format!("{what}: expected {len} bytes, the file has {avail} left"),
            ));
        }
        Ok(start)
    }

    /// `len` bytes of metadata at `addr`, checked against the file length
    /// (from a paged source: fetched once and kept while the source lives).
    pub fn slice(&self, addr: Address, len: u64, what: &str) -> Result<&'a [u8]> {
        let start = self.check_range(addr, len, what)?;
        match self.src {
            Src::Bytes(b) => Ok(&b[start as usize..(start + len) as usize]),
            Src::Pages(p) => {
                let n = usize::try_from(len)
                    .map_err(|_| Error::format(start, format!("{what}: {len} bytes")))?;
                Ok(&p.pinned(start, n)?[..n])
            }
        }
    }

    /// `len` bytes of data at `addr` (chunks, contiguous storage): borrowed
    /// from a file in memory, copied from a paged source and not kept.
    pub fn data(&self, addr: Address, len: u64, what: &str) -> Result<std::borrow::Cow<'a, [u8]>> {
        let start = self.check_range(addr, len, what)?;
        match self.src {
            Src::Bytes(b) => Ok(std::borrow::Cow::Borrowed(
                &b[start as usize..(start + len) as usize],
            )),
            Src::Pages(p) => {
                let n = usize::try_from(len)
                    .map_err(|_| Error::format(start, format!("{what}: {len} bytes")))?;
                Ok(std::borrow::Cow::Owned(p.copy(start, n)?))
            }
        }
    }

    /// Fills `out` with the data at `addr` (chunks, contiguous storage):
    /// copied from a file in memory, read straight into `out` from a paged
    /// source (from what [`FileView::prefetch`] fetched, when it covers it).
    pub fn read_data_into(&self, addr: Address, out: &mut [u8], what: &str) -> Result<()> {
        let len = out.len() as u64;
        let start = self.check_range(addr, len, what)?;
        match self.src {
            Src::Bytes(b) => {
                out.copy_from_slice(&b[start as usize..(start + len) as usize]);
                Ok(())
            }
            Src::Pages(p) => p.read_into(start, out),
        }
    }

    /// Fills each buffer with the data at its address, like
    /// [`FileView::read_data_into`] for each, but given at once: a local
    /// file without a map reads them on several threads. Every range is
    /// checked before anything is read.
    pub fn read_data_many(&self, reads: &mut [(Address, &mut [u8])], what: &str) -> Result<()> {
        let mut abs: Vec<(u64, &mut [u8])> = crate::buf::try_with_capacity(reads.len(), "reads")?;
        for (addr, out) in reads.iter_mut() {
            abs.push((self.check_range(*addr, out.len() as u64, what)?, &mut **out));
        }
        match self.src {
            Src::Bytes(b) => {
                for (start, out) in abs {
                    let start = start as usize;
                    out.copy_from_slice(&b[start..start + out.len()]);
                }
                Ok(())
            }
            Src::Pages(p) => p.read_many_into(&mut abs),
        }
    }

    /// Whether [`FileView::prefetch`] does anything: a paged source that
    /// fetches announced ranges together (remote ones). Never for a file in
    /// memory or mapped, whose reads stay zero-copy.
    pub fn wants_prefetch(&self) -> bool {
        match self.src {
            Src::Bytes(_) => false,
            Src::Pages(p) => p.wants_prefetch(),
        }
    }

    /// Announces the (address, length) ranges of data the next reads ask
    /// for: a remote source fetches them with one planned
    /// [`read_ranges`](crate::io::source::ReadAt::read_ranges) (neighbours
    /// merged, independent ranges concurrently, each byte once) and serves
    /// the reads from them. Ranges outside the file are left to the reads,
    /// which report them. A no-op for files in memory or mapped.
    pub fn prefetch(&self, ranges: &[(Address, u64)]) {
        if let Src::Pages(p) = self.src {
            if !p.wants_prefetch() {
                return;
            }
            let abs: Vec<(u64, u64)> = ranges
                .iter()
                .filter(|&&(a, n)| self.check_range(a, n, "prefetch").is_ok())
                .map(|&(a, n)| (self.base.saturating_add(a.0), n))
                .collect();
            p.prefetch(&abs);
        }
    }

    /// A cursor from `addr` to the end of the file (from a paged source, a
    /// cursor that fetches as it reads).
    pub fn cursor(&self, addr: Address, what: &str) -> Result<Cursor<'a>> {
        let start = self.absolute(addr, what)?;
        match self.src {
            Src::Bytes(b) => Ok(Cursor::new(&b[start as usize..], start, self.sizes)),
            Src::Pages(p) => Cursor::paged(p, start, self.sizes),
        }
    }

    /// A cursor over exactly `len` bytes at `addr`.
    pub fn cursor_len(&self, addr: Address, len: u64, what: &str) -> Result<Cursor<'a>> {
        let s = self.slice(addr, len, what)?;
        let start = self.absolute(addr, what)?;
        Ok(Cursor::new(s, start, self.sizes))
    }

    /// Absolute file address of `addr`, for error messages (saturating).
    pub fn abs_u64(&self, addr: Address) -> u64 {
        self.base.saturating_add(addr.0)
    }
}

/// Verifies a lookup3 checksum stored little-endian right after `covered`.
///
/// `at` is the absolute address of the checksum field, for the error.
pub fn verify_checksum(covered: &[u8], stored: u32, at: u64, what: &str) -> Result<()> {
    let computed = checksum::metadata_checksum(covered);
    if computed != stored {
        return Err(Error::format(
            at,
            format!("{what}: checksum mismatch, stored {stored:#010x}, computed {computed:#010x}"),
        ));
    }
    Ok(())
}

/// Where encoders that build linked structures (trees, heaps) put their
/// blocks: space is reserved first, so a block can name its parent before
/// the parent is written.
pub(crate) trait Place {
    /// Reserves `len` bytes of new file space.
    fn alloc(&mut self, len: u64) -> Result<Address>;
    /// Stages `bytes` for space reserved with [`Place::alloc`].
    fn put_at(&mut self, addr: Address, bytes: Vec<u8>);
    /// Reserves space for `bytes` and stages them.
    fn put(&mut self, bytes: Vec<u8>) -> Result<Address> {
        let addr = self.alloc(bytes.len() as u64)?;
        self.put_at(addr, bytes);
        Ok(addr)
    }
}

/// Appends `value`'s low `width` bytes, little-endian.
pub(crate) fn put_uint(out: &mut Vec<u8>, value: u64, width: usize) {
    out.extend_from_slice(&value.to_le_bytes()[..width]);
}

/// An in-memory file image for encoder tests: [`Place`] appends, 8-byte
/// aligned, and addresses are offsets into the image.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct TestImage(pub Vec<u8>);

#[cfg(test)]
impl TestImage {
    /// A view of the image as a file with default sizes and no user block.
    pub(crate) fn view(&self) -> FileView<'_> {
        FileView::new(&self.0, Sizes::DEFAULT, 0)
    }
}

#[cfg(test)]
impl Place for TestImage {
    fn alloc(&mut self, len: u64) -> Result<Address> {
        let at = self.0.len().div_ceil(8) * 8;
        self.0.resize(at + len as usize, 0);
        Ok(Address(at as u64))
    }

    fn put_at(&mut self, addr: Address, bytes: Vec<u8>) {
        let at = addr.0 as usize;
        self.0[at..at + bytes.len()].copy_from_slice(&bytes);
    }
}
