//! The attribute info message (type 0x0015, spec IV.A.2.v).

use super::check_version;
use crate::error::{Error, Result};
use crate::format::{Address, Cursor, Sizes};

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
        let mut c = Cursor::new(data, at, sizes);
        let version = c.u8("attribute info version")?;
        check_version("attribute info message", at, version, &[0])?;
        let flags = c.u8("attribute info flags")?;
        if flags & !0x03 != 0 {
            return Err(Error::format(
                at.saturating_add(1),
                format!("attribute info flags: unknown bits set ({flags:#04x})"),
            ));
        }
        let max_creation_index = if flags & 1 != 0 {
            Some(c.u16("maximum creation index")?)
        } else {
            None
        };
        let fractal_heap = c.address("attribute fractal heap address")?;
        let name_index = c.address("attribute name index v2 B-tree address")?;
        let order_index = if flags & 2 != 0 {
            c.address("attribute creation order index v2 B-tree address")?
        } else {
            Address::UNDEFINED
        };
        Ok(AttributeInfo {
            max_creation_index,
            fractal_heap,
            name_index,
            order_index,
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
        // h5py's track_order sets "tracked" and "indexed" together, and
        // libhdf5 then stores the (possibly undefined) index address.
        let mut flags = 0u8;
        if self.max_creation_index.is_some() {
            flags |= 3;
        }
        if !self.order_index.is_undefined() {
            flags |= 2;
        }
        let mut b = vec![0, flags];
        if let Some(m) = self.max_creation_index {
            b.extend_from_slice(&m.to_le_bytes());
        }
        b.extend_from_slice(&self.fractal_heap.0.to_le_bytes());
        b.extend_from_slice(&self.name_index.0.to_le_bytes());
        if flags & 2 != 0 {
            b.extend_from_slice(&self.order_index.0.to_le_bytes());
        }
        Ok(b)
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
