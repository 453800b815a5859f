//! Turning user-facing types and values into stored bytes.

use crate::error::{Error, Result};
use crate::format::message::datatype::{CompoundMember, Datatype, ReferenceKind};
use crate::format::Address;
use crate::read::{ByteOrder, Dtype, StringPadding, Values};

use super::tx::Tx;

/// The on-disk datatype for a user-facing [`Dtype`].
pub(crate) fn datatype_for(dtype: &Dtype) -> Result<Datatype> {
    Ok(match dtype {
        Dtype::Int {
            size,
            signed,
            order,
        } => Datatype::FixedPoint {
            size: u32::from(*size),
            order: *order,
            signed: *signed,
        },
        Dtype::Float { size, order } => {
            let (exp, bias, mant) = match size {
                2 => (5, 15, 10),
                4 => (8, 127, 23),
                8 => (11, 1023, 52),
                other => return Err(Error::invalid(format!("no IEEE float of {other} bytes"))),
            };
            Datatype::FloatingPoint {
                size: u32::from(*size),
                order: *order,
                sign_location: size * 8 - 1,
                exponent_location: mant,
                exponent_size: exp,
                mantissa_location: 0,
                mantissa_size: mant,
                exponent_bias: bias,
            }
        }
        Dtype::Bool => Datatype::Enum {
            base: Box::new(Datatype::FixedPoint {
                size: 1,
                order: ByteOrder::Little,
                signed: true,
            }),
            names: vec!["FALSE".into(), "TRUE".into()],
            values: vec![vec![0], vec![1]],
        },
        Dtype::Enum {
            size,
            signed,
            order,
            members,
        } => Datatype::Enum {
            base: Box::new(Datatype::FixedPoint {
                size: u32::from(*size),
                order: *order,
                signed: *signed,
            }),
            names: members.iter().map(|(n, _)| n.clone()).collect(),
            values: members
                .iter()
                .map(|(_, v)| int_bytes(*v as u64, usize::from(*size), *order))
                .collect(),
        },
        Dtype::FixedString {
            size,
            padding,
            charset,
        } => Datatype::String {
            size: u32::try_from(*size).map_err(|_| Error::invalid("fixed string too long"))?,
            padding: *padding,
            charset: *charset,
        },
        Dtype::VarString { charset } => Datatype::VarString {
            padding: StringPadding::NullTerminated,
            charset: *charset,
            size: 16,
        },
        Dtype::Compound { size, fields } => Datatype::Compound {
            size: u32::try_from(*size).map_err(|_| Error::invalid("compound too large"))?,
            members: fields
                .iter()
                .map(|f| {
                    Ok(CompoundMember {
                        name: f.name.clone(),
                        offset: u32::try_from(f.offset)
                            .map_err(|_| Error::invalid("compound field offset too large"))?,
                        dtype: datatype_for(&f.dtype)?,
                    })
                })
                .collect::<Result<_>>()?,
        },
        Dtype::Array { dims, base } => {
            let base = datatype_for(base)?;
            let dims = dims
                .iter()
                .map(|&d| u32::try_from(d).map_err(|_| Error::invalid("array dimension too large")))
                .collect::<Result<Vec<u32>>>()?;
            let size = dims
                .iter()
                .try_fold(base.size(), |n, &d| n.checked_mul(d))
                .ok_or_else(|| Error::invalid("array datatype too large"))?;
            Datatype::Array {
                size,
                dims,
                base: Box::new(base),
            }
        }
        Dtype::VarSequence { base } => Datatype::VarSequence {
            size: 16,
            base: Box::new(datatype_for(base)?),
        },
        Dtype::Opaque { size, tag } => Datatype::Opaque {
            size: u32::try_from(*size).map_err(|_| Error::invalid("opaque type too large"))?,
            tag: tag.clone(),
        },
        Dtype::Bitfield { size, order } => Datatype::Bitfield {
            size: u32::from(*size),
            order: *order,
        },
        // As h5py writes complex numbers: a compound of two floats r and i,
        // which every libhdf5 reads.
        Dtype::Complex { size, order } => {
            let half = size / 2;
            let part = datatype_for(&Dtype::Float {
                size: half,
                order: *order,
            })?;
            Datatype::Compound {
                size: u32::from(*size),
                members: vec![
                    CompoundMember {
                        name: "r".into(),
                        offset: 0,
                        dtype: part.clone(),
                    },
                    CompoundMember {
                        name: "i".into(),
                        offset: u32::from(half),
                        dtype: part,
                    },
                ],
            }
        }
        Dtype::ObjectRef => Datatype::Reference {
            size: 8,
            kind: ReferenceKind::Object,
        },
        Dtype::RegionRef => Datatype::Reference {
            size: 12,
            kind: ReferenceKind::DatasetRegion,
        },
        Dtype::Unsupported { class, .. } => {
            return Err(Error::unsupported(format!(
                "writing datatype class {class}"
            )))
        }
    })
}

fn int_bytes(v: u64, size: usize, order: ByteOrder) -> Vec<u8> {
    let le = v.to_le_bytes();
    let mut b = le[..size].to_vec();
    if order == ByteOrder::Big {
        b.reverse();
    }
    b
}

fn check_len(values: &Values, count: usize) -> Result<()> {
    if values.len() != count {
        return Err(Error::invalid(format!(
            "expected {count} values for the shape, got {}",
            values.len()
        )));
    }
    Ok(())
}

/// Largest number of objects put in one global heap collection.
pub(crate) const OBJECTS_PER_COLLECTION: usize = 4096;

/// Encodes `values` as `count` elements of `dtype`, in the stored byte
/// order. Variable-length strings go into fresh global heap collections.
pub(crate) fn encode_values(
    tx: &mut Tx<'_>,
    dtype: &Dtype,
    values: &Values,
    count: usize,
    refs: &mut super::encode_nested::RefResolver<'_>,
) -> Result<Vec<u8>> {
    check_len(values, count)?;
    if let Values::Nested(v) = values {
        return super::encode_nested::encode_nested(tx, dtype, v, refs);
    }
    let size = dtype.size();
    let mut out = Vec::with_capacity(count.saturating_mul(size));
    let mismatch = || {
        Error::invalid(format!(
            "values of this kind cannot be stored as {}",
            dtype.numpy_str()
        ))
    };
    match (dtype, values) {
        (
            Dtype::Int {
                size,
                order,
                signed,
            },
            Values::Int(v),
        )
        | (
            Dtype::Enum {
                size,
                order,
                signed,
                ..
            },
            Values::Int(v),
        ) => {
            for &x in v {
                check_int_range(x as i128, usize::from(*size), *signed)?;
                out.extend(int_bytes(x as u64, usize::from(*size), *order));
            }
        }
        (
            Dtype::Int {
                size,
                order,
                signed,
            },
            Values::UInt(v),
        )
        | (
            Dtype::Enum {
                size,
                order,
                signed,
                ..
            },
            Values::UInt(v),
        ) => {
            for &x in v {
                check_int_range(i128::from(x), usize::from(*size), *signed)?;
                out.extend(int_bytes(x, usize::from(*size), *order));
            }
        }
        (Dtype::Float { size, order }, Values::Float(v)) => {
            for &x in v {
                let bits = match size {
                    2 => u64::from(f64_to_f16(x)),
                    4 => u64::from((x as f32).to_bits()),
                    _ => x.to_bits(),
                };
                out.extend(int_bytes(bits, usize::from(*size), *order));
            }
        }
        (Dtype::Bool, Values::Bool(v)) => out.extend(v.iter().map(|&b| u8::from(b))),
        (Dtype::FixedString { size, padding, .. }, Values::Str(v)) => {
            for s in v {
                let b = s.as_bytes();
                if b.len() > *size {
                    return Err(Error::invalid(format!(
                        "string of {} bytes does not fit a {size}-byte fixed string",
                        b.len()
                    )));
                }
                let mut e = b.to_vec();
                let pad = if *padding == StringPadding::SpacePadded {
                    b' '
                } else {
                    0
                };
                e.resize(*size, pad);
                out.extend(e);
            }
        }
        (Dtype::VarString { .. }, Values::Str(v)) => {
            let refs = write_vlen_strings(tx, v)?;
            for (len, coll, idx) in refs {
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&coll.0.to_le_bytes()[..usize::from(tx.sizes.offset)]);
                out.extend_from_slice(&idx.to_le_bytes());
            }
            debug_assert_eq!(out.len(), count * (8 + usize::from(tx.sizes.offset)));
            return Ok(out);
        }
        _ => return Err(mismatch()),
    }
    debug_assert_eq!(out.len(), count * size);
    Ok(out)
}

fn check_int_range(x: i128, size: usize, signed: bool) -> Result<()> {
    let bits = 8 * size as u32;
    let (lo, hi) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    if x < lo || x > hi {
        return Err(Error::invalid(format!(
            "value {x} does not fit a {}{size}-byte integer",
            if signed { "signed " } else { "unsigned " }
        )));
    }
    Ok(())
}

/// Stores strings as global heap objects; returns (length, collection,
/// index) references.
fn write_vlen_strings(tx: &mut Tx<'_>, strings: &[String]) -> Result<Vec<(u32, Address, u32)>> {
    let mut refs = Vec::with_capacity(strings.len());
    for group in strings.chunks(OBJECTS_PER_COLLECTION) {
        let objects: Vec<&[u8]> = group.iter().map(|s| s.as_bytes()).collect();
        let bytes = crate::format::global_heap::encode_collection(&objects)?;
        let addr = tx.put(bytes)?;
        for (i, s) in group.iter().enumerate() {
            let len =
                u32::try_from(s.len()).map_err(|_| Error::invalid("string longer than 4 GiB"))?;
            refs.push((len, addr, i as u32 + 1));
        }
    }
    Ok(refs)
}

/// IEEE binary16 from f64, rounding to nearest even.
pub(crate) fn f64_to_f16(x: f64) -> u16 {
    let f = x as f32;
    let bits = f.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if mant != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = mant | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let mut r = m >> shift;
        let rem = m & ((1 << shift) - 1);
        if rem > half || (rem == half && r & 1 == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (mant >> 13);
    let rem = mant & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && r & 1 == 1) {
        r += 1;
    }
    sign | r as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::decode_f16_for_tests as f16_to_f64;

    #[test]
    fn f16_round_trips() {
        for bits in [
            0u16, 0x8000, 0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x3555,
        ] {
            assert_eq!(f64_to_f16(f16_to_f64(bits)), bits, "{bits:#06x}");
        }
        assert_eq!(f64_to_f16(1e6), 0x7c00);
        assert_eq!(f64_to_f16(f64::NAN) & 0x7c00, 0x7c00);
    }
}
