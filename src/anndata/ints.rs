//! Integer datasets (`indptr`, `indices`, 10x `shape`) read as `u64`
//! whatever their stored width, sign and byte order.

use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dataset, Dtype};

/// `count` integers of `ds` from `start`, whatever their stored type,
/// refusing negative ones.
pub(crate) fn read_ints(ds: &Dataset<'_>, start: u64, count: u64) -> Result<Vec<u64>> {
    let raw = ds.read_raw(&[start], &[count])?;
    let mut out = Vec::new();
    ints_into(ds, &raw, &mut out, Below::ANY)?;
    Ok(out)
}

/// The integers `raw` holds (elements of `ds`'s integer type, as stored)
/// in `out`, replacing what it held (its allocation is kept, and not
/// zeroed first), refusing negative ones. Returns whether every one is
/// below `limit` (at most 2^63), found in the same pass, so that a caller
/// checking a bound needs no second one.
pub(crate) fn ints_into(
    ds: &Dataset<'_>,
    raw: &[u8],
    out: &mut Vec<u64>,
    limit: u64,
) -> Result<bool> {
    let (size, signed, order) = match ds.dtype() {
        Dtype::Int {
            size,
            signed,
            order,
        } => (usize::from(*size), *signed, *order),
        other => {
            return Err(Error::invalid(format!(
                "{}: expected integers, found {}",
                ds.path(),
                other.numpy_str()
            )))
        }
    };
    let n = raw.len() / size;
    out.truncate(n);
    crate::buf::try_reserve(out, n - out.len(), "indices")?;
    out.resize(n, 0);
    // The common stored types a word at a time, in loops that compile to
    // vector code. Signed values are sign-extended, so a negative one has
    // its top bit set.
    let mut below = Below::new(limit);
    match (size, signed, order) {
        (4, true, ByteOrder::Little) => {
            for (o, b) in out.iter_mut().zip(raw.chunks_exact(4)) {
                *o = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64 as u64;
                below.add(*o);
            }
        }
        (8, true, ByteOrder::Little) => {
            for (o, b) in out.iter_mut().zip(raw.chunks_exact(8)) {
                *o = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as u64;
                below.add(*o);
            }
        }
        _ => {
            for (o, b) in out.iter_mut().zip(raw.chunks_exact(size)) {
                let mut buf = [0u8; 8];
                buf[..size].copy_from_slice(b);
                if order == ByteOrder::Big {
                    buf[..size].reverse();
                }
                *o = if signed {
                    let shift = 64 - 8 * size as u32;
                    ((i64::from_le_bytes(buf) << shift) >> shift) as u64
                } else {
                    u64::from_le_bytes(buf)
                };
                below.add(*o);
            }
        }
    }
    if signed && below.any_top_bit() {
        let x = out
            .iter()
            .find(|&&x| x > i64::MAX as u64)
            .map_or(-1, |&x| x as i64);
        return Err(Error::invalid(format!("{}: negative entry {x}", ds.path())));
    }
    Ok(below.all())
}

/// Tells whether every value of a pass is below a limit without a
/// comparison per value, in operations that compile to vector code on any
/// x86-64 (SSE2 has no 64-bit comparison, and a maximum emulated from
/// 32-bit ones costs more than the pass): for a limit of at most 2^63, a
/// value is below it exactly when its own top bit is clear and that of
/// `value - limit` (wrapping) is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Below {
    limit: u64,
    /// Every `value - limit`, and-ed: the top bit stays set while all are
    /// below (given clear top bits).
    and: u64,
    /// Every value, or-ed.
    or: u64,
}

impl Below {
    /// No bound: [`Below::all`] says whether every top bit was clear.
    pub(crate) const ANY: u64 = 1 << 63;

    /// A pass checking values against `limit` (at most [`Below::ANY`]).
    pub(crate) fn new(limit: u64) -> Below {
        Below {
            limit: limit.min(Below::ANY),
            and: u64::MAX,
            or: 0,
        }
    }

    /// Takes in one value.
    #[inline(always)]
    pub(crate) fn add(&mut self, v: u64) {
        self.and &= v.wrapping_sub(self.limit);
        self.or |= v;
    }

    /// Whether some value had its top bit set (above i64::MAX: a negative
    /// number sign-extended).
    pub(crate) fn any_top_bit(&self) -> bool {
        self.or >> 63 != 0
    }

    /// Whether every value taken in is below the limit.
    pub(crate) fn all(&self) -> bool {
        self.and >> 63 == 1 && !self.any_top_bit()
    }
}

#[cfg(test)]
mod tests {
    use super::Below;

    #[test]
    fn below_agrees_with_comparing_each_value() {
        let edges = [
            0,
            1,
            2,
            19_999,
            20_000,
            20_001,
            1 << 31,
            (1 << 63) - 1,
            1 << 63,
            u64::MAX,
        ];
        for limit in [0, 1, 20_000, 1 << 32, (1 << 63) - 1, 1 << 63] {
            for &a in &edges {
                for &b in &edges {
                    let mut below = Below::new(limit);
                    below.add(a);
                    below.add(b);
                    let want = a < limit && b < limit;
                    assert_eq!(below.all(), want, "{a} {b} < {limit}");
                    assert_eq!(below.any_top_bit(), a >> 63 | b >> 63 != 0);
                }
            }
            assert!(Below::new(limit).all(), "no values");
        }
    }
}
