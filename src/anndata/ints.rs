//! Integer datasets (`indptr`, `indices`, 10x `shape`) read as `u64`
//! whatever their stored width, sign and byte order.

use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dataset, Dtype};

/// `count` integers of `ds` from `start`, whatever their stored type,
/// refusing negative ones.
pub(crate) fn read_ints(ds: &Dataset<'_>, start: u64, count: u64) -> Result<Vec<u64>> {
    let mut raw = Vec::new();
    let raw = ds.read_range_raw_into(start, count, &mut raw)?;
    let mut out = Vec::new();
    ints_into(ds, raw, &mut out)?;
    Ok(out)
}

/// The integers `raw` holds (elements of `ds`'s integer type, as stored)
/// in `out`, replacing what it held (its allocation is kept, and not
/// zeroed first), refusing negative ones; returns the largest (0 when there
/// are none), found in the same pass, so that a caller checking a bound
/// needs no second one.
pub(crate) fn ints_into(ds: &Dataset<'_>, raw: &[u8], out: &mut Vec<u64>) -> Result<u64> {
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
    // vector code. Signed values are sign-extended, so a negative one is
    // above i64::MAX.
    let mut hi = 0u64;
    match (size, signed, order) {
        (4, true, ByteOrder::Little) => {
            for (o, b) in out.iter_mut().zip(raw.chunks_exact(4)) {
                *o = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64 as u64;
                hi = hi.max(*o);
            }
        }
        (8, true, ByteOrder::Little) => {
            for (o, b) in out.iter_mut().zip(raw.chunks_exact(8)) {
                *o = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as u64;
                hi = hi.max(*o);
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
                hi = hi.max(*o);
            }
        }
    }
    if signed && hi > i64::MAX as u64 {
        let x = out
            .iter()
            .find(|&&x| x > i64::MAX as u64)
            .map_or(-1, |&x| x as i64);
        return Err(Error::invalid(format!("{}: negative entry {x}", ds.path())));
    }
    Ok(hi)
}
