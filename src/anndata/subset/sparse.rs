//! Streaming `m[rows][:, cols]` of a CSR/CSC matrix, block by block along
//! its major axis, in the structure scipy's fancy indexing gives (what
//! anndata writes for `adata[obs, var].copy()`).
//!
//! Rows are read a block at a time through [`SparseHandle::read_as_reusing`]
//! (whole rows, one set of buffers reused for every block), each block
//! holding about `block_bytes` of stored entries. When the minor axis is
//! selected, each stored entry is sent to every output position of its
//! column through a lookup table; the entries of a row keep their stored
//! order, as scipy's `csr_column_index2` keeps them.

use crate::anndata::WriteOptions;
use crate::error::{Error, Result};
use crate::read::{Dtype, H5Type, Values};
use crate::sparse::{IndexType, Sel, SparseFormat};
use crate::{H5Bool, SparseHandle, F16};

use super::Take;

/// Where the blocks of a streamed sparse matrix go (the writer's
/// `SparseStream`, or a collector in tests).
pub(crate) trait SparseSink {
    /// Appends major-axis lines: `indptr` starts at 0 and has one entry
    /// more than the lines, `indices` and `data` hold their entries.
    fn push<T: H5Type, I: IndexType + H5Type>(
        &mut self,
        indptr: &[I],
        indices: &[I],
        data: &[T],
    ) -> Result<()>;
}

/// A planned subset of one sparse matrix: the output's shape, format,
/// value and index types, and the blocks its major lines are read in.
#[derive(Debug)]
pub(crate) struct SparseSubset<'t> {
    handle: SparseHandle,
    format: SparseFormat,
    dtype: Dtype,
    major: &'t Take,
    minor: &'t Take,
    n_minor: u64,
    out_shape: [u64; 2],
    wide: bool,
    /// Bytes of stored entries (values and indices) the blocks read.
    read_bytes: u64,
    /// Bytes of one stored entry (value and index) as read.
    entry_bytes: u64,
    /// Output line ranges, one per block.
    blocks: Vec<(u64, u64)>,
}

impl<'t> SparseSubset<'t> {
    /// Plans `x[rows][:, cols]`: reads `x`'s indptr to cut the selected
    /// major lines into blocks of about `block_bytes` of stored entries.
    pub(crate) fn plan(
        x: SparseHandle,
        rows: &'t Take,
        cols: &'t Take,
        block_bytes: usize,
    ) -> Result<SparseSubset<'t>> {
        let info = x.info()?;
        let [n_rows, n_cols] = info.shape;
        rows.check(n_rows, "rows")?;
        cols.check(n_cols, "columns")?;
        let (major, minor, n_major, n_minor) = match info.format {
            SparseFormat::Csr => (rows, cols, n_rows, n_cols),
            SparseFormat::Csc => (cols, rows, n_cols, n_rows),
        };
        let indptr = read_indptr(&x, n_major)?;
        let value_bytes = info.data_dtype.size() as u64;

        // The largest count of output positions any input minor maps to:
        // an upper bound on how much a line can grow.
        let fanout = match minor {
            Take::All => 1u64,
            Take::Indices(v) => {
                let mut counts = crate::buf::try_zeroed_vec::<u32>(n_minor as usize, "column map")?;
                let mut most = 0u32;
                for &p in v {
                    let c = &mut counts[p as usize];
                    *c = c.saturating_add(1);
                    most = most.max(*c);
                }
                u64::from(most)
            }
        };

        // Held per stored entry from read to write: the block as read
        // (index, value), the remapped copy when columns are selected and
        // the writer's encoded copy, each `fanout` times at most. The
        // index width is the result's (64-bit at most).
        let out_entry = 8 + value_bytes;
        let copies = if matches!(minor, Take::All) { 1 } else { 2 };
        let held = out_entry + copies * fanout.saturating_mul(out_entry);
        let budget = WriteOptions {
            block_bytes,
            ..WriteOptions::default()
        }
        .per_block(held);

        let n_out = major.len(n_major);
        let mut blocks = Vec::new();
        let (mut start, mut held, mut total, mut read) = (0u64, 0u64, 0u64, 0u64);
        for i in 0..n_out {
            let p = major.get(i) as usize;
            let nnz = indptr[p + 1] - indptr[p];
            total = total.saturating_add(nnz.saturating_mul(fanout));
            read = read.saturating_add(nnz);
            if i > start && held + nnz > budget {
                blocks.push((start, i));
                start = i;
                held = 0;
            }
            held += nnz;
        }
        if n_out > start {
            blocks.push((start, n_out));
        }
        let out_minor = minor.len(n_minor);
        let narrow = |v: u64| v <= i32::MAX as u64;
        let wide = info.indptr_dtype.size() > 4
            || info.indices_dtype.size() > 4
            || !narrow(total)
            || !narrow(n_minor)
            || !narrow(out_minor);
        let out_shape = match info.format {
            SparseFormat::Csr => [n_out, out_minor],
            SparseFormat::Csc => [out_minor, n_out],
        };
        Ok(SparseSubset {
            handle: x,
            format: info.format,
            dtype: info.data_dtype,
            major,
            minor,
            n_minor,
            out_shape,
            wide,
            read_bytes: read.saturating_mul(value_bytes + info.indices_dtype.size() as u64),
            entry_bytes: value_bytes + info.indices_dtype.size() as u64,
            blocks,
        })
    }

    /// CSR or CSC: the input's format, kept (as anndata keeps it).
    pub(crate) fn format(&self) -> SparseFormat {
        self.format
    }

    /// `[rows, cols]` of the result.
    pub(crate) fn shape(&self) -> [u64; 2] {
        self.out_shape
    }

    /// The values' type.
    pub(crate) fn dtype(&self) -> &Dtype {
        &self.dtype
    }

    /// Whether the result needs 64-bit indices (the input has them, or
    /// the result's counts do not fit int32).
    pub(crate) fn wide_index(&self) -> bool {
        self.wide
    }

    /// Bytes of stored entries the blocks read (for progress).
    pub(crate) fn read_bytes(&self) -> u64 {
        self.read_bytes
    }

    /// Reads, remaps and pushes every block into `sink`; `progress` is
    /// told the stored entries read after each block.
    pub(crate) fn run(
        &self,
        sink: &mut impl SparseSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        macro_rules! typed {
            ($t:ty) => {
                if self.wide {
                    self.run_typed::<$t, i64>(sink, progress)
                } else {
                    self.run_typed::<$t, i32>(sink, progress)
                }
            };
        }
        match &self.dtype {
            Dtype::Float { size: 8, .. } => typed!(f64),
            Dtype::Float { size: 4, .. } => typed!(f32),
            Dtype::Float { size: 2, .. } => typed!(F16),
            Dtype::Int {
                size: 8,
                signed: true,
                ..
            } => typed!(i64),
            Dtype::Int {
                size: 4,
                signed: true,
                ..
            } => typed!(i32),
            Dtype::Int {
                size: 2,
                signed: true,
                ..
            } => typed!(i16),
            Dtype::Int {
                size: 1,
                signed: true,
                ..
            } => typed!(i8),
            Dtype::Int {
                size: 8,
                signed: false,
                ..
            } => typed!(u64),
            Dtype::Int {
                size: 4,
                signed: false,
                ..
            } => typed!(u32),
            Dtype::Int {
                size: 2,
                signed: false,
                ..
            } => typed!(u16),
            Dtype::Int {
                size: 1,
                signed: false,
                ..
            } => typed!(u8),
            Dtype::Bool => typed!(H5Bool),
            other => Err(Error::unsupported(format!(
                "{}: sparse values of type {}",
                self.handle.path(),
                other.numpy_str()
            ))),
        }
    }

    fn run_typed<T: H5Type, I: IndexType + H5Type>(
        &self,
        sink: &mut impl SparseSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let map = match self.minor {
            Take::All => None,
            Take::Indices(v) => Some(MinorMap::new(v, self.n_minor)?),
        };
        let mut block = sprs::CsMatI::<T, I>::zero((0, 0));
        let (mut ptr, mut idx, mut val): (Vec<I>, Vec<I>, Vec<T>) =
            (Vec::new(), Vec::new(), Vec::new());
        for &(from, to) in &self.blocks {
            let lines = self.major.sel(from, to);
            block = match self.format {
                SparseFormat::Csr => self.handle.read_as_reusing(lines, Sel::All, block)?,
                SparseFormat::Csc => self.handle.read_as_reusing(Sel::All, lines, block)?,
            };
            let in_ptr = block.indptr();
            let in_ptr = in_ptr.raw_storage();
            match &map {
                None => {
                    // Whole lines: the block is the result (its indptr
                    // starts at 0 when read from a selection).
                    sink.push(in_ptr, block.indices(), block.data())?;
                }
                Some(map) => {
                    map.apply(
                        in_ptr,
                        block.indices(),
                        block.data(),
                        (&mut ptr, &mut idx, &mut val),
                    )?;
                    sink.push(&ptr, &idx, &val)?;
                }
            }
            progress(block.nnz() as u64 * self.entry_bytes);
        }
        if self.blocks.is_empty() {
            // No major line kept: one empty push still records the result.
            let zero = [I::zero()];
            sink.push::<T, I>(&zero, &[], &[])?;
        }
        Ok(())
    }
}

/// For each input minor position, the output positions it goes to
/// (ascending), as offsets into one list.
struct MinorMap {
    starts: Vec<u64>,
    targets: Vec<u64>,
}

impl MinorMap {
    fn new(picked: &[u64], n_minor: u64) -> Result<MinorMap> {
        let mut starts = crate::buf::try_zeroed_vec::<u64>(n_minor as usize + 1, "column map")?;
        for &p in picked {
            starts[p as usize + 1] += 1;
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut fill = starts.clone();
        let mut targets = crate::buf::try_zeroed_vec::<u64>(picked.len(), "column map")?;
        for (out, &p) in picked.iter().enumerate() {
            let slot = &mut fill[p as usize];
            targets[*slot as usize] = out as u64;
            *slot += 1;
        }
        Ok(MinorMap { starts, targets })
    }

    /// The lines `indptr`/`indices`/`data` with every entry sent to its
    /// output positions, into the three output vectors (cleared first).
    fn apply<T: Copy, I: IndexType>(
        &self,
        indptr: &[I],
        indices: &[I],
        data: &[T],
        (ptr, idx, val): (&mut Vec<I>, &mut Vec<I>, &mut Vec<T>),
    ) -> Result<()> {
        ptr.clear();
        idx.clear();
        val.clear();
        ptr.push(I::zero());
        let fits = |n: u64| {
            I::try_from_usize(n as usize)
                .ok_or_else(|| Error::invalid(format!("{n} does not fit the result's index type")))
        };
        for w in indptr.windows(2) {
            let (lo, hi) = (w[0].index(), w[1].index());
            for (c, v) in indices[lo..hi].iter().zip(&data[lo..hi]) {
                let c = c.index();
                let (a, b) = (self.starts[c] as usize, self.starts[c + 1] as usize);
                for &t in &self.targets[a..b] {
                    idx.push(fits(t)?);
                    val.push(*v);
                }
            }
            ptr.push(fits(idx.len() as u64)?);
        }
        Ok(())
    }
}

/// The whole indptr of `x` as u64, checked to have `n_major + 1` entries
/// that never decrease.
fn read_indptr(x: &SparseHandle, n_major: u64) -> Result<Vec<u64>> {
    let at = format!("{}/indptr", x.path());
    let values = x.file().dataset(&at)?.values()?;
    let v: Vec<u64> = match values {
        Values::Int(v) => v
            .into_iter()
            .map(|p| {
                u64::try_from(p).map_err(|_| Error::invalid(format!("{at}: negative entry {p}")))
            })
            .collect::<Result<_>>()?,
        Values::UInt(v) => v,
        _ => return Err(Error::invalid(format!("{at}: expected integers"))),
    };
    if v.len() as u64 != n_major + 1 {
        return Err(Error::invalid(format!(
            "{at}: expected {} entries, found {}",
            n_major + 1,
            v.len()
        )));
    }
    if v.windows(2).any(|w| w[1] < w[0]) {
        return Err(Error::invalid(format!("{at}: entries decrease")));
    }
    Ok(v)
}
