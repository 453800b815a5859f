//! The symbol table message (type 0x0011, spec IV.A.2.r) of old-style
//! groups.

use crate::error::Result;
use crate::format::{Address, Cursor, Sizes};

/// Where an old-style group keeps its links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolTableMessage {
    /// The group's v1 B-tree.
    pub btree: Address,
    /// The local heap holding link names.
    pub local_heap: Address,
}

impl SymbolTableMessage {
    // Layout: Symbol Table Message: v1 B-tree Address (O) | Local Heap Address (O)
    /// Parses a symbol table message.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<SymbolTableMessage> {
        let mut c = Cursor::new(data, at, sizes);
        Ok(SymbolTableMessage {
            btree: c.address("symbol table v1 B-tree address")?,
            local_heap: c.address("symbol table local heap address")?,
        })
    }
}

impl SymbolTableMessage {
    /// Encodes the symbol table message: the B-tree and local heap
    /// addresses (8-byte offsets).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut b = Vec::with_capacity(16);
        b.extend_from_slice(&self.btree.0.to_le_bytes());
        b.extend_from_slice(&self.local_heap.0.to_le_bytes());
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_round_trips() {
        let s = SymbolTableMessage {
            btree: Address(0x88),
            local_heap: Address(0x2a8),
        };
        let b = s.encode().unwrap();
        assert_eq!(SymbolTableMessage::parse(&b, 0, Sizes::DEFAULT).unwrap(), s);
    }

    #[test]
    fn parses() {
        let mut d = 0x88u64.to_le_bytes().to_vec();
        d.extend_from_slice(&0x2a8u64.to_le_bytes());
        let s = SymbolTableMessage::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(s.btree, Address(0x88));
        assert_eq!(s.local_heap, Address(0x2a8));
        assert!(SymbolTableMessage::parse(&d[..15], 0, Sizes::DEFAULT).is_err());
    }
}
