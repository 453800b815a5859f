//! Implicit index (layout message v4+, index type 2): used for unfiltered
//! datasets with fixed maximum dimensions and early allocation. There is no
//! index structure; all chunks are allocated contiguously from one address.
//!
//! Chunk `i` lives at `address + i * chunk_bytes`, where `i` is the
//! row-major linear index of the chunk in the grid of the dataset's
//! **maximum** dimensions (libhdf5 `H5D__none_idx_get_addr`:
//! `H5VM_array_offset_pre` over `max_down_chunks`); space for every chunk of
//! that grid was allocated. The chunks that exist are those covering the
//! **current** dimensions (`H5D__none_idx_iterate` walks `layout->chunks`).

use super::{
    check_geometry, chunk_bytes, chunk_counts, product, to_elements, ChunkGeometry, ChunkRecord,
    RecordSink,
};
use crate::error::{Error, Result};
use crate::format::{Address, FileView};
use crate::limits::Limits;

/// One record per chunk of the current extent, addressed through the
/// maximum-dimension grid.
pub fn records(
    view: &FileView<'_>,
    address: Address,
    geom: &ChunkGeometry<'_>,
    limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    let at = view.abs_u64(address);
    check_geometry(geom, at)?;
    if address.is_undefined() {
        return Ok(Vec::new());
    }
    let size = chunk_bytes(geom, at)?;
    let max_counts = chunk_counts(geom.max_dims, geom.chunk_dims, at)?;
    let cur_counts = chunk_counts(geom.dims, geom.chunk_dims, at)?;
    if let Some(d) = (0..cur_counts.len()).find(|&d| cur_counts[d] > max_counts[d]) {
        return Err(Error::format(
            at,
            format!(
                "implicit chunk index: dimension {d} is {} but its maximum is {}",
                geom.dims[d], geom.max_dims[d]
            ),
        ));
    }
    // All max_nchunks chunks were allocated, so they must lie in the file.
    let max_n = product(&max_counts, at, "implicit chunk index")?;
    let span = max_n
        .checked_mul(size)
        .and_then(|s| s.checked_add(address.0))
        .ok_or_else(|| Error::format(at, "implicit chunk index: chunk storage size overflows"))?;
    let file_len = view.len().saturating_sub(view.base);
    if span > file_len {
        return Err(Error::format(
            at,
            format!(
                "implicit chunk index: {max_n} chunks of {size} bytes from {:#x} end at \
                 {span:#x}, past the end of the file ({file_len:#x})",
                address.0
            ),
        ));
    }
    let n = product(&cur_counts, at, "implicit chunk index")?;
    let mut sink = RecordSink::new(geom.dims.len(), limits);
    sink.reserve(n)?;
    if n == 0 {
        return Ok(sink.finish());
    }
    // Row-major strides of the maximum grid.
    let rank = max_counts.len();
    let mut down = vec![1u64; rank];
    for d in (0..rank.saturating_sub(1)).rev() {
        down[d] = down[d + 1].saturating_mul(max_counts[d + 1]);
    }
    let mut scaled = vec![0u64; rank];
    loop {
        // idx < max_n and idx * size < span: no overflow.
        let idx: u64 = scaled.iter().zip(&down).map(|(s, d)| s * d).sum();
        sink.push(ChunkRecord {
            offset: to_elements(&scaled, geom.chunk_dims, at)?,
            address: Address(address.0 + idx * size),
            size,
            filter_mask: 0,
        })?;
        // Odometer over the current grid, last dimension fastest.
        let mut d = rank;
        loop {
            if d == 0 {
                return Ok(sink.finish());
            }
            d -= 1;
            scaled[d] += 1;
            if scaled[d] < cur_counts[d] {
                break;
            }
            scaled[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sizes;

    #[test]
    fn uses_max_grid_for_addresses() {
        // dims (5, 3), max (6, 5), chunks (2, 2): current grid 3x2, max grid
        // 3x3; 4-byte elements -> 16-byte chunks.
        let bytes = vec![0u8; 100 + 9 * 16];
        let view = FileView::new(&bytes, Sizes::DEFAULT, 0);
        let g = ChunkGeometry {
            dims: &[5, 3],
            max_dims: &[6, 5],
            chunk_dims: &[2, 2],
            element_size: 4,
            filtered: false,
        };
        let r = records(&view, Address(100), &g, &Limits::default()).unwrap();
        let got: Vec<(Vec<u64>, u64)> = r.iter().map(|r| (r.offset.clone(), r.address.0)).collect();
        assert_eq!(
            got,
            vec![
                (vec![0, 0], 100),
                (vec![0, 2], 116),
                (vec![2, 0], 148),
                (vec![2, 2], 164),
                (vec![4, 0], 196),
                (vec![4, 2], 212),
            ]
        );
        assert!(r.iter().all(|r| r.size == 16 && r.filter_mask == 0));
        // Storage running past the end of the file.
        assert!(records(&view, Address(101), &g, &Limits::default()).is_err());
        // Record budget.
        let tight = Limits {
            max_alloc: 100,
            ..Limits::default()
        };
        assert!(matches!(
            records(&view, Address(100), &g, &tight),
            Err(Error::LimitsExceeded { .. })
        ));
    }

    #[test]
    fn empty_and_unlimited() {
        let bytes = vec![0u8; 64];
        let view = FileView::new(&bytes, Sizes::DEFAULT, 0);
        let g = ChunkGeometry {
            dims: &[0],
            max_dims: &[4],
            chunk_dims: &[2],
            element_size: 1,
            filtered: false,
        };
        assert!(records(&view, Address(0), &g, &Limits::default())
            .unwrap()
            .is_empty());
        let g = ChunkGeometry {
            max_dims: &[u64::MAX],
            ..g
        };
        assert!(records(&view, Address(0), &g, &Limits::default()).is_err());
    }
}
