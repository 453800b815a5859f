//! The attribute message (type 0x000C, spec IV.A.2.m), versions 1 to 3.
//!
//! The datatype and dataspace inside may be shared (attribute flags bits 0
//! and 1): the field then holds a [`SharedRef`] instead, which a
//! [`SharedResolver`] turns into the real description. [`AttributeMessage::parse`]
//! uses a resolver that reports such attributes as unsupported.

use super::dataspace::{Dataspace, DataspaceKind};
use super::datatype::Datatype;
use super::shared::{self, SharedRef};
use super::{check_version, pad8, utf8_name};
use crate::error::{Error, Result};
use crate::format::object_header::{kind, ObjectHeader};
use crate::format::{Cursor, FileView, Sizes};
use crate::limits::Limits;

/// A parsed attribute message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMessage<'a> {
    /// The attribute's name.
    pub name: String,
    /// Its element type.
    pub datatype: Datatype,
    /// Its shape.
    pub dataspace: Dataspace,
    /// The raw value: exactly elements x datatype size bytes (empty for a
    /// null dataspace).
    pub data: &'a [u8],
    /// The datatype was a shared-message pointer (resolved through
    /// [`SharedResolver`]).
    pub datatype_shared: bool,
    /// The dataspace was a shared-message pointer.
    pub dataspace_shared: bool,
    /// Where the shared datatype lives, when `datatype_shared`.
    pub datatype_ref: Option<SharedRef>,
    /// Where the shared dataspace lives, when `dataspace_shared`.
    pub dataspace_ref: Option<SharedRef>,
}

/// Turns shared datatype/dataspace pointers into their descriptions (by
/// reading a committed datatype's object header or the SOHM heap).
pub trait SharedResolver {
    /// The datatype `r` points at.
    fn datatype(&mut self, r: &SharedRef) -> Result<Datatype>;
    /// The dataspace `r` points at.
    fn dataspace(&mut self, r: &SharedRef) -> Result<Dataspace>;
}

/// A resolver that cannot resolve anything: shared parts are unsupported.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSharedResolver;

impl SharedResolver for NoSharedResolver {
    fn datatype(&mut self, r: &SharedRef) -> Result<Datatype> {
        Err(Error::unsupported(format!(
            "attribute with a shared (committed) datatype at {r:?}"
        )))
    }
    fn dataspace(&mut self, r: &SharedRef) -> Result<Dataspace> {
        Err(Error::unsupported(format!(
            "attribute with a shared dataspace at {r:?}"
        )))
    }
}

/// Resolves [`SharedRef::ObjectHeader`] pointers by reading the first
/// datatype (or dataspace) message of the object header they name, as for
/// committed datatypes. [`SharedRef::Heap`] pointers (SOHM) are reported as
/// unsupported: resolving them needs the fractal heap.
#[derive(Debug)]
pub struct CommittedResolver<'v, 'a> {
    /// The file.
    pub view: &'v FileView<'a>,
    /// Limits for reading the object headers.
    pub limits: &'v Limits,
}

impl CommittedResolver<'_, '_> {
    fn message(&self, r: &SharedRef, wanted: u16, what: &str) -> Result<(&[u8], u64)> {
        let SharedRef::ObjectHeader(addr) = r else {
            return Err(Error::unsupported(format!(
                "{what} stored in the shared object header message heap ({r:?})"
            )));
        };
        let oh = ObjectHeader::parse(self.view, *addr, self.limits)?;
        let m = oh.first(wanted).ok_or_else(|| {
            Error::format(
                self.view.abs_u64(*addr),
                format!("shared {what}: the object header it names has no {what} message"),
            )
        })?;
        if m.is_shared() {
            return Err(Error::format(
                m.at,
                format!("shared {what}: points at another shared {what} (not followed)"),
            ));
        }
        Ok((m.data, m.at))
    }
}

impl SharedResolver for CommittedResolver<'_, '_> {
    fn datatype(&mut self, r: &SharedRef) -> Result<Datatype> {
        let (d, at) = self.message(r, kind::DATATYPE, "datatype")?;
        Ok(Datatype::parse(d, at, self.view.sizes)?.0)
    }
    fn dataspace(&mut self, r: &SharedRef) -> Result<Dataspace> {
        let (d, at) = self.message(r, kind::DATASPACE, "dataspace")?;
        Dataspace::parse(d, at, self.view.sizes)
    }
}

impl<'a> AttributeMessage<'a> {
    /// Parses an attribute message; shared datatypes or dataspaces give
    /// [`Error::Unsupported`] (see [`AttributeMessage::parse_with`]).
    pub fn parse(data: &'a [u8], at: u64, sizes: Sizes) -> Result<AttributeMessage<'a>> {
        Self::parse_with(data, at, sizes, &mut NoSharedResolver)
    }

    // Layout: Attribute Message (Version 1):
    //   Version (1) | Reserved (1) | Name Size (2)
    //   Datatype Size (2) | Dataspace Size (2)
    //   Name (padded to 8) | Datatype (padded to 8) | Dataspace (padded to 8)
    //   Data
    // Layout: Attribute Message (Version 2): as version 1 with Flags in place
    //   of Reserved and no padding.
    // Layout: Attribute Message (Version 3): as version 2 plus Name
    //   Character Set Encoding (1) after Dataspace Size.
    // Name Size counts the NUL terminator. Flags bit 0: datatype shared,
    // bit 1: dataspace shared.
    /// Parses an attribute message, resolving shared parts with `resolver`.
    pub fn parse_with(
        data: &'a [u8],
        at: u64,
        sizes: Sizes,
        resolver: &mut dyn SharedResolver,
    ) -> Result<AttributeMessage<'a>> {
        let mut c = Cursor::new(data, at, sizes);
        let version = c.u8("attribute version")?;
        check_version("attribute message", at, version, &[1, 2, 3])?;
        let flags = c.u8("attribute flags")?;
        if version >= 2 && flags & !0x03 != 0 {
            return Err(Error::format(
                at.saturating_add(1),
                format!("attribute flags: unknown bits set ({flags:#04x})"),
            ));
        }
        let (datatype_shared, dataspace_shared) = if version == 1 {
            (false, false)
        } else {
            (flags & 1 != 0, flags & 2 != 0)
        };
        let name_size = usize::from(c.u16("attribute name size")?);
        let dt_size = usize::from(c.u16("attribute datatype size")?);
        let ds_size = usize::from(c.u16("attribute dataspace size")?);
        if version == 3 {
            let cs = c.u8("attribute name character set")?;
            if cs > 1 {
                return Err(Error::format(
                    c.at().saturating_sub(1),
                    format!("attribute name character set: expected 0 or 1, found {cs}"),
                ));
            }
        }
        let field = |n: usize| -> usize {
            if version == 1 {
                pad8(n).unwrap_or(usize::MAX)
            } else {
                n
            }
        };
        // Name
        let name_at = c.at();
        let raw = c.read_bytes(field(name_size), "attribute name")?;
        let raw = &raw[..name_size];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let name = utf8_name(&raw[..end], name_at, "attribute name")?;
        // Datatype
        let dt_at = c.at();
        let dt_bytes = c.read_bytes(field(dt_size), "attribute datatype")?;
        let dt_bytes = &dt_bytes[..dt_size];
        let (datatype, datatype_ref) = if datatype_shared {
            let r = shared::parse(dt_bytes, dt_at, sizes)?;
            (resolver.datatype(&r)?, Some(r))
        } else {
            let (dt, used) = Datatype::parse(dt_bytes, dt_at, sizes)?;
            if used > dt_size {
                return Err(Error::format(
                    dt_at,
                    "attribute datatype overruns its field",
                ));
            }
            (dt, None)
        };
        // Dataspace
        let ds_at = c.at();
        let ds_bytes = c.read_bytes(field(ds_size), "attribute dataspace")?;
        let ds_bytes = &ds_bytes[..ds_size];
        let (dataspace, dataspace_ref) = if dataspace_shared {
            let r = shared::parse(ds_bytes, ds_at, sizes)?;
            (resolver.dataspace(&r)?, Some(r))
        } else {
            (Dataspace::parse(ds_bytes, ds_at, sizes)?, None)
        };
        // Data
        let len = if dataspace.kind == DataspaceKind::Null {
            0
        } else {
            dataspace
                .element_count()?
                .checked_mul(u64::from(datatype.size()))
                .ok_or_else(|| c.error("attribute data size overflows"))?
        };
        if len > c.remaining() as u64 {
            return Err(c.error(format!(
                "attribute {name:?}: data needs {len} bytes, {} remain in the message",
                c.remaining()
            )));
        }
        let data = c.read_bytes(len as usize, "attribute data")?;
        Ok(AttributeMessage {
            name,
            datatype,
            dataspace,
            data,
            datatype_shared,
            dataspace_shared,
            datatype_ref,
            dataspace_ref,
        })
    }
}

impl AttributeMessage<'_> {
    /// Encodes an attribute message with the datatype and dataspace message
    /// versions libhdf5 pairs with `version`:
    ///
    /// * version 1 (libver earliest): datatype version 1, dataspace
    ///   version 1 (2 for a null dataspace), name / datatype / dataspace
    ///   each padded to 8 bytes;
    /// * version 2: the same versions, no padding;
    /// * version 3 (libver v108+): datatype version 1 (3 for enums),
    ///   dataspace version 2, name character set UTF-8 when the name is not
    ///   ASCII.
    ///
    /// `data` must hold exactly elements x datatype size bytes (vlen
    /// elements are 16-byte global heap references). See
    /// [`AttributeMessage::encode_with`] to choose the nested versions.
    pub fn encode(
        name: &str,
        datatype: &Datatype,
        dataspace: &Dataspace,
        data: &[u8],
        version: u8,
    ) -> Result<Vec<u8>> {
        let dt_version = match (version, datatype) {
            (3, Datatype::Enum { .. } | Datatype::Compound { .. } | Datatype::Array { .. }) => 3,
            _ => 1,
        };
        let ds_version = if version < 3 && dataspace.kind != DataspaceKind::Null {
            1
        } else {
            2
        };
        let expected = if dataspace.kind == DataspaceKind::Null {
            0
        } else {
            dataspace
                .element_count()?
                .checked_mul(u64::from(datatype.size()))
                .ok_or_else(|| Error::invalid("attribute data size overflows"))?
        };
        if expected != data.len() as u64 {
            return Err(Error::invalid(format!(
                "attribute {name:?}: {} bytes of data, the datatype and dataspace need {expected}",
                data.len()
            )));
        }
        let utf8 = !name.is_ascii();
        Self::encode_with(
            name,
            &datatype.encode(dt_version)?,
            &dataspace.encode(ds_version)?,
            data,
            version,
            utf8,
        )
    }

    /// Encodes an attribute message from an already encoded datatype and
    /// dataspace message (or shared-message pointers, with the flags set
    /// by the caller in a later version). `name_utf8` sets the version 3
    /// name character set.
    ///
    /// ```text
    /// Version (1) | Reserved/Flags (1) | Name Size (2, NUL included)
    /// | Datatype Size (2) | Dataspace Size (2) | [v3: Name Charset (1)]
    /// | Name | Datatype | Dataspace   (each padded to 8 in version 1)
    /// | Data
    /// ```
    pub fn encode_with(
        name: &str,
        datatype: &[u8],
        dataspace: &[u8],
        data: &[u8],
        version: u8,
        name_utf8: bool,
    ) -> Result<Vec<u8>> {
        if !(1..=3).contains(&version) {
            return Err(Error::invalid(format!(
                "attribute message version {version} (1 to 3)"
            )));
        }
        if name.as_bytes().contains(&0) || name.is_empty() {
            return Err(Error::invalid(format!(
                "attribute name {name:?}: empty or contains a NUL"
            )));
        }
        let field = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
        let size16 = |n: usize, what: &str| {
            u16::try_from(n).map_err(|_| {
                Error::invalid(format!(
                    "attribute {name:?}: {what} of {n} bytes is too long"
                ))
            })
        };
        let name_size = size16(name.len() + 1, "name")?;
        let dt_size = size16(datatype.len(), "datatype")?;
        let ds_size = size16(dataspace.len(), "dataspace")?;
        let mut b = Vec::with_capacity(
            9 + field(name.len() + 1) + field(datatype.len()) + field(dataspace.len()) + data.len(),
        );
        b.extend_from_slice(&[version, 0]);
        b.extend_from_slice(&name_size.to_le_bytes());
        b.extend_from_slice(&dt_size.to_le_bytes());
        b.extend_from_slice(&ds_size.to_le_bytes());
        if version == 3 {
            b.push(u8::from(name_utf8));
        }
        let start = b.len();
        b.extend_from_slice(name.as_bytes());
        b.push(0);
        b.resize(start + field(name.len() + 1), 0);
        let start = b.len();
        b.extend_from_slice(datatype);
        b.resize(start + field(datatype.len()), 0);
        let start = b.len();
        b.extend_from_slice(dataspace);
        b.resize(start + field(dataspace.len()), 0);
        b.extend_from_slice(data);
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::types::ByteOrder;

    fn i32_type() -> Vec<u8> {
        vec![0x10, 0x08, 0, 0, 4, 0, 0, 0, 0, 0, 32, 0]
    }

    fn simple(n: u64) -> Vec<u8> {
        let mut d = vec![2, 1, 0, 1];
        d.extend_from_slice(&n.to_le_bytes());
        d
    }

    fn v3(name: &str, dt: &[u8], ds: &[u8], data: &[u8], flags: u8) -> Vec<u8> {
        let mut m = vec![3, flags];
        m.extend_from_slice(&((name.len() + 1) as u16).to_le_bytes());
        m.extend_from_slice(&(dt.len() as u16).to_le_bytes());
        m.extend_from_slice(&(ds.len() as u16).to_le_bytes());
        m.push(1);
        m.extend_from_slice(name.as_bytes());
        m.push(0);
        m.extend_from_slice(dt);
        m.extend_from_slice(ds);
        m.extend_from_slice(data);
        m
    }

    #[test]
    fn v3_int_array() {
        let data: Vec<u8> = [1i32, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let m = v3("shape", &i32_type(), &simple(3), &data, 0);
        let a = AttributeMessage::parse(&m, 100, Sizes::DEFAULT).unwrap();
        assert_eq!(a.name, "shape");
        assert_eq!(a.dataspace.dims, vec![3]);
        assert_eq!(
            a.datatype,
            Datatype::FixedPoint {
                size: 4,
                order: ByteOrder::Little,
                signed: true
            }
        );
        assert_eq!(a.data, &data[..]);
        // Missing data bytes
        let short = &m[..m.len() - 1];
        assert!(AttributeMessage::parse(short, 0, Sizes::DEFAULT).is_err());
    }

    #[test]
    fn v1_padding_and_null_dataspace() {
        let mut m = vec![1, 0];
        m.extend_from_slice(&2u16.to_le_bytes()); // "a\0"
        m.extend_from_slice(&12u16.to_le_bytes());
        m.extend_from_slice(&8u16.to_le_bytes());
        m.extend_from_slice(b"a\0\0\0\0\0\0\0");
        m.extend_from_slice(&i32_type());
        m.extend_from_slice(&[0; 4]);
        m.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]); // scalar v1
        m.extend_from_slice(&7i32.to_le_bytes());
        let a = AttributeMessage::parse(&m, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(a.name, "a");
        assert_eq!(a.dataspace.kind, DataspaceKind::Scalar);
        assert_eq!(a.data, &7i32.to_le_bytes());
        let m = v3("e", &i32_type(), &[2, 0, 0, 2], &[], 0);
        let a = AttributeMessage::parse(&m, 0, Sizes::DEFAULT).unwrap();
        assert!(a.data.is_empty());
    }

    struct Fixed;
    impl SharedResolver for Fixed {
        fn datatype(&mut self, _r: &SharedRef) -> Result<Datatype> {
            Ok(Datatype::FixedPoint {
                size: 2,
                order: ByteOrder::Big,
                signed: false,
            })
        }
        fn dataspace(&mut self, _r: &SharedRef) -> Result<Dataspace> {
            unreachable!()
        }
    }

    #[test]
    fn shared_datatype() {
        let mut r = vec![2, 0];
        r.extend_from_slice(&0x500u64.to_le_bytes());
        let m = v3("s", &r, &simple(2), &[0, 1, 0, 2], 1);
        let err = AttributeMessage::parse(&m, 0, Sizes::DEFAULT).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }));
        let a = AttributeMessage::parse_with(&m, 0, Sizes::DEFAULT, &mut Fixed).unwrap();
        assert!(a.datatype_shared);
        assert_eq!(
            a.datatype_ref,
            Some(SharedRef::ObjectHeader(crate::format::Address(0x500)))
        );
        assert_eq!(a.data.len(), 4);
    }

    #[test]
    fn encode_matches_h5py_and_round_trips() {
        // h5py earliest: attrs['h5sparse_format'] = 'csr' (vlen utf-8
        // scalar), data = reference (length 3, collection 0x828, index 1).
        let mut r = 3u32.to_le_bytes().to_vec();
        r.extend_from_slice(&0x828u64.to_le_bytes());
        r.extend_from_slice(&1u32.to_le_bytes());
        let scalar = Dataspace {
            kind: DataspaceKind::Scalar,
            dims: vec![],
            max_dims: None,
        };
        let b = AttributeMessage::encode("h5sparse_format", &Datatype::vlen_utf8(), &scalar, &r, 1)
            .unwrap();
        let mut want = vec![1, 0, 16, 0, 20, 0, 8, 0];
        want.extend_from_slice(b"h5sparse_format\0");
        want.extend_from_slice(&[
            0x19, 0x01, 0x01, 0x00, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0,
            0,
        ]);
        want.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&r);
        assert_eq!(b, want);
        // attrs['shape'] = np.array([4, 3]) (int64[2], dataspace with max)
        let shape = Dataspace {
            kind: DataspaceKind::Simple,
            dims: vec![2],
            max_dims: Some(vec![2]),
        };
        let data: Vec<u8> = [4i64, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let i64t = Datatype::int(8, true);
        for v in 1..=3u8 {
            for name in ["shape", "é"] {
                let b = AttributeMessage::encode(name, &i64t, &shape, &data, v).unwrap();
                let a = AttributeMessage::parse(&b, 0, Sizes::DEFAULT).unwrap();
                assert_eq!(a.name, name);
                assert_eq!(a.datatype, i64t);
                assert_eq!(a.dataspace, shape);
                assert_eq!(a.data, &data[..]);
            }
        }
        let null = Dataspace {
            kind: DataspaceKind::Null,
            dims: vec![],
            max_dims: None,
        };
        let b = AttributeMessage::encode("e", &i64t, &null, &[], 1).unwrap();
        let a = AttributeMessage::parse(&b, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(a.dataspace.kind, DataspaceKind::Null);
        assert!(AttributeMessage::encode("x", &i64t, &shape, &data[..8], 1).is_err());
        assert!(AttributeMessage::encode("", &i64t, &shape, &data, 1).is_err());
    }

    #[test]
    fn truncations_and_garbage() {
        let data: Vec<u8> = [1i32, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
        let m = v3("xy", &i32_type(), &simple(2), &data, 0);
        for n in 0..m.len() {
            assert!(AttributeMessage::parse(&m[..n], 0, Sizes::DEFAULT).is_err());
        }
        // huge dims: element count overflow must be an error
        let mut ds = vec![2, 2, 0, 1];
        ds.extend_from_slice(&u64::MAX.to_le_bytes());
        ds.extend_from_slice(&u64::MAX.to_le_bytes());
        let m = v3("h", &i32_type(), &ds, &[], 0);
        assert!(AttributeMessage::parse(&m, 0, Sizes::DEFAULT).is_err());
    }
}
