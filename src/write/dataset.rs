//! Creating datasets and changing their contents and extent.

use std::borrow::Cow;

use super::chunks::{build_index, latest_index_kind, write_chunks, IndexShape};
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::filters::{self, FilterSpec};
use crate::format::chunk_index::ChunkIndexKind;
use crate::format::message::dataspace::{Dataspace, DataspaceKind};
use crate::format::message::datatype::Datatype;
use crate::format::message::fill_value::FillValue;
use crate::format::message::filter_pipeline;
use crate::format::message::layout::Layout;
use crate::format::object_header::{encode_v1, kind, NewMessage};
use crate::format::Address;
use crate::read::hyperslab::element_count;

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
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let x = f.create_dataset("x", &[2], &[1i64, 2], &DatasetOptions::growable())?;
    /// x.append(&[3i64])?;
    /// let snap = f.snapshot()?;
    /// assert_eq!(snap.dataset("/x")?.maxshape(), Some(vec![None]));   // maxshape=(None,)
    /// assert_eq!(x.read::<i64>()?, vec![1, 2, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn growable() -> Self {
        DatasetOptions {
            maxshape: Some(Vec::new()),
            ..Default::default()
        }
    }

    /// Deflate at `level`.
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.create_dataset("x", &[1000], &vec![0u32; 1000], &DatasetOptions::default().gzip(4))?;
    /// let snap = f.snapshot()?;
    /// let x = snap.dataset("/x")?;
    /// assert_eq!((x.filters()[0].name.as_str(), &x.filters()[0].cd_values[..]), ("deflate", &[4][..]));
    /// assert_eq!(x.read::<u32>()?, vec![0; 1000]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn gzip(mut self, level: u32) -> Self {
        self.compression = Some(level.min(9));
        self
    }

    /// Shuffle before compression.
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let opts = DatasetOptions::default().shuffle().gzip(4);
    /// f.create_dataset("x", &[4], &[1.0f64, 2.0, 3.0, 4.0], &opts)?;
    /// let snap = f.snapshot()?;
    /// let ids: Vec<u16> = snap.dataset("/x")?.filters().iter().map(|f| f.id).collect();
    /// assert_eq!(ids, [2, 1]);                             // shuffle, then deflate
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn shuffle(mut self) -> Self {
        self.shuffle = true;
        self
    }

    /// Explicit chunk shape.
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.create_dataset("Y", &[4, 3], &[0i64; 12], &DatasetOptions::growable().chunks(&[2, 3]))?;
    /// let snap = f.snapshot()?;
    /// assert_eq!(snap.dataset("/Y")?.chunks(), Some(&[2, 3][..]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
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
        let entries = write_chunks(tx, &chunk, shape, raw, elem, &filters, fill.as_deref())?;
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
    let dt_version = if latest
        && matches!(
            datatype,
            Datatype::Enum { .. } | Datatype::Compound { .. } | Datatype::Array { .. }
        ) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_guess_is_bounded() {
        let c = guess_chunks(&[10_000_000], 8);
        let bytes = c[0] * 8;
        assert!((8 * 1024..=1024 * 1024).contains(&bytes), "{c:?}");
        assert_eq!(guess_chunks(&[3], 8), vec![3]);
    }
}
