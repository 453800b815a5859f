//! Chunk storage for the writer: chunk buffers encoded through the filters
//! (in parallel), staged in fresh space, and the chunk index (v1 B-tree,
//! single chunk, fixed or extensible array) rebuilt and published.

use std::borrow::Cow;

use super::btree::{write_chunk_tree, ChunkEntry};
use super::modify::Existing;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::filters::{self, FilterSpec};
use crate::format::btree_v1;
use crate::format::chunk_index::extensible_array::ExtensibleArrayParams;
use crate::format::chunk_index::{ChunkIndexKind, ChunkRecord};
use crate::format::message::layout::Layout;
use crate::format::object_header::{kind, NewMessage};
use crate::format::{Address, FileView};
use crate::read::hyperslab::{copy_intersection, element_count, Block};

/// Chunk-grid coordinates (in elements) of every chunk that intersects
/// `sel` (start/count) for chunk shape `chunk`.
pub(crate) fn chunks_covering(start: &[u64], count: &[u64], chunk: &[u64]) -> Vec<Vec<u64>> {
    let rank = chunk.len();
    if count.contains(&0) {
        return Vec::new();
    }
    let first: Vec<u64> = (0..rank).map(|d| start[d] / chunk[d]).collect();
    let last: Vec<u64> = (0..rank)
        .map(|d| (start[d] + count[d] - 1) / chunk[d])
        .collect();
    let mut out = Vec::new();
    let mut idx = first.clone();
    loop {
        out.push((0..rank).map(|d| idx[d] * chunk[d]).collect());
        let mut d = rank;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            if idx[d] < last[d] {
                idx[d] += 1;
                break;
            }
            idx[d] = first[d];
        }
    }
}

/// Fills `buf` with repetitions of `fill` (or leaves zeros).
pub(crate) fn fill_with(buf: &mut [u8], fill: &[u8]) {
    if !fill.is_empty() && fill.iter().any(|&b| b != 0) {
        for e in buf.chunks_exact_mut(fill.len()) {
            e.copy_from_slice(fill);
        }
    }
}

/// Encodes chunk buffers (in parallel), stages them in fresh space and adds
/// their entries to `entries`, which ends up sorted by offset.
///
/// `whole` is the caller's borrowed data that chunks borrowed from it
/// (unfiltered) are slices of. Consecutive such chunks that follow each
/// other in `whole` are staged as one run, for one write, at the position
/// the sink prefers for it ([`Tx::alloc_placed`]: congruent to the run's
/// offset in a file whose blocks the sink can share), the chunks back to
/// back within it.
pub(crate) fn store_chunks<'d>(
    tx: &mut Tx<'d>,
    bufs: Vec<(Vec<u64>, Cow<'d, [u8]>)>,
    filters: &[FilterSpec],
    elem: usize,
    entries: &mut Vec<ChunkEntry>,
    whole: Option<&'d [u8]>,
) -> Result<()> {
    let encoded = encode_chunks(bufs, filters, elem)?;
    let mut runs = placed_runs(&encoded, whole, tx).into_iter().peekable();
    // The run being placed: index of the chunk after it, next address.
    let mut placed: Option<(usize, u64)> = None;
    for (i, (offset, bytes, mask)) in encoded.into_iter().enumerate() {
        if placed.is_some_and(|(end, _)| i >= end) {
            placed = None;
        }
        if let (None, Some(&(first, end, run))) = (placed, runs.peek()) {
            if first == i {
                runs.next();
                let base = tx.alloc_placed(run)?;
                tx.fresh.push((tx.base + base.0, Cow::Borrowed(run)));
                placed = Some((end, base.0));
            }
        }
        let size = u32::try_from(bytes.len())
            .map_err(|_| Error::invalid("a chunk may not exceed 4 GiB"))?;
        let address = match &mut placed {
            Some((_, next)) => {
                let at = Address(*next);
                *next += bytes.len() as u64;
                at
            }
            None => tx.put_cow(bytes)?,
        };
        entries.push(ChunkEntry {
            offset,
            address,
            size,
            filter_mask: mask,
        });
    }
    entries.sort_by(|a, b| a.offset.cmp(&b.offset));
    Ok(())
}

/// The runs of consecutive chunks in `chunks` that are consecutive
/// slices of `whole` and that the sink would rather have at a position
/// of its choosing: (first chunk, the chunk after the last, the run's
/// bytes).
fn placed_runs<'d>(
    chunks: &[EncodedChunk<'d>],
    whole: Option<&'d [u8]>,
    tx: &Tx<'_>,
) -> Vec<(usize, usize, &'d [u8])> {
    let Some(whole) = whole.filter(|_| !tx.placement.is_empty()) else {
        return Vec::new();
    };
    // Where a borrowed chunk lies in `whole`.
    let within = |c: &EncodedChunk<'d>| match &c.1 {
        Cow::Borrowed(b) => {
            let at = (b.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
            (at.checked_add(b.len())? <= whole.len()).then_some((at, b.len()))
        }
        Cow::Owned(_) => None,
    };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chunks.len() {
        let Some((start, len)) = within(&chunks[i]) else {
            i += 1;
            continue;
        };
        let (mut end, mut next) = (start + len, i + 1);
        while let Some((at, len)) = chunks.get(next).and_then(within) {
            if at != end {
                break;
            }
            end += len;
            next += 1;
        }
        let run = &whole[start..end];
        if tx.placement.residue(run).is_some() {
            runs.push((i, next, run));
        }
        i = next;
    }
    runs
}

/// A chunk after the filter pipeline: offset, stored bytes, filter mask.
type EncodedChunk<'d> = (Vec<u64>, Cow<'d, [u8]>, u32);

/// Encodes chunk buffers through the filter pipeline, in parallel;
/// unfiltered chunks pass through (borrowed ones stay borrowed).
fn encode_chunks<'d>(
    bufs: Vec<(Vec<u64>, Cow<'d, [u8]>)>,
    filters: &[FilterSpec],
    elem: usize,
) -> Result<Vec<EncodedChunk<'d>>> {
    if filters.is_empty() {
        return Ok(bufs.into_iter().map(|(o, b)| (o, b, 0)).collect());
    }
    crate::par::map(bufs, |(o, b)| {
        let e = filters::encode_chunk_masked(filters, &b, elem)?;
        Ok((o, Cow::Owned(e.bytes), e.filter_mask))
    })
}

/// Writes the chunks of `sel` (start/count within `dims`) taken from `src`
/// (the selection's bytes), merging with `existing` chunks, and builds the
/// chunk B-tree. Returns the root address.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_chunks<'d>(
    tx: &mut Tx<'d>,
    chunk: &[u64],
    shape: &[u64],
    src: Cow<'d, [u8]>,
    elem: usize,
    filters: &[FilterSpec],
    fill: Option<&[u8]>,
) -> Result<Vec<ChunkEntry>> {
    let rank = shape.len();
    let zeros = vec![0u64; rank];
    let sel = Block {
        offset: &zeros,
        dims: shape,
    };
    let chunk_bytes = element_count(chunk, "chunk shape")?
        .checked_mul(elem as u64)
        .ok_or_else(|| Error::invalid("chunk size overflows"))?;
    if chunk_bytes > u64::from(u32::MAX) {
        return Err(Error::invalid("a chunk may not exceed 4 GiB"));
    }
    let fill = fill.map(<[u8]>::to_vec).unwrap_or_else(|| vec![0; elem]);
    let mut bufs = Vec::new();
    for off in chunks_covering(&zeros, shape, chunk) {
        if let (Cow::Borrowed(whole), true) = (&src, filters.is_empty()) {
            let at = Block {
                offset: &off,
                dims: chunk,
            };
            if let Some(run) = borrowed_chunk(whole, at, sel, shape, elem) {
                bufs.push((off, Cow::Borrowed(run)));
                continue;
            }
        }
        let mut buf = vec![0u8; chunk_bytes as usize];
        fill_with(&mut buf, &fill);
        copy_intersection(
            &src,
            sel,
            &mut buf,
            Block {
                offset: &off,
                dims: chunk,
            },
            elem,
        );
        bufs.push((off, Cow::Owned(buf)));
    }
    let whole = match src {
        Cow::Borrowed(b) if filters.is_empty() => Some(b),
        _ => None,
    };
    let mut entries = Vec::new();
    store_chunks(tx, bufs, filters, elem, &mut entries, whole)?;
    Ok(entries)
}

/// The bytes of `chunk` inside `src`, the bytes of selection `sel` of a
/// dataset of shape `dims`, when the chunk is whole rows of the selection
/// and lies inside it: then they are one contiguous run of `src`, which an
/// unfiltered chunk can be written from without a copy.
pub(crate) fn borrowed_chunk<'d>(
    src: &'d [u8],
    chunk: Block<'_>,
    sel: Block<'_>,
    dims: &[u64],
    elem: usize,
) -> Option<&'d [u8]> {
    let rank = dims.len();
    let whole_rows = rank > 0
        && (1..rank)
            .all(|d| sel.offset[d] == 0 && sel.dims[d] == dims[d] && chunk.dims[d] == dims[d]);
    if !whole_rows
        || chunk.offset[0] < sel.offset[0]
        || chunk.offset[0] + chunk.dims[0] > sel.offset[0] + sel.dims[0]
    {
        return None;
    }
    let row_bytes = sel.dims[1..].iter().product::<u64>() * elem as u64;
    let at = ((chunk.offset[0] - sel.offset[0]) * row_bytes) as usize;
    let len = (chunk.dims.iter().product::<u64>() * elem as u64) as usize;
    src.get(at..at + len)
}

/// What building a chunk index needs to know about its dataset.
pub(crate) struct IndexShape<'s> {
    pub elem: usize,
    pub chunk_dims: &'s [u64],
    /// Maximum dimensions, `u64::MAX` unlimited.
    pub max_dims: &'s [u64],
    pub filtered: bool,
    /// 4 or 5: under 5 a filtered chunk's size field is a full length.
    pub layout_version: u8,
    /// v1 B-tree `K` for chunk nodes.
    pub k: u16,
}

/// The index libhdf5 picks for a new dataset in a latest-format file
/// (`H5D__layout_set_latest_indexing`): a single chunk when the dataset is
/// one chunk that cannot grow, a fixed array when nothing is unlimited, an
/// extensible array for one unlimited dimension, and a v2 B-tree for more
/// (libhdf5's node size 2048, split 100 %, merge 40 %).
pub(crate) fn latest_index_kind(shape: &[u64], max: &[u64], chunk: &[u64]) -> ChunkIndexKind {
    let unlimited = max.iter().filter(|&&m| m == u64::MAX).count();
    let u = Address::UNDEFINED;
    match unlimited {
        0 if shape == max && shape == chunk => ChunkIndexKind::SingleChunk {
            address: u,
            filtered: None,
        },
        0 => ChunkIndexKind::FixedArray {
            address: u,
            page_bits: 10,
        },
        1 => {
            let p = ExtensibleArrayParams::DEFAULT;
            ChunkIndexKind::ExtensibleArray {
                address: u,
                max_bits: p.max_bits,
                index_elements: p.index_elements,
                min_pointers: p.min_pointers,
                min_elements: p.min_elements,
                page_bits: p.page_bits,
            }
        }
        _ => ChunkIndexKind::BtreeV2 {
            address: u,
            node_size: 2048,
            split_percent: 100,
            merge_percent: 40,
        },
    }
}

/// Row-major number of the chunk at element `offset` in a grid of `counts`
/// chunks of `chunk` elements.
fn grid_index(offset: &[u64], chunk: &[u64], counts: &[u64]) -> u64 {
    let mut idx = 0u64;
    for d in 0..counts.len() {
        idx = idx * counts[d] + offset[d] / chunk[d];
    }
    idx
}

/// Writes a fresh index of the kind `template` names (its parameters kept,
/// its address ignored) over `entries`; returns the index as the layout
/// message names it. A v1 B-tree is written fresh too (no in-place root).
pub(crate) fn build_index(
    tx: &mut Tx<'_>,
    template: &ChunkIndexKind,
    entries: &[ChunkEntry],
    g: &IndexShape<'_>,
) -> Result<ChunkIndexKind> {
    use crate::format::chunk_index::{extensible_array, fixed_array, IndexEntry};
    let rank = g.chunk_dims.len();
    let chunk_bytes = element_count(g.chunk_dims, "chunk shape")?
        .checked_mul(g.elem as u64)
        .ok_or_else(|| Error::invalid("chunk size overflows"))?;
    let size_width = g.filtered.then(|| {
        crate::format::chunk_index::filtered_size_width_for_layout(
            g.layout_version,
            chunk_bytes,
            tx.sizes,
        )
    });
    let entry = |e: &ChunkEntry| IndexEntry {
        address: e.address,
        size: u64::from(e.size),
        filter_mask: e.filter_mask,
    };
    let counts = |dims: &[u64], chunk: &[u64]| -> Vec<u64> {
        dims.iter()
            .zip(chunk)
            .map(|(&d, &c)| d.div_ceil(c))
            .collect()
    };
    Ok(match template {
        ChunkIndexKind::BtreeV1 { .. } => ChunkIndexKind::BtreeV1 {
            address: if entries.is_empty() {
                Address::UNDEFINED
            } else {
                write_chunk_tree(tx, entries, rank, g.elem as u32, g.k, None)?
            },
        },
        ChunkIndexKind::SingleChunk { .. } => {
            if entries.len() > 1 {
                return Err(Error::invalid(
                    "a single-chunk dataset with more than one chunk",
                ));
            }
            let e = entries.first();
            ChunkIndexKind::SingleChunk {
                address: e.map_or(Address::UNDEFINED, |e| e.address),
                filtered: g
                    .filtered
                    .then(|| e.map_or((0, 0), |e| (u64::from(e.size), e.filter_mask))),
            }
        }
        ChunkIndexKind::FixedArray { page_bits, .. } => {
            let grid = counts(g.max_dims, g.chunk_dims);
            let n = grid
                .iter()
                .try_fold(1u64, |a, &c| a.checked_mul(c))
                .ok_or_else(|| Error::invalid("fixed array chunk grid overflows"))?;
            tx.limits.check_alloc("fixed array", n.saturating_mul(16))?;
            let address = if entries.is_empty() {
                Address::UNDEFINED
            } else {
                let mut list = vec![IndexEntry::UNDEFINED; n as usize];
                for e in entries {
                    let i = grid_index(&e.offset, g.chunk_dims, &grid) as usize;
                    *list
                        .get_mut(i)
                        .ok_or_else(|| Error::invalid("chunk outside the fixed array grid"))? =
                        entry(e);
                }
                let es = (usize::from(tx.sizes.offset) + size_width.map_or(0, |w| w + 4)) as u8;
                let at = tx.alloc(fixed_array::encoded_len(n, es, *page_bits, tx.sizes))?;
                let bytes = fixed_array::encode(at, &list, size_width, *page_bits, tx.sizes)?;
                tx.put_at(at, bytes);
                at
            };
            ChunkIndexKind::FixedArray {
                address,
                page_bits: *page_bits,
            }
        }
        ChunkIndexKind::ExtensibleArray {
            max_bits,
            index_elements,
            min_pointers,
            min_elements,
            page_bits,
            ..
        } => {
            let params = ExtensibleArrayParams {
                max_bits: *max_bits,
                index_elements: *index_elements,
                min_pointers: *min_pointers,
                min_elements: *min_elements,
                page_bits: *page_bits,
            };
            let unlim = g
                .max_dims
                .iter()
                .position(|&m| m == u64::MAX)
                .ok_or_else(|| {
                    Error::invalid("extensible array index without an unlimited dimension")
                })?;
            let other_max: Vec<u64> = (0..rank)
                .filter(|&d| d != unlim)
                .map(|d| g.max_dims[d])
                .collect();
            let other_chunk: Vec<u64> = (0..rank)
                .filter(|&d| d != unlim)
                .map(|d| g.chunk_dims[d])
                .collect();
            let grid = counts(&other_max, &other_chunk);
            let slab: u64 = grid.iter().product();
            let index_of = |off: &[u64]| {
                let others: Vec<u64> = (0..rank).filter(|&d| d != unlim).map(|d| off[d]).collect();
                (off[unlim] / g.chunk_dims[unlim]) * slab + grid_index(&others, &other_chunk, &grid)
            };
            let n = entries
                .iter()
                .map(|e| index_of(&e.offset) + 1)
                .max()
                .unwrap_or(0);
            let address = if n == 0 {
                Address::UNDEFINED
            } else {
                tx.limits
                    .check_alloc("extensible array", n.saturating_mul(16))?;
                let mut list = vec![IndexEntry::UNDEFINED; n as usize];
                for e in entries {
                    list[index_of(&e.offset) as usize] = entry(e);
                }
                // Encode once to learn the size, then at the allocated place.
                let probe =
                    extensible_array::encode(Address(0), &list, size_width, &params, tx.sizes)?;
                let at = tx.alloc(probe.len() as u64)?;
                let bytes = extensible_array::encode(at, &list, size_width, &params, tx.sizes)?;
                tx.put_at(at, bytes);
                at
            };
            ChunkIndexKind::ExtensibleArray {
                address,
                max_bits: *max_bits,
                index_elements: *index_elements,
                min_pointers: *min_pointers,
                min_elements: *min_elements,
                page_bits: *page_bits,
            }
        }
        ChunkIndexKind::Implicit { .. } => {
            return Err(Error::unsupported(
                "writing datasets with an implicit chunk index",
            ))
        }
        ChunkIndexKind::BtreeV2 {
            node_size,
            split_percent,
            merge_percent,
            ..
        } => {
            // Records (type 10 unfiltered, 11 filtered): address, [chunk
            // size, filter mask], then the chunk's scaled offsets, sorted
            // by those (dimension 0 most significant), as libhdf5 orders.
            let mut keyed: Vec<(Vec<u64>, Vec<u8>)> = Vec::with_capacity(entries.len());
            for e in entries {
                let scaled: Vec<u64> = e
                    .offset
                    .iter()
                    .zip(g.chunk_dims)
                    .map(|(&o, &c)| o / c)
                    .collect();
                let mut r = Vec::with_capacity(32);
                crate::format::chunk_index::encode_entry(&mut r, &entry(e), size_width, tx.sizes)?;
                for &s in &scaled {
                    r.extend_from_slice(&s.to_le_bytes());
                }
                keyed.push((scaled, r));
            }
            keyed.sort();
            let records: Vec<Vec<u8>> = keyed.into_iter().map(|(_, r)| r).collect();
            let record_size = records.first().map_or_else(
                || usize::from(tx.sizes.offset) + size_width.map_or(0, |w| w + 4) + 8 * rank,
                Vec::len,
            );
            let sizes = tx.sizes;
            let address = crate::format::btree_v2::encode::build(
                tx,
                sizes,
                if g.filtered { 11 } else { 10 },
                u16::try_from(record_size)
                    .map_err(|_| Error::invalid("v2 B-tree chunk record too large"))?,
                *node_size,
                &records,
            )?;
            ChunkIndexKind::BtreeV2 {
                address,
                node_size: *node_size,
                split_percent: *split_percent,
                merge_percent: *merge_percent,
            }
        }
    })
}

/// The decoded bytes of the stored chunk `r` (exactly `chunk_bytes`).
pub(crate) fn load_chunk(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    ex: &Existing<'_>,
    r: &ChunkRecord,
    chunk_bytes: usize,
) -> Result<Vec<u8>> {
    let stored = view.slice(r.address, r.size, "chunk")?;
    if ex.filters.is_empty() {
        return Ok(stored
            .get(..chunk_bytes)
            .ok_or_else(|| {
                Error::format(
                    view.abs_u64(r.address),
                    "chunk shorter than the chunk shape",
                )
            })?
            .to_vec());
    }
    filters::decode_chunk_at(
        view.abs_u64(r.address),
        &ex.filters,
        r.filter_mask,
        stored,
        chunk_bytes,
        ex.elem,
        &tx.limits,
    )
}

/// A stored chunk kept unchanged in a rebuilt B-tree.
pub(crate) fn kept(view: &FileView<'_>, r: ChunkRecord) -> Result<ChunkEntry> {
    Ok(ChunkEntry {
        size: u32::try_from(r.size)
            .map_err(|_| Error::format(view.abs_u64(r.address), "chunk larger than 4 GiB"))?,
        offset: r.offset,
        address: r.address,
        filter_mask: r.filter_mask,
    })
}

/// Every stored chunk of a chunked dataset, whatever its index.
pub(crate) fn stored_chunks(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    ex: &Existing<'_>,
) -> Result<Vec<ChunkRecord>> {
    let Layout::Chunked {
        chunk_dims,
        element_size,
        index,
        ..
    } = &ex.layout
    else {
        return Err(Error::invalid("not a chunked dataset"));
    };
    let rank = ex.space.dims.len();
    if let ChunkIndexKind::BtreeV1 { address } = index {
        if address.is_undefined() {
            return Ok(Vec::new());
        }
        return btree_v1::chunk_records(view, *address, rank, &tx.limits);
    }
    let max = ex
        .space
        .max_dims
        .clone()
        .unwrap_or_else(|| ex.space.dims.clone());
    let geom = crate::format::chunk_index::ChunkGeometry {
        dims: &ex.space.dims,
        max_dims: &max,
        chunk_dims,
        element_size: *element_size,
        filtered: !ex.filters.is_empty(),
    };
    crate::format::chunk_index::records(view, index, &geom, &tx.limits)
}

/// Publishes the chunk set `keep` (sorted) of a chunked dataset: a v1
/// B-tree with a root is rebuilt and its root rewritten in place (`None`
/// returned); any other index is written fresh and the new layout message
/// that names it is returned, for the caller to publish.
pub(crate) fn publish_chunks(
    tx: &mut Tx<'_>,
    ex: &Existing<'_>,
    keep: Vec<ChunkEntry>,
    k: u16,
) -> Result<Option<NewMessage<'static>>> {
    let Layout::Chunked {
        chunk_dims,
        index,
        flags,
        ..
    } = &ex.layout
    else {
        return Err(Error::invalid("not a chunked dataset"));
    };
    let rank = chunk_dims.len();
    if let ChunkIndexKind::BtreeV1 { address } = index {
        // Inside a transaction the root is shared with the published file:
        // the tree is written whole into fresh space instead, and the new
        // layout message names its root.
        if !address.is_undefined() && !keep.is_empty() && !tx.shadow {
            write_chunk_tree(tx, &keep, rank, ex.elem as u32, k, Some(*address))?;
            return Ok(None);
        }
    }
    let max = ex
        .space
        .max_dims
        .clone()
        .unwrap_or_else(|| ex.space.dims.clone());
    let new_index = build_index(
        tx,
        index,
        &keep,
        &IndexShape {
            elem: ex.elem,
            chunk_dims,
            max_dims: &max,
            filtered: !ex.filters.is_empty(),
            layout_version: ex.layout_version,
            k,
        },
    )?;
    let layout = Layout::Chunked {
        chunk_dims: chunk_dims.clone(),
        element_size: ex.elem as u32,
        index: new_index,
        flags: *flags,
    };
    Ok(Some(NewMessage {
        kind: kind::LAYOUT,
        flags: 0,
        data: Cow::Owned(layout.encode(ex.layout_version.max(3), tx.sizes)?),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_grid_covering() {
        let c = chunks_covering(&[3], &[6], &[4]);
        assert_eq!(c, vec![vec![0], vec![4], vec![8]]);
        let c = chunks_covering(&[0, 5], &[2, 2], &[2, 4]);
        assert_eq!(c, vec![vec![0, 4]]);
        assert!(chunks_covering(&[0], &[0], &[4]).is_empty());
    }
}
