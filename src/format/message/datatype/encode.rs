//! Encoding datatype messages: what the writer stores, with the versions
//! libhdf5 gives each nested type.

use super::{Datatype, ReferenceKind};
use crate::error::{Error, Result};
use crate::format::types::{ByteOrder, CharSet, StringPadding};

impl Datatype {
    /// Encodes the datatype message with `version` (1 to 5) stamped on it,
    /// or [`Datatype::min_version`] when that is higher.
    /// Nested integer base types (an enum's, a vlen string's) keep version
    /// 1, as libhdf5 writes them at every version bound.
    ///
    /// What libhdf5 writes, for the classes this crate creates:
    /// * integers: bit offset 0, precision `8 * size`, padding bits 0;
    /// * floats: mantissa normalization "implied" (bits 4-5 = 2), bit offset
    ///   0, precision `8 * size`, the stored sign/exponent/mantissa fields;
    /// * fixed strings: padding and character set in bits 0-3 / 4-7;
    /// * vlen strings (class 9, type 1): padding in bits 4-7, character set
    ///   in bits 8-11, base type a 1-byte unsigned integer (libhdf5's
    ///   `H5T_NATIVE_UCHAR`);
    /// * enums: the base type, the names NUL-terminated (padded to a
    ///   multiple of 8 for versions 1 and 2), then the values.
    ///
    /// h5py's default (earliest) writes version 1 for all of these; libhdf5
    /// 1.8 to 1.14 bounds write 1 for numbers and strings and 3 for enums;
    /// HDF5 2.0 `latest` writes 5 for enums. Nested types get the versions
    /// libhdf5 gives them: inside a compound, and everywhere under a version
    /// 3+ parent, compounds, arrays and enums take the parent's version;
    /// other classes (numbers, strings) keep the lowest that describes them
    /// ([`Datatype::min_version`]: 2 for arrays, 5 for the complex class).
    /// The time class is encoded as stored, for copies; revised references
    /// give [`Error::Unsupported`].
    pub fn encode(&self, version: u8) -> Result<Vec<u8>> {
        let mut b = Vec::with_capacity(32);
        // A type that version cannot describe (an array needs 2) gets the
        // lowest version that can, as libhdf5 upgrades it.
        let version = if (1..=5).contains(&version) {
            version.max(self.min_version())
        } else {
            version
        };
        encode_into(self, version, &mut b)?;
        Ok(b)
    }
}

/// The version a type nested in one of version `parent` is encoded with,
/// as libhdf5 upgrades them (`H5T__upgrade_version`): inside a compound,
/// and everywhere under a version 3+ bound (libver v110 and later),
/// compounds, arrays and enums take the parent's version and a vlen that of
/// its base; every other class keeps the lowest that describes it (numbers
/// stay version 1 even in a version 5 compound). An array made of a
/// compound under the earliest bound is version 2 only because arrays need
/// it: its base keeps its own version.
fn nested_version(child: &Datatype, parent: u8, parent_is_array: bool) -> u8 {
    let upgrade = if parent_is_array && parent < 3 {
        1
    } else {
        parent
    };
    match child {
        Datatype::Compound { .. } | Datatype::Array { .. } | Datatype::Enum { .. } => {
            child.min_version().max(upgrade)
        }
        Datatype::VarSequence { base, .. } => {
            nested_version(base, upgrade, false).max(child.min_version())
        }
        other => other.min_version(),
    }
}

fn encode_header(b: &mut Vec<u8>, version: u8, class: u8, bits: [u8; 3], size: u32) {
    b.push((version << 4) | class);
    b.extend_from_slice(&bits);
    b.extend_from_slice(&size.to_le_bytes());
}

fn padding_bits(p: StringPadding) -> u8 {
    match p {
        StringPadding::NullTerminated => 0,
        StringPadding::NullPadded => 1,
        StringPadding::SpacePadded => 2,
    }
}

fn charset_bits(c: CharSet) -> u8 {
    match c {
        CharSet::Ascii => 0,
        CharSet::Utf8 => 1,
    }
}

fn precision(size: u32) -> Result<u16> {
    size.checked_mul(8)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| Error::invalid(format!("{size}-byte number: precision overflows")))
}

fn encode_into(dt: &Datatype, version: u8, b: &mut Vec<u8>) -> Result<()> {
    if !(1..=5).contains(&version) {
        return Err(Error::invalid(format!(
            "datatype message version {version} (1 to 5)"
        )));
    }
    match dt {
        Datatype::FixedPoint {
            size,
            order,
            signed,
        } => {
            let b0 = u8::from(*order == ByteOrder::Big) | (u8::from(*signed) << 3);
            encode_header(b, version, 0, [b0, 0, 0], *size);
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&precision(*size)?.to_le_bytes());
        }
        Datatype::FloatingPoint {
            size,
            order,
            sign_location,
            exponent_location,
            exponent_size,
            mantissa_location,
            mantissa_size,
            exponent_bias,
        } => {
            let b0 = u8::from(*order == ByteOrder::Big) | 0x20;
            encode_header(b, version, 1, [b0, *sign_location, 0], *size);
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&precision(*size)?.to_le_bytes());
            b.extend_from_slice(&[
                *exponent_location,
                *exponent_size,
                *mantissa_location,
                *mantissa_size,
            ]);
            b.extend_from_slice(&exponent_bias.to_le_bytes());
        }
        Datatype::String {
            size,
            padding,
            charset,
        } => {
            let b0 = padding_bits(*padding) | (charset_bits(*charset) << 4);
            encode_header(b, version, 3, [b0, 0, 0], *size);
        }
        Datatype::VarString {
            padding,
            charset,
            size,
        } => {
            let b0 = 1 | (padding_bits(*padding) << 4);
            encode_header(b, version, 9, [b0, charset_bits(*charset), 0], *size);
            let base = Datatype::FixedPoint {
                size: 1,
                order: ByteOrder::Little,
                signed: false,
            };
            encode_into(&base, 1, b)?;
        }
        Datatype::Enum {
            base,
            names,
            values,
        } => {
            let n = u16::try_from(names.len())
                .ok()
                .filter(|_| names.len() == values.len())
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "enum with {} names and {} values (at most 65535)",
                        names.len(),
                        values.len()
                    ))
                })?;
            if !matches!(**base, Datatype::FixedPoint { .. }) {
                return Err(Error::invalid("enum base type must be an integer"));
            }
            let [lo, hi] = n.to_le_bytes();
            encode_header(b, version, 8, [lo, hi, 0], base.size());
            encode_into(base, 1, b)?;
            for name in names {
                if name.as_bytes().contains(&0) {
                    return Err(Error::invalid(format!(
                        "enum member name {name:?} contains a NUL"
                    )));
                }
                let start = b.len();
                b.extend_from_slice(name.as_bytes());
                b.push(0);
                if version < 3 {
                    let used = b.len() - start;
                    b.resize(start + used.div_ceil(8) * 8, 0);
                }
            }
            let width = base.size() as usize;
            for v in values {
                if v.len() != width {
                    return Err(Error::invalid(format!(
                        "enum value of {} bytes for a {width}-byte base type",
                        v.len()
                    )));
                }
                b.extend_from_slice(v);
            }
        }
        // Only ever copied from another file: values are not interpreted.
        Datatype::Time { size, order } => {
            encode_header(
                b,
                version,
                2,
                [u8::from(*order == ByteOrder::Big), 0, 0],
                *size,
            );
            b.extend_from_slice(&precision(*size)?.to_le_bytes());
        }
        Datatype::Bitfield { size, order } => {
            encode_header(
                b,
                version,
                4,
                [u8::from(*order == ByteOrder::Big), 0, 0],
                *size,
            );
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&precision(*size)?.to_le_bytes());
        }
        Datatype::Opaque { size, tag } => {
            // The tag padded with NULs to a multiple of 8 (not necessarily
            // NUL-terminated), its padded length in the bit field.
            let padded = tag.len().div_ceil(8) * 8;
            let len = u8::try_from(padded)
                .ok()
                .filter(|_| !tag.as_bytes().contains(&0))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "opaque tag {tag:?}: at most 255 bytes (padded), no NUL"
                    ))
                })?;
            encode_header(b, version, 5, [len, 0, 0], *size);
            let start = b.len();
            b.extend_from_slice(tag.as_bytes());
            b.resize(start + padded, 0);
        }
        Datatype::Compound { size, members } => {
            let n = u16::try_from(members.len()).map_err(|_| {
                Error::invalid(format!(
                    "compound of {} members (at most 65535)",
                    members.len()
                ))
            })?;
            let [lo, hi] = n.to_le_bytes();
            encode_header(b, version, 6, [lo, hi, 0], *size);
            for m in members {
                if m.name.as_bytes().contains(&0) || m.name.is_empty() {
                    return Err(Error::invalid(format!(
                        "compound member name {:?}: empty or containing a NUL",
                        m.name
                    )));
                }
                if u64::from(m.offset) + u64::from(m.dtype.size()) > u64::from(*size) {
                    return Err(Error::invalid(format!(
                        "compound member {:?} ends past the {size}-byte record",
                        m.name
                    )));
                }
                let start = b.len();
                b.extend_from_slice(m.name.as_bytes());
                b.push(0);
                if version < 3 {
                    let used = b.len() - start;
                    b.resize(start + used.div_ceil(8) * 8, 0);
                    b.extend_from_slice(&m.offset.to_le_bytes());
                } else {
                    let width = match *size {
                        0..=0xff => 1,
                        0x100..=0xffff => 2,
                        0x1_0000..=0xff_ffff => 3,
                        _ => 4,
                    };
                    b.extend_from_slice(&m.offset.to_le_bytes()[..width]);
                }
                if version == 1 {
                    if matches!(m.dtype, Datatype::Array { .. }) {
                        return Err(Error::invalid(
                            "an array member needs a version 2 or later compound datatype",
                        ));
                    }
                    // Dimensionality 0, reserved, permutation, reserved,
                    // four dimension sizes.
                    b.extend_from_slice(&[0u8; 28]);
                }
                encode_into(&m.dtype, nested_version(&m.dtype, version, false), b)?;
            }
        }
        Datatype::Reference { size, kind } => {
            let bits = match kind {
                ReferenceKind::Object => 0,
                ReferenceKind::DatasetRegion => 1,
                ReferenceKind::Revised(_) => {
                    return Err(Error::unsupported(format!(
                        "writing {} references (object references are written as H5R_OBJECT1)",
                        kind.name()
                    )))
                }
            };
            encode_header(b, version, 7, [bits, 0, 0], *size);
        }
        Datatype::VarSequence { size, base } => {
            encode_header(b, version, 9, [0, 0, 0], *size);
            encode_into(base, nested_version(base, version, false), b)?;
        }
        Datatype::Array { size, dims, base } => {
            if version < 2 {
                return Err(Error::invalid(
                    "the array datatype needs datatype message version 2 or later",
                ));
            }
            let rank = u8::try_from(dims.len())
                .map_err(|_| Error::invalid(format!("array of {} dimensions", dims.len())))?;
            encode_header(b, version, 10, [0, 0, 0], *size);
            b.push(rank);
            if version < 3 {
                b.extend_from_slice(&[0; 3]);
            }
            for d in dims {
                b.extend_from_slice(&d.to_le_bytes());
            }
            if version < 3 {
                for k in 0..u32::from(rank) {
                    b.extend_from_slice(&k.to_le_bytes());
                }
            }
            encode_into(base, nested_version(base, version, true), b)?;
        }
        Datatype::Complex { size, base } => {
            if version < 5 {
                return Err(Error::invalid(
                    "the complex datatype class needs datatype message version 5 (HDF5 2.0)",
                ));
            }
            encode_header(b, version, 11, [1, 0, 0], *size);
            encode_into(base, 1, b)?;
        }
    }
    Ok(())
}
