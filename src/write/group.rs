//! Group membership in symbol-table groups (the classic format h5py and
//! anndata write by default) and in link-message groups.

use std::borrow::Cow;

use super::btree::{write_group_tree, GroupEntry};
use super::link_group::Links;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::btree_v1::group_snod_addresses;
use crate::format::local_heap::{encode_local_heap, LocalHeap};
use crate::format::message::symbol_table::SymbolTableMessage;
use crate::format::object_header::{kind, NewMessage, ObjectHeader};
use crate::format::symbol_table::{read_symbol_table_node, SymbolTableEntry};
use crate::format::{Address, FileView};
use crate::read::LinkTarget;

/// `H5HL_FREE_NULL`: the end of a local heap's free list.
const FREE_NULL: u64 = 1;
/// Free bytes left at the end of a rewritten local heap.
const HEAP_SLACK: usize = 64;

/// What a new symbol-table entry points at.
#[derive(Debug, Clone)]
pub(crate) enum NewLink {
    /// A hard link; `stab` caches a child group's (B-tree, heap).
    Hard {
        header: Address,
        stab: Option<(Address, Address)>,
    },
    /// A soft link to a path.
    Soft(String),
    /// An external link (link-message groups only).
    External { file: String, path: String },
}

/// The members of a symbol-table group, with their names.
fn stab_entries(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    stm: &SymbolTableMessage,
    heap: &LocalHeap<'_>,
) -> Result<Vec<GroupEntry>> {
    let mut out = Vec::new();
    for snod in group_snod_addresses(view, stm.btree, &tx.limits)? {
        for entry in read_symbol_table_node(view, snod, &tx.limits)? {
            let name = heap.string_at(entry.link_name_offset)?.to_vec();
            out.push(GroupEntry { name, entry });
        }
    }
    Ok(out)
}

fn stab_of(view: &FileView<'_>, hdr: &ObjectHeader<'_>) -> Result<Option<SymbolTableMessage>> {
    match hdr.first(kind::SYMBOL_TABLE) {
        Some(m) => Ok(Some(SymbolTableMessage::parse(m.data, m.at, view.sizes)?)),
        None => Ok(None),
    }
}

/// Appends NUL-terminated, 8-byte padded strings to a heap data segment.
fn heap_append(data: &mut Vec<u8>, s: &[u8]) -> u64 {
    let off = data.len() as u64;
    data.extend_from_slice(s);
    data.push(0);
    while !data.len().is_multiple_of(8) {
        data.push(0);
    }
    off
}

/// Rewrites a local heap with `strings` appended: a fresh data segment
/// (old bytes kept at their offsets) and the header updated in place.
/// Returns the offsets of the new strings.
fn heap_add(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    heap_addr: Address,
    strings: &[&[u8]],
) -> Result<Vec<u64>> {
    let heap = LocalHeap::parse(view, heap_addr)?;
    let mut data = heap.data().to_vec();
    while data.len() % 8 != 0 {
        data.push(0);
    }
    let offsets: Vec<u64> = strings.iter().map(|s| heap_append(&mut data, s)).collect();
    // One free block at the end: next-free offset, then its size.
    let free_at = data.len() as u64;
    let len_width = usize::from(tx.sizes.length);
    let slack = HEAP_SLACK.max(2 * len_width);
    data.extend_from_slice(&FREE_NULL.to_le_bytes()[..len_width]);
    data.extend_from_slice(&(slack as u64).to_le_bytes()[..len_width]);
    data.resize(free_at as usize + slack, 0);
    let data_addr = tx.alloc(data.len() as u64)?;
    let header = encode_local_heap(heap_addr, data_addr, &data, Some(free_at));
    tx.put_at(data_addr, data);
    tx.publish(heap_addr, header);
    Ok(offsets)
}

/// Names of the members of the group at `group`, for existence checks.
pub(crate) fn member_names(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    group: Address,
) -> Result<Vec<Vec<u8>>> {
    let hdr = ObjectHeader::parse(view, group, &tx.limits)?;
    if let Some(stm) = stab_of(view, &hdr)? {
        let heap = LocalHeap::parse(view, stm.local_heap)?;
        return Ok(stab_entries(view, tx, &stm, &heap)?
            .into_iter()
            .map(|e| e.name)
            .collect());
    }
    Ok(Links::from_header(view, tx, group, &hdr)?.names())
}

fn exists_error(name: &str) -> Error {
    Error::invalid(format!("a member named {name:?} already exists"))
}

/// Adds the member `name` to the group whose object header is at `group`.
pub(crate) fn insert(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    group: Address,
    name: &str,
    link: NewLink,
    group_k: (u16, u16),
) -> Result<()> {
    if name.is_empty() || name.contains('/') || name == "." {
        return Err(Error::invalid(format!(
            "{name:?} is not a valid member name"
        )));
    }
    let hdr = ObjectHeader::parse(view, group, &tx.limits)?;
    let Some(stm) = stab_of(view, &hdr)? else {
        let target = match link {
            NewLink::Hard { header, .. } => LinkTarget::Hard(header),
            NewLink::Soft(p) => LinkTarget::Soft(p),
            NewLink::External { file, path } => LinkTarget::External { file, path },
        };
        return Links::from_header(view, tx, group, &hdr)?.insert(view, tx, name, target);
    };
    let heap = LocalHeap::parse(view, stm.local_heap)?;
    let mut entries = stab_entries(view, tx, &stm, &heap)?;
    if entries.iter().any(|e| e.name == name.as_bytes()) {
        return Err(exists_error(name));
    }
    let (entry_strings, soft): (Vec<&[u8]>, bool) = match &link {
        NewLink::Soft(target) => (vec![name.as_bytes(), target.as_bytes()], true),
        NewLink::Hard { .. } => (vec![name.as_bytes()], false),
        NewLink::External { .. } => {
            return Err(Error::unsupported(
                "external links in symbol-table (libver earliest) groups; HDF5 stores them only as link messages",
            ))
        }
    };
    let offsets = heap_add(view, tx, stm.local_heap, &entry_strings)?;
    let entry = match link {
        NewLink::Hard { header, stab } => SymbolTableEntry {
            link_name_offset: offsets[0],
            object_header: header,
            cache_type: u32::from(stab.is_some()),
            cached_btree: stab.map(|s| s.0),
            cached_heap: stab.map(|s| s.1),
            soft_link_offset: None,
        },
        _ => SymbolTableEntry {
            link_name_offset: offsets[0],
            object_header: Address::UNDEFINED,
            cache_type: 2,
            cached_btree: None,
            cached_heap: None,
            soft_link_offset: if soft { Some(offsets[1] as u32) } else { None },
        },
    };
    entries.push(GroupEntry {
        name: name.as_bytes().to_vec(),
        entry,
    });
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    write_group_tree(tx, &entries, group_k.0, group_k.1, stm.btree)
}

/// Removes the member `name` from the group at `group`.
pub(crate) fn remove(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    group: Address,
    name: &str,
    group_k: (u16, u16),
) -> Result<()> {
    let hdr = ObjectHeader::parse(view, group, &tx.limits)?;
    let Some(stm) = stab_of(view, &hdr)? else {
        return Links::from_header(view, tx, group, &hdr)?.remove(view, tx, name);
    };
    let heap = LocalHeap::parse(view, stm.local_heap)?;
    let mut entries = stab_entries(view, tx, &stm, &heap)?;
    let before = entries.len();
    entries.retain(|e| e.name != name.as_bytes());
    if entries.len() == before {
        return Err(Error::invalid(format!("no member named {name:?}")));
    }
    write_group_tree(tx, &entries, group_k.0, group_k.1, stm.btree)
}

/// Writes a new, empty symbol-table group; returns (object header, B-tree,
/// local heap) addresses.
pub(crate) fn create_stab_group(
    tx: &mut Tx<'_>,
    group_k: (u16, u16),
) -> Result<(Address, Address, Address)> {
    use crate::format::btree_v1::{encode_group_node, node_size_group};
    use crate::format::object_header::encode_v1;
    // Local heap: the empty name at 0, then free space.
    let len_width = usize::from(tx.sizes.length);
    let mut data = vec![0u8; 8];
    let free_at = data.len() as u64;
    let slack = 80usize;
    data.extend_from_slice(&FREE_NULL.to_le_bytes()[..len_width]);
    data.extend_from_slice(&(slack as u64).to_le_bytes()[..len_width]);
    data.resize(free_at as usize + slack, 0);
    let header_len = crate::format::local_heap::LOCAL_HEAP_HEADER_LEN as u64;
    let heap_addr = tx.alloc(header_len)?;
    let data_addr = tx.alloc(data.len() as u64)?;
    tx.put_at(
        heap_addr,
        encode_local_heap(heap_addr, data_addr, &data, Some(free_at)),
    );
    tx.put_at(data_addr, data);
    // Empty B-tree root.
    let node_len = node_size_group(group_k.1, tx.sizes) as u64;
    let root = tx.alloc(node_len)?;
    tx.put_at(
        root,
        encode_group_node(
            0,
            Address::UNDEFINED,
            Address::UNDEFINED,
            &[0],
            &[],
            group_k.1,
        )?,
    );
    let stm = SymbolTableMessage {
        btree: root,
        local_heap: heap_addr,
    };
    let oh = encode_v1(
        &[NewMessage {
            kind: kind::SYMBOL_TABLE,
            flags: 0,
            data: Cow::Owned(stm.encode()?),
        }],
        super::HEADER_SLACK,
    )?;
    let oh_addr = tx.put(oh)?;
    Ok((oh_addr, root, heap_addr))
}

/// Writes a new, empty group that stores its members as link messages
/// (compact link storage, which external links need); returns its object
/// header address.
pub(crate) fn create_link_group(tx: &mut Tx<'_>) -> Result<Address> {
    use crate::format::message::group_info::GroupInfo;
    use crate::format::message::link_info::LinkInfo;
    use crate::format::object_header::{encode_v1, encode_v2};
    let info = LinkInfo {
        max_creation_index: None,
        fractal_heap: Address::UNDEFINED,
        name_index: Address::UNDEFINED,
        order_index: Address::UNDEFINED,
    };
    let group_info = GroupInfo {
        link_phase_change: None,
        estimated: None,
    };
    let messages = [
        NewMessage {
            kind: kind::LINK_INFO,
            flags: 0,
            data: Cow::Owned(info.encode()?),
        },
        NewMessage {
            kind: kind::GROUP_INFO,
            flags: 0,
            data: Cow::Owned(group_info.encode()?),
        },
    ];
    let oh = if tx.latest {
        encode_v2(&messages, 0, super::HEADER_SLACK * 4)?
    } else {
        encode_v1(&messages, super::HEADER_SLACK * 4)?
    };
    tx.put(oh)
}

/// Points member `name` of the group at `group` at the object header
/// `header` (with `stab`, a group's (B-tree, heap) for a symbol-table
/// entry's cache). Used by transactions to link a copied object.
pub(crate) fn set_member(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    group: Address,
    name: &str,
    header: Address,
    stab: Option<(Address, Address)>,
    group_k: (u16, u16),
) -> Result<()> {
    let hdr = ObjectHeader::parse(view, group, &tx.limits)?;
    let Some(stm) = stab_of(view, &hdr)? else {
        return Links::from_header(view, tx, group, &hdr)?.set_target(
            view,
            tx,
            name,
            LinkTarget::Hard(header),
        );
    };
    let heap = LocalHeap::parse(view, stm.local_heap)?;
    let point = |e: &mut SymbolTableEntry| {
        e.object_header = header;
        e.cache_type = u32::from(stab.is_some());
        e.cached_btree = stab.map(|s| s.0);
        e.cached_heap = stab.map(|s| s.1);
        e.soft_link_offset = None;
    };
    if patch_member(view, tx, &stm, &heap, name, group_k.0, &point)? {
        return Ok(());
    }
    let mut entries = stab_entries(view, tx, &stm, &heap)?;
    let e = entries
        .iter_mut()
        .find(|e| e.name == name.as_bytes())
        .ok_or_else(|| Error::invalid(format!("no member named {name:?}")))?;
    point(&mut e.entry);
    write_group_tree(tx, &entries, group_k.0, group_k.1, stm.btree)
}

/// [`set_member`] inside a transaction, without rewriting the group's
/// whole tree: when the group's B-tree root is the transaction's own copy
/// and a leaf (its children are the symbol-table nodes), the entry of
/// `name` is changed by `point` in its symbol-table node, in place when
/// that node is the transaction's own too, else in a copy of that one node
/// whose address is patched into the root. False (nothing staged) when
/// this does not apply.
fn patch_member(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    stm: &SymbolTableMessage,
    heap: &LocalHeap<'_>,
    name: &str,
    leaf_k: u16,
    point: &dyn Fn(&mut SymbolTableEntry),
) -> Result<bool> {
    use crate::format::btree_v1::{BTreeV1Node, NODE_TYPE_GROUP};
    let Some(private_from) = tx.private_from else {
        return Ok(false);
    };
    // The encoders below write 8-byte offsets and lengths.
    if tx.sizes != crate::format::Sizes::DEFAULT {
        return Ok(false);
    }
    let own = |a: Address| view.abs_u64(a) >= private_from;
    let key_size = usize::from(tx.sizes.length);
    let root = BTreeV1Node::parse(view, stm.btree, NODE_TYPE_GROUP, key_size, &tx.limits)?;
    if root.level != 0 || !own(stm.btree) {
        return Ok(false);
    }
    let entry_len = SymbolTableEntry::encoded_len(tx.sizes) as u64;
    for (i, &snod) in root.children.iter().enumerate() {
        let mut entries = read_symbol_table_node(view, snod, &tx.limits)?;
        let Some(j) = entries
            .iter()
            .position(|e| heap.string_at(e.link_name_offset).ok() == Some(name.as_bytes()))
        else {
            continue;
        };
        point(&mut entries[j]);
        if own(snod) {
            // Entries start 8 bytes into the node.
            let mut bytes = Vec::with_capacity(entry_len as usize);
            entries[j].encode(&mut bytes);
            tx.put_at(Address(snod.0 + 8 + j as u64 * entry_len), bytes);
        } else {
            let copy = tx.put(crate::format::symbol_table::encode_snod(&entries, leaf_k)?)?;
            // Child i follows the signature, type, level, count, both
            // sibling links and i + 1 keys and i children.
            let offset = u64::from(tx.sizes.offset);
            let at = 8 + 2 * offset + i as u64 * (key_size as u64 + offset) + key_size as u64;
            tx.put_at(Address(stm.btree.0 + at), copy.0.to_le_bytes().to_vec());
        }
        return Ok(true);
    }
    Ok(false)
}

/// Makes member `name` point where member `replacement` points and removes
/// `replacement`, in one publishing write for symbol-table groups (the
/// B-tree root): a crash shows the old member or the new one, never neither.
pub(crate) fn replace_member(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    group: Address,
    name: &str,
    replacement: &str,
    group_k: (u16, u16),
) -> Result<()> {
    let hdr = ObjectHeader::parse(view, group, &tx.limits)?;
    let Some(stm) = stab_of(view, &hdr)? else {
        return Links::from_header(view, tx, group, &hdr)?.retarget(view, tx, name, replacement);
    };
    let heap = LocalHeap::parse(view, stm.local_heap)?;
    let mut entries = stab_entries(view, tx, &stm, &heap)?;
    let new_pos = entries
        .iter()
        .position(|e| e.name == replacement.as_bytes())
        .ok_or_else(|| Error::invalid(format!("no member named {replacement:?}")))?;
    let new_entry = entries.remove(new_pos);
    let old = entries
        .iter_mut()
        .find(|e| e.name == name.as_bytes())
        .ok_or_else(|| Error::invalid(format!("no member named {name:?}")))?;
    let name_offset = old.entry.link_name_offset;
    old.entry = new_entry.entry;
    old.entry.link_name_offset = name_offset;
    write_group_tree(tx, &entries, group_k.0, group_k.1, stm.btree)
}
