//! Datasets: metadata from the object header and reads through every layout.

use std::sync::OnceLock;

mod values;

use super::decode::to_native;
use super::dtype::dtype_from;
use super::hyperslab::{copy_intersection, element_count, Block};
use super::{ByteOrder, Dataset, Dtype, File, FilterInfo, H5Type, LayoutKind};
use crate::error::{Error, Result};
use crate::filters::{self, FilterSpec};
use crate::format::chunk_index::{self, ChunkGeometry, ChunkIndexKind, ChunkRecord};
use crate::format::message::dataspace::{Dataspace, DataspaceKind};
use crate::format::message::fill_value::FillValue;
use crate::format::message::filter_pipeline;
use crate::format::message::layout::Layout;
use crate::format::object_header::{kind, ObjectHeader};
use crate::format::{btree_v1, btree_v2, Address};

/// Most dimensions a dataspace may have (libhdf5's H5S_MAX_RANK).
const MAX_RANK: usize = 32;

/// A 1-D dataset borrowed from the file: `(first element, elements)`
/// slices, in order, covering it.
pub type Pieces<'f, T> = Vec<(u64, &'f [T])>;

/// Where a dataset's elements are.
#[derive(Debug)]
pub(crate) enum Storage<'f> {
    Compact(&'f [u8]),
    Contiguous {
        address: Address,
        size: u64,
    },
    Chunked {
        chunk_dims: Vec<u64>,
        index: ChunkIndexKind,
    },
    /// A layout this crate does not read (virtual, external files), named.
    Unsupported(String),
}

/// Everything read from a dataset's object header.
#[derive(Debug)]
pub(crate) struct DatasetInfo<'f> {
    pub(crate) dtype: Dtype,
    pub(crate) kind: DataspaceKind,
    pub(crate) dims: Vec<u64>,
    pub(crate) max_dims: Option<Vec<u64>>,
    pub(crate) storage: Storage<'f>,
    pub(crate) filters: Vec<FilterSpec>,
    pub(crate) filter_info: Vec<FilterInfo>,
    /// One element of fill value; empty when it is zeros (undefined,
    /// default, or stored as zeros).
    pub(crate) fill: Vec<u8>,
    pub(crate) elem: usize,
    chunks: OnceLock<Vec<ChunkRecord>>,
}

impl<'f> DatasetInfo<'f> {
    pub(crate) fn parse(file: &'f File, hdr: &ObjectHeader<'f>) -> Result<DatasetInfo<'f>> {
        let sizes = file.view().sizes;
        let datatype = file.datatype_of(hdr)?.ok_or_else(|| {
            Error::format(
                file.view().abs_u64(hdr.address),
                "dataset has no datatype message",
            )
        })?;
        let dtype = dtype_from(&datatype);
        let elem = dtype.size();
        let space_msg = hdr.first(kind::DATASPACE).ok_or_else(|| {
            Error::format(
                file.view().abs_u64(hdr.address),
                "dataset has no dataspace message",
            )
        })?;
        let (data, at) = file.message_data(space_msg)?;
        let space = Dataspace::parse(data, at, sizes)?;
        if space.dims.len() > MAX_RANK {
            return Err(Error::format(
                at,
                format!("dataspace rank {} exceeds {MAX_RANK}", space.dims.len()),
            ));
        }
        if let Some(max) = &space.max_dims {
            if max.len() != space.dims.len() {
                return Err(Error::format(
                    at,
                    "dataspace max dims rank differs from dims rank",
                ));
            }
        }
        let filters = match hdr.first(kind::FILTER_PIPELINE) {
            Some(m) => {
                let (data, at) = file.message_data(m)?;
                filter_pipeline::parse(data, at)?
            }
            None => Vec::new(),
        };
        let filter_info = filters
            .iter()
            .map(|f| FilterInfo {
                id: f.id,
                name: filters::filter_name(f.id, f.name.as_deref()),
                cd_values: f.cd_values.clone(),
                optional: f.flags & 1 != 0,
            })
            .collect();
        let fill_value = match (hdr.first(kind::FILL_VALUE), hdr.first(kind::FILL_VALUE_OLD)) {
            (Some(m), _) => {
                let (data, at) = file.message_data(m)?;
                Some(FillValue::parse(data, at)?)
            }
            (None, Some(m)) => {
                let (data, at) = file.message_data(m)?;
                Some(FillValue::parse_old(data, at)?)
            }
            _ => None,
        };
        // Zeros are an empty vector: the element size comes from the file,
        // and a zero element must not be allocated (4 GiB for a hostile
        // datatype size).
        let fill = match fill_value.and_then(|f| f.value) {
            Some(v) if v.len() == elem && v.iter().any(|&b| b != 0) => v,
            _ => Vec::new(),
        };
        let storage = if hdr.first(kind::EXTERNAL_FILES).is_some() {
            Storage::Unsupported("external data files".to_string())
        } else {
            let m = hdr.first(kind::LAYOUT).ok_or_else(|| {
                Error::format(
                    file.view().abs_u64(hdr.address),
                    "dataset has no layout message",
                )
            })?;
            let (data, at) = file.message_data(m)?;
            match Layout::parse(data, at, sizes)? {
                Layout::Compact { data } => Storage::Compact(data),
                Layout::Contiguous { address, size } => Storage::Contiguous { address, size },
                Layout::Chunked {
                    chunk_dims,
                    element_size,
                    index,
                    ..
                } => {
                    if chunk_dims.len() != space.dims.len() {
                        return Err(Error::format(
                            at,
                            format!(
                                "chunk rank {} differs from dataspace rank {}",
                                chunk_dims.len(),
                                space.dims.len()
                            ),
                        ));
                    }
                    if chunk_dims.contains(&0) {
                        return Err(Error::format(at, "chunk dimension of 0"));
                    }
                    if element_size as usize != elem && !matches!(dtype, Dtype::Unsupported { .. })
                    {
                        return Err(Error::format(
                            at,
                            format!(
                                "layout element size {element_size} differs from datatype size {elem}"
                            ),
                        ));
                    }
                    Storage::Chunked { chunk_dims, index }
                }
                Layout::Virtual => Storage::Unsupported("virtual dataset layout".to_string()),
            }
        };
        Ok(DatasetInfo {
            dtype,
            kind: space.kind,
            dims: space.dims,
            max_dims: space.max_dims,
            storage,
            filters,
            filter_info,
            fill,
            elem,
            chunks: OnceLock::new(),
        })
    }
}

impl<'f> Dataset<'f> {
    /// Absolute path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Address of the dataset's object header (identifies the object).
    pub fn address(&self) -> Address {
        self.address
    }

    /// Element type.
    pub fn dtype(&self) -> &Dtype {
        &self.info.dtype
    }

    /// One element of fill value in the stored byte order, for exact
    /// copies; empty when the fill value is zeros.
    pub(crate) fn fill_bytes(&self) -> &[u8] {
        &self.info.fill
    }

    /// Current dimensions; `None` for a null dataspace, empty for a scalar.
    pub fn shape(&self) -> Option<&[u64]> {
        match self.info.kind {
            DataspaceKind::Null => None,
            _ => Some(&self.info.dims),
        }
    }

    /// Maximum dimensions, `None` entries unlimited; `None` for a null
    /// dataspace.
    pub fn maxshape(&self) -> Option<Vec<Option<u64>>> {
        match self.info.kind {
            DataspaceKind::Null => None,
            _ => Some(match &self.info.max_dims {
                Some(m) => m
                    .iter()
                    .map(|&d| if d == u64::MAX { None } else { Some(d) })
                    .collect(),
                None => self.info.dims.iter().map(|&d| Some(d)).collect(),
            }),
        }
    }

    /// Storage layout.
    pub fn layout(&self) -> LayoutKind {
        match &self.info.storage {
            Storage::Compact(_) => LayoutKind::Compact,
            Storage::Chunked { .. } => LayoutKind::Chunked,
            _ => LayoutKind::Contiguous,
        }
    }

    /// Chunk shape, for chunked datasets.
    pub fn chunks(&self) -> Option<&[u64]> {
        match &self.info.storage {
            Storage::Chunked { chunk_dims, .. } => Some(chunk_dims),
            _ => None,
        }
    }

    /// The chunk index type, for chunked datasets.
    pub fn chunk_index(&self) -> Option<&ChunkIndexKind> {
        match &self.info.storage {
            Storage::Chunked { index, .. } => Some(index),
            _ => None,
        }
    }

    /// The filter pipeline, in application order.
    pub fn filters(&self) -> &[FilterInfo] {
        &self.info.filter_info
    }

    /// All attributes, in name order.
    pub fn attributes(&self) -> Result<Vec<super::Attribute<'f>>> {
        self.file.read_attributes(self.address)
    }

    /// The attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Result<Option<super::Attribute<'f>>> {
        Ok(self.attributes()?.into_iter().find(|a| a.name() == name))
    }

    /// Number of elements (1 for a scalar, 0 for a null dataspace).
    pub fn len(&self) -> u64 {
        match self.info.kind {
            DataspaceKind::Null => 0,
            _ => self.info.dims.iter().product(),
        }
    }

    /// True when the dataset holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored chunk, sorted by offset (empty unless chunked).
    pub fn chunk_records(&self) -> Result<&[ChunkRecord]> {
        let Storage::Chunked { chunk_dims, index } = &self.info.storage else {
            return Ok(&[]);
        };
        if let Some(r) = self.info.chunks.get() {
            return Ok(r);
        }
        let view = self.file.view();
        let limits = &self.file.limits;
        let max_dims = self
            .info
            .max_dims
            .clone()
            .unwrap_or_else(|| self.info.dims.clone());
        let geom = ChunkGeometry {
            dims: &self.info.dims,
            max_dims: &max_dims,
            chunk_dims,
            element_size: self.info.elem as u32,
            filtered: !self.info.filters.is_empty(),
        };
        let mut records = match index {
            ChunkIndexKind::BtreeV1 { address } | ChunkIndexKind::BtreeV2 { address, .. }
                if address.is_undefined() =>
            {
                Vec::new()
            }
            ChunkIndexKind::BtreeV1 { address } => {
                btree_v1::chunk_records(&view, *address, chunk_dims.len(), limits)?
            }
            ChunkIndexKind::BtreeV2 { address, .. } => {
                btree_v2::chunk_records(&view, *address, &geom, limits)?
            }
            other => chunk_index::records(&view, other, &geom, limits)?,
        };
        let rank = chunk_dims.len();
        for r in &records {
            if r.offset.len() != rank {
                return Err(Error::format(
                    view.abs_u64(r.address),
                    format!(
                        "chunk record has {} offsets, dataset rank is {rank}",
                        r.offset.len()
                    ),
                ));
            }
        }
        records.sort_by(|a, b| a.offset.cmp(&b.offset));
        Ok(self.info.chunks.get_or_init(|| records))
    }

    /// The stored chunks whose first-dimension offset lies in `first`, for
    /// a read that needs only those: when the full index is not loaded yet
    /// and it is a v1 B-tree, only the nodes leading to them are read (a
    /// few rows of a large matrix touch a few index nodes, not all of them);
    /// otherwise the full, cached list. Sorted by offset.
    pub(crate) fn chunk_records_for(
        &self,
        first: std::ops::Range<u64>,
    ) -> Result<std::borrow::Cow<'_, [ChunkRecord]>> {
        /// A read spanning at most this many chunks descends the tree.
        const FEW_CHUNKS: u64 = 64;
        if let Storage::Chunked {
            chunk_dims,
            index: ChunkIndexKind::BtreeV1 { address },
        } = &self.info.storage
        {
            let span = first.end.saturating_sub(first.start) / chunk_dims[0].max(1);
            if self.info.chunks.get().is_none()
                && !address.is_undefined()
                && chunk_dims.len() == 1
                && span <= FEW_CHUNKS
            {
                let view = self.file.view();
                return btree_v1::chunk_records_in(&view, *address, 1, first, &self.file.limits)
                    .map(std::borrow::Cow::Owned);
            }
        }
        self.chunk_records().map(std::borrow::Cow::Borrowed)
    }

    pub(super) fn check_type<T: H5Type>(&self) -> Result<()> {
        if T::matches(&self.info.dtype) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{} holds {}, cannot read it as {}",
                self.path,
                self.info.dtype.numpy_str(),
                std::any::type_name::<T>()
            )))
        }
    }

    pub(super) fn order(&self) -> ByteOrder {
        match &self.info.dtype {
            Dtype::Int { order, .. } | Dtype::Float { order, .. } | Dtype::Enum { order, .. } => {
                *order
            }
            _ => ByteOrder::NATIVE,
        }
    }

    /// Every element as `T` (which must match the stored type; byte order is
    /// converted).
    pub fn read<T: H5Type>(&self) -> Result<Vec<T>> {
        let dims = self.info.dims.clone();
        self.read_slab(&vec![0; dims.len()], &dims)
    }

    /// Elements `start..start+count` of a 1-D dataset.
    pub fn read_range<T: H5Type>(&self, start: u64, count: u64) -> Result<Vec<T>> {
        if self.info.dims.len() != 1 {
            return Err(Error::invalid(format!(
                "{} has rank {}, read_range needs a 1-D dataset",
                self.path,
                self.info.dims.len()
            )));
        }
        // The runs path: compressed chunks are inflated in parallel
        // batches, and only as far as the range reaches.
        self.read_runs(&[(start, count)])
    }

    /// An N-D hyperslab `start`/`count`, in C order.
    pub fn read_slab<T: H5Type>(&self, start: &[u64], count: &[u64]) -> Result<Vec<T>> {
        self.check_type::<T>()?;
        let n = self.check_selection(start, count)?;
        let bytes = n
            .checked_mul(self.info.elem as u64)
            .ok_or_else(|| Error::invalid("selection size overflows"))?;
        self.file.limits.check_alloc("dataset read", bytes)?;
        self.check_storage_fits()?;
        let mut out = crate::buf::try_zeroed_vec::<T>(n as usize, "dataset read")?;
        self.read_into(start, count, bytemuck::cast_slice_mut(&mut out))?;
        to_native(
            bytemuck::cast_slice_mut(&mut out),
            self.info.elem,
            self.order(),
        );
        Ok(out)
    }

    /// The stored (filtered) bytes of chunk `r` and their absolute file
    /// address: borrowed from a map, fetched from a paged source.
    fn stored_chunk(&self, r: &ChunkRecord) -> Result<(u64, std::borrow::Cow<'f, [u8]>)> {
        let view = self.file.view();
        let stored = view.data(r.address, r.size, "filtered chunk")?;
        Ok((view.abs_u64(r.address), stored))
    }

    /// The first `want` bytes of chunk `r` unfiltered (at least that many;
    /// see [`filters::decode_chunk_prefix_at`]).
    pub(super) fn decode_chunk_prefix(
        &self,
        r: &ChunkRecord,
        want: usize,
        chunk_bytes: usize,
    ) -> Result<Vec<u8>> {
        let (at, stored) = self.stored_chunk(r)?;
        filters::decode_chunk_prefix_at(
            at,
            &self.info.filters,
            r.filter_mask,
            &stored,
            want,
            chunk_bytes,
            self.info.elem,
            &self.file.limits,
        )
    }

    /// Decodes the filtered chunk `r` into `out`, its whole unfiltered
    /// size.
    pub(super) fn decode_chunk_into(&self, r: &ChunkRecord, out: &mut [u8]) -> Result<()> {
        let (at, stored) = self.stored_chunk(r)?;
        filters::decode_chunk_into_at(
            at,
            &self.info.filters,
            r.filter_mask,
            &stored,
            out,
            self.info.elem,
            &self.file.limits,
        )
    }

    /// The decoded bytes of the filtered chunk `r` (`chunk_bytes` long).
    pub(super) fn decode_chunk(&self, r: &ChunkRecord, chunk_bytes: usize) -> Result<Vec<u8>> {
        self.decode_chunk_prefix(r, chunk_bytes, chunk_bytes)
    }

    /// Checks a selection against the shape; returns its element count.
    pub(super) fn check_selection(&self, start: &[u64], count: &[u64]) -> Result<u64> {
        let dims = &self.info.dims;
        if self.info.kind == DataspaceKind::Null {
            return Err(Error::invalid(format!(
                "{} has a null dataspace",
                self.path
            )));
        }
        if start.len() != dims.len() || count.len() != dims.len() {
            return Err(Error::invalid(format!(
                "{}: selection rank {} does not match dataset rank {}",
                self.path,
                start.len(),
                dims.len()
            )));
        }
        for i in 0..dims.len() {
            let end = start[i].checked_add(count[i]);
            if end.is_none_or(|e| e > dims[i]) {
                return Err(Error::invalid(format!(
                    "{}: selection {}..{}+{} is out of bounds for dimension {i} of size {}",
                    self.path, start[i], start[i], count[i], dims[i]
                )));
            }
        }
        element_count(count, &self.path)
    }

    /// Raw element bytes of a selection, in file byte order.
    pub(crate) fn read_raw(&self, start: &[u64], count: &[u64]) -> Result<Vec<u8>> {
        let n = self.check_selection(start, count)?;
        let bytes = n
            .checked_mul(self.info.elem as u64)
            .ok_or_else(|| Error::invalid("selection size overflows"))?;
        self.file.limits.check_alloc("dataset read", bytes)?;
        self.check_storage_fits()?;
        let mut out = crate::buf::try_zeroed_vec::<u8>(bytes as usize, "dataset read")?;
        if self.info.dims.len() == 1 {
            // One run of a 1-D dataset: the runs path (parallel inflation).
            self.gather(&[(start[0], count[0], 0)], &mut out)?;
        } else {
            self.read_into(start, count, &mut out)?;
        }
        Ok(out)
    }

    /// Fails unless the dataset's compact or contiguous storage holds all of
    /// its elements inside the file, so that a read is refused before its
    /// buffer is allocated (a damaged size must not cost gigabytes first).
    /// Chunked storage may legitimately declare more than its chunks hold:
    /// the rest reads as the fill value.
    pub(crate) fn check_storage_fits(&self) -> Result<()> {
        let info = &self.info;
        let view = self.file.view();
        let total = || {
            element_count(&info.dims, &self.path)?
                .checked_mul(info.elem as u64)
                .ok_or_else(|| Error::invalid("dataset size overflows"))
        };
        match &info.storage {
            Storage::Compact(data) => {
                let total = total()?;
                if (data.len() as u64) < total {
                    return Err(Error::format(
                        view.abs_u64(self.address),
                        format!(
                            "{}: compact data holds {} bytes, the dataset needs {total}",
                            self.path,
                            data.len()
                        ),
                    ));
                }
            }
            Storage::Contiguous { address, size } if !address.is_undefined() => {
                let total = total()?;
                if total == 0 {
                    return Ok(());
                }
                if *size < total {
                    return Err(Error::format(
                        view.abs_u64(*address),
                        format!(
                            "{}: contiguous storage holds {size} bytes, the dataset needs {total}",
                            self.path
                        ),
                    ));
                }
                view.check_range(*address, total, "contiguous dataset data")
                    .map_err(|e| e.context(&self.path))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Fills `out` (exactly the selection's bytes) from storage.
    fn read_into(&self, start: &[u64], count: &[u64], out: &mut [u8]) -> Result<()> {
        let info = &self.info;
        let elem = info.elem;
        let view = self.file.view();
        let sel = Block {
            offset: start,
            dims: count,
        };
        let zeros = vec![0u64; info.dims.len()];
        let whole = Block {
            offset: &zeros,
            dims: &info.dims,
        };
        let total = element_count(&info.dims, &self.path)?
            .checked_mul(elem as u64)
            .ok_or_else(|| Error::invalid("dataset size overflows"))?;
        let fill_everything = |out: &mut [u8]| {
            if info.fill.iter().any(|&b| b != 0) {
                for e in out.chunks_exact_mut(elem) {
                    e.copy_from_slice(&info.fill);
                }
            }
        };
        match &info.storage {
            Storage::Unsupported(what) => {
                return Err(Error::unsupported(format!("{}: {what}", self.path)))
            }
            Storage::Compact(data) => {
                if (data.len() as u64) < total {
                    return Err(Error::format(
                        view.abs_u64(self.address),
                        format!(
                            "compact data holds {} bytes, the dataset needs {total}",
                            data.len()
                        ),
                    ));
                }
                copy_intersection(data, whole, out, sel, elem);
            }
            Storage::Contiguous { address, size } => {
                // Zero bytes are read from nowhere: libhdf5 never checks
                // the address of empty storage either.
                if address.is_undefined() || total == 0 {
                    fill_everything(out);
                } else {
                    if *size < total {
                        return Err(Error::format(
                            view.abs_u64(*address),
                            format!(
                                "contiguous storage holds {size} bytes, the dataset needs {total}"
                            ),
                        ));
                    }
                    view.check_range(*address, total, "contiguous dataset data")?;
                    if info.dims.is_empty() || count.contains(&0) {
                        let data = view.data(*address, total, "contiguous dataset data")?;
                        copy_intersection(&data, whole, out, sel, elem);
                    } else {
                        // Only the rows the selection spans, from its
                        // first row to its last.
                        let row = total / info.dims[0].max(1);
                        let (a, n) = (start[0] * row, count[0] * row);
                        let data =
                            view.data(Address(address.0 + a), n, "contiguous dataset data")?;
                        let mut span_off = vec![0u64; info.dims.len()];
                        span_off[0] = start[0];
                        let mut span_dims = info.dims.clone();
                        span_dims[0] = count[0];
                        let span = Block {
                            offset: &span_off,
                            dims: &span_dims,
                        };
                        copy_intersection(&data, span, out, sel, elem);
                        if let (true, std::borrow::Cow::Borrowed(part)) =
                            (self.file.is_streaming(), &data)
                        {
                            self.file.read_through().done(part);
                        }
                    }
                }
            }
            Storage::Chunked { chunk_dims, .. } => {
                let chunk_bytes = element_count(chunk_dims, "chunk shape")?
                    .checked_mul(elem as u64)
                    .ok_or_else(|| Error::invalid("chunk size overflows"))?;
                self.file.limits.check_alloc("chunk", chunk_bytes)?;
                fill_everything(out);
                let mut through = self.file.streaming_through();
                let touched = |r: &&ChunkRecord| {
                    let block = Block {
                        offset: &r.offset,
                        dims: chunk_dims,
                    };
                    super::hyperslab::intersect(block, sel).is_some()
                };
                let records = self.chunk_records()?;
                let stored_size = |r: &ChunkRecord| match info.filters.is_empty() {
                    true => chunk_bytes,
                    false => r.size,
                };
                let mut ahead = super::ahead::Ahead::new(view, || {
                    records
                        .iter()
                        .filter(touched)
                        .map(|r| (r.address, stored_size(r)))
                        .collect()
                });
                for (k, r) in records.iter().filter(touched).enumerate() {
                    ahead.reach(k);
                    let block = Block {
                        offset: &r.offset,
                        dims: chunk_dims,
                    };
                    if info.filters.is_empty() {
                        let data = view.data(r.address, chunk_bytes, "chunk")?;
                        copy_intersection(&data, block, out, sel, elem);
                        if let (Some(t), std::borrow::Cow::Borrowed(part)) = (&mut through, &data) {
                            t.done(part);
                        }
                    } else {
                        let data = self.decode_chunk(r, chunk_bytes as usize).map_err(|e| {
                            e.context(&format!("{} chunk at {:?}", self.path, r.offset))
                        })?;
                        copy_intersection(&data, block, out, sel, elem);
                        if let (Some(t), Some(b)) = (&mut through, view.bytes()) {
                            let at = view.absolute(r.address, "filtered chunk")? as usize;
                            if let Some(part) = b.get(at..at + r.size as usize) {
                                t.done(part);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
