//! Symbol table entries and symbol table nodes ("SNOD"): the members of
//! old-style groups, and the whole old-style group read (B-tree, nodes and
//! local heap together).

use super::btree_v1::group_snod_addresses;
use super::local_heap::LocalHeap;
use super::{Address, Cursor, FileView};
use crate::error::{Error, Result};
use crate::format::types::{Link, LinkTarget};
use crate::limits::Limits;

/// Cache type 1: the scratch pad holds a group's B-tree and heap addresses.
pub const CACHE_GROUP: u32 = 1;
/// Cache type 2: the entry is a soft link; the scratch pad holds the offset
/// of its value in the local heap.
pub const CACHE_SOFT_LINK: u32 = 2;

/// One symbol table entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolTableEntry {
    /// Offset of the link name in the group's local heap.
    pub link_name_offset: u64,
    /// The object's header address (undefined for soft links).
    pub object_header: Address,
    /// 0 nothing cached, 1 group addresses cached, 2 soft link.
    pub cache_type: u32,
    /// Cached B-tree address (cache type 1).
    pub cached_btree: Option<Address>,
    /// Cached local heap address (cache type 1).
    pub cached_heap: Option<Address>,
    /// Offset of the soft link's value in the local heap (cache type 2).
    pub soft_link_offset: Option<u32>,
}

impl SymbolTableEntry {
    /// Size of an entry for the file's offset size.
    pub fn encoded_len(sizes: super::Sizes) -> usize {
        2 * usize::from(sizes.offset) + 4 + 4 + 16
    }

    /// Reads one entry.
    ///
    /// ```text
    /// Symbol Table Entry (spec III.C):
    /// 0  Link Name Offset       (offset)
    ///    Object Header Address  (offset)
    ///    Cache Type (4)
    ///    Reserved (4)
    ///    Scratch-pad Space (16):
    ///      cache type 1: Address of B-tree (offset), Address of Name Heap (offset)
    ///      cache type 2: Offset to Link Value (4)
    /// ```
    pub fn parse(c: &mut Cursor) -> Result<SymbolTableEntry> {
        let link_name_offset = c.uint(
            usize::from(c.sizes().offset),
            "symbol table entry link name offset",
        )?;
        let object_header = c.address("symbol table entry object header address")?;
        let type_at = c.at();
        let cache_type = c.u32("symbol table entry cache type")?;
        c.skip(4, "symbol table entry reserved bytes")?;
        let scratch_at = c.at();
        let scratch = c.read_bytes(16, "symbol table entry scratch-pad")?;
        let mut s = Cursor::new(scratch, scratch_at, c.sizes());
        let (mut cached_btree, mut cached_heap, mut soft_link_offset) = (None, None, None);
        match cache_type {
            0 => {}
            CACHE_GROUP => {
                cached_btree = Some(s.address("symbol table entry cached B-tree address")?);
                cached_heap = Some(s.address("symbol table entry cached heap address")?);
            }
            CACHE_SOFT_LINK => {
                soft_link_offset = Some(s.u32("symbol table entry soft link value offset")?);
            }
            other => {
                return Err(Error::format(
                    type_at,
                    format!("symbol table entry: expected cache type 0, 1 or 2, found {other}"),
                ))
            }
        }
        Ok(SymbolTableEntry {
            link_name_offset,
            object_header,
            cache_type,
            cached_btree,
            cached_heap,
            soft_link_offset,
        })
    }
}

/// Reads the entries of the symbol table node at `addr`.
///
/// ```text
/// Symbol Table Node (spec III.B):
/// 0  "SNOD"
/// 4  Version (1) = 1 | Reserved (1) | Number of Symbols (2)
/// 8  Entries (Number of Symbols used, of 2K allocated)
/// ```
pub fn read_symbol_table_node(
    view: &FileView<'_>,
    addr: Address,
    limits: &Limits,
) -> Result<Vec<SymbolTableEntry>> {
    let mut c = view.cursor(addr, "symbol table node")?;
    c.signature(b"SNOD", "symbol table node")?;
    let at = c.at();
    let version = c.u8("symbol table node version")?;
    if version != 1 {
        return Err(Error::format(
            at,
            format!("symbol table node: expected version 1, found {version}"),
        ));
    }
    c.skip(1, "symbol table node reserved byte")?;
    let n = usize::from(c.u16("symbol table node number of symbols")?);
    let need = n.saturating_mul(SymbolTableEntry::encoded_len(view.sizes));
    if need > c.remaining() {
        return Err(c.error(format!(
            "symbol table node: {n} entries need {need} bytes, only {} remain in the file",
            c.remaining()
        )));
    }
    limits.check_alloc(
        "symbol table node entries",
        (n as u64).saturating_mul(std::mem::size_of::<SymbolTableEntry>() as u64),
    )?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(SymbolTableEntry::parse(&mut c)?);
    }
    Ok(out)
}

/// Lists an old-style group: walks its v1 B-tree (node type 0) to every
/// symbol table node and resolves names through its local heap.
///
/// Soft links (cache type 2) become [`LinkTarget::Soft`] with the value from
/// the local heap; everything else is [`LinkTarget::Hard`]. Links come back
/// in the B-tree's order, which is name order; creation order is not tracked
/// by old-style groups.
pub fn read_group(
    view: &FileView<'_>,
    btree: Address,
    local_heap: Address,
    limits: &Limits,
) -> Result<Vec<Link>> {
    let heap = LocalHeap::parse(view, local_heap)?;
    let mut links = Vec::new();
    for snod in group_snod_addresses(view, btree, limits)? {
        for entry in read_symbol_table_node(view, snod, limits)? {
            let name = heap
                .string_at(entry.link_name_offset)
                .map_err(|e| e.context("group member name"))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let target = match entry.soft_link_offset {
                Some(off) if entry.cache_type == CACHE_SOFT_LINK => {
                    let value = heap
                        .string_at(u64::from(off))
                        .map_err(|e| e.context("soft link value"))?;
                    LinkTarget::Soft(String::from_utf8_lossy(value).into_owned())
                }
                _ => {
                    if entry.object_header.is_undefined() {
                        return Err(Error::format(
                            view.abs_u64(snod),
                            format!("group member {name:?}: hard link to the undefined address"),
                        ));
                    }
                    LinkTarget::Hard(entry.object_header)
                }
            };
            limits.check_alloc(
                "group members",
                ((links.len() + 1) as u64).saturating_mul(64),
            )?;
            links.push(Link {
                name,
                target,
                creation_order: None,
            });
        }
    }
    Ok(links)
}

impl SymbolTableEntry {
    /// Appends the encoded entry (8-byte offsets; see [`Self::parse`] for
    /// the layout): the scratch pad holds the cached B-tree and heap
    /// addresses for cache type 1, the soft link value offset for cache type
    /// 2, zeros otherwise.
    pub fn encode(&self, c: &mut Vec<u8>) {
        c.extend_from_slice(&self.link_name_offset.to_le_bytes());
        c.extend_from_slice(&self.object_header.0.to_le_bytes());
        c.extend_from_slice(&self.cache_type.to_le_bytes());
        c.extend_from_slice(&[0; 4]);
        let mut scratch = [0u8; 16];
        match self.cache_type {
            CACHE_GROUP => {
                let b = self.cached_btree.unwrap_or(Address::UNDEFINED);
                let h = self.cached_heap.unwrap_or(Address::UNDEFINED);
                scratch[..8].copy_from_slice(&b.0.to_le_bytes());
                scratch[8..].copy_from_slice(&h.0.to_le_bytes());
            }
            CACHE_SOFT_LINK => {
                let o = self.soft_link_offset.unwrap_or(0);
                scratch[..4].copy_from_slice(&o.to_le_bytes());
            }
            _ => {}
        }
        c.extend_from_slice(&scratch);
    }

    /// An entry for a hard link with nothing cached (what libhdf5 writes for
    /// datasets, and for groups outside the root entry).
    pub fn hard(link_name_offset: u64, object_header: Address) -> SymbolTableEntry {
        SymbolTableEntry {
            link_name_offset,
            object_header,
            cache_type: 0,
            cached_btree: None,
            cached_heap: None,
            soft_link_offset: None,
        }
    }

    /// An entry for a soft link whose value is at `value_offset` in the
    /// local heap.
    pub fn soft(link_name_offset: u64, value_offset: u32) -> SymbolTableEntry {
        SymbolTableEntry {
            link_name_offset,
            object_header: Address::UNDEFINED,
            cache_type: CACHE_SOFT_LINK,
            cached_btree: None,
            cached_heap: None,
            soft_link_offset: Some(value_offset),
        }
    }
}

/// Size of a symbol table node sized for `2 * group_leaf_k` entries (8-byte
/// offsets): 8 + 2K x 40.
pub fn snod_size(group_leaf_k: u16) -> usize {
    8 + 2 * usize::from(group_leaf_k) * SymbolTableEntry::encoded_len(super::Sizes::DEFAULT)
}

/// Encodes a symbol table node ("SNOD", version 1) holding `entries` (in
/// name order), zero-filled to the `2 * group_leaf_k` entries libhdf5
/// allocates. Fails with more entries than that.
pub fn encode_snod(entries: &[SymbolTableEntry], group_leaf_k: u16) -> Result<Vec<u8>> {
    let cap = 2 * usize::from(group_leaf_k);
    if entries.len() > cap {
        return Err(Error::invalid(format!(
            "symbol table node: {} entries exceed 2K = {cap}",
            entries.len()
        )));
    }
    let size = snod_size(group_leaf_k);
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(b"SNOD");
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in entries {
        e.encode(&mut b);
    }
    b.resize(size, 0);
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::btree_v1::tests::put_node;
    use crate::format::Sizes;

    fn view(bytes: &[u8]) -> FileView<'_> {
        FileView::new(bytes, Sizes::DEFAULT, 0)
    }

    fn entry(name_off: u64, ohdr: u64, cache: u32, scratch: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend_from_slice(&name_off.to_le_bytes());
        e.extend_from_slice(&ohdr.to_le_bytes());
        e.extend_from_slice(&cache.to_le_bytes());
        e.extend_from_slice(&[0; 4]);
        let mut s = scratch.to_vec();
        s.resize(16, 0);
        e.extend_from_slice(&s);
        e
    }

    fn snod(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"SNOD");
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for e in entries {
            b.extend_from_slice(e);
        }
        b
    }

    fn put(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
        if buf.len() < at + bytes.len() {
            buf.resize(at + bytes.len(), 0);
        }
        buf[at..at + bytes.len()].copy_from_slice(bytes);
    }

    #[test]
    fn entry_cache_types() {
        let mut scratch = Vec::new();
        scratch.extend_from_slice(&0x10u64.to_le_bytes());
        scratch.extend_from_slice(&0x20u64.to_le_bytes());
        let bytes = entry(8, 0x60, 1, &scratch);
        let mut c = Cursor::new(&bytes, 0, Sizes::DEFAULT);
        let e = SymbolTableEntry::parse(&mut c).unwrap();
        assert_eq!(e.cached_btree, Some(Address(0x10)));
        assert_eq!(e.cached_heap, Some(Address(0x20)));
        assert_eq!(c.remaining(), 0);
        let bytes = entry(8, u64::MAX, 7, &[]);
        let mut c = Cursor::new(&bytes, 0, Sizes::DEFAULT);
        assert!(SymbolTableEntry::parse(&mut c).is_err());
    }

    #[test]
    fn encode_round_trips() {
        let entries = vec![
            SymbolTableEntry::hard(8, Address(0x320)),
            SymbolTableEntry {
                link_name_offset: 16,
                object_header: Address(0x400),
                cache_type: CACHE_GROUP,
                cached_btree: Some(Address(0x500)),
                cached_heap: Some(Address(0x600)),
                soft_link_offset: None,
            },
            SymbolTableEntry::soft(24, 32),
        ];
        let b = encode_snod(&entries, 4).unwrap();
        assert_eq!(b.len(), snod_size(4));
        assert_eq!(b.len(), 328);
        let got = read_symbol_table_node(&view(&b), Address(0), &Limits::default()).unwrap();
        assert_eq!(got, entries);
        let many = vec![SymbolTableEntry::hard(0, Address(1)); 9];
        assert!(encode_snod(&many, 4).is_err());
        assert_eq!(encode_snod(&many[..8], 4).unwrap().len(), 328);
    }

    #[test]
    fn whole_group() {
        // Local heap at 0 (data at 32), B-tree root at 200 with two SNODs.
        let heap = crate::format::local_heap::tests::heap_bytes(
            b"\0\0\0\0\0\0\0\0alpha\0beta\0gamma\0/target\0\0",
        );
        let mut b = heap;
        let k = |v: u64| v.to_le_bytes().to_vec();
        put_node(&mut b, 200, 0, 0, &[k(0), k(14), k(25)], &[400, 800]);
        let s1 = snod(&[entry(8, 0x1000, 0, &[]), entry(14, 0x2000, 1, &[0; 16])]);
        let soft = 25u32.to_le_bytes();
        let s2 = snod(&[entry(19, u64::MAX, 2, &soft)]);
        put(&mut b, 400, &s1);
        put(&mut b, 800, &s2);
        let links = read_group(&view(&b), Address(200), Address(0), &Limits::default()).unwrap();
        let names: Vec<_> = links.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta", "gamma"]);
        assert_eq!(links[0].target, LinkTarget::Hard(Address(0x1000)));
        assert_eq!(links[1].target, LinkTarget::Hard(Address(0x2000)));
        assert_eq!(links[2].target, LinkTarget::Soft("/target".into()));
        assert_eq!(links[2].creation_order, None);

        // A name offset outside the heap.
        let mut bad = b.clone();
        put(&mut bad, 408, &999u64.to_le_bytes());
        assert!(read_group(&view(&bad), Address(200), Address(0), &Limits::default()).is_err());
        // A SNOD claiming more entries than the file holds.
        let mut bad = b.clone();
        put(&mut bad, 806, &0xffffu16.to_le_bytes());
        assert!(read_group(&view(&bad), Address(200), Address(0), &Limits::default()).is_err());
    }
}
