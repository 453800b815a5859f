//! The attribute info message (type 0x0015, spec IV.A.2.v).

use super::dense_info;
use crate::error::Result;
use crate::format::{Address, Sizes};

/// Where an object keeps its attributes when they are stored densely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeInfo {
    /// Largest creation index used, when creation order is tracked.
    pub max_creation_index: Option<u16>,
    /// Fractal heap of dense attributes; undefined when attributes are
    /// compact (attribute messages in the object header).
    pub fractal_heap: Address,
    /// v2 B-tree indexing attribute names.
    pub name_index: Address,
    /// v2 B-tree indexing creation order; undefined if absent.
    pub order_index: Address,
}

impl AttributeInfo {
    // Layout: Attribute Info Message:
    //   Version (1) | Flags (1: bit 0 creation order tracked, bit 1 indexed)
    //   Maximum Creation Index (2, optional: flags bit 0)
    //   Fractal Heap Address (O) | Attribute Name v2 B-tree Address (O)
    //   Attribute Creation Order v2 B-tree Address (O, optional: bit 1)
    /// Parses an attribute info message.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<AttributeInfo> {
        let d = dense_info::parse(data, at, sizes, "attribute", 2)?;
        Ok(AttributeInfo {
            max_creation_index: d.max_creation_index.map(|m| m as u16),
            fractal_heap: d.fractal_heap,
            name_index: d.name_index,
            order_index: d.order_index,
        })
    }
}

impl AttributeInfo {
    /// An attribute info message for an object whose attributes are compact
    /// (no heap, no B-trees), tracking creation order when `track_order`.
    pub fn compact(track_order: bool) -> AttributeInfo {
        AttributeInfo {
            max_creation_index: track_order.then_some(0),
            fractal_heap: Address::UNDEFINED,
            name_index: Address::UNDEFINED,
            order_index: Address::UNDEFINED,
        }
    }

    /// Encodes the attribute info message (version 0): flags bit 0
    /// (tracked) when the maximum creation index is stored, bit 1 (indexed,
    /// with the creation order index address) when it is or when that
    /// address is defined.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let d = dense_info::DenseInfo {
            max_creation_index: self.max_creation_index.map(u64::from),
            fractal_heap: self.fractal_heap,
            name_index: self.name_index,
            order_index: self.order_index,
        };
        Ok(dense_info::encode(&d, 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_round_trips() {
        for a in [
            AttributeInfo::compact(false),
            AttributeInfo::compact(true),
            AttributeInfo {
                max_creation_index: Some(7),
                fractal_heap: Address(0x100),
                name_index: Address(0x200),
                order_index: Address(0x300),
            },
        ] {
            let b = a.encode().unwrap();
            assert_eq!(AttributeInfo::parse(&b, 0, Sizes::DEFAULT).unwrap(), a);
        }
    }

    #[test]
    fn forms() {
        let mut d = vec![0, 3, 7, 0];
        for a in [0x100u64, 0x200, 0x300] {
            d.extend_from_slice(&a.to_le_bytes());
        }
        let a = AttributeInfo::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(a.max_creation_index, Some(7));
        assert_eq!(a.fractal_heap, Address(0x100));
        assert_eq!(a.name_index, Address(0x200));
        assert_eq!(a.order_index, Address(0x300));
        assert!(AttributeInfo::parse(&d[..d.len() - 1], 0, Sizes::DEFAULT).is_err());
        let mut d = vec![0, 0];
        d.extend_from_slice(&[0xff; 16]);
        let a = AttributeInfo::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert!(a.fractal_heap.is_undefined() && a.order_index.is_undefined());
    }
}
