//! Integer datasets (`indptr`, `indices`, 10x `shape`) read as `u64`
//! whatever their stored width, sign and byte order.

use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype};

/// `count` integers of `ds` from `start`, whatever their stored type,
/// refusing negative ones.
pub(crate) fn read_ints(ds: &Dataset<'_>, start: u64, count: u64) -> Result<Vec<u64>> {
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
    let raw = ds.read_raw(&[start], &[count])?;
    let mut out = crate::buf::try_with_capacity(count as usize, "indices")?;
    let negative = |x: i64| Error::invalid(format!("{}: negative entry {x}", ds.path()));
    // The common stored types, a word at a time.
    match (size, signed, order) {
        (4, true, crate::read::ByteOrder::Little) => {
            out.extend(
                raw.chunks_exact(4)
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64 as u64),
            );
            if let Some(&x) = out.iter().find(|&&x| x > i32::MAX as u64) {
                return Err(negative(x as i64));
            }
            return Ok(out);
        }
        (8, true, crate::read::ByteOrder::Little) => {
            out.extend(raw.chunks_exact(8).map(|b| {
                i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as u64
            }));
            if let Some(&x) = out.iter().find(|&&x| x > i64::MAX as u64) {
                return Err(negative(x as i64));
            }
            return Ok(out);
        }
        _ => {}
    }
    for b in raw.chunks_exact(size) {
        let mut buf = [0u8; 8];
        buf[..size].copy_from_slice(b);
        if order == crate::read::ByteOrder::Big {
            buf[..size].reverse();
        }
        let v = if signed {
            let shift = 64 - 8 * size as u32;
            let x = (i64::from_le_bytes(buf) << shift) >> shift;
            u64::try_from(x).map_err(|_| negative(x))?
        } else {
            u64::from_le_bytes(buf)
        };
        out.push(v);
    }
    Ok(out)
}
