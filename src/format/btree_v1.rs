//! Version 1 B-trees ("TREE"): the index of old-style groups (node type 0)
//! and of chunked datasets under layout messages v1–v3 (node type 1).
//!
//! Nodes are read one at a time; the traversals below are bounded by
//! `limits.max_depth`, require each child's level to be exactly one less than
//! its parent's, and refuse to visit any node address twice, so cyclic or
//! shared (DAG) trees built by hostile files end in an error, not a loop.

use std::collections::HashSet;

use super::chunk_index::ChunkRecord;
use super::{Address, FileView};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// Node type 0: group nodes, whose children are symbol table nodes.
pub const NODE_TYPE_GROUP: u8 = 0;
/// Node type 1: raw data chunk nodes.
pub const NODE_TYPE_CHUNK: u8 = 1;

/// One v1 B-tree node with its keys and child pointers, keys left raw.
#[derive(Debug, Clone)]
pub struct BTreeV1Node<'a> {
    /// Absolute file address of the node, for errors.
    pub abs: u64,
    /// Node type: 0 group, 1 raw data chunks.
    pub node_type: u8,
    /// 0 for leaves; children of a level-`n` node are at level `n - 1`.
    pub level: u8,
    /// Left sibling (undefined for the leftmost node of a level).
    pub left: Address,
    /// Right sibling.
    pub right: Address,
    /// `entries_used + 1` keys, each `key_size` bytes, with the absolute
    /// address of each.
    pub keys: Vec<(u64, &'a [u8])>,
    /// `entries_used` child pointers; child `i` lies between key `i` and
    /// key `i + 1`.
    pub children: Vec<Address>,
}

impl<'a> BTreeV1Node<'a> {
    /// Reads the node at `addr`, whose keys are `key_size` bytes.
    ///
    /// ```text
    /// Version 1 B-tree node (spec III.A.1):
    /// 0  "TREE"
    /// 4  Node Type (1) | Node Level (1) | Entries Used (2)
    /// 8  Address of Left Sibling   (offset)
    ///    Address of Right Sibling  (offset)
    ///    Key 0 | Child 0 | Key 1 | Child 1 | ... | Child N-1 | Key N
    ///    (N = Entries Used; room for 2K entries is allocated but unused)
    /// ```
    pub fn parse(
        view: &FileView<'a>,
        addr: Address,
        expected_type: u8,
        key_size: usize,
        limits: &Limits,
    ) -> Result<BTreeV1Node<'a>> {
        let mut c = view.cursor(addr, "v1 B-tree node")?;
        let abs = c.at();
        c.signature(b"TREE", "v1 B-tree node")?;
        let type_at = c.at();
        let node_type = c.u8("v1 B-tree node type")?;
        if node_type != expected_type {
            return Err(Error::format(
                type_at,
                format!("v1 B-tree node: expected node type {expected_type}, found {node_type}"),
            ));
        }
        let level = c.u8("v1 B-tree node level")?;
        let entries = usize::from(c.u16("v1 B-tree entries used")?);
        let left = c.address("v1 B-tree left sibling")?;
        let right = c.address("v1 B-tree right sibling")?;
        let offset = usize::from(view.sizes.offset);
        // Check the whole key/child run fits before allocating for it.
        let need = entries
            .checked_mul(key_size + offset)
            .and_then(|n| n.checked_add(key_size))
            .ok_or_else(|| c.error("v1 B-tree node: entry table size overflows"))?;
        if need > c.remaining() {
            return Err(c.error(format!(
                "v1 B-tree node: {entries} entries need {need} bytes, only {} remain in the file",
                c.remaining()
            )));
        }
        limits.check_alloc(
            "v1 B-tree node entries",
            (entries as u64).saturating_mul(40),
        )?;
        let mut keys = Vec::with_capacity(entries + 1);
        let mut children = Vec::with_capacity(entries);
        for _ in 0..entries {
            let at = c.at();
            keys.push((at, c.read_bytes(key_size, "v1 B-tree key")?));
            children.push(c.address("v1 B-tree child pointer")?);
        }
        let at = c.at();
        keys.push((at, c.read_bytes(key_size, "v1 B-tree key")?));
        Ok(BTreeV1Node {
            abs,
            node_type,
            level,
            left,
            right,
            keys,
            children,
        })
    }
}

/// A raw key and its absolute file address.
type RawKey<'a> = (u64, &'a [u8]);

/// Walks the tree from `root`, calling `leaf` for every child pointer of
/// every level-0 node, in key order, with the key to its left.
fn walk_leaves<'a>(
    view: &FileView<'a>,
    root: Address,
    node_type: u8,
    key_size: usize,
    limits: &Limits,
    leaf: &mut dyn FnMut(Address, RawKey<'a>) -> Result<()>,
) -> Result<()> {
    let mut visited = HashSet::new();
    walk(
        view,
        root,
        None,
        0,
        node_type,
        key_size,
        limits,
        &mut visited,
        &|_, _| true,
        leaf,
    )
}

/// Whether to descend into the child between two keys of an internal node.
type Prune<'p, 'a> = &'p dyn Fn(&'a [u8], &'a [u8]) -> bool;

#[allow(clippy::too_many_arguments)]
fn walk<'a>(
    view: &FileView<'a>,
    addr: Address,
    expected_level: Option<u8>,
    depth: u32,
    node_type: u8,
    key_size: usize,
    limits: &Limits,
    visited: &mut HashSet<u64>,
    descend: Prune<'_, 'a>,
    leaf: &mut dyn FnMut(Address, RawKey<'a>) -> Result<()>,
) -> Result<()> {
    limits.check_depth("v1 B-tree depth", depth)?;
    if !visited.insert(addr.0) {
        return Err(Error::format(
            view.abs_u64(addr),
            format!(
                "v1 B-tree: node at {:#x} is reached twice (cyclic or shared tree)",
                addr.0
            ),
        ));
    }
    let node = BTreeV1Node::parse(view, addr, node_type, key_size, limits)?;
    if let Some(l) = expected_level {
        if node.level != l {
            return Err(Error::format(
                node.abs,
                format!(
                    "v1 B-tree node: expected level {l} below its parent, found level {}",
                    node.level
                ),
            ));
        }
    }
    for (i, &child) in node.children.iter().enumerate() {
        let Some(&lkey) = node.keys.get(i) else {
            return Err(Error::format(node.abs, "v1 B-tree node: missing key"));
        };
        if node.level == 0 {
            leaf(child, lkey)?;
        } else {
            let Some(&(_, rkey)) = node.keys.get(i + 1) else {
                return Err(Error::format(node.abs, "v1 B-tree node: missing key"));
            };
            if !descend(lkey.1, rkey) {
                continue;
            }
            walk(
                view,
                child,
                Some(node.level - 1),
                depth + 1,
                node_type,
                key_size,
                limits,
                visited,
                descend,
                leaf,
            )?;
        }
    }
    Ok(())
}

/// Addresses of every symbol table node ("SNOD") of a group's B-tree, in
/// name order.
///
/// Group keys (spec III.A.1, node type 0) are heap offsets (`sizes.length`
/// bytes) of the largest name in the child to their left; they are not needed
/// to list the group.
pub fn group_snod_addresses(
    view: &FileView<'_>,
    root: Address,
    limits: &Limits,
) -> Result<Vec<Address>> {
    let key_size = usize::from(view.sizes.length);
    let mut out = Vec::new();
    walk_leaves(
        view,
        root,
        NODE_TYPE_GROUP,
        key_size,
        limits,
        &mut |child, _| {
            out.push(child);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Every chunk of a dataset indexed by a v1 B-tree, sorted by offset.
///
/// `rank` is the dataset's rank, without the layout message's trailing
/// element-size dimension.
///
/// ```text
/// Raw data chunk key (spec III.A.1, node type 1):
/// 0  Size of Chunk in bytes (4)   -- after filters
/// 4  Filter Mask (4)
/// 8  Offset[0..rank] (8 each)     -- in elements
///    Offset[rank] (8) = 0         -- the element-size dimension
/// ```
/// Child `i` of a level-0 node is a chunk described by key `i`.
pub fn chunk_records(
    view: &FileView<'_>,
    root: Address,
    rank: usize,
    limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    chunk_records_in(view, root, rank, 0..u64::MAX, limits)
}

/// The chunks of a v1 B-tree chunk index whose first-dimension offset
/// lies in `first`, found by descending only into subtrees whose keys can
/// hold such chunks: a read of a few chunks touches a few nodes, not the
/// whole index. Sorted by offset.
pub fn chunk_records_in(
    view: &FileView<'_>,
    root: Address,
    rank: usize,
    first: std::ops::Range<u64>,
    limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    if rank == 0 || rank > 32 {
        return Err(Error::format(
            view.abs_u64(root),
            format!("v1 B-tree chunk index: dataset rank {rank} is outside 1..=32"),
        ));
    }
    let key_size = 8 + 8 * (rank + 1);
    let mut out: Vec<ChunkRecord> = Vec::new();
    // A child holds chunks from its left key up to its right key (both
    // inclusive here, so shared offsets in higher dimensions stay in).
    let offset0 = |key: &[u8]| {
        key.get(8..16)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    let descend = |l: &[u8], r: &[u8]| match (offset0(l), offset0(r)) {
        (Some(lo), Some(hi)) => lo < first.end && hi >= first.start,
        _ => true, // malformed keys: let the walk report them
    };
    let mut visited = HashSet::new();
    walk(
        view,
        root,
        None,
        0,
        NODE_TYPE_CHUNK,
        key_size,
        limits,
        &mut visited,
        &descend,
        &mut |child, (at, key)| {
            let ChunkKey {
                size,
                filter_mask,
                offset,
            } = ChunkKey::parse_chunk(key, at, rank, view.sizes)?;
            if child.is_undefined() {
                return Err(Error::format(
                    at,
                    "v1 B-tree chunk: child address is undefined",
                ));
            }
            if !first.contains(&offset[0]) {
                return Ok(());
            }
            limits.check_alloc(
                "v1 B-tree chunk records",
                ((out.len() + 1) as u64).saturating_mul(64 + 8 * rank as u64),
            )?;
            out.push(ChunkRecord {
                offset,
                address: child,
                size: u64::from(size),
                filter_mask,
            });
            Ok(())
        },
    )?;
    out.sort_by(|a, b| a.offset.cmp(&b.offset));
    if let Some(w) = out.windows(2).find(|w| w[0].offset == w[1].offset) {
        return Err(Error::format(
            view.abs_u64(root),
            format!(
                "v1 B-tree chunk index: two chunks at offset {:?}",
                w[0].offset
            ),
        ));
    }
    Ok(out)
}

/// One raw data chunk key (node type 1) to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkKey {
    /// Size of the stored (filtered) chunk in bytes.
    pub size: u32,
    /// Filter mask: bit `i` set means filter `i` was skipped.
    pub filter_mask: u32,
    /// The chunk's offset in elements, one per dataset dimension; the
    /// trailing 0 of the element-size dimension is added by the encoder.
    /// A key may also give `rank + 1` values, the last one written as is:
    /// libhdf5's right-most key of a node stores the element size there
    /// (see [`ChunkKey::right_bound`]).
    pub offset: Vec<u64>,
}

impl ChunkKey {
    /// Decodes the key of a chunk (a leaf entry, or the left key of a
    /// child node) of a dataset of `rank` dimensions: `rank` offsets, and
    /// the element-size dimension, which must be 0. `at` is the key's
    /// absolute address, for errors.
    pub fn parse_chunk(raw: &[u8], at: u64, rank: usize, sizes: super::Sizes) -> Result<ChunkKey> {
        let mut key = ChunkKey::parse(raw, at, rank, sizes)?;
        match key.offset.pop() {
            Some(0) => Ok(key),
            found => Err(Error::format(
                at + 8 + 8 * rank as u64,
                format!(
                    "v1 B-tree chunk key: expected 0 for the element-size dimension, found {}",
                    found.unwrap_or(0)
                ),
            )),
        }
    }

    /// Decodes any chunk key as stored: size, filter mask and all `rank +
    /// 1` offsets, the element-size dimension's included (a node's right
    /// bound may hold the element size there).
    pub fn parse(raw: &[u8], at: u64, rank: usize, sizes: super::Sizes) -> Result<ChunkKey> {
        let mut c = super::Cursor::new(raw, at, sizes);
        let size = c.u32("v1 B-tree chunk size")?;
        let filter_mask = c.u32("v1 B-tree chunk filter mask")?;
        let mut offset = Vec::with_capacity(rank + 1);
        for _ in 0..=rank {
            offset.push(c.u64("v1 B-tree chunk offset")?);
        }
        Ok(ChunkKey {
            size,
            filter_mask,
            offset,
        })
    }

    /// A key bounding a node's chunks on the right: size and mask 0, the
    /// last chunk's offset plus the chunk dimensions, and the element size
    /// in the element-size dimension. libhdf5 writes exactly this for a
    /// node's first chunk; later it writes the next leaf's first key for a
    /// leaf with a right sibling, and for the last leaf a bound that
    /// depends on the order chunks were inserted (it moves to "chunk + 1 in
    /// every dimension" when a chunk at or past it is inserted). Lookups
    /// only need the bound to sort after every chunk of the node, which
    /// this one does.
    pub fn right_bound(last_offset: &[u64], chunk_dims: &[u64], element_size: u32) -> ChunkKey {
        let mut offset: Vec<u64> = last_offset
            .iter()
            .zip(chunk_dims)
            .map(|(o, d)| o.saturating_add(*d))
            .collect();
        offset.push(u64::from(element_size));
        ChunkKey {
            size: 0,
            filter_mask: 0,
            offset,
        }
    }
}

/// Bytes of a v1 B-tree node header: signature, type, level, entries
/// used, left and right siblings (8-byte offsets).
const NODE_HEADER_LEN: usize = 24;

/// Size of a group node (node type 0) sized for `2k` children, as libhdf5
/// allocates every node of the tree (`k` is the superblock's group
/// *internal* node K, for leaves too).
pub fn node_size_group(k: u16, sizes: super::Sizes) -> usize {
    let key = usize::from(sizes.length);
    NODE_HEADER_LEN + 2 * usize::from(k) * (key + usize::from(sizes.offset)) + key
}

/// Size of a raw data chunk node (node type 1) of a dataset of `rank`
/// dimensions sized for `2k` children (`k` is the indexed storage K, 32 by
/// default).
pub fn node_size_chunk(k: u16, rank: usize, sizes: super::Sizes) -> usize {
    let key = chunk_key_size(rank);
    NODE_HEADER_LEN + 2 * usize::from(k) * (key + usize::from(sizes.offset)) + key
}

/// Size of one chunk key: size (4), filter mask (4), `rank + 1` offsets.
pub fn chunk_key_size(rank: usize) -> usize {
    8 + 8 * (rank + 1)
}

#[allow(clippy::too_many_arguments)]
fn node_prefix(
    node_type: u8,
    level: u8,
    left: Address,
    right: Address,
    keys: usize,
    children: &[Address],
    k: u16,
    size: usize,
) -> Result<Vec<u8>> {
    let cap = 2 * usize::from(k);
    if children.len() > cap {
        return Err(Error::invalid(format!(
            "v1 B-tree node: {} children exceed 2K = {cap}",
            children.len()
        )));
    }
    if keys != children.len() + 1 {
        return Err(Error::invalid(format!(
            "v1 B-tree node: {keys} keys for {} children (expected children + 1)",
            children.len()
        )));
    }
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(b"TREE");
    b.push(node_type);
    b.push(level);
    b.extend_from_slice(&(children.len() as u16).to_le_bytes());
    b.extend_from_slice(&left.0.to_le_bytes());
    b.extend_from_slice(&right.0.to_le_bytes());
    Ok(b)
}

/// Encodes a group B-tree node (node type 0, 8-byte offsets and lengths).
///
/// `keys` are local heap offsets, `children.len() + 1` of them: key `i` is
/// the offset of the largest name in child `i - 1` (key 0 is the empty
/// string's offset, 0). Children are symbol table nodes at level 0,
/// B-tree nodes above. The node is zero-filled to [`node_size_group`].
pub fn encode_group_node(
    level: u8,
    left: Address,
    right: Address,
    keys: &[u64],
    children: &[Address],
    group_internal_k: u16,
) -> Result<Vec<u8>> {
    let size = node_size_group(group_internal_k, super::Sizes::DEFAULT);
    let mut b = node_prefix(
        NODE_TYPE_GROUP,
        level,
        left,
        right,
        keys.len(),
        children,
        group_internal_k,
        size,
    )?;
    for (key, child) in keys.iter().zip(children) {
        b.extend_from_slice(&key.to_le_bytes());
        b.extend_from_slice(&child.0.to_le_bytes());
    }
    if let Some(last) = keys.last() {
        b.extend_from_slice(&last.to_le_bytes());
    }
    b.resize(size, 0);
    Ok(b)
}

/// Encodes a raw data chunk B-tree node (node type 1, 8-byte offsets).
///
/// `keys` has `children.len() + 1` entries, each with `rank` offsets: key
/// `i` describes child `i` (a chunk at level 0, a node above, whose first
/// chunk it names); the last key is the bound just past the last chunk,
/// which libhdf5 writes as [`ChunkKey::right_bound`]. The node is
/// zero-filled to [`node_size_chunk`].
pub fn encode_chunk_node(
    level: u8,
    left: Address,
    right: Address,
    keys: &[ChunkKey],
    children: &[Address],
    indexed_storage_k: u16,
    rank: usize,
) -> Result<Vec<u8>> {
    if rank == 0 || rank > 32 {
        return Err(Error::invalid(format!(
            "v1 B-tree chunk node: rank {rank} is outside 1..=32"
        )));
    }
    let size = node_size_chunk(indexed_storage_k, rank, super::Sizes::DEFAULT);
    let mut b = node_prefix(
        NODE_TYPE_CHUNK,
        level,
        left,
        right,
        keys.len(),
        children,
        indexed_storage_k,
        size,
    )?;
    let put_key = |b: &mut Vec<u8>, k: &ChunkKey| -> Result<()> {
        if k.offset.len() != rank && k.offset.len() != rank + 1 {
            return Err(Error::invalid(format!(
                "v1 B-tree chunk key with {} offsets for rank {rank}",
                k.offset.len()
            )));
        }
        b.extend_from_slice(&k.size.to_le_bytes());
        b.extend_from_slice(&k.filter_mask.to_le_bytes());
        for o in &k.offset {
            b.extend_from_slice(&o.to_le_bytes());
        }
        if k.offset.len() == rank {
            b.extend_from_slice(&0u64.to_le_bytes());
        }
        Ok(())
    };
    for (key, child) in keys.iter().zip(children) {
        put_key(&mut b, key)?;
        b.extend_from_slice(&child.0.to_le_bytes());
    }
    if let Some(last) = keys.last() {
        put_key(&mut b, last)?;
    }
    b.resize(size, 0);
    Ok(b)
}

#[cfg(test)]
pub(crate) mod tests;
