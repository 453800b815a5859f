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

/// The bytes of the whole file plus what is needed to resolve addresses.
#[derive(Debug, Clone, Copy)]
pub struct FileView<'a> {
    /// Every byte of the file, user block included.
    pub bytes: &'a [u8],
    /// Offset/length widths.
    pub sizes: Sizes,
    /// Absolute position that relative addresses count from (the superblock's
    /// base address, which is non-zero with a user block).
    pub base: u64,
}

impl<'a> FileView<'a> {
    /// Absolute byte position of `addr`, checked against the file length.
    pub fn absolute(&self, addr: Address, what: &str) -> Result<usize> {
        if addr.is_undefined() {
            return Err(Error::format(
                self.base,
                format!("{what}: expected an address, found the undefined address"),
            ));
        }
        let abs = self.base.checked_add(addr.0).ok_or_else(|| {
            Error::format(addr.0, format!("{what}: address {:#x} overflows", addr.0))
        })?;
        if abs > self.bytes.len() as u64 {
            return Err(Error::format(
                abs,
                format!(
                    "{what}: address {abs:#x} is past the end of the file ({} bytes)",
                    self.bytes.len()
                ),
            ));
        }
        Ok(abs as usize)
    }

    /// `len` bytes at `addr`, checked against the file length.
    pub fn slice(&self, addr: Address, len: u64, what: &str) -> Result<&'a [u8]> {
        let start = self.absolute(addr, what)?;
        let avail = (self.bytes.len() - start) as u64;
        if len > avail {
            return Err(Error::format(
                start as u64,
                format!("{what}: expected {len} bytes, the file has {avail} left"),
            ));
        }
        Ok(&self.bytes[start..start + len as usize])
    }

    /// A cursor from `addr` to the end of the file.
    pub fn cursor(&self, addr: Address, what: &str) -> Result<Cursor<'a>> {
        let start = self.absolute(addr, what)?;
        Ok(Cursor::new(&self.bytes[start..], start as u64, self.sizes))
    }

    /// A cursor over exactly `len` bytes at `addr`.
    pub fn cursor_len(&self, addr: Address, len: u64, what: &str) -> Result<Cursor<'a>> {
        let s = self.slice(addr, len, what)?;
        let start = self.absolute(addr, what)?;
        Ok(Cursor::new(s, start as u64, self.sizes))
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
        FileView {
            bytes: &self.0,
            sizes: Sizes::DEFAULT,
            base: 0,
        }
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
