//! Rebuilding version 1 B-trees copy-on-write.
//!
//! Instead of splitting nodes in place (which takes several in-place writes
//! and leaves windows where a crash shows duplicate or missing entries), a
//! changed tree is rebuilt bottom-up into fresh nodes. Only the root is
//! written in place, at the address the layout or symbol-table message
//! already names, so one write publishes the whole new tree. The old nodes
//! become unreferenced space, as deleted space is in libhdf5.

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::btree_v1::{
    encode_chunk_node, encode_group_node, node_size_chunk, node_size_group, ChunkKey,
};
use crate::format::symbol_table::{encode_snod, SymbolTableEntry};
use crate::format::Address;

/// One chunk as a leaf entry of a chunk B-tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkEntry {
    /// Element offsets (dataset rank entries).
    pub offset: Vec<u64>,
    pub address: Address,
    pub size: u32,
    pub filter_mask: u32,
}

impl ChunkEntry {
    /// The entry as the chunk index reader describes a stored chunk.
    pub(crate) fn into_record(self) -> crate::format::chunk_index::ChunkRecord {
        crate::format::chunk_index::ChunkRecord {
            offset: self.offset,
            address: self.address,
            size: u64::from(self.size),
            filter_mask: self.filter_mask,
        }
    }
}

/// Lays out `count` children into nodes of at most `fanout` children, as
/// evenly as possible.
fn partition(count: usize, fanout: usize) -> Vec<std::ops::Range<usize>> {
    let nodes = count.div_ceil(fanout).max(1);
    let base = count / nodes;
    let extra = count % nodes;
    let mut out = Vec::with_capacity(nodes);
    let mut start = 0;
    for i in 0..nodes {
        let n = base + usize::from(i < extra);
        out.push(start..start + n);
        start += n;
    }
    out
}

/// Builds a chunk B-tree over `entries` (sorted by offset, non-empty).
///
/// `root`: the existing root's address, which is rewritten in place (staged
/// as a publish write); `None` writes every node fresh and returns the new
/// root's address.
pub(crate) fn write_chunk_tree(
    tx: &mut Tx<'_>,
    entries: &[ChunkEntry],
    rank: usize,
    element_size: u32,
    k: u16,
    root: Option<Address>,
) -> Result<Address> {
    if entries.is_empty() {
        return Err(Error::invalid("a chunk B-tree needs at least one chunk"));
    }
    let fanout = 2 * usize::from(k.max(1));
    let node_len = node_size_chunk(k, rank, tx.sizes) as u64;
    let key_of = |e: &ChunkEntry| ChunkKey {
        size: e.size,
        filter_mask: e.filter_mask,
        offset: e.offset.clone(),
    };
    // libhdf5's right-most key: the last chunk's offsets with the element
    // slot holding the element size, so it compares above every chunk.
    let last = &entries[entries.len() - 1];
    let final_key = ChunkKey {
        size: 0,
        filter_mask: 0,
        offset: last.offset.clone(),
    };
    // Level 0 children are chunks.
    let mut children: Vec<(ChunkKey, Address)> =
        entries.iter().map(|e| (key_of(e), e.address)).collect();
    let mut level = 0u8;
    loop {
        let groups = partition(children.len(), fanout);
        let is_top = groups.len() == 1;
        let addrs: Vec<Address> = if is_top {
            match root {
                Some(r) => vec![r],
                None => vec![tx.alloc(node_len)?],
            }
        } else {
            groups
                .iter()
                .map(|_| tx.alloc(node_len))
                .collect::<Result<_>>()?
        };
        let mut next = Vec::with_capacity(groups.len());
        for (i, g) in groups.iter().enumerate() {
            let mut keys: Vec<ChunkKey> =
                children[g.clone()].iter().map(|(k, _)| k.clone()).collect();
            let right = match groups.get(i + 1) {
                Some(n) => children[n.start].0.clone(),
                None => final_key.clone(),
            };
            keys.push(right);
            let kids: Vec<Address> = children[g.clone()].iter().map(|(_, a)| *a).collect();
            let left = if i == 0 || is_top {
                Address::UNDEFINED
            } else {
                addrs[i - 1]
            };
            let right_sib = if is_top || i + 1 == groups.len() {
                Address::UNDEFINED
            } else {
                addrs[i + 1]
            };
            let mut bytes = encode_chunk_node(level, left, right_sib, &keys, &kids, k, rank)?;
            fix_final_element_slot(&mut bytes, &keys, rank, element_size, tx.sizes.offset);
            if is_top && root.is_some() {
                tx.publish(addrs[i], bytes);
            } else {
                tx.put_at(addrs[i], bytes);
            }
            next.push((children[g.start].0.clone(), addrs[i]));
        }
        if is_top {
            return Ok(addrs[0]);
        }
        children = next;
        level = level
            .checked_add(1)
            .ok_or_else(|| Error::invalid("chunk B-tree too deep"))?;
    }
}

/// The encoder writes 0 in every key's element slot; libhdf5 writes the
/// element size there in the right-most key. Patch that one slot.
fn fix_final_element_slot(
    bytes: &mut [u8],
    keys: &[ChunkKey],
    rank: usize,
    element_size: u32,
    offset_width: u8,
) {
    let key_len = 8 + 8 * (rank + 1);
    let n = keys.len();
    // Node prefix: signature 4, type 1, level 1, entries 2, two siblings.
    let prefix = 8 + 2 * usize::from(offset_width);
    // Keys and children interleave: key0 child0 key1 child1 ... keyN.
    let pos = prefix + (n - 1) * (key_len + usize::from(offset_width)) + 8 + 8 * rank;
    if keys[n - 1].size == 0 && pos + 8 <= bytes.len() {
        bytes[pos..pos + 8].copy_from_slice(&u64::from(element_size).to_le_bytes());
    }
}

/// One member of a symbol-table group.
#[derive(Debug, Clone)]
pub(crate) struct GroupEntry {
    pub name: Vec<u8>,
    pub entry: SymbolTableEntry,
}

/// Writes fresh symbol-table nodes for `entries` (sorted by name) and a
/// group B-tree over them whose root is rewritten in place at `root`.
pub(crate) fn write_group_tree(
    tx: &mut Tx<'_>,
    entries: &[GroupEntry],
    leaf_k: u16,
    internal_k: u16,
    root: Address,
) -> Result<()> {
    let node_len = node_size_group(internal_k, tx.sizes) as u64;
    if entries.is_empty() {
        let bytes = encode_group_node(
            0,
            Address::UNDEFINED,
            Address::UNDEFINED,
            &[0],
            &[],
            internal_k,
        )?;
        tx.publish(root, bytes);
        return Ok(());
    }
    let per_snod = 2 * usize::from(leaf_k.max(1));
    // Symbol-table nodes: (last name's heap offset, address).
    let mut children: Vec<(u64, Address)> = Vec::new();
    for g in partition(entries.len(), per_snod) {
        let chunk: Vec<SymbolTableEntry> =
            entries[g.clone()].iter().map(|e| e.entry.clone()).collect();
        let bytes = encode_snod(&chunk, leaf_k)?;
        let addr = tx.put(bytes)?;
        children.push((entries[g.end - 1].entry.link_name_offset, addr));
    }
    let fanout = 2 * usize::from(internal_k.max(1));
    let mut level = 0u8;
    loop {
        let groups = partition(children.len(), fanout);
        let is_top = groups.len() == 1;
        let addrs: Vec<Address> = if is_top {
            vec![root]
        } else {
            groups
                .iter()
                .map(|_| tx.alloc(node_len))
                .collect::<Result<_>>()?
        };
        let mut next = Vec::with_capacity(groups.len());
        for (i, g) in groups.iter().enumerate() {
            // Key 0 is the left boundary: the last name before this node
            // (offset 0, the empty name, for the first node).
            let left_key = if g.start == 0 {
                0
            } else {
                children[g.start - 1].0
            };
            let mut keys = vec![left_key];
            keys.extend(children[g.clone()].iter().map(|(k, _)| *k));
            let kids: Vec<Address> = children[g.clone()].iter().map(|(_, a)| *a).collect();
            let left = if i == 0 || is_top {
                Address::UNDEFINED
            } else {
                addrs[i - 1]
            };
            let right = if is_top || i + 1 == groups.len() {
                Address::UNDEFINED
            } else {
                addrs[i + 1]
            };
            let bytes = encode_group_node(level, left, right, &keys, &kids, internal_k)?;
            if is_top {
                tx.publish(addrs[i], bytes);
            } else {
                tx.put_at(addrs[i], bytes);
            }
            next.push((children[g.end - 1].0, addrs[i]));
        }
        if is_top {
            return Ok(());
        }
        children = next;
        level = level
            .checked_add(1)
            .ok_or_else(|| Error::invalid("group B-tree too deep"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::partition;

    #[test]
    fn partition_is_even_and_covers() {
        let p = partition(65, 64);
        assert_eq!(p, vec![0..33, 33..65]);
        assert_eq!(partition(0, 8), vec![0..0]);
        assert_eq!(partition(8, 8), vec![0..8]);
    }
}
