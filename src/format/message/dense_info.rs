//! The layout shared by the link info (0x0002) and attribute info (0x0015)
//! messages: where an object keeps its links or attributes when they are
//! stored densely (fractal heap + v2 B-tree indexes).

use super::check_version;
use crate::error::{Error, Result};
use crate::format::{Address, Cursor, Sizes};

// Layout (spec IV.A.2.c and IV.A.2.v):
//   Version (1) | Flags (1: bit 0 creation order tracked, bit 1 indexed)
//   Maximum Creation Index (8 for links, 2 for attributes; flags bit 0)
//   Fractal Heap Address (O) | Name Index v2 B-tree Address (O)
//   Creation Order Index v2 B-tree Address (O, optional: bit 1)

/// The fields of either message; `max_creation_index` widened to u64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DenseInfo {
    pub max_creation_index: Option<u64>,
    pub fractal_heap: Address,
    pub name_index: Address,
    pub order_index: Address,
}

/// Parses either message; `kind` ("link" or "attribute") names it in
/// errors, `index_width` is the creation-index field's size in bytes.
pub(crate) fn parse(
    data: &[u8],
    at: u64,
    sizes: Sizes,
    kind: &str,
    index_width: usize,
) -> Result<DenseInfo> {
    let mut c = Cursor::new(data, at, sizes);
    let version = c.u8(&format!("{kind} info version"))?;
    check_version(&format!("{kind} info message"), at, version, &[0])?;
    let flags = c.u8(&format!("{kind} info flags"))?;
    if flags & !0x03 != 0 {
        return Err(Error::format(
            at.saturating_add(1),
            format!("{kind} info flags: unknown bits set ({flags:#04x})"),
        ));
    }
    let max_creation_index = if flags & 1 != 0 {
        Some(c.uint(index_width, "maximum creation index")?)
    } else {
        None
    };
    let fractal_heap = c.address(&format!("{kind} fractal heap address"))?;
    let name_index = c.address(&format!("{kind} name index v2 B-tree address"))?;
    let order_index = if flags & 2 != 0 {
        c.address(&format!("{kind} creation order index v2 B-tree address"))?
    } else {
        Address::UNDEFINED
    };
    Ok(DenseInfo {
        max_creation_index,
        fractal_heap,
        name_index,
        order_index,
    })
}

/// Encodes either message (version 0): flags bit 0 (tracked) when the
/// maximum creation index is stored, bit 1 (indexed, with the creation
/// order index address) when it is or when that address is defined.
pub(crate) fn encode(info: &DenseInfo, index_width: usize) -> Vec<u8> {
    // h5py's track_order sets "tracked" and "indexed" together, and
    // libhdf5 then stores the (possibly undefined) index address.
    let mut flags = 0u8;
    if info.max_creation_index.is_some() {
        flags |= 3;
    }
    if !info.order_index.is_undefined() {
        flags |= 2;
    }
    let mut b = vec![0, flags];
    if let Some(m) = info.max_creation_index {
        b.extend_from_slice(&m.to_le_bytes()[..index_width]);
    }
    b.extend_from_slice(&info.fractal_heap.0.to_le_bytes());
    b.extend_from_slice(&info.name_index.0.to_le_bytes());
    if flags & 2 != 0 {
        b.extend_from_slice(&info.order_index.0.to_le_bytes());
    }
    b
}
