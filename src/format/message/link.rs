//! The link message (type 0x0006, spec IV.A.2.g): one member of a
//! new-style group, stored in the object header (compact) or in the group's
//! fractal heap (dense).

use super::{check_version, utf8_name};
use crate::error::{Error, Result};
use crate::format::types::LinkTarget;
use crate::format::{Cursor, Sizes};

/// A parsed link message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkMessage {
    /// The link name.
    pub name: String,
    /// Where it points.
    pub target: LinkTarget,
    /// Creation order, when stored.
    pub creation_order: Option<u64>,
}

/// Link type 0: hard link.
pub const LINK_TYPE_HARD: u8 = 0;
/// Link type 1: soft link.
pub const LINK_TYPE_SOFT: u8 = 1;
/// Link type 64: external link.
pub const LINK_TYPE_EXTERNAL: u8 = 64;

impl LinkMessage {
    // Layout: Link Message:
    //   Version (1) | Flags (1) | Link type (1, optional: flags bit 3)
    //   Creation Order (8, optional: flags bit 2)
    //   Link Name Character Set (1, optional: flags bit 4)
    //   Length of Link Name (1, 2, 4 or 8 bytes: flags bits 0-1)
    //   Link Name (not NUL-terminated)
    //   Link Information:
    //     hard: Address (O)
    //     soft: Length (2) | Soft link value
    //     external (64): Length (2) | Version and flags (1)
    //       | file name (NUL-terminated) | object path (NUL-terminated)
    /// Parses a link message.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<LinkMessage> {
        let mut c = Cursor::new(data, at, sizes);
        let version = c.u8("link version")?;
        check_version("link message", at, version, &[1])?;
        let flags = c.u8("link flags")?;
        if flags & 0xe0 != 0 {
            return Err(Error::format(
                at.saturating_add(1),
                format!("link flags: unknown bits set ({flags:#04x})"),
            ));
        }
        let link_type = if flags & 0x08 != 0 {
            c.u8("link type")?
        } else {
            LINK_TYPE_HARD
        };
        let creation_order = if flags & 0x04 != 0 {
            Some(c.u64("link creation order")?)
        } else {
            None
        };
        if flags & 0x10 != 0 {
            let cs = c.u8("link name character set")?;
            if cs > 1 {
                return Err(c.error(format!(
                    "link name character set: expected 0 or 1, found {cs}"
                )));
            }
        }
        let width = 1usize << (flags & 0x03);
        let name_len = c.uint(width, "length of link name")?;
        if name_len == 0 || name_len > c.remaining() as u64 {
            return Err(c.error(format!(
                "link name length: {name_len} (must be 1 to {} here)",
                c.remaining()
            )));
        }
        let name_at = c.at();
        let name = utf8_name(
            c.read_bytes(name_len as usize, "link name")?,
            name_at,
            "link name",
        )?;
        let target = match link_type {
            LINK_TYPE_HARD => LinkTarget::Hard(c.address("hard link object header address")?),
            LINK_TYPE_SOFT => {
                let len = c.u16("soft link value length")?;
                let v_at = c.at();
                let v = c.read_bytes(usize::from(len), "soft link value")?;
                LinkTarget::Soft(utf8_name(v, v_at, "soft link value")?)
            }
            LINK_TYPE_EXTERNAL => {
                let len = c.u16("external link value length")?;
                let v_at = c.at();
                let v = c.read_bytes(usize::from(len), "external link value")?;
                let mut e = Cursor::new(v, v_at, sizes);
                let vf = e.u8("external link version and flags")?;
                if vf >> 4 != 0 {
                    return Err(Error::format(
                        v_at,
                        format!("external link: expected version 0, found {}", vf >> 4),
                    ));
                }
                let f_at = e.at();
                let file = utf8_name(
                    e.cstr("external link file name")?,
                    f_at,
                    "external link file name",
                )?;
                let p_at = e.at();
                let path = utf8_name(
                    e.cstr("external link object path")?,
                    p_at,
                    "external link object path",
                )?;
                LinkTarget::External { file, path }
            }
            t => {
                return Err(Error::unsupported(format!(
                    "link {name:?}: user-defined link type {t}"
                )))
            }
        };
        Ok(LinkMessage {
            name,
            target,
            creation_order,
        })
    }
}

impl LinkMessage {
    /// Encodes the link message (version 1), as libhdf5 writes it: the link
    /// type only for soft and external links, the creation order when
    /// `Some`, the name character set (UTF-8) only when the name is not
    /// ASCII (see [`LinkMessage::encode_with_charset`]), the name-length
    /// field as narrow as the length allows.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.encode_with_charset(!self.name.is_ascii())
    }

    /// [`LinkMessage::encode`] with the name character set field stored
    /// (as UTF-8) when `utf8` is true; h5py creates every link with a
    /// UTF-8 link creation property list, so its links carry it.
    pub fn encode_with_charset(&self, utf8: bool) -> Result<Vec<u8>> {
        if self.name.is_empty() {
            return Err(Error::invalid("link name is empty"));
        }
        let n = self.name.len() as u64;
        let width_bits: u8 = match n {
            0..=0xff => 0,
            0x100..=0xffff => 1,
            0x1_0000..=0xffff_ffff => 2,
            _ => 3,
        };
        let mut flags = width_bits;
        let link_type = match &self.target {
            LinkTarget::Hard(_) => LINK_TYPE_HARD,
            LinkTarget::Soft(_) => LINK_TYPE_SOFT,
            LinkTarget::External { .. } => LINK_TYPE_EXTERNAL,
        };
        if link_type != LINK_TYPE_HARD {
            flags |= 0x08;
        }
        if self.creation_order.is_some() {
            flags |= 0x04;
        }
        if utf8 {
            flags |= 0x10;
        }
        let mut b = Vec::with_capacity(32 + self.name.len());
        b.extend_from_slice(&[1, flags]);
        if link_type != LINK_TYPE_HARD {
            b.push(link_type);
        }
        if let Some(o) = self.creation_order {
            b.extend_from_slice(&o.to_le_bytes());
        }
        if utf8 {
            b.push(1);
        }
        b.extend_from_slice(&n.to_le_bytes()[..1 << width_bits]);
        b.extend_from_slice(self.name.as_bytes());
        let value_len = |len: usize| {
            u16::try_from(len)
                .map_err(|_| Error::invalid(format!("link {:?}: value too long", self.name)))
        };
        match &self.target {
            LinkTarget::Hard(a) => b.extend_from_slice(&a.0.to_le_bytes()),
            LinkTarget::Soft(v) => {
                b.extend_from_slice(&value_len(v.len())?.to_le_bytes());
                b.extend_from_slice(v.as_bytes());
            }
            LinkTarget::External { file, path } => {
                if file.as_bytes().contains(&0) || path.as_bytes().contains(&0) {
                    return Err(Error::invalid("external link file or path contains a NUL"));
                }
                let len = value_len(1 + file.len() + 1 + path.len() + 1)?;
                b.extend_from_slice(&len.to_le_bytes());
                b.push(0);
                b.extend_from_slice(file.as_bytes());
                b.push(0);
                b.extend_from_slice(path.as_bytes());
                b.push(0);
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Address;

    #[test]
    fn hard_soft_external() {
        let mut d = vec![1, 0x00, 3];
        d.extend_from_slice(b"abc");
        d.extend_from_slice(&0x1234u64.to_le_bytes());
        let l = LinkMessage::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(l.name, "abc");
        assert_eq!(l.target, LinkTarget::Hard(Address(0x1234)));
        assert_eq!(l.creation_order, None);

        let mut d = vec![1, 0x08 | 0x04 | 0x10, 1];
        d.extend_from_slice(&9u64.to_le_bytes());
        d.push(1);
        d.push(4);
        d.extend_from_slice(b"soft");
        d.extend_from_slice(&7u16.to_le_bytes());
        d.extend_from_slice(b"/contig");
        let l = LinkMessage::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(l.target, LinkTarget::Soft("/contig".into()));
        assert_eq!(l.creation_order, Some(9));

        let mut d = vec![1, 0x08, 64, 3];
        d.extend_from_slice(b"ext");
        let v = b"\0other.h5\0/x\0";
        d.extend_from_slice(&(v.len() as u16).to_le_bytes());
        d.extend_from_slice(v);
        let l = LinkMessage::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            l.target,
            LinkTarget::External {
                file: "other.h5".into(),
                path: "/x".into()
            }
        );
        for n in 0..d.len() {
            assert!(LinkMessage::parse(&d[..n], 0, Sizes::DEFAULT).is_err());
        }
    }

    #[test]
    fn encode_round_trips() {
        use crate::format::Address;
        let long = "n".repeat(300);
        let cases = [
            LinkMessage {
                name: "abc".into(),
                target: LinkTarget::Hard(Address(0x1234)),
                creation_order: None,
            },
            LinkMessage {
                name: "soft".into(),
                target: LinkTarget::Soft("/contig".into()),
                creation_order: Some(9),
            },
            LinkMessage {
                name: "ext".into(),
                target: LinkTarget::External {
                    file: "other.h5".into(),
                    path: "/x".into(),
                },
                creation_order: None,
            },
            LinkMessage {
                name: "été".into(),
                target: LinkTarget::Hard(Address(8)),
                creation_order: Some(0),
            },
            LinkMessage {
                name: long,
                target: LinkTarget::Hard(Address(8)),
                creation_order: None,
            },
        ];
        for l in &cases {
            for b in [l.encode().unwrap(), l.encode_with_charset(true).unwrap()] {
                assert_eq!(&LinkMessage::parse(&b, 0, Sizes::DEFAULT).unwrap(), l);
            }
        }
        let mut want = vec![1, 0x00, 3];
        want.extend_from_slice(b"abc");
        want.extend_from_slice(&0x1234u64.to_le_bytes());
        assert_eq!(cases[0].encode().unwrap(), want);
    }

    #[test]
    fn user_defined_is_unsupported() {
        let mut d = vec![1, 0x08, 65, 1, b'u'];
        d.extend_from_slice(&0u16.to_le_bytes());
        match LinkMessage::parse(&d, 0, Sizes::DEFAULT) {
            Err(Error::Unsupported { what }) => assert!(what.contains("65"), "{what}"),
            other => panic!("{other:?}"),
        }
        // 8-byte name length larger than the message
        let mut d = vec![1, 0x03];
        d.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(LinkMessage::parse(&d, 0, Sizes::DEFAULT).is_err());
    }
}
