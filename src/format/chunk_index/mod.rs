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

pub mod extensible_array;
pub mod fixed_array;
pub mod implicit;
pub mod single;

use crate::error::{Error, Result};
use crate::format::FileView;
use crate::limits::Limits;

/// Every allocated chunk of a chunked dataset, sorted by offset.
///
/// Offsets are element coordinates (multiples of the chunk shape). Chunks
/// that were never written (undefined addresses) are left out; they read as
/// the fill value. Index structures are checksum-verified and every count is
/// bounded by the file's size and `limits` before anything is allocated.
pub fn records(
    view: &FileView<'_>,
    kind: &ChunkIndexKind,
    geom: &ChunkGeometry<'_>,
    limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    let mut recs = match kind {
        // Never written: no index yet.
        ChunkIndexKind::BtreeV1 { address } | ChunkIndexKind::BtreeV2 { address, .. }
            if address.is_undefined() =>
        {
            Vec::new()
        }
        ChunkIndexKind::BtreeV1 { address } => {
            crate::format::btree_v1::chunk_records(view, *address, geom.chunk_dims.len(), limits)?
        }
        ChunkIndexKind::BtreeV2 { address, .. } => {
            crate::format::btree_v2::chunk_records(view, *address, geom, limits)?
        }
        ChunkIndexKind::SingleChunk { address, filtered } => {
            single::records(view, *address, *filtered, geom, limits)?
        }
        ChunkIndexKind::Implicit { address } => implicit::records(view, *address, geom, limits)?,
        ChunkIndexKind::FixedArray { address, .. } => {
            fixed_array::records(view, *address, geom, limits)?
        }
        ChunkIndexKind::ExtensibleArray { address, .. } => {
            extensible_array::records(view, *address, geom, limits)?
        }
    };
    recs.sort_unstable_by(|a, b| a.offset.cmp(&b.offset));
    Ok(recs)
}

/// Checks the geometry's ranks and chunk shape; `at` is the absolute address
/// of the index structure, for errors.
pub(crate) fn check_geometry(geom: &ChunkGeometry<'_>, at: u64) -> Result<()> {
    let rank = geom.chunk_dims.len();
    if rank == 0 || geom.dims.len() != rank || geom.max_dims.len() != rank {
        return Err(Error::format(
            at,
            format!(
                "chunk index: expected equal non-zero ranks, found dims {}, max dims {}, chunk \
                 dims {}",
                geom.dims.len(),
                geom.max_dims.len(),
                rank
            ),
        ));
    }
    if let Some(d) = geom.chunk_dims.iter().position(|&c| c == 0) {
        return Err(Error::format(
            at,
            format!("chunk index: chunk dimension {d} is 0"),
        ));
    }
    Ok(())
}

/// Bytes in one unfiltered chunk: product of the chunk shape times the
/// element size.
pub(crate) fn chunk_bytes(geom: &ChunkGeometry<'_>, at: u64) -> Result<u64> {
    let mut n = u64::from(geom.element_size);
    for &c in geom.chunk_dims {
        n = n.checked_mul(c).ok_or_else(|| {
            Error::format(
                at,
                format!(
                    "chunk index: chunk of {:?} elements of {} bytes overflows",
                    geom.chunk_dims, geom.element_size
                ),
            )
        })?;
    }
    if n == 0 {
        return Err(Error::format(at, "chunk index: chunks of 0 bytes"));
    }
    Ok(n)
}

/// Chunks per dimension covering `extent` (ceil(extent / chunk)); an
/// unlimited extent is an error here.
pub(crate) fn chunk_counts(extent: &[u64], chunk_dims: &[u64], at: u64) -> Result<Vec<u64>> {
    extent
        .iter()
        .zip(chunk_dims)
        .map(|(&e, &c)| {
            if e == u64::MAX {
                return Err(Error::format(
                    at,
                    "chunk index: expected fixed dimensions, found an unlimited one",
                ));
            }
            // c > 0 (check_geometry); written without overflow.
            Ok(e / c + u64::from(e % c != 0))
        })
        .collect()
}

/// Product of `counts`, checked.
pub(crate) fn product(counts: &[u64], at: u64, what: &str) -> Result<u64> {
    counts.iter().try_fold(1u64, |acc, &n| {
        acc.checked_mul(n)
            .ok_or_else(|| Error::format(at, format!("{what}: number of chunks overflows")))
    })
}

/// Element offsets of the chunk with row-major linear index `idx` in a grid
/// of `counts` chunks per dimension (`idx` < product of `counts`).
pub(crate) fn unravel(idx: u64, counts: &[u64], chunk_dims: &[u64], at: u64) -> Result<Vec<u64>> {
    let mut scaled = vec![0u64; counts.len()];
    let mut rest = idx;
    for (s, &n) in scaled.iter_mut().zip(counts).rev() {
        if n == 0 {
            return Err(Error::format(
                at,
                format!("chunk index: entry {idx} in a grid with no chunks"),
            ));
        }
        *s = rest % n;
        rest /= n;
    }
    if rest != 0 {
        return Err(Error::format(
            at,
            format!("chunk index: entry {idx} is outside the chunk grid {counts:?}"),
        ));
    }
    to_elements(&scaled, chunk_dims, at)
}

/// Chunk coordinates times the chunk shape, checked.
pub(crate) fn to_elements(scaled: &[u64], chunk_dims: &[u64], at: u64) -> Result<Vec<u64>> {
    scaled
        .iter()
        .zip(chunk_dims)
        .map(|(&s, &c)| {
            s.checked_mul(c)
                .ok_or_else(|| Error::format(at, "chunk index: chunk offset overflows"))
        })
        .collect()
}

/// Collects records while keeping their memory within `limits.max_alloc`.
pub(crate) struct RecordSink<'l> {
    recs: Vec<ChunkRecord>,
    per_record: u64,
    limits: &'l Limits,
}

impl<'l> RecordSink<'l> {
    pub(crate) fn new(rank: usize, limits: &'l Limits) -> Self {
        let per_record = (std::mem::size_of::<ChunkRecord>() + rank * 8) as u64;
        RecordSink {
            recs: Vec::new(),
            per_record,
            limits,
        }
    }

    /// Reserves room for `n` more records, after checking the budget.
    pub(crate) fn reserve(&mut self, n: u64) -> Result<()> {
        let total = (self.recs.len() as u64)
            .saturating_add(n)
            .saturating_mul(self.per_record);
        self.limits.check_alloc("chunk records", total)?;
        crate::buf::try_reserve(
            &mut self.recs,
            usize::try_from(n).unwrap_or(usize::MAX),
            "chunk records",
        )?;
        Ok(())
    }

    pub(crate) fn push(&mut self, rec: ChunkRecord) -> Result<()> {
        let total = (self.recs.len() as u64 + 1).saturating_mul(self.per_record);
        self.limits.check_alloc("chunk records", total)?;
        self.recs.push(rec);
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<ChunkRecord> {
        self.recs
    }
}

/// Bit `i` of a libhdf5 bitmap (`H5VM_bit_get`: most significant bit first).
pub(crate) fn bit_is_set(bitmap: &[u8], i: u64) -> bool {
    let byte = usize::try_from(i / 8).ok().and_then(|b| bitmap.get(b));
    byte.is_some_and(|&b| b & (0x80 >> (i % 8)) != 0)
}

/// Reads one index entry: an address, then for filtered chunks the stored
/// size (`size_width` bytes) and the filter mask.
pub(crate) fn read_entry(
    c: &mut crate::format::Cursor<'_>,
    size_width: Option<usize>,
    unfiltered_size: u64,
) -> Result<(crate::format::Address, u64, u32)> {
    let addr = c.address("chunk address")?;
    match size_width {
        Some(w) => {
            let size = c.uint(w, "chunk size")?;
            let mask = c.u32("chunk filter mask")?;
            Ok((addr, size, mask))
        }
        None => Ok((addr, unfiltered_size, 0)),
    }
}

/// One entry of a fixed or extensible array index, for the encoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// Where the (possibly filtered) chunk starts.
    pub address: Address,
    /// Stored size in bytes (written for filtered datasets only).
    pub size: u64,
    /// Filter mask (written for filtered datasets only).
    pub filter_mask: u32,
}

impl IndexEntry {
    /// The entry of a chunk that was never written.
    pub const UNDEFINED: IndexEntry = IndexEntry {
        address: Address::UNDEFINED,
        size: 0,
        filter_mask: 0,
    };
}

/// Width of the "Chunk Size" field of a filtered fixed/extensible array
/// entry under layout version 4: one byte more than the unfiltered chunk
/// size needs (libhdf5 `H5D__farray_crt_context`: `1 + (log2(size) + 8) /
/// 8`, at most 8).
pub fn filtered_size_width(unfiltered_chunk_bytes: u64) -> usize {
    let log2 = 63 - unfiltered_chunk_bytes.max(1).leading_zeros() as usize;
    (1 + (log2 + 8) / 8).min(8)
}

/// Width of the filtered "chunk size" field for a given layout message
/// version: the derived width ([`filtered_size_width`]) for versions ≤ 4,
/// a fixed `sizes.length` bytes for 5 and later (libhdf5 2.0), so that a
/// filter may grow a chunk past the derived width.
pub fn filtered_size_width_for_layout(
    layout_version: u8,
    unfiltered_chunk_bytes: u64,
    sizes: crate::format::Sizes,
) -> usize {
    if layout_version >= 5 {
        usize::from(sizes.length)
    } else {
        filtered_size_width(unfiltered_chunk_bytes)
    }
}

/// Appends one entry: the address, then for filtered entries (`size_width`
/// `Some`) the chunk size and the filter mask.
pub(crate) fn encode_entry(
    out: &mut Vec<u8>,
    e: &IndexEntry,
    size_width: Option<usize>,
    sizes: crate::format::Sizes,
) -> Result<()> {
    out.extend_from_slice(&e.address.0.to_le_bytes()[..usize::from(sizes.offset)]);
    if let Some(w) = size_width {
        if w < 8 && e.size >> (8 * w) != 0 {
            return Err(Error::invalid(format!(
                "chunk of {} bytes does not fit the {w}-byte size field of its index",
                e.size
            )));
        }
        out.extend_from_slice(&e.size.to_le_bytes()[..w]);
        out.extend_from_slice(&e.filter_mask.to_le_bytes());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Builders for hand-made index structures.
    use crate::format::checksum::metadata_checksum;

    /// Appends the lookup3 checksum of `v` to `v`.
    pub fn seal(v: &mut Vec<u8>) {
        let c = metadata_checksum(v);
        v.extend_from_slice(&c.to_le_bytes());
    }

    /// A little file: `parts` placed at their addresses, zero elsewhere.
    pub fn file(len: usize, parts: &[(usize, &[u8])]) -> Vec<u8> {
        let mut f = vec![0u8; len];
        for (at, p) in parts {
            f[*at..*at + p.len()].copy_from_slice(p);
        }
        f
    }
}

#[cfg(test)]
mod real_files;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Address, Sizes};

    #[test]
    fn dispatch_sorts_and_handles_unwritten_indexes() {
        let bytes = vec![0u8; 256];
        let view = FileView::new(&bytes, Sizes::DEFAULT, 0);
        let g = ChunkGeometry {
            dims: &[4, 4],
            max_dims: &[4, 4],
            chunk_dims: &[2, 2],
            element_size: 1,
            filtered: false,
        };
        let l = Limits::default();
        for kind in [
            ChunkIndexKind::BtreeV1 {
                address: Address::UNDEFINED,
            },
            ChunkIndexKind::BtreeV2 {
                address: Address::UNDEFINED,
                node_size: 512,
                split_percent: 100,
                merge_percent: 40,
            },
            ChunkIndexKind::FixedArray {
                address: Address::UNDEFINED,
                page_bits: 10,
            },
            ChunkIndexKind::SingleChunk {
                address: Address::UNDEFINED,
                filtered: None,
            },
        ] {
            assert!(
                records(&view, &kind, &g, &l).unwrap().is_empty(),
                "{kind:?}"
            );
        }
        let r = records(
            &view,
            &ChunkIndexKind::Implicit {
                address: Address(16),
            },
            &g,
            &l,
        )
        .unwrap();
        let offsets: Vec<Vec<u64>> = r.iter().map(|r| r.offset.clone()).collect();
        assert_eq!(offsets, [[0, 0], [0, 2], [2, 0], [2, 2]]);
        // Mismatched ranks are a format error, not a panic.
        let bad = ChunkGeometry {
            max_dims: &[4],
            ..g
        };
        assert!(records(
            &view,
            &ChunkIndexKind::Implicit {
                address: Address(16)
            },
            &bad,
            &l
        )
        .is_err());
    }

    #[test]
    fn bitmap_is_msb_first() {
        assert!(bit_is_set(&[0x80], 0));
        assert!(bit_is_set(&[0x00, 0x40], 9));
        assert!(!bit_is_set(&[0x01], 0));
        assert!(!bit_is_set(&[], 3));
    }
}
