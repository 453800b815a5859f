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
        FileView {
            bytes,
            sizes: Sizes::DEFAULT,
            base: 0,
        }
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
