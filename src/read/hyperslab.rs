//! Copying N-dimensional boxes between C-ordered byte buffers.
//!
//! Every read path (compact, contiguous, each chunk) reduces to: a source
//! block with its own offset and dims in dataset coordinates, and the caller's
//! selection box. The intersection is copied as runs along the last dimension.

use crate::error::{Error, Result};

/// Number of elements in `dims`, checked (`what` names it in the error).
pub(crate) fn element_count(dims: &[u64], what: &str) -> Result<u64> {
    dims.iter().try_fold(1u64, |acc, &d| {
        acc.checked_mul(d)
            .ok_or_else(|| Error::invalid(format!("{what}: element count overflows u64")))
    })
}

/// A rectangular block of a dataset, in dataset coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block<'a> {
    /// Dataset coordinates of the block's first element.
    pub offset: &'a [u64],
    /// Block dimensions (the full chunk shape for chunks, even at edges).
    pub dims: &'a [u64],
}

/// Intersection of two boxes, or `None` when empty.
pub(crate) fn intersect(a: Block<'_>, b: Block<'_>) -> Option<(Vec<u64>, Vec<u64>)> {
    let mut start = Vec::with_capacity(a.offset.len());
    let mut count = Vec::with_capacity(a.offset.len());
    for i in 0..a.offset.len() {
        let lo = a.offset[i].max(b.offset[i]);
        let hi = a.offset[i]
            .saturating_add(a.dims[i])
            .min(b.offset[i].saturating_add(b.dims[i]));
        if hi <= lo {
            return None;
        }
        start.push(lo);
        count.push(hi - lo);
    }
    Some((start, count))
}

/// Copies the intersection of `src_block` and `dst_block` from `src` (a
/// C-ordered buffer covering `src_block`) to `dst` (covering `dst_block`).
///
/// Both buffers must be exactly `elements × elem` long; callers check that.
pub(crate) fn copy_intersection(
    src: &[u8],
    src_block: Block<'_>,
    dst: &mut [u8],
    dst_block: Block<'_>,
    elem: usize,
) {
    let rank = src_block.dims.len();
    let Some((start, count)) = intersect(src_block, dst_block) else {
        return;
    };
    if rank == 0 {
        let n = elem.min(src.len()).min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
        return;
    }
    // Strides in elements for both buffers.
    let strides = |dims: &[u64]| {
        let mut s = vec![1u64; rank];
        for i in (0..rank.saturating_sub(1)).rev() {
            s[i] = s[i + 1] * dims[i + 1];
        }
        s
    };
    let ss = strides(src_block.dims);
    let ds = strides(dst_block.dims);
    let run = count[rank - 1] as usize * elem;
    // Odometer over all dims but the last.
    let mut idx = vec![0u64; rank];
    loop {
        let mut so = 0u64;
        let mut doff = 0u64;
        for d in 0..rank {
            let c = start[d] + idx[d];
            so += (c - src_block.offset[d]) * ss[d];
            doff += (c - dst_block.offset[d]) * ds[d];
        }
        let so = so as usize * elem;
        let doff = doff as usize * elem;
        if so + run <= src.len() && doff + run <= dst.len() {
            dst[doff..doff + run].copy_from_slice(&src[so..so + run]);
        }
        // Advance.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < count[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_2d_intersection() {
        // 4x4 source at (2,2) holding values 0..16; destination 0..6 x 0..6.
        let src: Vec<u8> = (0u8..16).collect();
        let mut dst = vec![0xffu8; 36];
        copy_intersection(
            &src,
            Block {
                offset: &[2, 2],
                dims: &[4, 4],
            },
            &mut dst,
            Block {
                offset: &[0, 0],
                dims: &[6, 6],
            },
            1,
        );
        assert_eq!(dst[2 * 6 + 2], 0);
        assert_eq!(dst[5 * 6 + 5], 15);
        assert_eq!(dst[3 * 6 + 4], 6);
        assert_eq!(dst[0], 0xff);
    }

    #[test]
    fn clips_edge_chunk() {
        // Chunk of 4 at offset 4, dataset selection 0..6: only 2 elements land.
        let src = [1u8, 2, 3, 4];
        let mut dst = [0u8; 6];
        copy_intersection(
            &src,
            Block {
                offset: &[4],
                dims: &[4],
            },
            &mut dst,
            Block {
                offset: &[0],
                dims: &[6],
            },
            1,
        );
        assert_eq!(dst, [0, 0, 0, 0, 1, 2]);
    }
}
