//! The link info message (type 0x0002, spec IV.A.2.c) of new-style groups.

use super::dense_info;
use crate::error::Result;
use crate::format::{Address, Sizes};

/// Where a new-style group keeps its links when they are stored densely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    /// Largest creation index used, when creation order is tracked.
    pub max_creation_index: Option<u64>,
    /// Fractal heap of dense links; undefined when links are compact
    /// (stored as link messages in the object header).
    pub fractal_heap: Address,
    /// v2 B-tree indexing link names.
    pub name_index: Address,
    /// v2 B-tree indexing creation order; undefined if absent.
    pub order_index: Address,
}

impl LinkInfo {
    // Layout: Link Info Message:
    //   Version (1) | Flags (1: bit 0 creation order tracked, bit 1 indexed)
    //   Maximum Creation Index (8, optional: flags bit 0)
    //   Fractal Heap Address (O) | Address of v2 B-tree for Name Index (O)
    //   Address of v2 B-tree for Creation Order Index (O, optional: bit 1)
    /// Parses a link info message.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<LinkInfo> {
        let d = dense_info::parse(data, at, sizes, "link", 8)?;
        Ok(LinkInfo {
            max_creation_index: d.max_creation_index,
            fractal_heap: d.fractal_heap,
            name_index: d.name_index,
            order_index: d.order_index,
        })
    }
}

impl LinkInfo {
    /// A link info message for a new group with compact links (no heap, no
    /// B-trees), tracking creation order when `track_order`.
    pub fn compact(track_order: bool) -> LinkInfo {
        LinkInfo {
            max_creation_index: track_order.then_some(0),
            fractal_heap: Address::UNDEFINED,
            name_index: Address::UNDEFINED,
            order_index: Address::UNDEFINED,
        }
    }

    /// Encodes the link info message (version 0): flags bit 0 (tracked)
    /// when the maximum creation index is stored, bit 1 (indexed, with the
    /// creation order index address) when it is or when that address is
    /// defined.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let d = dense_info::DenseInfo {
            max_creation_index: self.max_creation_index,
            fractal_heap: self.fractal_heap,
            name_index: self.name_index,
            order_index: self.order_index,
        };
        Ok(dense_info::encode(&d, 8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_round_trips() {
        for l in [
            LinkInfo::compact(false),
            LinkInfo::compact(true),
            LinkInfo {
                max_creation_index: Some(19),
                fractal_heap: Address(0x100),
                name_index: Address(0x200),
                order_index: Address(0x300),
            },
        ] {
            let b = l.encode().unwrap();
            assert_eq!(LinkInfo::parse(&b, 0, Sizes::DEFAULT).unwrap(), l);
        }
        assert_eq!(LinkInfo::compact(false).encode().unwrap().len(), 18);
    }

    #[test]
    fn forms() {
        let mut d = vec![0, 0];
        d.extend_from_slice(&u64::MAX.to_le_bytes());
        d.extend_from_slice(&u64::MAX.to_le_bytes());
        let l = LinkInfo::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert!(l.fractal_heap.is_undefined());
        assert!(l.order_index.is_undefined());
        assert_eq!(l.max_creation_index, None);
        let mut d = vec![0, 3];
        d.extend_from_slice(&5u64.to_le_bytes());
        for a in [0x100u64, 0x200, 0x300] {
            d.extend_from_slice(&a.to_le_bytes());
        }
        let l = LinkInfo::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(l.max_creation_index, Some(5));
        assert_eq!(l.order_index, Address(0x300));
        assert!(LinkInfo::parse(&d[..d.len() - 1], 0, Sizes::DEFAULT).is_err());
        assert!(LinkInfo::parse(&[1, 0], 0, Sizes::DEFAULT).is_err());
        assert!(LinkInfo::parse(&[0, 4], 0, Sizes::DEFAULT).is_err());
    }
}
