//! Shared message pointers (spec IV.A.2, "Shared Messages"): what a message
//! whose [`MESSAGE_FLAG_SHARED`] flag is set holds instead of its data, and
//! what an attribute holds for a shared datatype or dataspace.
//!
//! [`MESSAGE_FLAG_SHARED`]: crate::format::object_header::MESSAGE_FLAG_SHARED

use super::check_version;
use crate::error::{Error, Result};
use crate::format::{Address, Cursor, Sizes};

/// Where the real message lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedRef {
    /// In another object header (a committed datatype, usually): the first
    /// message of the same type there.
    ObjectHeader(Address),
    /// In the shared object header message (SOHM) fractal heap of the index
    /// for this message type, under this heap ID.
    Heap([u8; 8]),
}

// Layout: Shared Message (Version 1):
//   Version (1) | Type (1) | Reserved (6)
//   Reserved (L: an old local heap field) | Address (O)
// Layout: Shared Message (Version 2):
//   Version (1) | Type (1) | Address (O)
// Layout: Shared Message (Version 3):
//   Version (1) | Type (1: 1 = SOHM heap, 2 = another object header,
//   3 = this object header) | Heap ID (8, type 1) or Address (O)
/// Parses a shared message pointer.
pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<SharedRef> {
    let mut c = Cursor::new(data, at, sizes);
    let version = c.u8("shared message version")?;
    check_version("shared message", at, version, &[1, 2, 3])?;
    let kind = c.u8("shared message type")?;
    match version {
        1 => {
            c.skip(6, "shared message reserved")?;
            c.skip(usize::from(sizes.length), "shared message reserved")?;
            Ok(SharedRef::ObjectHeader(
                c.address("shared message object header address")?,
            ))
        }
        2 => Ok(SharedRef::ObjectHeader(
            c.address("shared message object header address")?,
        )),
        _ => match kind {
            1 => {
                let id = c.read_bytes(8, "shared message heap ID")?;
                let mut out = [0u8; 8];
                out.copy_from_slice(id);
                Ok(SharedRef::Heap(out))
            }
            2 | 3 => Ok(SharedRef::ObjectHeader(
                c.address("shared message object header address")?,
            )),
            k => Err(Error::format(
                at.saturating_add(1),
                format!("shared message type: expected 1, 2 or 3, found {k}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let mut d = vec![2, 0];
        d.extend_from_slice(&0x300u64.to_le_bytes());
        assert_eq!(
            parse(&d, 0, Sizes::DEFAULT).unwrap(),
            SharedRef::ObjectHeader(Address(0x300))
        );
        let mut d = vec![1, 0, 0, 0, 0, 0, 0, 0];
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&0x40u64.to_le_bytes());
        assert_eq!(
            parse(&d, 0, Sizes::DEFAULT).unwrap(),
            SharedRef::ObjectHeader(Address(0x40))
        );
        let d = [3, 1, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(
            parse(&d, 0, Sizes::DEFAULT).unwrap(),
            SharedRef::Heap([1, 2, 3, 4, 5, 6, 7, 8])
        );
        assert!(parse(&[3, 0, 0], 0, Sizes::DEFAULT).is_err());
        assert!(parse(&[4, 1], 0, Sizes::DEFAULT).is_err());
        assert!(parse(&[3, 1, 1], 0, Sizes::DEFAULT).is_err());
    }
}
