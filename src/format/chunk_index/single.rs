//! Single-chunk index (layout message v4+, index type 1): the whole dataset
//! is one chunk, whose address (and, when filtered, stored size and filter
//! mask) sit in the layout message itself.
//!
//! Layout message, chunked class, index type 1 (spec IV.A.2.i, "Single
//! Chunk Indexing Information"):
//!
//! ```text
//! Size of Filtered Chunk   (length size)   only when "filtered" flag is set
//! Filters for Chunk        (4 bytes)       only when "filtered" flag is set
//! Address                  (offset size)   in the layout's address field
//! ```

use super::{check_geometry, chunk_bytes, ChunkGeometry, ChunkRecord};
use crate::error::Result;
use crate::format::{Address, FileView};
use crate::limits::Limits;

/// The one record of a single-chunk dataset, or none if it was never
/// written.
pub fn records(
    view: &FileView<'_>,
    address: Address,
    filtered: Option<(u64, u32)>,
    geom: &ChunkGeometry<'_>,
    _limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    let at = view.abs_u64(address);
    check_geometry(geom, at)?;
    if address.is_undefined() {
        return Ok(Vec::new());
    }
    let (size, filter_mask) = match filtered {
        Some(sm) => sm,
        None => (chunk_bytes(geom, at)?, 0),
    };
    Ok(vec![ChunkRecord {
        offset: vec![0; geom.dims.len()],
        address,
        size,
        filter_mask,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sizes;

    fn geom<'g>(dims: &'g [u64], chunk: &'g [u64]) -> ChunkGeometry<'g> {
        ChunkGeometry {
            dims,
            max_dims: dims,
            chunk_dims: chunk,
            element_size: 4,
            filtered: false,
        }
    }

    #[test]
    fn one_record() {
        let bytes = [0u8; 16];
        let view = FileView::new(&bytes, Sizes::DEFAULT, 0);
        let g = geom(&[4, 5], &[4, 5]);
        let r = records(&view, Address(8), None, &g, &Limits::default()).unwrap();
        assert_eq!(
            r,
            vec![ChunkRecord {
                offset: vec![0, 0],
                address: Address(8),
                size: 80,
                filter_mask: 0
            }]
        );
        let r = records(&view, Address(8), Some((33, 2)), &g, &Limits::default()).unwrap();
        assert_eq!((r[0].size, r[0].filter_mask), (33, 2));
        let r = records(&view, Address::UNDEFINED, None, &g, &Limits::default()).unwrap();
        assert!(r.is_empty());
        let bad = geom(&[4, 5], &[4, 0]);
        assert!(records(&view, Address(8), None, &bad, &Limits::default()).is_err());
    }
}
