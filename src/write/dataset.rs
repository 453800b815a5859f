//! Creating datasets and changing their contents and extent.

use std::borrow::Cow;

use super::btree::{write_chunk_tree, ChunkEntry};
use super::header;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::filters::{self, FilterSpec};
use crate::format::btree_v1;
use crate::format::chunk_index::extensible_array::ExtensibleArrayParams;
use crate::format::chunk_index::{ChunkIndexKind, ChunkRecord};
use crate::format::message::dataspace::{Dataspace, DataspaceKind};
use crate::format::message::datatype::Datatype;
use crate::format::message::fill_value::FillValue;
use crate::format::message::filter_pipeline;
use crate::format::message::layout::Layout;
use crate::format::object_header::{encode_v1, kind, NewMessage, ObjectHeader, Slot};
use crate::format::{Address, FileView};
use crate::read::hyperslab::{copy_intersection, element_count, intersect, Block};

/// How a new dataset is stored.
///
/// The default is what h5py does for `create_dataset(name, data=...)`:
/// contiguous, no filters, fixed shape. Setting `maxshape` with an
/// unlimited (`None`) dimension, a compression or a chunk shape makes it
/// chunked (v1 B-tree index, growable in place).
///
/// ```
/// let opts = h5sparse::write::DatasetOptions::growable().gzip(4).shuffle();
/// assert_eq!(opts.compression, Some(4));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetOptions {
    /// Chunk shape; chosen automatically for chunked datasets when `None`.
    pub chunks: Option<Vec<u64>>,
    /// Maximum shape, `None` entries unlimited; fixed at the shape when `None`.
    pub maxshape: Option<Vec<Option<u64>>>,
    /// Deflate (gzip) level 0..=9.
    pub compression: Option<u32>,
    /// Byte-shuffle before compressing.
    pub shuffle: bool,
    /// Fletcher-32 checksum per chunk.
    pub fletcher32: bool,
    /// Fill value bytes for one element, in the stored byte order.
    pub fill_value: Option<Vec<u8>>,
}

impl DatasetOptions {
    /// Chunked with every dimension unlimited (`maxshape=(None, ...)`).
    pub fn growable() -> Self {
        DatasetOptions {
            maxshape: Some(Vec::new()),
            ..Default::default()
        }
    }

    /// Deflate at `level`.
    pub fn gzip(mut self, level: u32) -> Self {
        self.compression = Some(level.min(9));
        self
    }

    /// Shuffle before compression.
    pub fn shuffle(mut self) -> Self {
        self.shuffle = true;
        self
    }

    /// Explicit chunk shape.
    pub fn chunks(mut self, chunks: &[u64]) -> Self {
        self.chunks = Some(chunks.to_vec());
        self
    }

    pub(crate) fn filters(&self, element_size: usize) -> Vec<FilterSpec> {
        let mut out = Vec::new();
        if self.shuffle {
            out.push(FilterSpec {
                id: filters::FILTER_SHUFFLE,
                name: None,
                flags: 1,
                cd_values: vec![element_size as u32],
            });
        }
        if let Some(level) = self.compression {
            out.push(FilterSpec {
                id: filters::FILTER_DEFLATE,
                name: None,
                flags: 1,
                cd_values: vec![level],
            });
        }
        if self.fletcher32 {
            out.push(FilterSpec {
                id: filters::FILTER_FLETCHER32,
                name: None,
                flags: 0,
                cd_values: Vec::new(),
            });
        }
        out
    }

    fn is_chunked(&self, rank: usize) -> bool {
        rank > 0
            && (self.chunks.is_some()
                || self.maxshape.is_some()
                || self.compression.is_some()
                || self.shuffle
                || self.fletcher32)
    }
}

/// h5py's chunk-shape guess: about 16 KiB to 1 MiB per chunk, growing with
/// the dataset, halving dimensions round-robin.
pub(crate) fn guess_chunks(shape: &[u64], element_size: usize) -> Vec<u64> {
    const BASE: f64 = 16.0 * 1024.0;
    const MIN: f64 = 8.0 * 1024.0;
    const MAX: f64 = 1024.0 * 1024.0;
    let mut chunks: Vec<f64> = shape
        .iter()
        .map(|&d| if d == 0 { 1024.0 } else { d as f64 })
        .collect();
    let total: f64 = chunks.iter().product::<f64>() * element_size as f64;
    let target = (BASE * 2f64.powf((total / (1024.0 * 1024.0)).log10())).clamp(MIN, MAX);
    let mut i = 0;
    loop {
        let bytes: f64 = chunks.iter().product::<f64>() * element_size as f64;
        if bytes < target
            || (bytes - target).abs() / target < 0.5
            || bytes < MAX && chunks.iter().all(|&c| c <= 1.0)
        {
            break;
        }
        if chunks.iter().all(|&c| c <= 1.0) {
            break;
        }
        let d = i % chunks.len();
        chunks[d] = (chunks[d] / 2.0).ceil();
        i += 1;
    }
    chunks.iter().map(|&c| c.max(1.0) as u64).collect()
}

/// Chunk-grid coordinates (in elements) of every chunk that intersects
/// `sel` (start/count) for chunk shape `chunk`.
fn chunks_covering(start: &[u64], count: &[u64], chunk: &[u64]) -> Vec<Vec<u64>> {
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
fn fill_with(buf: &mut [u8], fill: &[u8]) {
    if !fill.is_empty() && fill.iter().any(|&b| b != 0) {
        for e in buf.chunks_exact_mut(fill.len()) {
            e.copy_from_slice(fill);
        }
    }
}

/// Encodes chunk buffers (in parallel), stages them in fresh space and adds
/// their entries to `entries`, which ends up sorted by offset.
fn store_chunks(
    tx: &mut Tx<'_>,
    bufs: Vec<(Vec<u64>, Vec<u8>)>,
    filters: &[FilterSpec],
    elem: usize,
    entries: &mut Vec<ChunkEntry>,
) -> Result<()> {
    for (offset, bytes, mask) in encode_chunks(bufs, filters, elem)? {
        let size = u32::try_from(bytes.len())
            .map_err(|_| Error::invalid("a chunk may not exceed 4 GiB"))?;
        let address = tx.put(bytes)?;
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

/// A chunk after the filter pipeline: offset, stored bytes, filter mask.
type EncodedChunk = (Vec<u64>, Vec<u8>, u32);

/// Encodes chunk buffers through the filter pipeline, in parallel.
fn encode_chunks(
    bufs: Vec<(Vec<u64>, Vec<u8>)>,
    filters: &[FilterSpec],
    elem: usize,
) -> Result<Vec<EncodedChunk>> {
    if filters.is_empty() {
        return Ok(bufs.into_iter().map(|(o, b)| (o, b, 0)).collect());
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(bufs.len().max(1));
    if workers <= 1 || bufs.len() < 2 {
        return bufs
            .into_iter()
            .map(|(o, b)| {
                let e = filters::encode_chunk_masked(filters, &b, elem)?;
                Ok((o, e.bytes, e.filter_mask))
            })
            .collect();
    }
    let per = bufs.len().div_ceil(workers);
    let mut slots: Vec<Option<Result<Vec<EncodedChunk>>>> = Vec::new();
    let groups: Vec<Vec<(Vec<u64>, Vec<u8>)>> = {
        let mut it = bufs.into_iter();
        let mut g = Vec::new();
        loop {
            let part: Vec<_> = it.by_ref().take(per).collect();
            if part.is_empty() {
                break;
            }
            g.push(part);
        }
        g
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|part| {
                s.spawn(move || {
                    part.into_iter()
                        .map(|(o, b)| {
                            let e = filters::encode_chunk_masked(filters, &b, elem)?;
                            Ok((o, e.bytes, e.filter_mask))
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        for h in handles {
            slots.push(Some(h.join().unwrap_or_else(|_| {
                Err(Error::invalid("chunk encoder thread panicked"))
            })));
        }
    });
    let mut out = Vec::new();
    for s in slots.into_iter().flatten() {
        out.extend(s?);
    }
    Ok(out)
}

/// Everything the writer needs to know about an existing dataset.
pub(crate) struct Existing<'a> {
    pub space: Dataspace,
    pub space_slot: Slot,
    pub space_version: u8,
    pub layout: Layout<'a>,
    pub layout_slot: Slot,
    pub layout_version: u8,
    pub elem: usize,
    pub filters: Vec<FilterSpec>,
    pub fill: Vec<u8>,
}

impl<'a> Existing<'a> {
    pub(crate) fn read(view: &FileView<'a>, tx: &Tx<'_>, addr: Address) -> Result<Existing<'a>> {
        let header = ObjectHeader::parse(view, addr, &tx.limits)?;
        let one = |k: u16, what: &str| -> Result<(Slot, NewMessage<'a>)> {
            header::slots_of(view, &header, k)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "object at {:#x} has no {what} message: not a dataset",
                        addr.0
                    ))
                })
        };
        let (space_slot, space_msg) = one(kind::DATASPACE, "dataspace")?;
        let data_at = space_slot.header_at + header::message_header_len(&header);
        let space = Dataspace::parse(&space_msg.data, data_at, view.sizes)?;
        let space_version = space_msg.data.first().copied().unwrap_or(1);
        let (_, dt_msg) = one(kind::DATATYPE, "datatype")?;
        if dt_msg.flags & crate::format::object_header::MESSAGE_FLAG_SHARED != 0 {
            return Err(Error::unsupported(
                "writing to a dataset with a committed (shared) datatype",
            ));
        }
        let (dt, _) = Datatype::parse(&dt_msg.data, data_at, view.sizes)?;
        let elem = dt.size() as usize;
        let (layout_slot, layout_msg) = one(kind::LAYOUT, "layout")?;
        let layout_data: &'a [u8] = match layout_msg.data {
            Cow::Borrowed(b) => b,
            Cow::Owned(_) => {
                return Err(Error::invalid("layout message not borrowed from the file"))
            }
        };
        let layout_version = Layout::version_of(layout_data).unwrap_or(3);
        let layout = Layout::parse(
            layout_data,
            layout_slot.header_at + header::message_header_len(&header),
            view.sizes,
        )?;
        let filters = match header.first(kind::FILTER_PIPELINE) {
            Some(m) => filter_pipeline::parse(m.data, m.at)?,
            None => Vec::new(),
        };
        let fill = match header.first(kind::FILL_VALUE) {
            Some(m) => FillValue::parse(m.data, m.at)?.value,
            None => match header.first(kind::FILL_VALUE_OLD) {
                Some(m) => FillValue::parse_old(m.data, m.at)?.value,
                None => None,
            },
        };
        let fill = match fill {
            Some(v) if v.len() == elem => v,
            _ => vec![0; elem],
        };
        Ok(Existing {
            space,
            space_slot,
            space_version,
            layout,
            layout_slot,
            layout_version,
            elem,
            filters,
            fill,
        })
    }
}

/// Creates a dataset; returns its object header address.
///
/// `raw` holds every element in the stored byte order (C order).
pub(crate) fn create<'d>(
    tx: &mut Tx<'d>,
    datatype: &Datatype,
    shape: &[u64],
    raw: Cow<'d, [u8]>,
    opts: &DatasetOptions,
    indexed_storage_k: u16,
) -> Result<Address> {
    let elem = datatype.size() as usize;
    let rank = shape.len();
    let total = element_count(shape, "dataset shape")?;
    if raw.len() as u64 != total.saturating_mul(elem as u64) {
        return Err(Error::invalid(format!(
            "expected {} bytes of data for shape {shape:?}, got {}",
            total * elem as u64,
            raw.len()
        )));
    }
    let maxshape: Option<Vec<u64>> = match &opts.maxshape {
        None => None,
        Some(m) if m.is_empty() => Some(vec![u64::MAX; rank]),
        Some(m) if m.len() == rank => Some(m.iter().map(|d| d.unwrap_or(u64::MAX)).collect()),
        Some(m) => {
            return Err(Error::invalid(format!(
                "maxshape {m:?} does not match rank {rank}"
            )))
        }
    };
    if let Some(m) = &maxshape {
        if m.iter().zip(shape).any(|(&mx, &d)| mx < d) {
            return Err(Error::invalid("maxshape is smaller than the shape"));
        }
    }
    let space = Dataspace {
        kind: if rank == 0 {
            DataspaceKind::Scalar
        } else {
            DataspaceKind::Simple
        },
        dims: shape.to_vec(),
        max_dims: maxshape.clone(),
    };
    let chunked = opts.is_chunked(rank);
    let filters = if chunked {
        opts.filters(elem)
    } else {
        Vec::new()
    };
    let fill = opts.fill_value.clone().filter(|f| f.len() == elem);
    let layout = if chunked {
        let chunk = match &opts.chunks {
            Some(c) if c.len() == rank && !c.contains(&0) => c.clone(),
            Some(c) => {
                return Err(Error::invalid(format!(
                    "chunk shape {c:?} does not fit rank {rank}"
                )))
            }
            None => guess_chunks(shape, elem),
        };
        if let Some(m) = &maxshape {
            if m.iter()
                .zip(&chunk)
                .any(|(&mx, &c)| mx != u64::MAX && c > mx)
            {
                return Err(Error::invalid(
                    "a chunk dimension exceeds the maximum shape",
                ));
            }
        }
        let entries = write_chunks(tx, &chunk, shape, &raw, elem, &filters, fill.as_deref())?;
        let max = maxshape.clone().unwrap_or_else(|| shape.to_vec());
        let template = if tx.latest {
            latest_index_kind(shape, &max, &chunk)
        } else {
            ChunkIndexKind::BtreeV1 {
                address: Address::UNDEFINED,
            }
        };
        let index = build_index(
            tx,
            &template,
            &entries,
            &IndexShape {
                elem,
                chunk_dims: &chunk,
                max_dims: &max,
                filtered: !filters.is_empty(),
                layout_version: 4,
                k: indexed_storage_k,
            },
        )?;
        Layout::Chunked {
            chunk_dims: chunk,
            element_size: elem as u32,
            index,
            flags: 0,
        }
    } else if raw.is_empty() {
        Layout::Contiguous {
            address: Address::UNDEFINED,
            size: 0,
        }
    } else {
        let size = raw.len() as u64;
        let address = tx.put_cow(raw)?;
        Layout::Contiguous { address, size }
    };
    let fill_msg = FillValue {
        defined: true,
        value: fill,
        alloc_time: if chunked { 3 } else { 2 },
        write_time: 2,
    };
    // libver earliest: dataspace v1, fill value v2, layout v3, pipeline v1,
    // v1 header. v110: dataspace v2, fill value v3, layout v4 for chunk
    // indexes other than the v1 B-tree, pipeline v2, v2 header.
    let latest = tx.latest;
    let layout_version = match &layout {
        Layout::Chunked {
            index: ChunkIndexKind::BtreeV1 { .. },
            ..
        } => 3,
        Layout::Chunked { .. } => 4,
        _ => 3,
    };
    let dt_version = if latest && matches!(datatype, Datatype::Enum { .. }) {
        3
    } else {
        1
    };
    let mut messages = vec![
        NewMessage {
            kind: kind::DATASPACE,
            flags: 0,
            data: Cow::Owned(space.encode(if latest { 2 } else { 1 })?),
        },
        NewMessage {
            kind: kind::DATATYPE,
            flags: 1,
            data: Cow::Owned(datatype.encode(dt_version)?),
        },
        NewMessage {
            kind: kind::FILL_VALUE,
            flags: 1,
            data: Cow::Owned(fill_msg.encode(if latest { 3 } else { 2 })?),
        },
        NewMessage {
            kind: kind::LAYOUT,
            flags: 0,
            data: Cow::Owned(layout.encode(layout_version, tx.sizes)?),
        },
    ];
    if !filters.is_empty() {
        messages.push(NewMessage {
            kind: kind::FILTER_PIPELINE,
            flags: 1,
            data: Cow::Owned(filter_pipeline::encode(
                &filters,
                if latest { 2 } else { 1 },
            )?),
        });
    }
    let oh = if latest {
        crate::format::object_header::encode_v2(&messages, 0, super::HEADER_SLACK)?
    } else {
        encode_v1(&messages, super::HEADER_SLACK)?
    };
    tx.put(oh)
}

/// Creates a dataset with a null dataspace (no elements; h5py's
/// `h5py.Empty`): contiguous layout with no storage. Returns its object
/// header address.
pub(crate) fn create_null(tx: &mut Tx<'_>, datatype: &Datatype) -> Result<Address> {
    let space = Dataspace {
        kind: DataspaceKind::Null,
        dims: Vec::new(),
        max_dims: None,
    };
    let layout = Layout::Contiguous {
        address: Address::UNDEFINED,
        size: 0,
    };
    let fill_msg = FillValue {
        defined: true,
        value: None,
        alloc_time: 2,
        write_time: 2,
    };
    let messages = [
        NewMessage {
            kind: kind::DATASPACE,
            flags: 0,
            data: Cow::Owned(space.encode(2)?), // version 2 is the first with null
        },
        NewMessage {
            kind: kind::DATATYPE,
            flags: 1,
            data: Cow::Owned(datatype.encode(1)?),
        },
        NewMessage {
            kind: kind::FILL_VALUE,
            flags: 1,
            data: Cow::Owned(fill_msg.encode(2)?),
        },
        NewMessage {
            kind: kind::LAYOUT,
            flags: 0,
            data: Cow::Owned(layout.encode(3, tx.sizes)?),
        },
    ];
    let oh = encode_v1(&messages, super::HEADER_SLACK)?;
    tx.put(oh)
}

/// Writes the chunks of `sel` (start/count within `dims`) taken from `src`
/// (the selection's bytes), merging with `existing` chunks, and builds the
/// chunk B-tree. Returns the root address.
#[allow(clippy::too_many_arguments)]
fn write_chunks(
    tx: &mut Tx<'_>,
    chunk: &[u64],
    shape: &[u64],
    src: &[u8],
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
        let mut buf = vec![0u8; chunk_bytes as usize];
        fill_with(&mut buf, &fill);
        copy_intersection(
            src,
            sel,
            &mut buf,
            Block {
                offset: &off,
                dims: chunk,
            },
            elem,
        );
        bufs.push((off, buf));
    }
    let mut entries = Vec::new();
    store_chunks(tx, bufs, filters, elem, &mut entries)?;
    Ok(entries)
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
/// extensible array for one unlimited dimension, and for more a v1 B-tree
/// (layout v3, which libhdf5 accepts in any file) instead of a v2 B-tree.
fn latest_index_kind(shape: &[u64], max: &[u64], chunk: &[u64]) -> ChunkIndexKind {
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
        _ => ChunkIndexKind::BtreeV1 { address: u },
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
        if g.layout_version >= 5 {
            usize::from(tx.sizes.length)
        } else {
            crate::format::chunk_index::filtered_size_width(chunk_bytes)
        }
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
        ChunkIndexKind::BtreeV2 { .. } => {
            return Err(Error::unsupported(
                "writing datasets with a v2 B-tree chunk index (two or more unlimited dimensions \
                 in a libver='latest' file)",
            ))
        }
    })
}

/// The decoded bytes of the stored chunk `r` (exactly `chunk_bytes`).
fn load_chunk(
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
fn kept(view: &FileView<'_>, r: ChunkRecord) -> Result<ChunkEntry> {
    Ok(ChunkEntry {
        size: u32::try_from(r.size)
            .map_err(|_| Error::format(view.abs_u64(r.address), "chunk larger than 4 GiB"))?,
        offset: r.offset,
        address: r.address,
        filter_mask: r.filter_mask,
    })
}

/// Writes `src` (the bytes of selection `start`/`count`, stored byte order)
/// into the dataset at `addr`, growing its extent to `new_dims` when given
/// (append). Chunks are replaced copy-on-write and published with one write
/// of the B-tree root; the dataspace is updated last.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_selection(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    addr: Address,
    start: &[u64],
    count: &[u64],
    src: &[u8],
    new_dims: Option<Vec<u64>>,
    k: u16,
) -> Result<()> {
    let ex = Existing::read(view, tx, addr)?;
    let rank = ex.space.dims.len();
    let dims = new_dims.clone().unwrap_or_else(|| ex.space.dims.clone());
    if start.len() != rank || count.len() != rank {
        return Err(Error::invalid(format!(
            "selection rank does not match dataset rank {rank}"
        )));
    }
    for d in 0..rank {
        if start[d].checked_add(count[d]).is_none_or(|e| e > dims[d]) {
            return Err(Error::invalid(format!(
                "selection {}+{} exceeds dimension {d} of size {}",
                start[d], count[d], dims[d]
            )));
        }
    }
    if let Some(nd) = &new_dims {
        let max = ex
            .space
            .max_dims
            .clone()
            .unwrap_or_else(|| ex.space.dims.clone());
        for d in 0..rank {
            if nd[d] > max[d] {
                return Err(Error::invalid(format!(
                    "cannot grow dimension {d} to {}: its maximum is {} (create the dataset with \
                     maxshape None for that dimension to make it growable)",
                    nd[d], max[d]
                )));
            }
        }
    }
    let n = element_count(count, "selection")?;
    if src.len() as u64 != n.saturating_mul(ex.elem as u64) {
        return Err(Error::invalid(format!(
            "expected {} bytes for the selection, got {}",
            n * ex.elem as u64,
            src.len()
        )));
    }
    let sel = Block {
        offset: start,
        dims: count,
    };
    let mut layout_msg: Option<NewMessage<'static>> = None;
    match &ex.layout {
        Layout::Chunked { chunk_dims, .. } => {
            let records = stored_chunks(view, tx, &ex)?;
            let chunk_bytes = element_count(chunk_dims, "chunk shape")?
                .checked_mul(ex.elem as u64)
                .ok_or_else(|| Error::invalid("chunk size overflows"))?
                as usize;
            let mut keep = Vec::new();
            let mut bufs = Vec::new();
            let touched = chunks_covering(start, count, chunk_dims);
            for r in records {
                let block = Block {
                    offset: &r.offset,
                    dims: chunk_dims,
                };
                if intersect(block, sel).is_some() {
                    // Rewritten below from its current contents.
                    let mut buf = load_chunk(view, tx, &ex, &r, chunk_bytes)?;
                    copy_intersection(src, sel, &mut buf, block, ex.elem);
                    bufs.push((r.offset.clone(), buf));
                } else {
                    keep.push(kept(view, r)?);
                }
            }
            for off in touched {
                if bufs.iter().any(|(o, _)| *o == off) {
                    continue;
                }
                let mut buf = vec![0u8; chunk_bytes];
                fill_with(&mut buf, &ex.fill);
                copy_intersection(
                    src,
                    sel,
                    &mut buf,
                    Block {
                        offset: &off,
                        dims: chunk_dims,
                    },
                    ex.elem,
                );
                bufs.push((off, buf));
            }
            store_chunks(tx, bufs, &ex.filters, ex.elem, &mut keep)?;
            layout_msg = publish_chunks(tx, &ex, keep, k)?;
        }
        Layout::Contiguous { address, .. } => {
            if new_dims.is_some() {
                return Err(Error::invalid(
                    "a contiguous dataset cannot grow (as in libhdf5); create it with maxshape to make it chunked",
                ));
            }
            let total = element_count(&dims, "dataset shape")?;
            let zeros = vec![0u64; rank];
            let whole = Block {
                offset: &zeros,
                dims: &dims,
            };
            if address.is_undefined() {
                // Never written: allocate it whole, then point the layout at it.
                let mut buf = vec![0u8; (total as usize) * ex.elem];
                fill_with(&mut buf, &ex.fill);
                copy_intersection(src, sel, &mut buf, whole, ex.elem);
                let size = buf.len() as u64;
                let new_addr = tx.put(buf)?;
                let layout = Layout::Contiguous {
                    address: new_addr,
                    size,
                };
                layout_msg = Some(NewMessage {
                    kind: kind::LAYOUT,
                    flags: 0,
                    data: Cow::Owned(layout.encode(3, tx.sizes)?),
                });
            } else {
                // In place, one write per contiguous run of the selection.
                for (offset, bytes) in runs(src, sel, whole, ex.elem) {
                    tx.publish(Address(address.0 + offset), bytes);
                }
            }
        }
        Layout::Compact { data } => {
            let mut buf = data.to_vec();
            let zeros = vec![0u64; rank];
            copy_intersection(
                src,
                sel,
                &mut buf,
                Block {
                    offset: &zeros,
                    dims: &dims,
                },
                ex.elem,
            );
            let layout = Layout::Compact { data: &buf };
            layout_msg = Some(NewMessage {
                kind: kind::LAYOUT,
                flags: 0,
                data: Cow::Owned(layout.encode(ex.layout_version.max(3), tx.sizes)?),
            });
        }
        Layout::Virtual => return Err(Error::unsupported("writing virtual datasets")),
    }
    // The layout first (it publishes the new chunks), the extent second: a
    // crash between them leaves the old extent over the new index, which
    // shows the old content.
    let mut edits = Vec::new();
    if let Some(msg) = layout_msg {
        edits.push(header::Edit::Replace(ex.layout_slot, msg));
    }
    if let Some(nd) = new_dims {
        let space = Dataspace {
            kind: ex.space.kind,
            dims: nd,
            max_dims: ex.space.max_dims.clone(),
        };
        let msg = NewMessage {
            kind: kind::DATASPACE,
            flags: 0,
            data: Cow::Owned(space.encode(ex.space_version)?),
        };
        edits.push(header::Edit::Replace(ex.space_slot, msg));
    }
    if !edits.is_empty() {
        header::edit(view, tx, addr, edits)?;
    }
    Ok(())
}

/// Every stored chunk of a chunked dataset, whatever its index.
fn stored_chunks(view: &FileView<'_>, tx: &Tx<'_>, ex: &Existing<'_>) -> Result<Vec<ChunkRecord>> {
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
fn publish_chunks(
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
        if !address.is_undefined() && !keep.is_empty() {
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

/// Byte runs (offset in the dataset's storage, bytes) of selection `sel`
/// within `whole`, coalescing along the last dimension.
fn runs(src: &[u8], sel: Block<'_>, whole: Block<'_>, elem: usize) -> Vec<(u64, Vec<u8>)> {
    let rank = whole.dims.len();
    if rank == 0 {
        return vec![(0, src.to_vec())];
    }
    let row = sel.dims[rank - 1] as usize * elem;
    if row == 0 {
        return Vec::new();
    }
    let mut strides = vec![1u64; rank];
    for i in (0..rank - 1).rev() {
        strides[i] = strides[i + 1] * whole.dims[i + 1];
    }
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    for (i, chunk) in src.chunks(row).enumerate() {
        // Coordinates of this row's first element.
        let mut rem = i as u64;
        let mut off = 0u64;
        for d in (0..rank - 1).rev() {
            let c = rem % sel.dims[d];
            rem /= sel.dims[d];
            off += (sel.offset[d] + c) * strides[d];
        }
        off += sel.offset[rank - 1];
        let byte_off = off * elem as u64;
        match out.last_mut() {
            Some((o, b)) if *o + b.len() as u64 == byte_off => b.extend_from_slice(chunk),
            _ => out.push((byte_off, chunk.to_vec())),
        }
    }
    out
}

/// Changes the extent of a chunked dataset. Elements that a grow exposes
/// inside chunks already stored are reset to the fill value (copy-on-write),
/// so they read as fill, not as whatever an earlier shrink left there.
pub(crate) fn resize(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    addr: Address,
    new_dims: &[u64],
    k: u16,
) -> Result<()> {
    let ex = Existing::read(view, tx, addr)?;
    let rank = ex.space.dims.len();
    if new_dims.len() != rank {
        return Err(Error::invalid(format!(
            "new shape has rank {}, the dataset {rank}",
            new_dims.len()
        )));
    }
    let Layout::Chunked { chunk_dims, .. } = &ex.layout else {
        return Err(Error::invalid(
            "only chunked datasets can change shape (as in libhdf5); create it with maxshape",
        ));
    };
    let max = ex
        .space
        .max_dims
        .clone()
        .unwrap_or_else(|| ex.space.dims.clone());
    for d in 0..rank {
        if new_dims[d] > max[d] {
            return Err(Error::invalid(format!(
                "cannot resize dimension {d} to {}: its maximum is {}",
                new_dims[d], max[d]
            )));
        }
    }
    let old = &ex.space.dims;
    let grows = (0..rank).any(|d| new_dims[d] > old[d]);
    let mut edits = Vec::new();
    if grows {
        let chunk_bytes = element_count(chunk_dims, "chunk shape")? as usize * ex.elem;
        let mut entries = Vec::new();
        let mut scrubbed = Vec::new();
        for r in stored_chunks(view, tx, &ex)? {
            let straddles = (0..rank)
                .any(|d| r.offset[d] < new_dims[d] && r.offset[d] + chunk_dims[d] > old[d]);
            let inside_old = (0..rank).all(|d| r.offset[d] < old[d]);
            if straddles && inside_old {
                let mut buf = load_chunk(view, tx, &ex, &r, chunk_bytes)?;
                let mut idx = vec![0u64; rank];
                for e in buf.chunks_exact_mut(ex.elem) {
                    if (0..rank).any(|d| r.offset[d] + idx[d] >= old[d]) {
                        e.copy_from_slice(&ex.fill);
                    }
                    for d in (0..rank).rev() {
                        idx[d] += 1;
                        if idx[d] < chunk_dims[d] {
                            break;
                        }
                        idx[d] = 0;
                    }
                }
                scrubbed.push((r.offset.clone(), buf));
            } else {
                entries.push(kept(view, r)?);
            }
        }
        if !scrubbed.is_empty() {
            store_chunks(tx, scrubbed, &ex.filters, ex.elem, &mut entries)?;
            if let Some(msg) = publish_chunks(tx, &ex, entries, k)? {
                edits.push(header::Edit::Replace(ex.layout_slot, msg));
            }
        }
    }
    let space = Dataspace {
        kind: ex.space.kind,
        dims: new_dims.to_vec(),
        max_dims: ex.space.max_dims.clone(),
    };
    let msg = NewMessage {
        kind: kind::DATASPACE,
        flags: 0,
        data: Cow::Owned(space.encode(ex.space_version)?),
    };
    edits.push(header::Edit::Replace(ex.space_slot, msg));
    header::edit(view, tx, addr, edits)
}

/// Writes elements at many positions of a 1-D dataset in one operation:
/// `points` are (element index, stored-order element bytes). Touched chunks
/// are rewritten copy-on-write and published with one B-tree root write;
/// contiguous storage is patched in place, one write per run of adjacent
/// points.
pub(crate) fn write_points(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    addr: Address,
    points: &[(u64, &[u8])],
    k: u16,
) -> Result<()> {
    let ex = Existing::read(view, tx, addr)?;
    if ex.space.dims.len() != 1 {
        return Err(Error::invalid("write_points needs a 1-D dataset"));
    }
    let len = ex.space.dims[0];
    for (i, b) in points {
        if *i >= len || b.len() != ex.elem {
            return Err(Error::invalid(format!(
                "point {i} is out of bounds for length {len} or has the wrong size"
            )));
        }
    }
    match &ex.layout {
        Layout::Contiguous { address, .. } if !address.is_undefined() => {
            let mut sorted: Vec<&(u64, &[u8])> = points.iter().collect();
            sorted.sort_by_key(|p| p.0);
            let mut run: Option<(u64, Vec<u8>)> = None;
            for (i, b) in sorted {
                match &mut run {
                    Some((s, bytes)) if *s + (bytes.len() / ex.elem) as u64 == *i => {
                        bytes.extend_from_slice(b)
                    }
                    Some((s, bytes)) if *s + (bytes.len() / ex.elem) as u64 > *i => {
                        // A repeated point: the later one wins.
                        let at = (*i - *s) as usize * ex.elem;
                        bytes[at..at + ex.elem].copy_from_slice(b);
                    }
                    _ => {
                        if let Some((s, bytes)) = run.take() {
                            tx.publish(Address(address.0 + s * ex.elem as u64), bytes);
                        }
                        run = Some((*i, b.to_vec()));
                    }
                }
            }
            if let Some((s, bytes)) = run {
                tx.publish(Address(address.0 + s * ex.elem as u64), bytes);
            }
            Ok(())
        }
        Layout::Chunked {
            chunk_dims,
            index: ChunkIndexKind::BtreeV1 { address: root },
            ..
        } if !root.is_undefined() => {
            let chunk = chunk_dims[0];
            let chunk_bytes = chunk as usize * ex.elem;
            let records = btree_v1::chunk_records(view, *root, 1, &tx.limits)?;
            let mut touched: std::collections::BTreeMap<u64, Vec<(u64, &[u8])>> =
                Default::default();
            for &(i, b) in points {
                touched.entry(i / chunk * chunk).or_default().push((i, b));
            }
            let mut bufs = Vec::new();
            let mut keep = Vec::new();
            for r in records {
                match touched.remove(&r.offset[0]) {
                    Some(pts) => {
                        let mut buf = load_chunk(view, tx, &ex, &r, chunk_bytes)?;
                        for (i, b) in pts {
                            let at = (i - r.offset[0]) as usize * ex.elem;
                            buf[at..at + ex.elem].copy_from_slice(b);
                        }
                        bufs.push((r.offset.clone(), buf));
                    }
                    None => keep.push(kept(view, r)?),
                }
            }
            for (first, pts) in touched {
                let mut buf = vec![0u8; chunk_bytes];
                fill_with(&mut buf, &ex.fill);
                for (i, b) in pts {
                    let at = (i - first) as usize * ex.elem;
                    buf[at..at + ex.elem].copy_from_slice(b);
                }
                bufs.push((vec![first], buf));
            }
            store_chunks(tx, bufs, &ex.filters, ex.elem, &mut keep)?;
            write_chunk_tree(tx, &keep, 1, ex.elem as u32, k, Some(*root))?;
            Ok(())
        }
        _ => Err(Error::unsupported(
            "writing points into this dataset's layout (only contiguous and v1 B-tree chunked)",
        )),
    }
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

    #[test]
    fn runs_coalesce_whole_rows() {
        let src: Vec<u8> = (0..8).collect();
        let r = runs(
            &src,
            Block {
                offset: &[1, 0],
                dims: &[2, 4],
            },
            Block {
                offset: &[0, 0],
                dims: &[4, 4],
            },
            1,
        );
        assert_eq!(r, vec![(4, src.clone())]);
        let r = runs(
            &src[..4],
            Block {
                offset: &[0, 1],
                dims: &[2, 2],
            },
            Block {
                offset: &[0, 0],
                dims: &[4, 4],
            },
            1,
        );
        assert_eq!(r, vec![(1, vec![0, 1]), (5, vec![2, 3])]);
    }

    #[test]
    fn chunk_guess_is_bounded() {
        let c = guess_chunks(&[10_000_000], 8);
        let bytes = c[0] * 8;
        assert!((8 * 1024..=1024 * 1024).contains(&bytes), "{c:?}");
        assert_eq!(guess_chunks(&[3], 8), vec![3]);
    }
}
