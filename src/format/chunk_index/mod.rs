//! Chunk indexes: where each chunk of a chunked dataset lives.
//!
//! Layout message v3 always uses a v1 B-tree; v4/v5 name one of five more
//! index types. Every index is read into the same [`ChunkRecord`]s.

use crate::format::Address;

/// One stored chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    /// Element coordinates of the chunk's first element, one per dataset
    /// dimension (a multiple of the chunk shape).
    pub offset: Vec<u64>,
    /// Where the (possibly filtered) chunk bytes start.
    pub address: Address,
    /// Stored size in bytes (after filters).
    pub size: u64,
    /// Bit `i` set: filter `i` of the pipeline was skipped for this chunk.
    pub filter_mask: u32,
}

/// Which index a layout message names, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkIndexKind {
    /// Version 1 B-tree (layout v1–v3, and v4 with index type 5... see spec).
    BtreeV1 {
        /// Root node address.
        address: Address,
    },
    /// Single chunk (layout v4+ index type 1).
    SingleChunk {
        /// Chunk address.
        address: Address,
        /// Stored size and filter mask when the dataset is filtered.
        filtered: Option<(u64, u32)>,
    },
    /// Implicit (index type 2): chunks contiguous from `address`.
    Implicit {
        /// Address of the first chunk.
        address: Address,
    },
    /// Fixed array (index type 3).
    FixedArray {
        /// Fixed array header address.
        address: Address,
        /// log2 of the number of entries per data-block page.
        page_bits: u8,
    },
    /// Extensible array (index type 4).
    ExtensibleArray {
        /// Extensible array header address.
        address: Address,
        /// Bits to store the maximum number of elements.
        max_bits: u8,
        /// Elements stored in the index block.
        index_elements: u8,
        /// Minimum data-block pointers in a super block.
        min_pointers: u8,
        /// Minimum elements in a data block.
        min_elements: u8,
        /// log2 of the number of elements per data-block page.
        page_bits: u8,
    },
    /// Version 2 B-tree (index type 5).
    BtreeV2 {
        /// v2 B-tree header address.
        address: Address,
        /// Node size in bytes.
        node_size: u32,
        /// Split percent.
        split_percent: u8,
        /// Merge percent.
        merge_percent: u8,
    },
}

/// The shape facts every index needs to turn its entries into records.
#[derive(Debug, Clone, Copy)]
pub struct ChunkGeometry<'g> {
    /// Current dataset dimensions.
    pub dims: &'g [u64],
    /// Maximum dimensions, `u64::MAX` for unlimited (equal to `dims` when the
    /// dataspace stores none).
    pub max_dims: &'g [u64],
    /// Chunk shape (without the trailing element-size dimension).
    pub chunk_dims: &'g [u64],
    /// Bytes per element.
    pub element_size: u32,
    /// Does the dataset have a filter pipeline?
    pub filtered: bool,
}
