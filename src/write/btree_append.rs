//! Appending to a chunk B-tree by copying its right-most path.
//!
//! An append adds chunks after every stored one (and may rewrite the last
//! chunks, an edge chunk the previous append left partly filled). In key
//! order all of these land in the right-most leaf, so only the nodes on the
//! path from the root to that leaf change: they are written fresh (split
//! into new right siblings when they overflow, with a new level when the
//! root does), and the root is rewritten in place at its fixed address, one
//! write that publishes the new tree, as [`write_chunk_tree`] does for a
//! whole rebuild. The cost is the new chunks plus the tree's height, not
//! every chunk of the dataset.
//!
//! Version 1 B-tree nodes also link their siblings, and the superseded
//! copies make one link stale: the node left of a copied node (a node that
//! is itself kept) still names the old copy as its right sibling. Lookups,
//! inserts and iteration in libhdf5 (`H5B_find`, `H5B_insert`,
//! `H5B__iterate_helper`) and every reader descend from the root and never
//! follow sibling links, so the published tree reads correctly with the
//! stale link. But libhdf5 does follow them when it splits a node (it sets
//! the right sibling's left link) and when it removes an emptied node on a
//! shrink (it joins the two neighbours): with a stale link it would update
//! the superseded copy and leave the live node naming a freed one. So after
//! the publishing write, each such right link is fixed in place (8 bytes
//! per level). A crash between the two leaves a stale link in a tree that
//! reads correctly, which is why those writes may come after the publish.
//!
//! [`write_chunk_tree`]: super::btree::write_chunk_tree

use super::btree::ChunkEntry;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::btree_v1::{
    chunk_key_size, encode_chunk_node, node_size_chunk, BTreeV1Node, ChunkKey, NODE_TYPE_CHUNK,
};
use crate::format::{Address, FileView};
use crate::limits::Limits;

/// Where a rewritten chunk B-tree's root goes.
// `Fresh`, `AppendedTree`'s fields and `append_chunk_tree` are for the
// shadow-copy transactions, whose root moves; `write_selection` uses the
// path directly.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootPlacement {
    /// Rewritten in place at the tree's current root address, staged as a
    /// publishing write (the layout message keeps naming it).
    InPlace,
    /// Written into fresh space like every other node; the caller
    /// publishes the returned address.
    Fresh,
}

/// What [`RightmostPath::apply`] wrote.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct AppendedTree {
    /// The root's address: the old one for [`RootPlacement::InPlace`].
    pub root: Address,
    /// In-place fixes of kept nodes' right-sibling links (address, bytes),
    /// to apply after the new tree is published: staged by `apply` behind
    /// the root for [`RootPlacement::InPlace`] (and empty here), returned
    /// for the caller to stage after its own publishing write for
    /// [`RootPlacement::Fresh`].
    pub sibling_fixes: Vec<(Address, Vec<u8>)>,
}

/// One node on the right-most path.
#[derive(Debug)]
struct PathNode {
    /// Where the node is.
    addr: Address,
    level: u8,
    /// The left key and address of each child, in key order.
    children: Vec<(ChunkKey, Address)>,
    /// The node to its left on its level, found through the parents
    /// (`None` for the left-most node).
    left: Option<Address>,
}

/// The right-most path of a chunk B-tree: the root, its last child, and so
/// on down to the right-most leaf.
#[derive(Debug)]
pub(crate) struct RightmostPath {
    root: Address,
    rank: usize,
    /// The root first, the right-most leaf last.
    nodes: Vec<PathNode>,
}

impl RightmostPath {
    /// Reads the path from `root` of the chunk B-tree of a dataset of
    /// `rank` dimensions, and the left neighbour of each node on it.
    pub(crate) fn read(
        view: &FileView<'_>,
        root: Address,
        rank: usize,
        limits: &Limits,
    ) -> Result<RightmostPath> {
        if rank == 0 || rank > 32 {
            return Err(Error::format(
                view.abs_u64(root),
                format!("v1 B-tree chunk index: dataset rank {rank} is outside 1..=32"),
            ));
        }
        let key_size = chunk_key_size(rank);
        let parse = |addr: Address, level: Option<u8>| -> Result<BTreeV1Node<'_>> {
            let node = BTreeV1Node::parse(view, addr, NODE_TYPE_CHUNK, key_size, limits)?;
            match level {
                Some(l) if node.level != l => Err(Error::format(
                    node.abs,
                    format!(
                        "v1 B-tree node: expected level {l} below its parent, found level {}",
                        node.level
                    ),
                )),
                _ => Ok(node),
            }
        };
        let mut nodes: Vec<PathNode> = Vec::new();
        let mut addr = root;
        let mut left = None;
        let mut level = None;
        loop {
            limits.check_depth("v1 B-tree depth", nodes.len() as u32)?;
            let node = parse(addr, level)?;
            // The left neighbour must be a chunk node of the same level:
            // its right link is patched after an append.
            let left_node = left.map(|l| parse(l, Some(node.level))).transpose()?;
            let mut children = Vec::with_capacity(node.children.len());
            for (i, &child) in node.children.iter().enumerate() {
                let (at, raw) = node.keys[i];
                let key = if node.level == 0 {
                    ChunkKey::parse_chunk(raw, at, rank, view.sizes)?
                } else {
                    // Left keys of child nodes, carried over as stored.
                    ChunkKey::parse(raw, at, rank, view.sizes)?
                };
                if child.is_undefined() {
                    return Err(Error::format(at, "v1 B-tree: child address is undefined"));
                }
                children.push((key, child));
            }
            let here = node.level;
            let next = match (here, children.last()) {
                // An empty leaf below the root would claim every offset.
                (0, None) if !nodes.is_empty() => {
                    return Err(Error::format(
                        node.abs,
                        "v1 B-tree: an empty leaf below the root",
                    ))
                }
                (0, _) => None,
                (_, None) => {
                    return Err(Error::format(
                        node.abs,
                        "v1 B-tree: an internal node without children",
                    ))
                }
                (_, Some(&(_, last))) => Some(last),
            };
            // The left neighbour of the last child: the child before it,
            // or the last child of this node's left neighbour.
            let child_left = match children.len() {
                n if n >= 2 => Some(children[n - 2].1),
                _ => left_node.and_then(|l| l.children.last().copied()),
            };
            nodes.push(PathNode {
                addr,
                level: here,
                children,
                left,
            });
            match next {
                None => break,
                Some(child) => {
                    addr = child;
                    left = child_left;
                    level = Some(here - 1);
                }
            }
        }
        Ok(RightmostPath { root, rank, nodes })
    }

    /// The chunks of the right-most leaf, in key order.
    pub(crate) fn last_leaf(&self) -> impl Iterator<Item = ChunkEntry> + '_ {
        let leaf = self.nodes.last().map_or(&[][..], |n| &n.children[..]);
        leaf.iter().map(|(k, a)| ChunkEntry {
            offset: k.offset.clone(),
            address: *a,
            size: k.size,
            filter_mask: k.filter_mask,
        })
    }

    /// Whether a chunk at `offset` belongs in the right-most leaf: at or
    /// after its first chunk (v1 chunk keys order offsets
    /// lexicographically, dimension 0 first, as libhdf5's
    /// `H5VM_vector_cmp_u` does), or anywhere when the tree is empty. The
    /// leaf holds every stored chunk from there on, so a chunk it lacks is
    /// not stored.
    pub(crate) fn covers(&self, offset: &[u64]) -> bool {
        let leaf = self.nodes.last().map_or(&[][..], |n| &n.children[..]);
        leaf.first()
            .is_none_or(|(first, _)| offset >= first.offset.as_slice())
    }

    /// Writes the tree with `changes` (sorted by offset, each
    /// [covered](RightmostPath::covers)) added to the right-most leaf,
    /// replacing the chunks stored at the same offsets: the leaf and its
    /// ancestors are written fresh, split into full nodes of `2k` children
    /// with new right siblings when they overflow, the root grows a level
    /// when it does, and the root is placed as `placement` says.
    pub(crate) fn apply(
        &self,
        tx: &mut Tx<'_>,
        changes: &[ChunkEntry],
        element_size: u32,
        k: u16,
        placement: RootPlacement,
    ) -> Result<AppendedTree> {
        let rank = self.rank;
        let mut items = self.merged_leaf(changes)?;
        let Some((last, _)) = items.last() else {
            return Err(Error::invalid("a chunk B-tree needs at least one chunk"));
        };
        // libhdf5's right-most key: the last chunk's offsets with the
        // element size in the element slot, so it sorts after every chunk
        // (as write_chunk_tree writes it).
        let mut final_offset = last.offset.clone();
        final_offset.push(u64::from(element_size));
        let final_key = ChunkKey {
            size: 0,
            filter_mask: 0,
            offset: final_offset,
        };
        let fanout = 2 * usize::from(k.max(1));
        let node_len = node_size_chunk(k, rank, tx.sizes) as u64;
        let right_link_at = 8 + u64::from(tx.sizes.offset);
        let mut fixes = Vec::new();
        // The path node this level replaces (an index into `nodes`);
        // `None` above the old root.
        let mut replaced = self.nodes.len().checked_sub(1);
        let mut level = 0u8;
        loop {
            let old = replaced.map(|i| &self.nodes[i]);
            if old.is_some_and(|n| n.level != level) {
                return Err(Error::invalid(
                    "v1 B-tree: right-most path levels do not step down by one",
                ));
            }
            let groups = pack(items.len(), fanout);
            let node_keys = |i: usize| -> (Vec<ChunkKey>, Vec<Address>) {
                let g = groups[i].clone();
                let mut keys: Vec<ChunkKey> =
                    items[g.clone()].iter().map(|e| e.0.clone()).collect();
                keys.push(match groups.get(i + 1) {
                    Some(n) => items[n.start].0.clone(),
                    None => final_key.clone(),
                });
                (keys, items[g].iter().map(|e| e.1).collect())
            };
            if replaced.is_none_or(|i| i == 0) && groups.len() == 1 {
                let (keys, kids) = node_keys(0);
                let u = Address::UNDEFINED;
                let bytes = encode_chunk_node(level, u, u, &keys, &kids, k, rank)?;
                let root = match placement {
                    RootPlacement::InPlace => {
                        tx.publish(self.root, bytes);
                        for (at, b) in fixes.drain(..) {
                            tx.publish(at, b);
                        }
                        self.root
                    }
                    RootPlacement::Fresh => tx.put(bytes)?,
                };
                return Ok(AppendedTree {
                    root,
                    sibling_fixes: fixes,
                });
            }
            // A full node that the changes leave as it was (they all come
            // after its children) is kept, shared with the old tree, and
            // new nodes follow it: only its right link changes, after the
            // publish. Not an in-place root, whose address the new root
            // takes.
            let keep_first = old.filter(|n| {
                groups.len() > 1
                    && n.children.len() == fanout
                    && items.get(..fanout) == Some(&n.children[..])
                    && !(placement == RootPlacement::InPlace && n.addr == self.root)
            });
            let addrs = (0..groups.len())
                .map(|i| match (i, keep_first) {
                    (0, Some(n)) => Ok(n.addr),
                    _ => tx.alloc(node_len),
                })
                .collect::<Result<Vec<_>>>()?;
            // The first new node's left link names a kept node, the real
            // one (not a superseded copy): it was found through the parents.
            let kept_left = match keep_first {
                Some(n) => Some(n.addr),
                None => old.and_then(|n| n.left),
            };
            for i in 0..groups.len() {
                if i == 0 && keep_first.is_some() {
                    continue;
                }
                let (keys, kids) = node_keys(i);
                let left = match i {
                    0 => kept_left.unwrap_or(Address::UNDEFINED),
                    _ => addrs[i - 1],
                };
                let right = addrs.get(i + 1).copied().unwrap_or(Address::UNDEFINED);
                tx.put_at(
                    addrs[i],
                    encode_chunk_node(level, left, right, &keys, &kids, k, rank)?,
                );
            }
            // The kept node left of the new ones names the first of them.
            let first_new = usize::from(keep_first.is_some());
            if let (Some(l), Some(to)) = (kept_left, addrs.get(first_new)) {
                let at = Address(l.0.saturating_add(right_link_at));
                let width = usize::from(tx.sizes.offset).min(8);
                fixes.push((at, to.0.to_le_bytes()[..width].to_vec()));
            }
            let new_children = groups
                .iter()
                .zip(&addrs)
                .map(|(g, a)| (items[g.start].0.clone(), *a));
            items = match replaced {
                Some(i) if i > 0 => {
                    let parent = &self.nodes[i - 1].children;
                    let mut v = parent[..parent.len() - 1].to_vec();
                    v.extend(new_children);
                    v
                }
                _ => new_children.collect(),
            };
            replaced = replaced.and_then(|i| i.checked_sub(1));
            level = level
                .checked_add(1)
                .ok_or_else(|| Error::invalid("chunk B-tree too deep"))?;
        }
    }

    /// The right-most leaf's entries with `changes` merged in.
    fn merged_leaf(&self, changes: &[ChunkEntry]) -> Result<Vec<(ChunkKey, Address)>> {
        let leaf = self.nodes.last().map_or(&[][..], |n| &n.children[..]);
        let mut out = Vec::with_capacity(leaf.len() + changes.len());
        let mut old = leaf.iter().peekable();
        let mut prev: Option<&[u64]> = None;
        for c in changes {
            if c.offset.len() != self.rank
                || prev.is_some_and(|p| p >= c.offset.as_slice())
                || !self.covers(&c.offset)
            {
                return Err(Error::invalid(format!(
                    "chunk {:?}: changes to the right-most leaf must be sorted, of rank {}, and \
                     at or after its first chunk",
                    c.offset, self.rank
                )));
            }
            prev = Some(&c.offset);
            while let Some(e) = old.next_if(|(k, _)| k.offset < c.offset) {
                out.push(e.clone());
            }
            old.next_if(|(k, _)| k.offset == c.offset); // replaced
            out.push((
                ChunkKey {
                    size: c.size,
                    filter_mask: c.filter_mask,
                    offset: c.offset.clone(),
                },
                c.address,
            ));
        }
        out.extend(old.cloned());
        Ok(out)
    }
}

/// Lays out `count` children into full nodes of `fanout`, the last one
/// taking the rest: appends keep arriving on the right, so full nodes on
/// the left stay full.
fn pack(count: usize, fanout: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(count.div_ceil(fanout).max(1));
    let mut start = 0;
    loop {
        let end = (start + fanout).min(count);
        out.push(start..end);
        if end >= count {
            return out;
        }
        start = end;
    }
}

/// Adds or replaces `changes` (sorted by offset) in the chunk B-tree at
/// `root` of a dataset of `rank` dimensions by copying its right-most path,
/// when they all belong in its right-most leaf (an append); `Ok(None)`
/// when some does not, and nothing was staged (rebuild the tree with
/// [`write_chunk_tree`](super::btree::write_chunk_tree) instead).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn append_chunk_tree(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    root: Address,
    rank: usize,
    changes: &[ChunkEntry],
    element_size: u32,
    k: u16,
    placement: RootPlacement,
) -> Result<Option<AppendedTree>> {
    let path = RightmostPath::read(view, root, rank, &tx.limits)?;
    if !changes.iter().all(|c| path.covers(&c.offset)) {
        return Ok(None);
    }
    path.apply(tx, changes, element_size, k, placement)
        .map(Some)
}

#[cfg(test)]
mod tests;
