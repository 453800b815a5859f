//! The datatype message (type 0x0003, spec IV.A.2.d), versions 1 to 5.
//!
//! Integers, floats, fixed and variable-length strings and enums are decoded
//! fully. Compound, array, opaque, reference, variable-length sequence,
//! bitfield, time and complex types are walked only far enough to know their
//! size and how many bytes their description takes, which is what an
//! attribute message needs to find its dataspace and data.
//!
//! Version 5 (HDF5 2.0) adds the complex class (11). libhdf5 2.0 under
//! `libver='latest'` also stamps version 5 on other classes such as enums,
//! whose encoding is byte-for-byte the version 3 one.

use super::{check_version, utf8_name};
use crate::error::{Error, Result};
use crate::format::types::{ByteOrder, CharSet, StringPadding};
use crate::format::{Cursor, Sizes};

/// How deeply datatypes may nest (compound in array in compound ...).
pub const MAX_NESTING: u32 = 32;

/// A parsed datatype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datatype {
    /// Class 0: a two's-complement or unsigned integer.
    FixedPoint {
        /// Size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
        /// Signed (two's complement)?
        signed: bool,
    },
    /// Class 1: a floating-point number (little- or big-endian; VAX order
    /// is rejected as unsupported).
    FloatingPoint {
        /// Size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
        /// Bit position of the sign bit.
        sign_location: u8,
        /// Bit position of the exponent.
        exponent_location: u8,
        /// Exponent size in bits.
        exponent_size: u8,
        /// Bit position of the mantissa.
        mantissa_location: u8,
        /// Mantissa size in bits.
        mantissa_size: u8,
        /// Exponent bias.
        exponent_bias: u32,
    },
    /// Class 3: a fixed-length string.
    String {
        /// Size in bytes.
        size: u32,
        /// Padding.
        padding: StringPadding,
        /// Character set.
        charset: CharSet,
    },
    /// Class 9 with type 1: a variable-length string (global heap
    /// reference).
    VarString {
        /// Padding.
        padding: StringPadding,
        /// Character set.
        charset: CharSet,
        /// Size of one stored element (length + heap id), usually 16.
        size: u32,
    },
    /// Class 8: an enumeration over an integer base type.
    Enum {
        /// The base type.
        base: Box<Datatype>,
        /// Member names.
        names: Vec<String>,
        /// Member values, raw, `base.size()` bytes each, in `names` order.
        values: Vec<Vec<u8>>,
    },
    /// Class 2: a time value (libhdf5 itself barely supports it; values
    /// are refused by name).
    Time {
        /// Size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
    },
    /// Class 4: a bitfield, read as an unsigned integer of its size.
    Bitfield {
        /// Size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
    },
    /// Class 5: opaque bytes with an ASCII tag.
    Opaque {
        /// Size in bytes.
        size: u32,
        /// The tag (NUL padding removed).
        tag: String,
    },
    /// Class 6: a record of named members at byte offsets.
    Compound {
        /// Size of one record in bytes (members may leave padding).
        size: u32,
        /// Members in the order the message lists them.
        members: Vec<CompoundMember>,
    },
    /// Class 7: a reference to an object or a dataset region.
    Reference {
        /// Size in bytes of one stored reference.
        size: u32,
        /// Which kind of reference.
        kind: ReferenceKind,
    },
    /// Class 9 with type 0: a variable-length sequence of `base` elements
    /// (a length and a global heap ID per element).
    VarSequence {
        /// Size of one stored element (length + heap ID), usually 16.
        size: u32,
        /// The element type of each sequence.
        base: Box<Datatype>,
    },
    /// Class 10: a fixed-size array of `base` elements.
    Array {
        /// Size in bytes: the product of `dims` times the base size.
        size: u32,
        /// Dimension sizes, slowest-varying first.
        dims: Vec<u32>,
        /// The element type.
        base: Box<Datatype>,
    },
    /// Class 11 (HDF5 2.0): a complex number of two `base` floats.
    Complex {
        /// Size in bytes (twice the base).
        size: u32,
        /// The float type of the real and imaginary parts.
        base: Box<Datatype>,
    },
}

/// One member of a [`Datatype::Compound`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundMember {
    /// The member's name.
    pub name: String,
    /// Its byte offset inside the record.
    pub offset: u32,
    /// Its type.
    pub dtype: Datatype,
}

/// The kind of a [`Datatype::Reference`] (bits 0-3 of its class bit
/// field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// `H5R_OBJECT1`: an object header address.
    Object,
    /// `H5R_DATASET_REGION1`: a global heap ID whose object holds a
    /// dataset address and a serialized selection.
    DatasetRegion,
    /// The revised references of HDF5 1.12+ (`H5R_OBJECT2` = 2,
    /// `H5R_DATASET_REGION2` = 3, `H5R_ATTR` = 4), numbered as stored.
    Revised(u8),
}

impl ReferenceKind {
    /// libhdf5's name for the kind (`H5R_OBJECT1`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ReferenceKind::Object => "H5R_OBJECT1",
            ReferenceKind::DatasetRegion => "H5R_DATASET_REGION1",
            ReferenceKind::Revised(2) => "H5R_OBJECT2",
            ReferenceKind::Revised(3) => "H5R_DATASET_REGION2",
            ReferenceKind::Revised(4) => "H5R_ATTR",
            ReferenceKind::Revised(_) => "an unknown reference type",
        }
    }
}

// Layout: Datatype Message (spec IV.A.2.d):
//   Class and Version (1: version in the high 4 bits, class in the low 4)
//   Class Bit Field, Bits 0-7 | 8-15 | 16-23 (3)
//   Size (4)
//   Properties (variable, by class)
impl Datatype {
    /// Parses a datatype message; returns the datatype and how many bytes
    /// of `data` its description took.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<(Datatype, usize)> {
        let mut c = Cursor::new(data, at, sizes);
        let dt = parse_at_depth(&mut c, 0)?;
        Ok((dt, c.position()))
    }

    /// Size of one element in bytes.
    pub fn size(&self) -> u32 {
        match self {
            Datatype::FixedPoint { size, .. }
            | Datatype::FloatingPoint { size, .. }
            | Datatype::String { size, .. }
            | Datatype::VarString { size, .. }
            | Datatype::Time { size, .. }
            | Datatype::Bitfield { size, .. }
            | Datatype::Opaque { size, .. }
            | Datatype::Compound { size, .. }
            | Datatype::Reference { size, .. }
            | Datatype::VarSequence { size, .. }
            | Datatype::Array { size, .. }
            | Datatype::Complex { size, .. } => *size,
            Datatype::Enum { base, .. } => base.size(),
        }
    }

    /// The lowest datatype message version that can describe this type:
    /// 2 when an array appears anywhere in it, 5 for the complex class, 1
    /// otherwise.
    pub fn min_version(&self) -> u8 {
        match self {
            Datatype::Array { base, .. } => base.min_version().max(2),
            Datatype::Complex { .. } => 5,
            Datatype::Compound { members, .. } => members
                .iter()
                .map(|m| m.dtype.min_version())
                .max()
                .unwrap_or(1),
            Datatype::VarSequence { base, .. } | Datatype::Enum { base, .. } => base.min_version(),
            _ => 1,
        }
    }

    /// The class, named: `integer`, `float`, `string`, `vlen-string`,
    /// `enum`, `compound`, `array`, `opaque`, `reference`, `vlen-sequence`,
    /// `bitfield`, `time`, `complex`.
    pub fn class_name(&self) -> &'static str {
        match self {
            Datatype::FixedPoint { .. } => "integer",
            Datatype::FloatingPoint { .. } => "float",
            Datatype::String { .. } => "string",
            Datatype::VarString { .. } => "vlen-string",
            Datatype::Enum { .. } => "enum",
            Datatype::Time { .. } => "time",
            Datatype::Bitfield { .. } => "bitfield",
            Datatype::Opaque { .. } => "opaque",
            Datatype::Compound { .. } => "compound",
            Datatype::Reference { .. } => "reference",
            Datatype::VarSequence { .. } => "vlen-sequence",
            Datatype::Array { .. } => "array",
            Datatype::Complex { .. } => "complex",
        }
    }
}

fn order_bit(b0: u8) -> ByteOrder {
    if b0 & 1 != 0 {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    }
}

fn padding(bits: u8, at: u64) -> Result<StringPadding> {
    match bits {
        0 => Ok(StringPadding::NullTerminated),
        1 => Ok(StringPadding::NullPadded),
        2 => Ok(StringPadding::SpacePadded),
        p => Err(Error::format(
            at,
            format!("string padding type: expected 0, 1 or 2, found {p}"),
        )),
    }
}

fn charset(bits: u8, at: u64) -> Result<CharSet> {
    match bits {
        0 => Ok(CharSet::Ascii),
        1 => Ok(CharSet::Utf8),
        p => Err(Error::format(
            at,
            format!("string character set: expected 0 (ASCII) or 1 (UTF-8), found {p}"),
        )),
    }
}

fn parse_at_depth(c: &mut Cursor<'_>, depth: u32) -> Result<Datatype> {
    if depth > MAX_NESTING {
        return Err(c.error(format!(
            "datatype: nested more than {MAX_NESTING} levels deep"
        )));
    }
    let at = c.at();
    let cv = c.u8("datatype class and version")?;
    let version = cv >> 4;
    let class = cv & 0x0f;
    check_version("datatype message", at, version, &[1, 2, 3, 4, 5])?;
    let b = c.read_bytes(3, "datatype class bit field")?;
    let (b0, b1) = (b[0], b[1]);
    let size = c.u32("datatype size")?;
    match class {
        // Fixed-point: Bit Offset (2) | Bit Precision (2)
        0 => {
            c.skip(4, "fixed-point bit offset and precision")?;
            Ok(Datatype::FixedPoint {
                size,
                order: if b0 & 1 != 0 {
                    ByteOrder::Big
                } else {
                    ByteOrder::Little
                },
                signed: b0 & 0x08 != 0,
            })
        }
        // Floating-point: Bit Offset (2) | Bit Precision (2)
        //   | Exponent Location (1) | Exponent Size (1)
        //   | Mantissa Location (1) | Mantissa Size (1) | Exponent Bias (4)
        1 => {
            let order =
                match (b0 & 0x40 != 0, b0 & 0x01 != 0) {
                    (false, false) => ByteOrder::Little,
                    (false, true) => ByteOrder::Big,
                    (true, true) => {
                        return Err(Error::unsupported(format!(
                            "VAX-endian floating-point datatype at {at:#x}"
                        )))
                    }
                    (true, false) => return Err(Error::format(
                        at.saturating_add(1),
                        "floating-point byte order: reserved combination (bit 6 set, bit 0 clear)",
                    )),
                };
            c.skip(4, "floating-point bit offset and precision")?;
            let exponent_location = c.u8("exponent location")?;
            let exponent_size = c.u8("exponent size")?;
            let mantissa_location = c.u8("mantissa location")?;
            let mantissa_size = c.u8("mantissa size")?;
            let exponent_bias = c.u32("exponent bias")?;
            Ok(Datatype::FloatingPoint {
                size,
                order,
                sign_location: b1,
                exponent_location,
                exponent_size,
                mantissa_location,
                mantissa_size,
                exponent_bias,
            })
        }
        // Time: Bit Precision (2)
        2 => {
            c.skip(2, "time bit precision")?;
            Ok(Datatype::Time {
                size,
                order: order_bit(b0),
            })
        }
        // String: no properties.
        3 => Ok(Datatype::String {
            size,
            padding: padding(b0 & 0x0f, at.saturating_add(1))?,
            charset: charset(b0 >> 4, at.saturating_add(1))?,
        }),
        // Bitfield: Bit Offset (2) | Bit Precision (2)
        4 => {
            c.skip(4, "bitfield bit offset and precision")?;
            Ok(Datatype::Bitfield {
                size,
                order: order_bit(b0),
            })
        }
        // Opaque: ASCII Tag, NUL-padded to a multiple of 8; the bit field
        // holds the padded length.
        5 => {
            let tag_at = c.at();
            let raw = c.read_bytes(usize::from(b0), "opaque tag")?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let tag = utf8_name(&raw[..end], tag_at, "opaque tag")?;
            Ok(Datatype::Opaque { size, tag })
        }
        6 => {
            let n = u16::from_le_bytes([b0, b1]);
            let members = parse_compound_members(c, version, size, n, depth)?;
            Ok(Datatype::Compound { size, members })
        }
        // Reference: no properties. Bits 0-3: the type.
        7 => {
            let kind = match b0 & 0x0f {
                0 => ReferenceKind::Object,
                1 => ReferenceKind::DatasetRegion,
                k @ 2..=4 => ReferenceKind::Revised(k),
                k => {
                    return Err(Error::format(
                        at.saturating_add(1),
                        format!("reference type: expected 0 to 4, found {k}"),
                    ))
                }
            };
            Ok(Datatype::Reference { size, kind })
        }
        8 => parse_enum(c, version, u16::from_le_bytes([b0, b1]), depth),
        // Variable-length: Base Type.
        9 => {
            let kind = b0 & 0x0f;
            let base = parse_at_depth(c, depth + 1)?;
            match kind {
                0 => Ok(Datatype::VarSequence {
                    size,
                    base: Box::new(base),
                }),
                1 => Ok(Datatype::VarString {
                    padding: padding(b0 >> 4, at.saturating_add(1))?,
                    charset: charset(b1 & 0x0f, at.saturating_add(2))?,
                    size,
                }),
                k => Err(Error::format(
                    at.saturating_add(1),
                    format!("variable-length type: expected 0 (sequence) or 1 (string), found {k}"),
                )),
            }
        }
        // Array: Dimensionality (1) | Reserved (3, versions < 3)
        //   | Dimension #n Size (4 each) | Permutation Index #n (4 each,
        //   versions < 3) | Base Type
        10 => {
            if version < 2 {
                return Err(Error::format(
                    at,
                    format!("array datatype in a version {version} datatype message (needs version 2 or later)"),
                ));
            }
            let rank = c.u8("array dimensionality")?;
            if version < 3 {
                c.skip(3, "array reserved")?;
            }
            let mut dims = Vec::with_capacity(usize::from(rank));
            for _ in 0..rank {
                dims.push(c.u32("array dimension size")?);
            }
            if version < 3 {
                c.skip(usize::from(rank) * 4, "array permutation indexes")?;
            }
            let base = parse_at_depth(c, depth + 1)?;
            check_array_size(size, &dims, &base, at)?;
            Ok(Datatype::Array {
                size,
                dims,
                base: Box::new(base),
            })
        }
        // Complex: Parent Type Message (a float). Bit 0: homogeneous;
        // bits 1-2: form, 0 = rectangular (real, imaginary).
        11 => {
            let base = parse_at_depth(c, depth + 1)?;
            if b0 & 1 == 0 || (b0 >> 1) & 3 != 0 {
                return Err(Error::unsupported(format!(
                    "complex datatype at {at:#x} that is not homogeneous and rectangular (bit field {b0:#04x})"
                )));
            }
            if !matches!(base, Datatype::FloatingPoint { .. })
                || u64::from(base.size()) * 2 != u64::from(size)
            {
                return Err(Error::format(
                    at,
                    format!(
                        "complex datatype of {size} bytes: expected two floats, found a base {} of {} bytes",
                        base.class_name(),
                        base.size()
                    ),
                ));
            }
            Ok(Datatype::Complex {
                size,
                base: Box::new(base),
            })
        }
        other => Err(Error::unsupported(format!(
            "datatype class {other} at {at:#x} (classes 0 to 11 are known)"
        ))),
    }
}

// Compound properties, per member:
//   Version 1: Name (NUL-terminated, padded to 8) | Byte Offset of Member (4)
//     | Dimensionality (1) | Reserved (3) | Dimension Permutation (4)
//     | Reserved (4) | Dimension #1..4 Size (4 each) | Member Type Message
//   Version 2: Name (padded to 8) | Byte Offset of Member (4) | Member Type
//   Version 3+: Name (not padded) | Byte Offset of Member (1-4 bytes: the
//     fewest that hold the compound's size) | Member Type Message
fn parse_compound_members(
    c: &mut Cursor<'_>,
    version: u8,
    size: u32,
    n: u16,
    depth: u32,
) -> Result<Vec<CompoundMember>> {
    // Each member takes at least a name byte, an offset byte and an
    // 8-byte type header: bound the allocation by the data.
    if usize::from(n).saturating_mul(10) > c.remaining() {
        return Err(c.error(format!(
            "compound: {n} members cannot fit in the {} bytes left",
            c.remaining()
        )));
    }
    let mut members = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let member_at = c.at();
        let name_start = c.position();
        let name = utf8_name(
            c.cstr("compound member name")?,
            member_at,
            "compound member name",
        )?;
        if version < 3 {
            let used = c.position() - name_start;
            let padded = super::pad8(used).unwrap_or(used);
            c.skip(padded - used, "compound member name padding")?;
        }
        let offset = if version < 3 {
            c.u32("compound member byte offset")?
        } else {
            let width = match size {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                0x1_0000..=0xff_ffff => 3,
                _ => 4,
            };
            let raw = c.read_bytes(width, "compound member byte offset")?;
            raw.iter().rev().fold(0u32, |v, &b| (v << 8) | u32::from(b))
        };
        // Version 1 members may be arrays of up to 4 dimensions, described
        // here rather than by an array type.
        let mut old_dims = Vec::new();
        if version == 1 {
            let rank = c.u8("compound member dimensionality")?;
            c.skip(3 + 4 + 4, "compound member permutation and reserved")?;
            for k in 0..4 {
                let d = c.u32("compound member dimension size")?;
                if k < rank {
                    old_dims.push(d);
                }
            }
            if rank > 4 {
                return Err(Error::format(
                    member_at,
                    format!("compound member {name:?}: dimensionality {rank}, at most 4"),
                ));
            }
        }
        let mut dtype = parse_at_depth(c, depth + 1)?;
        if !old_dims.is_empty() {
            let base_size = dtype.size();
            let count = old_dims
                .iter()
                .try_fold(1u32, |n, &d| n.checked_mul(d))
                .and_then(|n| n.checked_mul(base_size))
                .ok_or_else(|| {
                    Error::format(
                        member_at,
                        format!("compound member {name:?}: array size overflows"),
                    )
                })?;
            dtype = Datatype::Array {
                size: count,
                dims: old_dims,
                base: Box::new(dtype),
            };
        }
        let end = u64::from(offset) + u64::from(dtype.size());
        if end > u64::from(size) {
            return Err(Error::format(
                member_at,
                format!(
                    "compound member {name:?} at offset {offset} with {} bytes ends past the {size}-byte record",
                    dtype.size()
                ),
            ));
        }
        members.push(CompoundMember {
            name,
            offset,
            dtype,
        });
    }
    Ok(members)
}

/// An array's stored size must be the product of its dimensions and its
/// base size: readers index elements by it.
fn check_array_size(size: u32, dims: &[u32], base: &Datatype, at: u64) -> Result<()> {
    let expected = dims
        .iter()
        .try_fold(u64::from(base.size()), |n, &d| n.checked_mul(u64::from(d)));
    if expected != Some(u64::from(size)) {
        return Err(Error::format(
            at,
            format!(
                "array datatype of {size} bytes: dimensions {dims:?} of {}-byte elements need {}",
                base.size(),
                expected.map_or("more than 2^64".to_string(), |e| e.to_string())
            ),
        ));
    }
    Ok(())
}

// Enumeration properties:
//   Base Type | Names (NUL-terminated; padded to 8 in versions 1 and 2)
//   | Values (packed, base type size each, in name order)
fn parse_enum(c: &mut Cursor<'_>, version: u8, members: u16, depth: u32) -> Result<Datatype> {
    let base = parse_at_depth(c, depth + 1)?;
    let n = usize::from(members);
    // Each name takes at least one byte: bound the allocation by the data.
    if n > c.remaining() {
        return Err(c.error(format!(
            "enum: {n} members cannot fit in the {} bytes left",
            c.remaining()
        )));
    }
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let name_at = c.at();
        let start = c.position();
        let name = c.cstr("enum member name")?;
        names.push(utf8_name(name, name_at, "enum member name")?);
        if version < 3 {
            let used = c.position() - start;
            let padded = super::pad8(used).unwrap_or(used);
            c.skip(padded - used, "enum member name padding")?;
        }
    }
    let width = base.size() as usize;
    let total = width
        .checked_mul(n)
        .ok_or_else(|| c.error("enum values: size overflows"))?;
    if total > c.remaining() {
        return Err(c.error(format!(
            "enum values: {n} values of {width} bytes need {total} bytes, {} remain",
            c.remaining()
        )));
    }
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        values.push(c.read_bytes(width, "enum member value")?.to_vec());
    }
    Ok(Datatype::Enum {
        base: Box::new(base),
        names,
        values,
    })
}

mod encode;

/// Constructors for the datatypes h5py writes.
impl Datatype {
    /// A little-endian integer of `size` bytes.
    pub fn int(size: u32, signed: bool) -> Datatype {
        Datatype::FixedPoint {
            size,
            order: ByteOrder::Little,
            signed,
        }
    }

    /// An IEEE 754 float of 2, 4 or 8 bytes in `order` (other sizes give
    /// `None`).
    pub fn ieee_float(size: u32, order: ByteOrder) -> Option<Datatype> {
        // (sign, exponent location, exponent size, mantissa size, bias)
        let (sign, eloc, esize, msize, bias) = match size {
            2 => (15, 10, 5, 10, 15),
            4 => (31, 23, 8, 23, 127),
            8 => (63, 52, 11, 52, 1023),
            _ => return None,
        };
        Some(Datatype::FloatingPoint {
            size,
            order,
            sign_location: sign,
            exponent_location: eloc,
            exponent_size: esize,
            mantissa_location: 0,
            mantissa_size: msize,
            exponent_bias: bias,
        })
    }

    /// h5py's bool: an enum over a signed 1-byte integer with members
    /// `FALSE` = 0 and `TRUE` = 1.
    pub fn h5py_bool() -> Datatype {
        Datatype::Enum {
            base: Box::new(Datatype::int(1, true)),
            names: vec!["FALSE".into(), "TRUE".into()],
            values: vec![vec![0], vec![1]],
        }
    }

    /// h5py's variable-length UTF-8 string (`h5py.string_dtype()`):
    /// null-terminated, 16-byte references.
    pub fn vlen_utf8() -> Datatype {
        Datatype::VarString {
            padding: StringPadding::NullTerminated,
            charset: CharSet::Utf8,
            size: 16,
        }
    }
}

#[cfg(test)]
mod tests;
