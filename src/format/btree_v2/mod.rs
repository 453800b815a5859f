//! Version 2 B-trees ("BTHD" header, "BTIN" internal nodes, "BTLF" leaves):
//! the indexes of dense links (record types 5, 6), dense attributes (8, 9),
//! fractal-heap huge objects (1–4) and chunked datasets with more than one
//! unlimited dimension (10, 11).
//!
//! Every node is a fixed `node size` bytes, but how many records it may hold
//! and how wide the child-pointer counts are depend on the node size, the
//! record size and the node's depth (spec III.A.2, "the classic trap"):
//!
//! * a leaf holds `max(0) = (node_size - 10) / record_size` records
//!   (10 = signature 4 + version 1 + type 1 + checksum 4);
//! * the "number of records" field in every child pointer is
//!   `enc(max(0))` bytes wide, where `enc(n) = floor(log2(n)) / 8 + 1`;
//! * a pointer from a depth-`d` internal node is
//!   `offset + enc(max(0)) + cum_size(d - 1)` bytes, where the last part,
//!   "total number of records in child", is present only when `d > 1`
//!   (`cum_size(0) = 0`);
//! * a depth-`d` node holds
//!   `max(d) = (node_size - 10 - ptr(d)) / (record_size + ptr(d))` records,
//!   `cum(d) = (max(d) + 1) * cum(d - 1) + max(d)` (with `cum(0) = max(0)`),
//!   and `cum_size(d) = enc(cum(d))`.

pub(crate) mod encode;

use std::collections::HashSet;

use super::chunk_index::{filtered_size_width, ChunkGeometry, ChunkRecord};
use super::{verify_checksum, Address, Cursor, FileView, Sizes};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// Signature + version + type + checksum, common to all v2 B-tree nodes.
const NODE_PREFIX: u64 = 10;

/// Bytes needed to encode `n` (at least 1): `floor(log2(n)) / 8 + 1`.
fn limit_enc_size(n: u64) -> usize {
    let log2 = if n == 0 { 0 } else { 63 - n.leading_zeros() };
    (log2 / 8 + 1) as usize
}

/// Derived per-depth facts (libhdf5's `node_info`).
#[derive(Debug, Clone, Copy)]
struct LevelInfo {
    /// Most records a node at this depth may hold.
    max_nrec: u64,
    /// Most records in a subtree rooted at this depth.
    cum_max_nrec: u64,
    /// Width of a "total number of records" field counting such a subtree.
    cum_max_nrec_size: usize,
}

/// An open v2 B-tree: its header and the derived node geometry.
#[derive(Debug, Clone)]
pub struct BTreeV2<'a> {
    /// Record type (1–11).
    pub record_type: u8,
    /// Size of one record in bytes.
    pub record_size: u16,
    /// Depth of the tree (0: the root is a leaf).
    pub depth: u16,
    /// Total number of records in the tree.
    pub total_records: u64,
    /// Node size in bytes.
    pub node_size: u32,
    /// Root node address (undefined when the tree is empty).
    pub root: Address,
    /// Number of records in the root node.
    pub root_records: u16,
    view: FileView<'a>,
    limits: Limits,
    abs: u64,
    /// Width of every "number of records" field in child pointers.
    max_nrec_size: usize,
    levels: Vec<LevelInfo>,
}

impl<'a> BTreeV2<'a> {
    /// Reads and checks the header at `addr` and derives the node geometry.
    ///
    /// ```text
    /// Version 2 B-tree Header (spec III.A.2):
    /// 0  "BTHD"
    /// 4  Version (1) = 0 | Type (1)
    /// 6  Node Size (4) | Record Size (2) | Depth (2)
    /// 14 Split Percent (1) | Merge Percent (1)
    /// 16 Root Node Address (offset)
    ///    Number of Records in Root Node (2)
    ///    Total Number of Records in B-tree (length)
    ///    Checksum (4)
    /// ```
    pub fn open(view: &FileView<'a>, addr: Address, limits: &Limits) -> Result<BTreeV2<'a>> {
        let len = 16 + u64::from(view.sizes.offset) + 2 + u64::from(view.sizes.length) + 4;
        let mut c = view.cursor_len(addr, len, "v2 B-tree header")?;
        let abs = c.at();
        c.signature(b"BTHD", "v2 B-tree header")?;
        let at = c.at();
        let version = c.u8("v2 B-tree header version")?;
        if version != 0 {
            return Err(Error::format(
                at,
                format!("v2 B-tree header: expected version 0, found {version}"),
            ));
        }
        let record_type = c.u8("v2 B-tree type")?;
        let node_size_at = c.at();
        let node_size = c.u32("v2 B-tree node size")?;
        let record_size = c.u16("v2 B-tree record size")?;
        let depth_at = c.at();
        let depth = c.u16("v2 B-tree depth")?;
        let _split = c.u8("v2 B-tree split percent")?;
        let _merge = c.u8("v2 B-tree merge percent")?;
        let root = c.address("v2 B-tree root node address")?;
        let root_records = c.u16("v2 B-tree root node record count")?;
        let total_records = c.length("v2 B-tree total record count")?;
        let sum_at = c.at();
        let stored = c.u32("v2 B-tree header checksum")?;
        verify_checksum(
            &c.all()[..c.all().len() - 4],
            stored,
            sum_at,
            "v2 B-tree header",
        )?;
        if !(1..=11).contains(&record_type) {
            return Err(Error::format(
                at + 1,
                format!("v2 B-tree header: expected record type 1..=11, found {record_type}"),
            ));
        }
        if record_size == 0 {
            return Err(Error::format(
                node_size_at + 4,
                "v2 B-tree header: record size is 0",
            ));
        }
        if u64::from(node_size) < NODE_PREFIX + u64::from(record_size) {
            return Err(Error::format(
                node_size_at,
                format!(
                    "v2 B-tree header: node size {node_size} cannot hold one {record_size}-byte \
                     record"
                ),
            ));
        }
        limits.check_depth("v2 B-tree depth", u32::from(depth))?;
        let levels = Self::derive_levels(view.sizes, node_size, record_size, depth)
            .map_err(|what| Error::format(depth_at, format!("v2 B-tree header: {what}")))?;
        let max_nrec_size = limit_enc_size(levels[0].max_nrec);
        if u64::from(root_records) > levels[usize::from(depth)].max_nrec {
            return Err(Error::format(
                abs,
                format!(
                    "v2 B-tree header: root holds {root_records} records, at most {} fit",
                    levels[usize::from(depth)].max_nrec
                ),
            ));
        }
        Ok(BTreeV2 {
            record_type,
            record_size,
            depth,
            total_records,
            node_size,
            root,
            root_records,
            view: *view,
            limits: limits.clone(),
            abs,
            max_nrec_size,
            levels,
        })
    }

    fn derive_levels(
        sizes: Sizes,
        node_size: u32,
        record_size: u16,
        depth: u16,
    ) -> std::result::Result<Vec<LevelInfo>, String> {
        let node_size = u64::from(node_size);
        let rec = u64::from(record_size);
        let leaf_max = (node_size - NODE_PREFIX) / rec;
        let max_nrec_size = limit_enc_size(leaf_max) as u64;
        let mut levels = vec![LevelInfo {
            max_nrec: leaf_max,
            cum_max_nrec: leaf_max,
            cum_max_nrec_size: 0,
        }];
        for d in 1..=usize::from(depth) {
            let below = levels[d - 1];
            let ptr = u64::from(sizes.offset) + max_nrec_size + below.cum_max_nrec_size as u64;
            let max_nrec = node_size
                .checked_sub(NODE_PREFIX + ptr)
                .map(|room| room / (rec + ptr))
                .unwrap_or(0);
            if max_nrec == 0 {
                return Err(format!(
                    "a depth-{d} internal node of {node_size} bytes cannot hold one record \
                     (depth {depth} is impossible for this node size)"
                ));
            }
            let cum_max_nrec = (max_nrec + 1)
                .checked_mul(below.cum_max_nrec)
                .and_then(|n| n.checked_add(max_nrec))
                .ok_or_else(|| format!("record capacity overflows at depth {d} of {depth}"))?;
            levels.push(LevelInfo {
                max_nrec,
                cum_max_nrec,
                cum_max_nrec_size: limit_enc_size(cum_max_nrec),
            });
        }
        Ok(levels)
    }

    /// Size in bytes of one child pointer in a node at depth `d >= 1`.
    fn pointer_size(&self, d: usize) -> usize {
        usize::from(self.view.sizes.offset)
            + self.max_nrec_size
            + self.levels[d - 1].cum_max_nrec_size
    }

    /// Every record's raw bytes (`record_size` each), in key order.
    pub fn records(&self) -> Result<Vec<&'a [u8]>> {
        let mut out = Vec::new();
        self.for_each_record(&mut |_, r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Every record with the absolute file address it was read from, in key
    /// order.
    pub fn records_with_addresses(&self) -> Result<Vec<(u64, &'a [u8])>> {
        let mut out = Vec::new();
        self.for_each_record(&mut |at, r| {
            out.push((at, r));
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f(absolute address, record bytes)` for every record in key
    /// order (an in-order traversal: an internal node's record `i` comes
    /// after child `i`'s subtree and before child `i + 1`'s).
    pub fn for_each_record(&self, f: &mut dyn FnMut(u64, &'a [u8]) -> Result<()>) -> Result<()> {
        if self.root.is_undefined() {
            if self.total_records != 0 {
                return Err(Error::format(
                    self.abs,
                    format!("v2 B-tree: {} records but no root node", self.total_records),
                ));
            }
            return Ok(());
        }
        let entry = std::mem::size_of::<(u64, &[u8])>() as u64;
        self.limits.check_alloc(
            "v2 B-tree records",
            self.total_records.saturating_mul(entry),
        )?;
        let mut visited = HashSet::new();
        let mut count = 0u64;
        self.visit(
            self.root,
            u64::from(self.root_records),
            usize::from(self.depth),
            &mut visited,
            &mut count,
            f,
        )?;
        if count != self.total_records {
            return Err(Error::format(
                self.abs,
                format!(
                    "v2 B-tree: header says {} records, the nodes hold {count}",
                    self.total_records
                ),
            ));
        }
        Ok(())
    }

    /// Hands one record to `f`, stopping as soon as the nodes hold more than
    /// the header promised (so overlapping hostile nodes cannot make the
    /// walk run long).
    fn emit(
        &self,
        node_abs: u64,
        count: &mut u64,
        f: &mut dyn FnMut(u64, &'a [u8]) -> Result<()>,
        at: u64,
        record: &'a [u8],
    ) -> Result<()> {
        if *count >= self.total_records {
            return Err(Error::format(
                node_abs,
                format!(
                    "v2 B-tree: the nodes hold more than the {} records the header states",
                    self.total_records
                ),
            ));
        }
        *count += 1;
        f(at, record)
    }

    /// Reads the node at `addr` (depth `d`, `nrec` records) and recurses.
    fn visit(
        &self,
        addr: Address,
        nrec: u64,
        d: usize,
        visited: &mut HashSet<u64>,
        count: &mut u64,
        f: &mut dyn FnMut(u64, &'a [u8]) -> Result<()>,
    ) -> Result<()> {
        let abs = self.view.abs_u64(addr);
        if !visited.insert(addr.0) {
            return Err(Error::format(
                abs,
                format!(
                    "v2 B-tree: node at {:#x} is reached twice (cyclic or shared tree)",
                    addr.0
                ),
            ));
        }
        let info = self.levels[d];
        if nrec > info.max_nrec {
            return Err(Error::format(
                abs,
                format!(
                    "v2 B-tree: depth-{d} node claims {nrec} records, at most {} fit",
                    info.max_nrec
                ),
            ));
        }
        // Bounded by max_nrec, itself bounded by node_size.
        let nrec_us = nrec as usize;
        let rec = usize::from(self.record_size);
        let ptr = if d == 0 { 0 } else { self.pointer_size(d) };
        let used = 6 + nrec_us * rec + if d == 0 { 0 } else { (nrec_us + 1) * ptr };
        if used as u64 + 4 > u64::from(self.node_size) {
            return Err(Error::format(
                abs,
                format!(
                    "v2 B-tree: depth-{d} node with {nrec} records needs {} bytes, node size is {}",
                    used + 4,
                    self.node_size
                ),
            ));
        }
        let (sig, what) = if d == 0 {
            (b"BTLF", "v2 B-tree leaf node")
        } else {
            (b"BTIN", "v2 B-tree internal node")
        };
        let mut c = self.view.cursor_len(addr, used as u64 + 4, what)?;
        c.signature(sig, what)?;
        let at = c.at();
        let version = c.u8("v2 B-tree node version")?;
        if version != 0 {
            return Err(Error::format(
                at,
                format!("{what}: expected version 0, found {version}"),
            ));
        }
        let t = c.u8("v2 B-tree node type")?;
        if t != self.record_type {
            return Err(Error::format(
                at + 1,
                format!(
                    "{what}: expected record type {}, found {t}",
                    self.record_type
                ),
            ));
        }
        let mut records = Vec::with_capacity(nrec_us);
        for _ in 0..nrec_us {
            let rat = c.at();
            records.push((rat, c.read_bytes(rec, "v2 B-tree record")?));
        }
        let mut children = Vec::new();
        if d > 0 {
            let below = self.levels[d - 1];
            for _ in 0..=nrec_us {
                let caddr = c.address("v2 B-tree child node address")?;
                let cn = c.uint(self.max_nrec_size, "v2 B-tree child record count")?;
                let _all = if d > 1 {
                    c.uint(
                        below.cum_max_nrec_size,
                        "v2 B-tree child total record count",
                    )?
                } else {
                    cn
                };
                children.push((caddr, cn));
            }
        }
        let sum_at = c.at();
        let stored = c.u32("v2 B-tree node checksum")?;
        verify_checksum(&c.all()[..used], stored, sum_at, what)?;
        if d == 0 {
            for (rat, r) in records {
                self.emit(abs, count, f, rat, r)?;
            }
            return Ok(());
        }
        for (i, (caddr, cn)) in children.into_iter().enumerate() {
            if caddr.is_undefined() {
                return Err(Error::format(
                    sum_at,
                    format!("{what}: child {i} has the undefined address"),
                ));
            }
            self.visit(caddr, cn, d - 1, visited, count, f)?;
            if let Some(&(rat, r)) = records.get(i) {
                self.emit(abs, count, f, rat, r)?;
            }
        }
        Ok(())
    }
}

fn check_len(record: &[u8], expected: usize, at: u64, what: &str) -> Result<()> {
    if record.len() < expected {
        return Err(Error::format(
            at,
            format!(
                "{what}: expected at least {expected} bytes, found {}",
                record.len()
            ),
        ));
    }
    Ok(())
}

/// Type 5 record: a link in a dense group's name index.
///
/// ```text
/// 0  Hash of Name (4)       -- lookup3 of the link name
/// 4  Heap ID (7 for groups) -- into the group's fractal heap
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkNameRecord {
    /// lookup3 hash of the link name.
    pub hash: u32,
    /// Fractal heap ID of the link message.
    pub heap_id: Vec<u8>,
}

impl LinkNameRecord {
    /// Parses a record; `at` is its absolute file address.
    pub fn parse(record: &[u8], at: u64) -> Result<Self> {
        check_len(record, 5, at, "link name record")?;
        let mut c = Cursor::new(record, at, Sizes::DEFAULT);
        let hash = c.u32("link name hash")?;
        Ok(LinkNameRecord {
            hash,
            heap_id: c.rest().to_vec(),
        })
    }
}

/// Type 6 record: a link in a dense group's creation-order index.
///
/// ```text
/// 0  Creation Order (8)
/// 8  Heap ID (7 for groups)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOrderRecord {
    /// The link's creation order.
    pub creation_order: u64,
    /// Fractal heap ID of the link message.
    pub heap_id: Vec<u8>,
}

impl LinkOrderRecord {
    /// Parses a record; `at` is its absolute file address.
    pub fn parse(record: &[u8], at: u64) -> Result<Self> {
        check_len(record, 9, at, "link creation-order record")?;
        let mut c = Cursor::new(record, at, Sizes::DEFAULT);
        let creation_order = c.u64("link creation order")?;
        Ok(LinkOrderRecord {
            creation_order,
            heap_id: c.rest().to_vec(),
        })
    }
}

/// Type 8 record: an attribute in dense storage's name index.
///
/// ```text
/// 0  Heap ID (8)
/// 8  Message Flags (1)
/// 9  Creation Order (4)
/// 13 Hash of Name (4)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrNameRecord {
    /// Fractal heap ID of the attribute message (8 bytes).
    pub heap_id: Vec<u8>,
    /// Object header message flags (bit 1: shared message).
    pub flags: u8,
    /// The attribute's creation order.
    pub creation_order: u32,
    /// lookup3 hash of the attribute name.
    pub hash: u32,
}

impl AttrNameRecord {
    /// Parses a record; `at` is its absolute file address.
    pub fn parse(record: &[u8], at: u64) -> Result<Self> {
        check_len(record, 17, at, "attribute name record")?;
        let mut c = Cursor::new(record, at, Sizes::DEFAULT);
        let heap_id = c.read_bytes(8, "attribute heap ID")?.to_vec();
        let flags = c.u8("attribute message flags")?;
        let creation_order = c.u32("attribute creation order")?;
        let hash = c.u32("attribute name hash")?;
        Ok(AttrNameRecord {
            heap_id,
            flags,
            creation_order,
            hash,
        })
    }
}

/// Type 9 record: an attribute in dense storage's creation-order index.
///
/// ```text
/// 0  Heap ID (8)
/// 8  Message Flags (1)
/// 9  Creation Order (4)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrOrderRecord {
    /// Fractal heap ID of the attribute message (8 bytes).
    pub heap_id: Vec<u8>,
    /// Object header message flags.
    pub flags: u8,
    /// The attribute's creation order.
    pub creation_order: u32,
}

impl AttrOrderRecord {
    /// Parses a record; `at` is its absolute file address.
    pub fn parse(record: &[u8], at: u64) -> Result<Self> {
        check_len(record, 13, at, "attribute creation-order record")?;
        let mut c = Cursor::new(record, at, Sizes::DEFAULT);
        let heap_id = c.read_bytes(8, "attribute heap ID")?.to_vec();
        let flags = c.u8("attribute message flags")?;
        let creation_order = c.u32("attribute creation order")?;
        Ok(AttrOrderRecord {
            heap_id,
            flags,
            creation_order,
        })
    }
}

/// Records of a fractal heap's huge-object index (types 1–4).
///
/// ```text
/// Type 1 (indirectly accessed, unfiltered):
///   Address (offset) | Length (length) | ID (length)
/// Type 2 (indirectly accessed, filtered):
///   Address (offset) | Length (length) | Filter Mask (4)
///   | Memory Size (length) | ID (length)
/// Type 3 (directly accessed, unfiltered):
///   Address (offset) | Length (length)
/// Type 4 (directly accessed, filtered):
///   Address (offset) | Length (length) | Filter Mask (4) | Memory Size (length)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HugeObjectRecord {
    /// Where the (possibly filtered) object bytes start.
    pub address: Address,
    /// Stored length in bytes.
    pub length: u64,
    /// Filter mask (filtered types 2 and 4), else 0.
    pub filter_mask: u32,
    /// De-filtered size (types 2 and 4), else equal to `length`.
    pub memory_size: u64,
    /// The object's ID (types 1 and 2), else 0.
    pub id: u64,
}

impl HugeObjectRecord {
    /// Parses a record of `record_type` (1–4); `at` is its absolute address.
    pub fn parse(record: &[u8], record_type: u8, sizes: Sizes, at: u64) -> Result<Self> {
        let mut c = Cursor::new(record, at, sizes);
        let address = c.address("huge object address")?;
        let length = c.length("huge object length")?;
        let (filter_mask, memory_size) = match record_type {
            2 | 4 => (
                c.u32("huge object filter mask")?,
                c.length("huge object memory size")?,
            ),
            1 | 3 => (0, length),
            other => {
                return Err(Error::format(
                    at,
                    format!("huge object record: expected B-tree type 1..=4, found {other}"),
                ))
            }
        };
        let id = match record_type {
            1 | 2 => c.length("huge object ID")?,
            _ => 0,
        };
        Ok(HugeObjectRecord {
            address,
            length,
            filter_mask,
            memory_size,
            id,
        })
    }
}

/// Unfiltered chunk size in bytes: product of the chunk dims and the element
/// size, checked.
fn chunk_bytes(geom: &ChunkGeometry<'_>, at: u64) -> Result<u64> {
    geom.chunk_dims
        .iter()
        .try_fold(u64::from(geom.element_size), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::format(at, "chunk size in bytes overflows"))
}

/// Every chunk of a dataset indexed by a v2 B-tree (types 10 and 11),
/// sorted by offset.
///
/// ```text
/// Type 10 (unfiltered): Address (offset) | Scaled Offset[rank] (8 each)
/// Type 11 (filtered):   Address (offset) | Chunk Size (variable, see
///                       [`super::chunk_index::filtered_size_width_for_layout`]) | Filter Mask (4)
///                       | Scaled Offset[rank] (8 each)
/// ```
/// Scaled offsets are chunk indices; element offsets are scaled × chunk dims.
pub fn chunk_records(
    view: &FileView<'_>,
    addr: Address,
    geom: &ChunkGeometry<'_>,
    limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    let tree = BTreeV2::open(view, addr, limits)?;
    let rank = geom.chunk_dims.len();
    let unfiltered = chunk_bytes(geom, tree.abs)?;
    let expected_type = if geom.filtered { 11 } else { 10 };
    if tree.record_type != expected_type {
        return Err(Error::format(
            tree.abs,
            format!(
                "v2 B-tree chunk index: expected record type {expected_type} for a {} dataset, \
                 found {}",
                if geom.filtered {
                    "filtered"
                } else {
                    "unfiltered"
                },
                tree.record_type
            ),
        ));
    }
    // The record size tells which chunk-size width the writer used: the
    // derived one (layout v4) or `sizes.length` (layout v5, libhdf5 2.0).
    let fixed = usize::from(view.sizes.offset) + 8 * rank;
    let found = usize::from(tree.record_size);
    let size_len = if geom.filtered {
        let derived = filtered_size_width(unfiltered);
        let v5 = usize::from(view.sizes.length);
        match found.checked_sub(fixed + 4) {
            Some(w) if w == derived || w == v5 => w,
            _ => {
                return Err(Error::format(
                    tree.abs,
                    format!(
                        "v2 B-tree chunk index: expected {}- or {}-byte filtered records for \
                         rank {rank}, found {found}",
                        fixed + 4 + derived,
                        fixed + 4 + v5
                    ),
                ))
            }
        }
    } else {
        if found != fixed {
            return Err(Error::format(
                tree.abs,
                format!(
                    "v2 B-tree chunk index: expected {fixed}-byte records for rank {rank}, \
                     found {found}"
                ),
            ));
        }
        0
    };
    let mut out: Vec<ChunkRecord> = Vec::new();
    tree.for_each_record(&mut |at, r| {
        let mut c = Cursor::new(r, at, view.sizes);
        let address = c.address("chunk address")?;
        let (size, filter_mask) = if geom.filtered {
            (c.uint(size_len, "chunk size")?, c.u32("chunk filter mask")?)
        } else {
            (unfiltered, 0)
        };
        let mut offset = Vec::with_capacity(rank);
        for &cd in geom.chunk_dims {
            let oat = c.at();
            let scaled = c.u64("chunk scaled offset")?;
            offset.push(scaled.checked_mul(cd).ok_or_else(|| {
                Error::format(
                    oat,
                    format!("chunk scaled offset {scaled} × {cd} overflows"),
                )
            })?);
        }
        if address.is_undefined() {
            return Err(Error::format(
                at,
                "v2 B-tree chunk record: undefined address",
            ));
        }
        limits.check_alloc(
            "v2 B-tree chunk records",
            ((out.len() + 1) as u64).saturating_mul(64 + 8 * rank as u64),
        )?;
        out.push(ChunkRecord {
            offset,
            address,
            size,
            filter_mask,
        });
        Ok(())
    })?;
    out.sort_by(|a, b| a.offset.cmp(&b.offset));
    if let Some(w) = out.windows(2).find(|w| w[0].offset == w[1].offset) {
        return Err(Error::format(
            tree.abs,
            format!(
                "v2 B-tree chunk index: two chunks at offset {:?}",
                w[0].offset
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests;
