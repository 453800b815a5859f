//! Local heaps: the name store of old-style (symbol table) groups.
//!
//! A local heap is a small header pointing at one contiguous data segment.
//! Symbol table entries and v1 B-tree group keys hold byte offsets into that
//! segment, where NUL-terminated link names (and soft-link values) live.

use super::{Address, FileView};
use crate::error::{Error, Result};

/// A parsed local heap: its data segment, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub struct LocalHeap<'a> {
    /// The bytes of the data segment.
    data: &'a [u8],
    /// Address of the data segment (relative to the base address).
    data_address: Address,
    /// Absolute file address of the data segment, for errors.
    data_abs: u64,
}

impl<'a> LocalHeap<'a> {
    /// Parses the local heap header at `addr` and borrows its data segment.
    ///
    /// ```text
    /// Local Heap (spec III.D), version 0:
    /// 0  "HEAP"
    /// 4  Version (1) = 0 | Reserved (3)
    /// 8  Data Segment Size                 (length)
    ///    Offset to Head of Free-list       (length; all ones = no free block)
    ///    Address of Data Segment           (offset)
    /// ```
    pub fn parse(view: &FileView<'a>, addr: Address) -> Result<LocalHeap<'a>> {
        let mut c = view.cursor(addr, "local heap")?;
        c.signature(b"HEAP", "local heap")?;
        let at = c.at();
        let version = c.u8("local heap version")?;
        if version != 0 {
            return Err(Error::format(
                at,
                format!("local heap: expected version 0, found {version}"),
            ));
        }
        c.skip(3, "local heap reserved bytes")?;
        let size = c.length("local heap data segment size")?;
        let _free_list = c.length("local heap free-list offset")?;
        let data_at = c.at();
        let data_address = c.address("local heap data segment address")?;
        if data_address.is_undefined() {
            return Err(Error::format(
                data_at,
                "local heap: expected a data segment address, found the undefined address",
            ));
        }
        let data = view.slice(data_address, size, "local heap data segment")?;
        Ok(LocalHeap {
            data,
            data_address,
            data_abs: view.abs_u64(data_address),
        })
    }

    /// The whole data segment.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Address of the data segment.
    pub fn data_address(&self) -> Address {
        self.data_address
    }

    /// The NUL-terminated string starting `offset` bytes into the data
    /// segment, without its NUL. Fails if `offset` is outside the segment or
    /// no NUL follows within it.
    pub fn string_at(&self, offset: u64) -> Result<&'a [u8]> {
        let at = self.data_abs.saturating_add(offset);
        let start = usize::try_from(offset)
            .ok()
            .filter(|&o| o < self.data.len())
            .ok_or_else(|| {
                Error::format(
                    at,
                    format!(
                        "local heap string: offset {offset} is outside the {}-byte data segment",
                        self.data.len()
                    ),
                )
            })?;
        let rest = &self.data[start..];
        match rest.iter().position(|&b| b == 0) {
            Some(n) => Ok(&rest[..n]),
            None => Err(Error::format(
                at,
                format!(
                    "local heap string at offset {offset}: no NUL terminator before the end of \
                     the data segment"
                ),
            )),
        }
    }
}

/// Bytes of a local heap header (8-byte offsets and lengths).
pub const LOCAL_HEAP_HEADER_LEN: usize = 32;

/// libhdf5's "no free block" value for the free-list offsets
/// (`H5HL_FREE_NULL`).
pub const FREE_NULL: u64 = 1;

/// Smallest free block: next-free offset and size (two lengths).
pub const FREE_BLOCK_MIN: usize = 16;

/// Encodes a local heap header ("HEAP", version 0) for a data segment of
/// `data.len()` bytes at `data_address` whose first free block starts at
/// `free_offset` (`None`: no free block, stored as libhdf5's
/// [`FREE_NULL`]). The data segment is written separately; libhdf5 puts it
/// right after the header (`data_address == header_address + 32`), and
/// `header_address` is only used to check nothing overlaps.
pub fn encode_local_heap(
    header_address: Address,
    data_address: Address,
    data: &[u8],
    free_offset: Option<u64>,
) -> Vec<u8> {
    debug_assert!(
        data_address.0
            >= header_address
                .0
                .saturating_add(LOCAL_HEAP_HEADER_LEN as u64)
            || data_address.0.saturating_add(data.len() as u64) <= header_address.0
    );
    let mut b = Vec::with_capacity(LOCAL_HEAP_HEADER_LEN);
    b.extend_from_slice(b"HEAP");
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&(data.len() as u64).to_le_bytes());
    b.extend_from_slice(&free_offset.unwrap_or(FREE_NULL).to_le_bytes());
    b.extend_from_slice(&data_address.0.to_le_bytes());
    b
}

/// Builds a local heap data segment the way libhdf5 fills a new group's
/// heap: the empty string at offset 0, then each name NUL-terminated and
/// padded to a multiple of 8, then one free block over the slack.
///
/// ```text
/// Free block (in the data segment, spec III.D):
///   Offset of Next Free Block (length; 1 = none) | Size of This Block (length)
/// ```
#[derive(Debug, Clone)]
pub struct LocalHeapBuilder {
    data: Vec<u8>,
    capacity: usize,
}

impl LocalHeapBuilder {
    /// libhdf5's data segment size for a new group with the default
    /// estimates (4 entries of 8-byte names): 88 bytes.
    pub const DEFAULT_SIZE: usize = 88;

    /// A heap holding only the empty string, to become
    /// [`LocalHeapBuilder::DEFAULT_SIZE`] bytes.
    pub fn new() -> LocalHeapBuilder {
        Self::with_capacity(Self::DEFAULT_SIZE)
    }

    /// A heap holding only the empty string, to become at least `size`
    /// bytes (rounded up to 8).
    pub fn with_capacity(size: usize) -> LocalHeapBuilder {
        LocalHeapBuilder {
            data: vec![0; 8],
            capacity: size.div_ceil(8) * 8,
        }
    }

    /// A builder continuing an existing data segment whose used part is
    /// `used` (8-aligned, e.g. the offset of its free block), keeping its
    /// size `size` as the capacity.
    pub fn from_existing(used: &[u8], size: usize) -> LocalHeapBuilder {
        let mut data = used.to_vec();
        data.resize(used.len().div_ceil(8) * 8, 0);
        LocalHeapBuilder {
            data,
            capacity: size.max(used.len()).div_ceil(8) * 8,
        }
    }

    /// Adds `name` (NUL-terminated, padded to 8) and returns its offset.
    /// The empty name is the string at offset 0.
    pub fn add(&mut self, name: &[u8]) -> u64 {
        if name.is_empty() {
            return 0;
        }
        let at = self.data.len();
        self.data.extend_from_slice(name);
        self.data.push(0);
        self.data.resize(self.data.len().div_ceil(8) * 8, 0);
        at as u64
    }

    /// Bytes used by strings so far.
    pub fn used(&self) -> usize {
        self.data.len()
    }

    /// Size of the segment [`build`](Self::build) returns: the capacity,
    /// doubled (as libhdf5 grows a heap) until the strings fit.
    pub fn size(&self) -> usize {
        let mut size = self.capacity.max(8);
        while size < self.data.len() {
            size = size.saturating_mul(2);
        }
        size
    }

    /// Offset of the free block [`build`](Self::build) writes, if the
    /// slack is large enough for one.
    pub fn free_offset(&self) -> Option<u64> {
        (self.size() - self.data.len() >= FREE_BLOCK_MIN).then_some(self.data.len() as u64)
    }

    /// The data segment: the strings, then a free block over the slack
    /// (slack of 8 bytes, too small for one, stays zero).
    pub fn build(&self) -> Vec<u8> {
        let size = self.size();
        let mut b = self.data.clone();
        if let Some(off) = self.free_offset() {
            let free = (size as u64) - off;
            b.extend_from_slice(&FREE_NULL.to_le_bytes());
            b.extend_from_slice(&free.to_le_bytes());
        }
        b.resize(size, 0);
        b
    }
}

impl Default for LocalHeapBuilder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::Sizes;

    /// A local heap header at 0 with its data segment right after it (at 32).
    pub(crate) fn heap_bytes(data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"HEAP");
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&(data.len() as u64).to_le_bytes());
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        b.extend_from_slice(&32u64.to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    fn view(bytes: &[u8]) -> FileView<'_> {
        FileView::new(bytes, Sizes::DEFAULT, 0)
    }

    #[test]
    fn strings_and_bounds() {
        let bytes = heap_bytes(b"\0abc\0de\0\0\0\0\0\0\0\0\0");
        let v = view(&bytes);
        let h = LocalHeap::parse(&v, Address(0)).unwrap();
        assert_eq!(h.string_at(0).unwrap(), b"");
        assert_eq!(h.string_at(1).unwrap(), b"abc");
        assert_eq!(h.string_at(5).unwrap(), b"de");
        assert!(h.string_at(16).is_err());
        assert!(h.string_at(u64::MAX).is_err());
    }

    #[test]
    fn unterminated_string() {
        let bytes = heap_bytes(b"\0abc");
        let v = view(&bytes);
        let h = LocalHeap::parse(&v, Address(0)).unwrap();
        let e = h.string_at(1).unwrap_err().to_string();
        assert!(e.contains("NUL"), "{e}");
    }

    #[test]
    fn builder_round_trips() {
        let mut hb = LocalHeapBuilder::new();
        assert_eq!(hb.add(b""), 0);
        assert_eq!(hb.add(b"x"), 8);
        assert_eq!(hb.free_offset(), Some(16));
        let data = hb.build();
        assert_eq!(data.len(), 88);
        // Exactly the root heap h5py writes for a group with member "x".
        let mut want = vec![0u8; 88];
        want[8] = b'x';
        want[16] = 1;
        want[24] = 72;
        assert_eq!(data, want);
        let mut bytes = encode_local_heap(Address(0), Address(32), &data, hb.free_offset());
        assert_eq!(bytes.len(), LOCAL_HEAP_HEADER_LEN);
        bytes.extend_from_slice(&data);
        let h = LocalHeap::parse(&view(&bytes), Address(0)).unwrap();
        assert_eq!(h.string_at(8).unwrap(), b"x");
        assert_eq!(h.string_at(0).unwrap(), b"");
        // Growth past the capacity doubles.
        let mut hb = LocalHeapBuilder::new();
        let offs: Vec<u64> = (0..20)
            .map(|i| hb.add(format!("name{i:03}").as_bytes()))
            .collect();
        assert_eq!(hb.size(), 176);
        let data = hb.build();
        let mut bytes = encode_local_heap(Address(0), Address(32), &data, hb.free_offset());
        bytes.extend_from_slice(&data);
        let h = LocalHeap::parse(&view(&bytes), Address(0)).unwrap();
        for (i, o) in offs.iter().enumerate() {
            assert_eq!(h.string_at(*o).unwrap(), format!("name{i:03}").as_bytes());
        }
        // No room for a free block.
        let mut hb = LocalHeapBuilder::with_capacity(24);
        hb.add(b"abcdefg");
        assert_eq!(hb.free_offset(), None);
        assert_eq!(hb.build().len(), 24);
    }

    #[test]
    fn bad_header() {
        let mut bytes = heap_bytes(b"\0abc");
        bytes[4] = 1;
        assert!(LocalHeap::parse(&view(&bytes), Address(0)).is_err());
        let mut bytes = heap_bytes(b"\0abc");
        bytes[8] = 200; // data segment past the end of the file
        assert!(LocalHeap::parse(&view(&bytes), Address(0)).is_err());
        assert!(LocalHeap::parse(&view(b"HEA"), Address(0)).is_err());
    }
}
