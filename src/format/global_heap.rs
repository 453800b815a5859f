//! Global heap collections: where variable-length data (vlen strings and
//! sequences) lives.
//!
//! A dataset or attribute element of a variable-length type holds a small
//! reference (length, collection address, object index); the bytes are object
//! `index` of the global heap collection at that address.

use std::collections::HashMap;

use super::{Address, Cursor, FileView};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// One parsed global heap collection ("GCOL"), its objects borrowed from the
/// file.
#[derive(Debug, Clone)]
pub struct GlobalHeapCollection<'a> {
    address: Address,
    abs: u64,
    /// (heap object index, object data) in file order; index 0 (free space)
    /// is not kept.
    objects: Vec<(u16, &'a [u8])>,
}

/// Bytes before the first object: signature, version, reserved, size.
fn collection_header_len(length_size: usize) -> usize {
    8 + length_size
}

impl<'a> GlobalHeapCollection<'a> {
    /// Parses the collection at `addr`.
    ///
    /// ```text
    /// Global Heap Collection (spec III.E), version 1:
    /// 0  "GCOL"
    /// 4  Version (1) = 1 | Reserved (3)
    /// 8  Collection Size (length; includes this header)
    ///    Global Heap Object 1 .. N, then (optionally) object 0 = free space:
    ///      Heap Object Index (2) | Reference Count (2) | Reserved (4)
    ///      Object Size (length)
    ///      Object Data (Object Size bytes, padded to a multiple of 8)
    /// ```
    pub fn parse(
        view: &FileView<'a>,
        addr: Address,
        limits: &Limits,
    ) -> Result<GlobalHeapCollection<'a>> {
        let mut c = view.cursor(addr, "global heap collection")?;
        let abs = c.at();
        c.signature(b"GCOL", "global heap collection")?;
        let at = c.at();
        let version = c.u8("global heap collection version")?;
        if version != 1 {
            return Err(Error::format(
                at,
                format!("global heap collection: expected version 1, found {version}"),
            ));
        }
        c.skip(3, "global heap collection reserved bytes")?;
        let size_at = c.at();
        let size = c.length("global heap collection size")?;
        let length_size = usize::from(view.sizes.length);
        let header = collection_header_len(length_size) as u64;
        if size < header {
            return Err(Error::format(
                size_at,
                format!(
                    "global heap collection: size {size} is smaller than its {header}-byte header"
                ),
            ));
        }
        let mut c = view.cursor_len(addr, size, "global heap collection")?;
        c.skip(header as usize, "global heap collection header")?;
        let object_header = 8 + length_size;
        // Every object takes at least its header, so this bounds the count.
        let max_objects = c.remaining() / object_header;
        let entry = std::mem::size_of::<(u16, &[u8])>() as u64;
        limits.check_alloc(
            "global heap object table",
            (max_objects as u64).saturating_mul(entry),
        )?;
        let mut objects: Vec<(u16, &'a [u8])> = Vec::with_capacity(max_objects.min(4096));
        let mut seen = std::collections::HashSet::new();
        while c.remaining() >= object_header {
            let obj_at = c.at();
            let index = c.u16("global heap object index")?;
            let _refcount = c.u16("global heap object reference count")?;
            c.skip(4, "global heap object reserved bytes")?;
            let obj_size = c.length("global heap object size")?;
            if index == 0 {
                // Free space: the rest of the collection.
                break;
            }
            let n = usize::try_from(obj_size).map_err(|_| {
                Error::format(
                    obj_at,
                    format!("global heap object {index}: size {obj_size} overflows"),
                )
            })?;
            let data = c.read_bytes(n, "global heap object data").map_err(|_| {
                Error::format(
                    obj_at,
                    format!(
                        "global heap object {index}: size {obj_size} runs past the end of the \
                         collection ({} bytes left)",
                        c.remaining()
                    ),
                )
            })?;
            if !seen.insert(index) {
                return Err(Error::format(
                    obj_at,
                    format!("global heap collection: object index {index} appears twice"),
                ));
            }
            objects.push((index, data));
            let pad = (8 - n % 8) % 8;
            if pad > c.remaining() {
                // The last object may end flush with the collection.
                break;
            }
            c.skip(pad, "global heap object padding")?;
        }
        Ok(GlobalHeapCollection {
            address: addr,
            abs,
            objects,
        })
    }

    /// Address of the collection.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Number of (non-free-space) objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when the collection holds no objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The data of heap object `index`.
    pub fn object(&self, index: u32) -> Result<&'a [u8]> {
        // Writers number objects 1, 2, 3, ... in the order they store
        // them: look there first, then search (a collection can hold
        // thousands of strings, and a dataset reads every one).
        let guess = (index as usize).wrapping_sub(1);
        if let Some((i, d)) = self.objects.get(guess) {
            if u32::from(*i) == index {
                return Ok(d);
            }
        }
        self.objects
            .iter()
            .find(|(i, _)| u32::from(*i) == index)
            .map(|(_, d)| *d)
            .ok_or_else(|| {
                Error::format(
                    self.abs,
                    format!(
                        "global heap collection at {:#x}: no object with index {index} \
                         ({} objects)",
                        self.address.0,
                        self.objects.len()
                    ),
                )
            })
    }
}

/// A variable-length reference as stored in a dataset or attribute element.
///
/// ```text
/// 0  Length (4)          -- number of base elements (bytes for strings)
/// 4  Collection Address  (offset)
///    Object Index (4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlenRef {
    /// Sequence length in base elements (characters for strings).
    pub length: u32,
    /// Address of the global heap collection.
    pub collection: Address,
    /// Index of the object in the collection.
    pub index: u32,
}

impl VlenRef {
    /// Size in bytes of a stored reference for the file's offset size.
    pub fn encoded_len(sizes: super::Sizes) -> usize {
        8 + usize::from(sizes.offset)
    }

    /// Decodes a reference from the first bytes of `element`.
    pub fn parse(c: &mut Cursor<'_>) -> Result<VlenRef> {
        let length = c.u32("vlen reference length")?;
        let collection = c.address("vlen reference collection address")?;
        let index = c.u32("vlen reference object index")?;
        Ok(VlenRef {
            length,
            collection,
            index,
        })
    }

    fn from_element(sizes: super::Sizes, element: &[u8]) -> Result<VlenRef> {
        // The element is caller memory (a copy of dataset bytes), so errors
        // carry address 0 and say so through their description.
        let mut c = Cursor::new(element, 0, sizes);
        VlenRef::parse(&mut c).map_err(|e| e.context("vlen element"))
    }

    /// True for the reference libhdf5 writes for an empty sequence / string.
    pub fn is_empty(&self) -> bool {
        self.length == 0 || self.collection.is_undefined() || self.collection.0 == 0
    }
}

/// Resolves one stored vlen reference to the bytes of its heap object.
///
/// The length field is not applied: the object holds `length` base elements,
/// and only the caller knows the base type's size. An empty reference
/// (length 0 or no collection) gives an empty slice.
pub fn read_vlen<'a>(view: &FileView<'a>, element: &[u8], limits: &Limits) -> Result<&'a [u8]> {
    let r = VlenRef::from_element(view.sizes, element)?;
    if r.is_empty() {
        return Ok(&[]);
    }
    GlobalHeapCollection::parse(view, r.collection, limits)?.object(r.index)
}

/// Parsed collections keyed by address, for resolving many vlen references
/// (e.g. every element of a vlen-string dataset) without re-parsing.
#[derive(Debug, Default)]
pub struct GlobalHeapCache<'a> {
    collections: HashMap<u64, GlobalHeapCollection<'a>>,
}

impl<'a> GlobalHeapCache<'a> {
    /// An empty cache.
    pub fn new() -> Self {
        GlobalHeapCache {
            collections: HashMap::new(),
        }
    }

    /// The collection at `addr`, parsed on first use.
    pub fn collection(
        &mut self,
        view: &FileView<'a>,
        addr: Address,
        limits: &Limits,
    ) -> Result<&GlobalHeapCollection<'a>> {
        use std::collections::hash_map::Entry;
        match self.collections.entry(addr.0) {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => Ok(v.insert(GlobalHeapCollection::parse(view, addr, limits)?)),
        }
    }

    /// Like [`read_vlen`], reusing parsed collections.
    pub fn read_vlen(
        &mut self,
        view: &FileView<'a>,
        element: &[u8],
        limits: &Limits,
    ) -> Result<&'a [u8]> {
        let r = VlenRef::from_element(view.sizes, element)?;
        if r.is_empty() {
            return Ok(&[]);
        }
        self.collection(view, r.collection, limits)?.object(r.index)
    }
}

/// libhdf5's smallest global heap collection (`H5HG_MINSIZE`).
pub const MIN_COLLECTION_SIZE: usize = 4096;

/// Encoded size of the objects `lens` in a collection: header, then per
/// object a 16-byte header and its data padded to 8 (8-byte lengths).
pub fn collection_used_len(lens: impl IntoIterator<Item = usize>) -> usize {
    16 + lens
        .into_iter()
        .map(|n| 16 + n.div_ceil(8) * 8)
        .sum::<usize>()
}

/// Encodes a global heap collection ("GCOL", version 1, 8-byte lengths)
/// holding `objects` as heap objects 1..=n, as libhdf5 writes vlen data:
/// reference count 0, data padded to 8 bytes, the collection at least
/// [`MIN_COLLECTION_SIZE`] bytes with the rest described by free-space
/// object 0 (whose size counts its own 16-byte header). Slack of 8 bytes,
/// too small for an object header, stays zero (libhdf5 reads it as free
/// space).
///
/// A reference to object `i` (1-based) is
/// `VlenRef { length, collection, index: i }`, see [`encode_vlen_ref`].
pub fn encode_collection(objects: &[&[u8]]) -> Result<Vec<u8>> {
    if objects.len() > usize::from(u16::MAX) {
        return Err(Error::invalid(format!(
            "global heap collection: {} objects (at most 65535)",
            objects.len()
        )));
    }
    let used = collection_used_len(objects.iter().map(|o| o.len()));
    let size = used.max(MIN_COLLECTION_SIZE);
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(b"GCOL");
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&(size as u64).to_le_bytes());
    for (i, o) in objects.iter().enumerate() {
        b.extend_from_slice(&((i + 1) as u16).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&(o.len() as u64).to_le_bytes());
        b.extend_from_slice(o);
        b.resize(b.len().div_ceil(8) * 8, 0);
    }
    let free = size - b.len();
    if free >= 16 {
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&(free as u64).to_le_bytes());
    }
    b.resize(size, 0);
    Ok(b)
}

/// Encodes a stored vlen reference (see [`VlenRef`]): length (4),
/// collection address (8), object index (4).
pub fn encode_vlen_ref(r: &VlenRef) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&r.length.to_le_bytes());
    b[4..12].copy_from_slice(&r.collection.0.to_le_bytes());
    b[12..].copy_from_slice(&r.index.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sizes;

    fn view(bytes: &[u8]) -> FileView<'_> {
        FileView::new(bytes, Sizes::DEFAULT, 0)
    }

    /// A collection at `at` (bytes before it are zero) holding `objs`.
    fn collection(at: usize, objs: &[(u16, &[u8])], free: bool) -> Vec<u8> {
        let mut body = Vec::new();
        for (i, d) in objs {
            body.extend_from_slice(&i.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[0; 4]);
            body.extend_from_slice(&(d.len() as u64).to_le_bytes());
            body.extend_from_slice(d);
            body.resize(body.len().div_ceil(8) * 8, 0);
        }
        if free {
            body.extend_from_slice(&[0; 8]);
            body.extend_from_slice(&64u64.to_le_bytes());
            body.extend_from_slice(&[0; 48]);
        }
        let mut b = vec![0u8; at];
        b.extend_from_slice(b"GCOL");
        b.extend_from_slice(&[1, 0, 0, 0]);
        b.extend_from_slice(&((16 + body.len()) as u64).to_le_bytes());
        b.extend_from_slice(&body);
        b
    }

    #[test]
    fn objects_and_missing_index() {
        let bytes = collection(0, &[(1, b"hello"), (2, b""), (3, b"eight!!!")], true);
        let v = view(&bytes);
        let c = GlobalHeapCollection::parse(&v, Address(0), &Limits::default()).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.object(1).unwrap(), b"hello");
        assert_eq!(c.object(2).unwrap(), b"");
        assert_eq!(c.object(3).unwrap(), b"eight!!!");
        let e = c.object(7).unwrap_err().to_string();
        assert!(e.contains("index 7") && e.contains("0x0"), "{e}");
    }

    #[test]
    fn vlen_references() {
        let bytes = collection(8, &[(1, b"abc"), (5, b"xyz!")], false);
        let v = view(&bytes);
        let mut el = Vec::new();
        el.extend_from_slice(&4u32.to_le_bytes());
        el.extend_from_slice(&8u64.to_le_bytes());
        el.extend_from_slice(&5u32.to_le_bytes());
        let lim = Limits::default();
        assert_eq!(read_vlen(&v, &el, &lim).unwrap(), b"xyz!");
        let mut cache = GlobalHeapCache::new();
        assert_eq!(cache.read_vlen(&v, &el, &lim).unwrap(), b"xyz!");
        el[12] = 1;
        assert_eq!(cache.read_vlen(&v, &el, &lim).unwrap(), b"abc");
        // Empty string: length 0, address 0.
        let empty = [0u8; 16];
        assert_eq!(read_vlen(&v, &empty, &lim).unwrap(), b"");
        assert!(read_vlen(&v, &empty[..3], &lim).is_err());
    }

    #[test]
    fn encode_round_trips() {
        let lim = Limits::default();
        let b = encode_collection(&[b"csr"]).unwrap();
        assert_eq!(b.len(), 4096);
        // As libhdf5 writes h5py's 'csr' attribute value.
        assert_eq!(&b[8..16], &4096u64.to_le_bytes());
        assert_eq!(
            &b[16..48],
            b"\x01\0\0\0\0\0\0\0\x03\0\0\0\0\0\0\0csr\0\0\0\0\0\0\0\0\0\0\0\0\0"
        );
        assert_eq!(&b[48..56], &4056u64.to_le_bytes());
        let c = GlobalHeapCollection::parse(&view(&b), Address(0), &lim).unwrap();
        assert_eq!(c.object(1).unwrap(), b"csr");
        let big = vec![7u8; 5000];
        let objs: Vec<&[u8]> = vec![b"", b"a", &big, b"12345678"];
        let b = encode_collection(&objs).unwrap();
        assert_eq!(b.len(), collection_used_len(objs.iter().map(|o| o.len())));
        let c = GlobalHeapCollection::parse(&view(&b), Address(0), &lim).unwrap();
        for (i, o) in objs.iter().enumerate() {
            assert_eq!(c.object(i as u32 + 1).unwrap(), *o);
        }
        let r = VlenRef {
            length: 3,
            collection: Address(0x828),
            index: 1,
        };
        let e = encode_vlen_ref(&r);
        let mut cur = Cursor::new(&e, 0, Sizes::DEFAULT);
        assert_eq!(VlenRef::parse(&mut cur).unwrap(), r);
    }

    #[test]
    fn hostile_collections() {
        let lim = Limits::default();
        // Object size past the end.
        let mut bytes = collection(0, &[(1, b"hello")], false);
        bytes[24] = 0xff;
        assert!(GlobalHeapCollection::parse(&view(&bytes), Address(0), &lim).is_err());
        // Collection size past the end of the file.
        let mut bytes = collection(0, &[(1, b"hello")], false);
        bytes[8] = 0xff;
        bytes[13] = 0xff;
        assert!(GlobalHeapCollection::parse(&view(&bytes), Address(0), &lim).is_err());
        // Duplicate index.
        let bytes = collection(0, &[(1, b"a"), (1, b"b")], false);
        assert!(GlobalHeapCollection::parse(&view(&bytes), Address(0), &lim).is_err());
        // Collection size below the header.
        let mut bytes = collection(0, &[], false);
        bytes[8] = 3;
        assert!(GlobalHeapCollection::parse(&view(&bytes), Address(0), &lim).is_err());
        // Allocation limit.
        let bytes = collection(0, &[(1, &[7u8; 100])], false);
        let tight = Limits {
            max_alloc: 100,
            ..Limits::default()
        };
        assert!(GlobalHeapCollection::parse(&view(&bytes), Address(0), &tight).is_err());
    }
}
