//! One target per chunk index type.
//!
//! Header layout: `sizes (1) | index address (8) | rank (1) | per dimension
//! [dim (8) | max dim (8, all ones = unlimited) | chunk dim (4)] | element
//! size (4) | filtered (1) | index parameters (16) | file bytes`.
//!
//! The parameters are the layout message's, for the index type the target
//! fixes: single chunk `filtered size (8) | filter mask (4)`; fixed array
//! `page bits (1)`; extensible array `max bits | index elements | min
//! pointers | min elements | page bits` (1 each); v2 B-tree `node size (4) |
//! split percent (1) | merge percent (1)`.

use h5sparse::format::chunk_index::{self, ChunkGeometry, ChunkIndexKind};
use h5sparse::format::Address;

use super::input::{limits, Header, Input};

/// Which index a target fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Layout v4 index type 1.
    Single,
    /// Index type 2.
    Implicit,
    /// Index type 3.
    FixedArray,
    /// Index type 4.
    ExtensibleArray,
    /// Layout v3 (and v4 index type... the v1 B-tree).
    BtreeV1,
    /// Index type 5.
    BtreeV2,
}

/// Most dimensions a chunk-index input describes.
pub const MAX_RANK: usize = 8;

/// Reads the header and runs [`chunk_index::records`] with the index fixed
/// to `which`.
pub fn run_index(which: Which, data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let address = input.address();
    let rank = usize::from(input.u8()) % (MAX_RANK + 1);
    let mut dims = Vec::with_capacity(rank);
    let mut max_dims = Vec::with_capacity(rank);
    let mut chunk_dims = Vec::with_capacity(rank);
    for _ in 0..rank {
        dims.push(input.u64());
        max_dims.push(input.u64());
        chunk_dims.push(u64::from(input.u32()));
    }
    let element_size = input.u32();
    let filtered = input.u8() & 1 == 1;
    let mut p = Input::new(input.rest());
    let params = [p.u64(), p.u64()];
    let pb = params[0].to_le_bytes();
    let rest = &input.rest()[16.min(input.rest().len())..];
    let input = Input::new(rest);
    let view = input.view(sizes);
    let kind = match which {
        Which::Single => ChunkIndexKind::SingleChunk {
            address,
            filtered: filtered.then_some((params[0], params[1] as u32)),
        },
        Which::Implicit => ChunkIndexKind::Implicit { address },
        Which::FixedArray => ChunkIndexKind::FixedArray {
            address,
            page_bits: pb[0],
        },
        Which::ExtensibleArray => ChunkIndexKind::ExtensibleArray {
            address,
            max_bits: pb[0],
            index_elements: pb[1],
            min_pointers: pb[2],
            min_elements: pb[3],
            page_bits: pb[4],
        },
        Which::BtreeV1 => ChunkIndexKind::BtreeV1 { address },
        Which::BtreeV2 => ChunkIndexKind::BtreeV2 {
            address,
            node_size: params[0] as u32,
            split_percent: pb[4],
            merge_percent: pb[5],
        },
    };
    let geom = ChunkGeometry {
        dims: &dims,
        max_dims: &max_dims,
        chunk_dims: &chunk_dims,
        element_size,
        filtered,
    };
    let limits = limits();
    let Ok(recs) = chunk_index::records(&view, &kind, &geom, &limits) else {
        return;
    };
    for r in &recs {
        assert_eq!(r.offset.len(), rank, "record of the wrong rank: {r:?}");
        assert!(
            !r.address.is_undefined(),
            "unallocated chunk returned: {r:?}"
        );
    }
    assert!(
        recs.windows(2).all(|w| w[0].offset <= w[1].offset),
        "records not sorted by offset"
    );
}

/// The header [`run_index`] reads, for seeds.
#[allow(clippy::too_many_arguments)]
pub fn header(
    sizes: h5sparse::format::Sizes,
    address: Address,
    dims: &[u64],
    max_dims: &[u64],
    chunk_dims: &[u64],
    element_size: u32,
    filtered: bool,
    params: [u8; 16],
) -> Header {
    let mut h = Header::new()
        .sizes(sizes)
        .u64(address.0)
        .u8(dims.len() as u8);
    for i in 0..dims.len() {
        h = h.u64(dims[i]).u64(max_dims[i]).u32(chunk_dims[i] as u32);
    }
    h = h.u32(element_size).u8(u8::from(filtered));
    for b in params {
        h = h.u8(b);
    }
    h
}

/// Single-chunk index.
pub fn single(data: &[u8]) {
    run_index(Which::Single, data);
}

/// Implicit index.
pub fn implicit(data: &[u8]) {
    run_index(Which::Implicit, data);
}

/// Fixed array index (paged and unpaged).
pub fn fixed_array(data: &[u8]) {
    run_index(Which::FixedArray, data);
}

/// Extensible array index.
pub fn extensible_array(data: &[u8]) {
    run_index(Which::ExtensibleArray, data);
}

/// v1 B-tree chunk index (node type 1).
pub fn btree_v1(data: &[u8]) {
    run_index(Which::BtreeV1, data);
}

/// v2 B-tree chunk index (record types 10 and 11).
pub fn btree_v2(data: &[u8]) {
    run_index(Which::BtreeV2, data);
}
