//! Element types as `numpy` combines them when arrays are stacked
//! (`np.result_type`), and the conversion of raw element bytes from one
//! numeric type to another.

use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dtype};
use crate::write::f64_to_f16;

/// The kinds of numbers a matrix of an `.h5ad` file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int { size: u8, signed: bool },
    Float { size: u8 },
}

fn kind(d: &Dtype, at: &str) -> Result<Kind> {
    match d {
        Dtype::Bool => Ok(Kind::Bool),
        Dtype::Int { size, signed, .. } => Ok(Kind::Int {
            size: *size,
            signed: *signed,
        }),
        Dtype::Float { size, .. } => Ok(Kind::Float { size: *size }),
        other => Err(Error::unsupported(format!(
            "{at}: concatenating values of type {}",
            other.numpy_str()
        ))),
    }
}

fn dtype_of(k: Kind) -> Dtype {
    let order = ByteOrder::Little;
    match k {
        Kind::Bool => Dtype::Bool,
        Kind::Int { size, signed } => Dtype::Int {
            size,
            signed,
            order,
        },
        Kind::Float { size } => Dtype::Float { size, order },
    }
}

/// The smallest float holding every integer of `size` bytes as numpy
/// sees it (int8 → float16, int16 → float32, wider → float64).
fn float_for_int(size: u8) -> u8 {
    match size {
        1 => 2,
        2 => 4,
        _ => 8,
    }
}

/// `np.result_type(a, b)` for bools, integers and floats.
fn promote2(a: Kind, b: Kind) -> Kind {
    use Kind::*;
    match (a, b) {
        (Bool, x) | (x, Bool) => x,
        (Float { size: x }, Float { size: y }) => Float { size: x.max(y) },
        (Float { size: f }, Int { size: i, .. }) | (Int { size: i, .. }, Float { size: f }) => {
            Float {
                size: f.max(float_for_int(i)),
            }
        }
        (
            Int {
                size: x,
                signed: sx,
            },
            Int {
                size: y,
                signed: sy,
            },
        ) if sx == sy => Int {
            size: x.max(y),
            signed: sx,
        },
        (
            Int {
                size: s,
                signed: true,
            },
            Int { size: u, .. },
        )
        | (
            Int { size: u, .. },
            Int {
                size: s,
                signed: true,
            },
        ) => {
            if s > u {
                Int {
                    size: s,
                    signed: true,
                }
            } else if u < 8 {
                Int {
                    size: u * 2,
                    signed: true,
                }
            } else {
                Float { size: 8 }
            }
        }
        // Both unsigned is the first arm; both signed too.
        (Int { .. }, Int { .. }) => Float { size: 8 },
    }
}

/// `np.result_type` of every dtype in `dtypes` (little-endian), `at`
/// naming the element in errors.
pub(crate) fn result_type<'a>(
    dtypes: impl IntoIterator<Item = &'a Dtype>,
    at: &str,
) -> Result<Dtype> {
    let mut out: Option<Kind> = None;
    for d in dtypes {
        let k = kind(d, at)?;
        out = Some(match out {
            None => k,
            Some(o) => promote2(o, k),
        });
    }
    out.map(dtype_of)
        .ok_or_else(|| Error::invalid(format!("{at}: nothing to concatenate")))
}

/// The dtype an array takes when pandas fills missing positions with NaN
/// (`maybe_promote(dtype, nan)`): integers become float64, floats stay.
pub(crate) fn with_nan(d: &Dtype, at: &str) -> Result<Dtype> {
    match kind(d, at)? {
        Kind::Float { .. } => Ok(dtype_of(kind(d, at)?)),
        Kind::Int { .. } => Ok(float64()),
        Kind::Bool => Err(Error::unsupported(format!(
            "{at}: filling missing bools with NaN (pandas makes them objects)"
        ))),
    }
}

/// float64, little-endian.
pub(crate) fn float64() -> Dtype {
    Dtype::Float {
        size: 8,
        order: ByteOrder::Little,
    }
}

/// One number, widened.
#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    U(u64),
    F(f64),
}

fn order_of(d: &Dtype) -> ByteOrder {
    match d {
        Dtype::Int { order, .. } | Dtype::Float { order, .. } => *order,
        _ => ByteOrder::Little,
    }
}

fn decode(b: &[u8], k: Kind, order: ByteOrder) -> Num {
    let mut buf = [0u8; 8];
    let n = b.len().min(8);
    buf[..n].copy_from_slice(&b[..n]);
    if order == ByteOrder::Big {
        buf[..n].reverse();
    }
    match k {
        Kind::Bool => Num::U(u64::from(buf[0] != 0)),
        Kind::Int { size, signed: true } => {
            let shift = 64 - 8 * u32::from(size);
            Num::I((i64::from_le_bytes(buf) << shift) >> shift)
        }
        Kind::Int { signed: false, .. } => Num::U(u64::from_le_bytes(buf)),
        Kind::Float { size: 8 } => Num::F(f64::from_le_bytes(buf)),
        Kind::Float { size: 4 } => Num::F(f64::from(f32::from_le_bytes([
            buf[0], buf[1], buf[2], buf[3],
        ]))),
        Kind::Float { .. } => Num::F(crate::F16(u16::from_le_bytes([buf[0], buf[1]])).to_f64()),
    }
}

fn encode(v: Num, k: Kind, out: &mut Vec<u8>) {
    let as_f64 = |v: Num| match v {
        Num::I(x) => x as f64,
        Num::U(x) => x as f64,
        Num::F(x) => x,
    };
    let as_i64 = |v: Num| match v {
        Num::I(x) => x,
        Num::U(x) => x as i64,
        Num::F(x) => x as i64,
    };
    match k {
        Kind::Bool => out.push(u8::from(as_f64(v) != 0.0)),
        Kind::Int { size, .. } => {
            let bytes = match v {
                Num::U(x) => x.to_le_bytes(),
                _ => as_i64(v).to_le_bytes(),
            };
            out.extend_from_slice(&bytes[..usize::from(size)]);
        }
        Kind::Float { size: 8 } => out.extend_from_slice(&as_f64(v).to_le_bytes()),
        Kind::Float { size: 4 } => out.extend_from_slice(&(as_f64(v) as f32).to_le_bytes()),
        // float16 results only come from float16 (or int8 with float16)
        // inputs; the value is exact in float32 and rounds to nearest.
        Kind::Float { .. } => out.extend_from_slice(&f64_to_f16(as_f64(v)).to_le_bytes()),
    }
}

/// Converts elements between two numeric dtypes, byte for byte when they
/// are the same.
#[derive(Debug, Clone)]
pub(crate) struct Converter {
    from: Kind,
    from_order: ByteOrder,
    to: Kind,
    size: usize,
    same: bool,
}

impl Converter {
    /// From `from` (any byte order) to `to` (little-endian).
    pub(crate) fn new(from: &Dtype, to: &Dtype, at: &str) -> Result<Converter> {
        let (f, t) = (kind(from, at)?, kind(to, at)?);
        let from_order = order_of(from);
        Ok(Converter {
            from: f,
            from_order,
            to: t,
            size: from.size(),
            same: f == t && (from_order == ByteOrder::Little || from.size() == 1),
        })
    }

    /// Whether elements are copied byte for byte.
    pub(crate) fn is_copy(&self) -> bool {
        self.same
    }

    /// Bytes of one input element.
    pub(crate) fn in_size(&self) -> usize {
        self.size
    }

    /// Appends element `b` (one input element's bytes) converted.
    pub(crate) fn push(&self, b: &[u8], out: &mut Vec<u8>) {
        if self.same {
            out.extend_from_slice(b);
        } else {
            encode(decode(b, self.from, self.from_order), self.to, out);
        }
    }

    /// Appends every element of `bytes` converted.
    pub(crate) fn push_all(&self, bytes: &[u8], out: &mut Vec<u8>) {
        if self.same {
            out.extend_from_slice(bytes);
        } else {
            for b in bytes.chunks_exact(self.size.max(1)) {
                self.push(b, out);
            }
        }
    }

    /// Whether input element `b` is zero (`-0.0` included; NaN is not).
    pub(crate) fn is_zero(&self, b: &[u8]) -> bool {
        match decode(b, self.from, self.from_order) {
            Num::I(x) => x == 0,
            Num::U(x) => x == 0,
            Num::F(x) => x == 0.0,
        }
    }
}

/// The bytes of one NaN of `d` (a float dtype), little-endian.
pub(crate) fn nan_bytes(d: &Dtype) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(k @ Kind::Float { .. }) = kind(d, "") {
        encode(Num::F(f64::NAN), k, &mut out);
    } else {
        out.resize(d.size(), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(size: u8, signed: bool) -> Dtype {
        Dtype::Int {
            size,
            signed,
            order: ByteOrder::Little,
        }
    }
    fn f(size: u8) -> Dtype {
        Dtype::Float {
            size,
            order: ByteOrder::Little,
        }
    }

    #[test]
    fn promotion_follows_numpy() {
        let r = |a: &Dtype, b: &Dtype| result_type([a, b], "t").unwrap().numpy_str();
        assert_eq!(r(&i(1, true), &f(4)), "<f4");
        assert_eq!(r(&i(4, true), &f(4)), "<f8");
        assert_eq!(r(&i(1, false), &i(1, true)), "<i2");
        assert_eq!(r(&i(8, false), &i(1, true)), "<f8");
        assert_eq!(r(&i(2, true), &i(4, false)), "<i8");
        assert_eq!(r(&Dtype::Bool, &i(4, true)), "<i4");
        assert_eq!(r(&f(2), &i(2, true)), "<f4");
    }

    #[test]
    fn conversion_round_trips() {
        let c = Converter::new(&i(2, true), &f(8), "t").unwrap();
        let mut out = Vec::new();
        c.push_all(&(-3i16).to_le_bytes(), &mut out);
        assert_eq!(f64::from_le_bytes(out.try_into().unwrap()), -3.0);
        let big = Dtype::Int {
            size: 4,
            signed: true,
            order: ByteOrder::Big,
        };
        let c = Converter::new(&big, &i(8, true), "t").unwrap();
        let mut out = Vec::new();
        c.push(&(-7i32).to_be_bytes(), &mut out);
        assert_eq!(i64::from_le_bytes(out.try_into().unwrap()), -7);
        assert!(c.is_zero(&0i32.to_be_bytes()));
    }
}
