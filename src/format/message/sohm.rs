//! Shared object header messages (SOHM): the shared message table message
//! (type 0x000F, spec IV.A.2.p, found only in the superblock extension) and
//! the master table it points to (spec III.I, signature `SMTB`).
//!
//! Enough to find, for a message type, the fractal heap holding the shared
//! copies that [`SharedRef::Heap`](super::SharedRef::Heap) IDs point into.

use super::check_version;
use crate::error::{Error, Result};
use crate::format::object_header::kind;
use crate::format::{verify_checksum, Address, Cursor, FileView};

/// The shared message table message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedMessageTableMessage {
    /// Address of the `SMTB` master table.
    pub table: Address,
    /// Number of indexes in it.
    pub indexes: u8,
}

impl SharedMessageTableMessage {
    // Layout: Shared Message Table Message:
    //   Version (1) | Shared Object Header Message Table Address (O)
    //   | Number of Indices (1)
    /// Parses a shared message table message.
    pub fn parse(data: &[u8], at: u64, sizes: crate::format::Sizes) -> Result<Self> {
        let mut c = Cursor::new(data, at, sizes);
        let version = c.u8("shared message table version")?;
        check_version("shared message table message", at, version, &[0])?;
        Ok(SharedMessageTableMessage {
            table: c.address("shared object header message table address")?,
            indexes: c.u8("number of indices")?,
        })
    }
}

/// One index of the master table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SohmIndex {
    /// 0: the index is a list (`SMLI`), 1: a v2 B-tree.
    pub index_type: u8,
    /// Which message types it holds: bit 0 dataspace, 1 datatype, 2 fill
    /// value, 3 filter pipeline, 4 attribute.
    pub message_types: u16,
    /// Smallest message size that is shared.
    pub min_message_size: u32,
    /// List-to-B-tree cutoff.
    pub list_cutoff: u16,
    /// B-tree-to-list cutoff.
    pub btree_cutoff: u16,
    /// Number of messages in the index.
    pub messages: u16,
    /// Address of the list or v2 B-tree.
    pub index: Address,
    /// The fractal heap holding the shared messages.
    pub fractal_heap: Address,
}

impl SohmIndex {
    /// True when this index holds messages of object header message type
    /// `message_kind` ([`kind`]).
    pub fn holds(&self, message_kind: u16) -> bool {
        let bit = match message_kind {
            kind::DATASPACE => 0,
            kind::DATATYPE => 1,
            kind::FILL_VALUE => 2,
            kind::FILTER_PIPELINE => 3,
            kind::ATTRIBUTE => 4,
            _ => return false,
        };
        self.message_types & (1 << bit) != 0
    }
}

/// The shared object header message master table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SohmTable {
    /// Its indexes.
    pub indexes: Vec<SohmIndex>,
}

impl SohmTable {
    // Layout: Shared Object Header Message Table:
    //   Signature "SMTB" (4)
    //   per index: Version (1) | Index Type (1) | Message Type Flags (2)
    //     | Minimum Message Size (4) | List Cutoff (2) | v2 B-tree Cutoff (2)
    //     | Number of Messages (2) | Index Address (O) | Fractal Heap Address (O)
    //   Checksum (4)
    /// Reads the master table named by a shared message table message.
    pub fn read(view: &FileView<'_>, msg: &SharedMessageTableMessage) -> Result<SohmTable> {
        let n = usize::from(msg.indexes);
        let entry = 14 + 2 * usize::from(view.sizes.offset);
        let len = 4 + n * entry + 4;
        let bytes = view.slice(msg.table, len as u64, "shared message table")?;
        let abs = view.abs_u64(msg.table);
        let split = len - 4;
        let stored = u32::from_le_bytes([
            bytes[split],
            bytes[split + 1],
            bytes[split + 2],
            bytes[split + 3],
        ]);
        verify_checksum(
            &bytes[..split],
            stored,
            abs + split as u64,
            "shared message table",
        )?;
        let mut c = Cursor::new(&bytes[..split], abs, view.sizes);
        c.signature(b"SMTB", "shared message table")?;
        let mut indexes = Vec::with_capacity(n);
        for _ in 0..n {
            let at = c.at();
            let version = c.u8("SOHM index version")?;
            check_version("shared message index", at, version, &[0])?;
            let index_type = c.u8("SOHM index type")?;
            if index_type > 1 {
                return Err(Error::format(
                    at.saturating_add(1),
                    format!("SOHM index type: expected 0 (list) or 1 (B-tree), found {index_type}"),
                ));
            }
            indexes.push(SohmIndex {
                index_type,
                message_types: c.u16("SOHM message type flags")?,
                min_message_size: c.u32("SOHM minimum message size")?,
                list_cutoff: c.u16("SOHM list cutoff")?,
                btree_cutoff: c.u16("SOHM v2 B-tree cutoff")?,
                messages: c.u16("SOHM number of messages")?,
                index: c.address("SOHM index address")?,
                fractal_heap: c.address("SOHM fractal heap address")?,
            });
        }
        Ok(SohmTable { indexes })
    }

    /// The fractal heap holding shared messages of type `message_kind`.
    pub fn heap_for(&self, message_kind: u16) -> Option<Address> {
        self.indexes
            .iter()
            .find(|i| i.holds(message_kind))
            .map(|i| i.fractal_heap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::checksum::metadata_checksum;
    use crate::format::Sizes;

    #[test]
    fn table_roundtrip() {
        let mut b = vec![0u8; 16];
        b.extend_from_slice(b"SMTB");
        for (flags, heap) in [(0x02u16, 0x900u64), (0x11, 0xa00)] {
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&flags.to_le_bytes());
            b.extend_from_slice(&20u32.to_le_bytes());
            b.extend_from_slice(&50u16.to_le_bytes());
            b.extend_from_slice(&40u16.to_le_bytes());
            b.extend_from_slice(&3u16.to_le_bytes());
            b.extend_from_slice(&0x800u64.to_le_bytes());
            b.extend_from_slice(&heap.to_le_bytes());
        }
        let sum = metadata_checksum(&b[16..]);
        b.extend_from_slice(&sum.to_le_bytes());
        let view = FileView::new(&b, Sizes::DEFAULT, 0);
        let mut m = vec![0];
        m.extend_from_slice(&16u64.to_le_bytes());
        m.push(2);
        let msg = SharedMessageTableMessage::parse(&m, 0, Sizes::DEFAULT).unwrap();
        let t = SohmTable::read(&view, &msg).unwrap();
        assert_eq!(t.heap_for(kind::DATATYPE), Some(Address(0x900)));
        assert_eq!(t.heap_for(kind::ATTRIBUTE), Some(Address(0xa00)));
        assert_eq!(t.heap_for(kind::DATASPACE), Some(Address(0xa00)));
        assert_eq!(t.heap_for(kind::LAYOUT), None);
        let mut bad = b.clone();
        bad[30] ^= 1;
        let view = FileView::new(&bad, Sizes::DEFAULT, 0);
        assert!(SohmTable::read(&view, &msg).is_err());
    }
}
