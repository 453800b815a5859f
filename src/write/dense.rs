//! Dense link and attribute storage: the messages in a fractal heap, found
//! by name through a v2 B-tree (and by creation order through a second one
//! when the object indexes creation order).
//!
//! Any change rewrites the whole storage afresh (new heap, new indexes) and
//! publishes it by rewriting the object's link info or attribute info
//! message in one write: a crash leaves the old storage or the new one. The
//! old storage's space is not reclaimed, as with every deletion here. The
//! cost is linear in the number of members per change, which suits the
//! tens to thousands of links or attributes these objects hold.

use std::borrow::Cow;

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::btree_v2::{encode as btree, AttrNameRecord, BTreeV2, LinkNameRecord};
use crate::format::checksum::lookup3;
use crate::format::fractal_heap::encode::{self as heap, HeapParams};
use crate::format::fractal_heap::FractalHeap;
use crate::format::message::attribute::AttributeMessage;
use crate::format::message::link::LinkMessage;
use crate::format::{Address, FileView};
use crate::limits::Limits;
use crate::read::group::address_of;

/// What a dense storage holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A group's link messages (B-tree record types 5 and 6).
    Links,
    /// An object's attribute messages (record types 8 and 9).
    Attributes,
}

/// One stored message.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The link or attribute name.
    pub name: Vec<u8>,
    /// The encoded link or attribute message.
    pub message: Vec<u8>,
    /// Creation order (0 when not tracked).
    pub order: u64,
    /// Object header message flags kept with an attribute (record field).
    pub flags: u8,
}

/// Addresses of a written storage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stored {
    pub heap: Address,
    pub name_index: Address,
    /// Undefined unless a creation-order index was asked for.
    pub order_index: Address,
}

impl Kind {
    fn heap_params(self) -> &'static HeapParams {
        match self {
            Kind::Links => &heap::LINK_HEAP,
            Kind::Attributes => &heap::ATTRIBUTE_HEAP,
        }
    }
}

/// Writes `entries` as fresh dense storage.
///
/// ```text
/// Name index records (spec III.A.2):
///   type 5 (links):      Hash (4) | Heap ID (7)
///   type 8 (attributes): Heap ID (8) | Message Flags (1) | Creation Order (4) | Hash (4)
/// Creation-order index records:
///   type 6 (links):      Creation Order (8) | Heap ID (7)
///   type 9 (attributes): Heap ID (8) | Message Flags (1) | Creation Order (4)
/// ```
/// Name records sort by the lookup3 hash of the name, then the name; order
/// records by creation order.
pub(crate) fn write(
    tx: &mut Tx<'_>,
    kind: Kind,
    entries: &[Entry],
    order_indexed: bool,
) -> Result<Stored> {
    let sizes = tx.sizes;
    let messages: Vec<Vec<u8>> = entries.iter().map(|e| e.message.clone()).collect();
    let (heap_addr, ids) = heap::build(tx, sizes, kind.heap_params(), &messages)?;
    let mut by_name: Vec<(u32, &[u8], usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (lookup3(&e.name, 0), &e.name[..], i))
        .collect();
    by_name.sort();
    let name_records: Vec<Vec<u8>> = by_name
        .iter()
        .map(|&(hash, _, i)| {
            let e = &entries[i];
            let mut r = Vec::with_capacity(17);
            match kind {
                Kind::Links => {
                    r.extend_from_slice(&hash.to_le_bytes());
                    r.extend_from_slice(&ids[i]);
                }
                Kind::Attributes => {
                    r.extend_from_slice(&ids[i]);
                    r.push(e.flags);
                    r.extend_from_slice(&(e.order as u32).to_le_bytes());
                    r.extend_from_slice(&hash.to_le_bytes());
                }
            }
            r
        })
        .collect();
    let (name_type, order_type, name_size, order_size) = match kind {
        Kind::Links => (5, 6, 11, 15),
        Kind::Attributes => (8, 9, 17, 13),
    };
    let name_index = btree::build(
        tx,
        sizes,
        name_type,
        name_size,
        btree::NODE_SIZE,
        &name_records,
    )?;
    let order_index = if order_indexed {
        let mut by_order: Vec<usize> = (0..entries.len()).collect();
        by_order.sort_by_key(|&i| entries[i].order);
        let records: Vec<Vec<u8>> = by_order
            .iter()
            .map(|&i| {
                let e = &entries[i];
                let mut r = Vec::with_capacity(15);
                match kind {
                    Kind::Links => {
                        r.extend_from_slice(&e.order.to_le_bytes());
                        r.extend_from_slice(&ids[i]);
                    }
                    Kind::Attributes => {
                        r.extend_from_slice(&ids[i]);
                        r.push(e.flags);
                        r.extend_from_slice(&(e.order as u32).to_le_bytes());
                    }
                }
                r
            })
            .collect();
        btree::build(
            tx,
            sizes,
            order_type,
            order_size,
            btree::NODE_SIZE,
            &records,
        )?
    } else {
        Address::UNDEFINED
    };
    Ok(Stored {
        heap: heap_addr,
        name_index,
        order_index,
    })
}

/// Reads every entry of the dense storage at (`heap`, `name_index`).
pub(crate) fn read(
    view: &FileView<'_>,
    limits: &Limits,
    kind: Kind,
    heap_addr: Address,
    name_index: Address,
) -> Result<Vec<Entry>> {
    if heap_addr.is_undefined() || name_index.is_undefined() {
        return Ok(Vec::new());
    }
    let heap = FractalHeap::open(view, heap_addr, limits)?;
    let tree = BTreeV2::open(view, name_index, limits)?;
    let mut out = Vec::new();
    for rec in tree.records()? {
        let at = address_of(view, rec);
        let (id, flags, order) = match kind {
            Kind::Links => (LinkNameRecord::parse(rec, at)?.heap_id.to_vec(), 0, None),
            Kind::Attributes => {
                let r = AttrNameRecord::parse(rec, at)?;
                (
                    r.heap_id.to_vec(),
                    r.flags,
                    Some(u64::from(r.creation_order)),
                )
            }
        };
        let object: Cow<'_, [u8]> = heap.get(&id)?;
        let obj_at = match &object {
            Cow::Borrowed(b) => address_of(view, b),
            Cow::Owned(_) => view.abs_u64(heap_addr),
        };
        let (name, order) = match kind {
            Kind::Links => {
                let link = LinkMessage::parse(&object, obj_at, view.sizes)?;
                (link.name.into_bytes(), link.creation_order.unwrap_or(0))
            }
            Kind::Attributes => {
                if flags & crate::format::object_header::MESSAGE_FLAG_SHARED != 0 {
                    return Err(Error::unsupported(
                        "rewriting dense attribute storage holding shared attribute messages",
                    ));
                }
                let attr = AttributeMessage::parse(&object, obj_at, view.sizes)?;
                (attr.name.into_bytes(), order.unwrap_or(0))
            }
        };
        out.push(Entry {
            name,
            message: object.into_owned(),
            order,
            flags,
        });
    }
    Ok(out)
}
