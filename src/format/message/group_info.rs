//! The group info message (type 0x000A, spec IV.A.2.k) of new-style groups.

use super::check_version;
use crate::error::{Error, Result};
use crate::format::{Cursor, Sizes};

/// Storage hints of a new-style group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupInfo {
    /// (maximum compact links, minimum dense links), when stored.
    pub link_phase_change: Option<(u16, u16)>,
    /// (estimated number of entries, estimated link name length), when
    /// stored.
    pub estimated: Option<(u16, u16)>,
}

impl GroupInfo {
    // Layout: Group Info Message:
    //   Version (1) | Flags (1)
    //   Link Phase Change: Maximum Compact Value (2, optional: bit 0)
    //   Link Phase Change: Minimum Dense Value (2, optional: bit 0)
    //   Estimated Number of Entries (2, optional: bit 1)
    //   Estimated Link Name Length of Entries (2, optional: bit 1)
    /// Parses a group info message.
    pub fn parse(data: &[u8], at: u64, _sizes: Sizes) -> Result<GroupInfo> {
        let mut c = Cursor::new(data, at, Sizes::DEFAULT);
        let version = c.u8("group info version")?;
        check_version("group info message", at, version, &[0])?;
        let flags = c.u8("group info flags")?;
        if flags & !0x03 != 0 {
            return Err(Error::format(
                at.saturating_add(1),
                format!("group info flags: unknown bits set ({flags:#04x})"),
            ));
        }
        let link_phase_change = if flags & 1 != 0 {
            Some((
                c.u16("maximum compact links")?,
                c.u16("minimum dense links")?,
            ))
        } else {
            None
        };
        let estimated = if flags & 2 != 0 {
            Some((
                c.u16("estimated number of entries")?,
                c.u16("estimated link name length")?,
            ))
        } else {
            None
        };
        Ok(GroupInfo {
            link_phase_change,
            estimated,
        })
    }
}

impl GroupInfo {
    /// libhdf5's default group info: nothing stored (flags 0).
    pub const DEFAULT: GroupInfo = GroupInfo {
        link_phase_change: None,
        estimated: None,
    };

    /// Encodes the group info message (version 0).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let flags =
            u8::from(self.link_phase_change.is_some()) | (u8::from(self.estimated.is_some()) << 1);
        let mut b = vec![0, flags];
        for (x, y) in self.link_phase_change.iter().chain(self.estimated.iter()) {
            b.extend_from_slice(&x.to_le_bytes());
            b.extend_from_slice(&y.to_le_bytes());
        }
        Ok(b)
    }
}

impl Default for GroupInfo {
    fn default() -> Self {
        GroupInfo::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_round_trips() {
        assert_eq!(GroupInfo::default().encode().unwrap(), [0, 0]);
        let g = GroupInfo {
            link_phase_change: Some((8, 6)),
            estimated: Some((4, 8)),
        };
        let b = g.encode().unwrap();
        assert_eq!(b, [0, 3, 8, 0, 6, 0, 4, 0, 8, 0]);
        assert_eq!(GroupInfo::parse(&b, 0, Sizes::DEFAULT).unwrap(), g);
    }

    #[test]
    fn forms() {
        let g = GroupInfo::parse(&[0, 0], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(g.link_phase_change, None);
        let g = GroupInfo::parse(&[0, 3, 8, 0, 6, 0, 4, 0, 8, 0], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(g.link_phase_change, Some((8, 6)));
        assert_eq!(g.estimated, Some((4, 8)));
        assert!(GroupInfo::parse(&[0, 1, 8], 0, Sizes::DEFAULT).is_err());
        assert!(GroupInfo::parse(&[1, 0], 0, Sizes::DEFAULT).is_err());
    }
}
