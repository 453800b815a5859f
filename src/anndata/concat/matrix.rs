//! Matrices stacked along obs (`X`, `layers`, `obsm`, `raw/X`), streamed:
//! each input is read in blocks of rows of about the block budget, its
//! columns sent to their place in the result, and pushed into the
//! writer's stream. Nothing is ever densified or held whole.
//!
//! What comes out is what `anndata.concat` builds:
//! * any sparse input makes the result CSR (dense inputs lose their
//!   zeros, as `csr_matrix(x)` drops them); else the result is dense;
//! * values take numpy's common type; dense inputs that gain columns are
//!   filled with NaN (integers become float64); an input lacking the
//!   element (outer join) contributes zeros (sparse, as float64) or NaN
//!   rows (dense);
//! * a sparse input whose columns move loses its stored zeros, as the
//!   product with anndata's reindexing matrix drops them; entries of a
//!   row are written in ascending column order.

use super::dtype::{float64, nan_bytes, result_type, with_nan, Converter};
use crate::anndata::ints::read_ints;
use crate::anndata::write::{H5adWriter, IndexWidth, WriteOptions};
use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype, File};
use crate::sparse::SparseFormat;

/// Where an input's columns go in the result.
#[derive(Debug, Clone)]
pub(crate) struct ColumnMap {
    /// Columns of the input.
    pub n_in: u64,
    /// Columns of the result.
    pub n_out: u64,
    /// For each input column, its result column or -1 (dropped); `None`:
    /// column `c` goes to `c`.
    pub map: Option<Vec<i64>>,
}

impl ColumnMap {
    fn target(&self, c: u64) -> Option<u64> {
        match &self.map {
            None => (c < self.n_out).then_some(c),
            Some(m) => m.get(c as usize).and_then(|&t| u64::try_from(t).ok()),
        }
    }

    /// Whether anndata reindexes the input at all.
    fn reindexed(&self) -> bool {
        self.map.is_some() || self.n_in != self.n_out
    }

    /// Whether some result column gets nothing from the input.
    fn fills(&self) -> bool {
        let covered = match &self.map {
            None => self.n_in.min(self.n_out),
            Some(m) => m.iter().filter(|&&t| t >= 0).count() as u64,
        };
        covered < self.n_out
    }

    /// Whether result columns keep the input's order.
    fn monotone(&self) -> bool {
        match &self.map {
            None => true,
            Some(m) => {
                let mut last = -1;
                m.iter().filter(|&&t| t >= 0).all(|&t| {
                    let ok = t > last;
                    last = t;
                    ok
                })
            }
        }
    }
}

/// One input's share of a stacked matrix.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// A CSR or CSC group.
    Sparse {
        /// Group path.
        path: String,
        /// CSR or CSC.
        format: SparseFormat,
        /// `[rows, cols]`.
        shape: [u64; 2],
    },
    /// A 2-D dataset.
    Dense {
        /// Dataset path.
        path: String,
        /// `[rows, cols]`.
        shape: [u64; 2],
    },
    /// The input lacks the element (outer join): `rows` rows of fill.
    Missing {
        /// The input's rows.
        rows: u64,
    },
}

impl Part {
    fn rows(&self) -> u64 {
        match self {
            Part::Sparse { shape, .. } | Part::Dense { shape, .. } => shape[0],
            Part::Missing { rows } => *rows,
        }
    }
}

/// An input's part with its file and column map.
pub(crate) struct Input<'f> {
    pub file: &'f File,
    pub part: Part,
    pub columns: ColumnMap,
}

fn data_dtype(input: &Input<'_>) -> Result<Option<Dtype>> {
    Ok(match &input.part {
        Part::Sparse { path, .. } => {
            Some(input.file.dataset(&format!("{path}/data"))?.dtype().clone())
        }
        Part::Dense { path, .. } => Some(input.file.dataset(path)?.dtype().clone()),
        Part::Missing { .. } => None,
    })
}

/// Stored entries (sparse) or elements (dense) of an input and their
/// bytes as read, for progress (saturating: a damaged file may claim
/// more than 2^64 bytes).
fn read_bytes(input: &Input<'_>) -> Result<u64> {
    Ok(match &input.part {
        Part::Sparse { path, .. } => {
            let data = input.file.dataset(&format!("{path}/data"))?;
            let idx = input.file.dataset(&format!("{path}/indices"))?;
            data.len()
                .saturating_mul((data.dtype().size() + idx.dtype().size()) as u64)
        }
        Part::Dense { path, shape } => {
            let size = input.file.dataset(path)?.dtype().size() as u64;
            shape[0].saturating_mul(shape[1]).saturating_mul(size)
        }
        Part::Missing { .. } => 0,
    })
}

/// The stacked matrix's plan: sparse or dense, its dtype, its shape.
pub(crate) struct Stack<'f> {
    inputs: Vec<Input<'f>>,
    sparse: bool,
    dtype: Dtype,
    shape: [u64; 2],
    /// The block budget (and the writer's share of it).
    opts: WriteOptions,
    /// An upper bound on the entries (sparse).
    nnz_bound: u64,
    total_bytes: u64,
}

impl<'f> Stack<'f> {
    /// Plans stacking `inputs` (all with the same `n_out`) at `at`.
    pub(crate) fn plan(inputs: Vec<Input<'f>>, opts: &WriteOptions, at: &str) -> Result<Stack<'f>> {
        let n_out = inputs.first().map_or(0, |i| i.columns.n_out);
        let sparse = inputs.iter().any(|i| matches!(i.part, Part::Sparse { .. }));
        let mut dtypes = Vec::new();
        let mut nnz_bound = 0u64;
        let mut total_bytes = 0u64;
        for i in &inputs {
            if i.columns.n_out != n_out {
                return Err(Error::invalid(format!(
                    "{at}: inputs disagree on the columns"
                )));
            }
            let cols = match &i.part {
                Part::Sparse { shape, .. } | Part::Dense { shape, .. } => shape[1],
                Part::Missing { .. } => i.columns.n_in,
            };
            if cols != i.columns.n_in {
                return Err(Error::invalid(format!(
                    "{at}: an input has {cols} columns where {} were expected",
                    i.columns.n_in
                )));
            }
            let d = data_dtype(i)?;
            dtypes.push(match (d, sparse) {
                (None, _) => float64(),
                (Some(d), true) => d,
                (Some(d), false) if i.columns.fills() => with_nan(&d, at)?,
                (Some(d), false) => d,
            });
            nnz_bound = nnz_bound.saturating_add(match &i.part {
                Part::Sparse { path, .. } => i.file.dataset(&format!("{path}/data"))?.len(),
                Part::Dense { shape, .. } => shape[0].saturating_mul(shape[1].min(n_out)),
                Part::Missing { .. } => 0,
            });
            total_bytes = total_bytes.saturating_add(read_bytes(i)?);
        }
        let dtype = result_type(&dtypes, at)?;
        let rows = inputs
            .iter()
            .fold(0u64, |a, i| a.saturating_add(i.part.rows()));
        Ok(Stack {
            inputs,
            sparse,
            dtype,
            shape: [rows, n_out],
            opts: opts.clone(),
            nnz_bound,
            total_bytes,
        })
    }

    /// One input alone, its values converted to `dtype` (chosen by the
    /// caller: an append keeps the target's type), for streaming its rows
    /// with [`Stack::rows`] into a matrix that exists already; `nnz_bound`
    /// bounds the entries of the matrix written to (its index width).
    pub(crate) fn single(
        input: Input<'f>,
        dtype: Dtype,
        nnz_bound: u64,
        opts: &WriteOptions,
    ) -> Result<Stack<'f>> {
        let shape = [input.part.rows(), input.columns.n_out];
        let total_bytes = read_bytes(&input)?;
        Ok(Stack {
            inputs: vec![input],
            sparse: true,
            dtype,
            shape,
            opts: opts.clone(),
            nnz_bound,
            total_bytes,
        })
    }

    /// Every input's rows as CSR blocks into `sink` (values in the
    /// stack's dtype); `progress` is told the bytes read after each block.
    pub(crate) fn rows(&self, sink: &mut RowSink<'_>, progress: &mut dyn FnMut(u64)) -> Result<()> {
        for i in &self.inputs {
            self.sparse_input(i, sink, progress)?;
        }
        Ok(())
    }

    /// Bytes the inputs' blocks read (for progress).
    pub(crate) fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Writes the stacked matrix at `dst`; `progress` is told the bytes
    /// read after each block.
    pub(crate) fn write(
        &self,
        w: &mut H5adWriter,
        dst: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        if self.sparse {
            let width = IndexWidth::for_matrix(SparseFormat::Csr, self.shape, self.nnz_bound);
            let mut s = w.sparse(dst, SparseFormat::Csr, self.shape, &self.dtype, width)?;
            let mut sink = |ptr: &[u64], idx: Cols<'_>, data: &[u8]| match idx {
                Cols::Wide(idx) => s.push_raw(ptr, idx, data),
                Cols::Stored32(idx) => s.push_raw_i32(ptr, idx, data),
            };
            for i in &self.inputs {
                self.sparse_input(i, &mut sink, progress)
                    .map_err(|e| e.context(dst))?;
            }
            s.finish()
        } else {
            let mut s = w.dense(dst, &self.shape, &self.dtype)?;
            for i in &self.inputs {
                self.dense_input(i, &mut |rows: &[u8]| s.push_raw(rows), progress)
                    .map_err(|e| e.context(dst))?;
            }
            s.finish()
        }
    }

    /// Rows (or entries) of a block when each keeps `held` bytes alive
    /// from being read to being written: the block budget less the
    /// writer's buffered share, at least one.
    fn block_rows(&self, held: u64) -> u64 {
        self.opts.per_block(held)
    }

    /// Bytes of one result entry in the writer's buffers: its index and
    /// value.
    fn written_entry(&self) -> u64 {
        let width = IndexWidth::for_matrix(SparseFormat::Csr, self.shape, self.nnz_bound);
        (width.bytes() + self.dtype.size()) as u64
    }

    /// One input pushed as CSR rows.
    fn sparse_input(
        &self,
        input: &Input<'_>,
        sink: &mut RowSink<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let cols = &input.columns;
        let mut rows = RowBuilder::default();
        match &input.part {
            Part::Missing { rows: n } => {
                // A row holds its u64 indptr entry and its encoded one.
                let step = self.block_rows(16);
                let mut done = 0;
                while done < *n {
                    let k = step.min(n - done);
                    rows.ptr.clear();
                    rows.ptr.resize(k as usize + 1, 0);
                    sink(&rows.ptr, Cols::Wide(&[]), &[])?;
                    done += k;
                }
                Ok(())
            }
            Part::Dense { path, shape } => {
                let ds = input.file.dataset(path)?;
                let conv = Converter::new(ds.dtype(), &self.dtype, path)?;
                let es = conv.in_size();
                let row_bytes = shape[1] * es as u64;
                // A row as read, and at worst every element an entry: a
                // u64 column and a value in the block, then in the writer.
                let os = self.dtype.size() as u64;
                let step = self.block_rows(row_bytes + shape[1] * (8 + os + self.written_entry()));
                let mut r = 0;
                while r < shape[0] {
                    let k = step.min(shape[0] - r);
                    let raw = ds.read_raw(&[r, 0], &[k, shape[1]])?;
                    rows.clear();
                    for row in raw.chunks_exact(row_bytes.max(1) as usize).take(k as usize) {
                        for (c, b) in row.chunks_exact(es).enumerate() {
                            if conv.is_zero(b) {
                                continue;
                            }
                            if let Some(t) = cols.target(c as u64) {
                                rows.entry(t, b);
                            }
                        }
                        rows.end_row(&conv, !cols.monotone());
                    }
                    if row_bytes == 0 {
                        for _ in 0..k {
                            rows.end_row(&conv, false);
                        }
                    }
                    sink(&rows.ptr, Cols::Wide(&rows.idx), &rows.data)?;
                    progress(raw.len() as u64);
                    r += k;
                }
                Ok(())
            }
            Part::Sparse {
                path,
                format: SparseFormat::Csr,
                shape,
            } => {
                let f = input.file;
                let indptr = f.dataset(&format!("{path}/indptr"))?;
                let indices = f.dataset(&format!("{path}/indices"))?;
                let data = f.dataset(&format!("{path}/data"))?;
                let conv = Converter::new(data.dtype(), &self.dtype, path)?;
                let entry = (conv.in_size() + indices.dtype().size()) as u64;
                let drop_zeros = cols.reindexed();
                let sort = !cols.monotone();
                let copy = !drop_zeros && cols.map.is_none() && conv.is_copy();
                let stored_i32 = matches!(
                    indices.dtype(),
                    Dtype::Int {
                        size: 4,
                        signed: true,
                        order: crate::read::ByteOrder::Little
                    }
                );
                // Held per entry from read to write: its stored index (while
                // it is widened), the u64 column and the value as read,
                // the remapped copy (u64 column, value) unless the block
                // goes out as read, and the writer's encoded index and value.
                let remapped = if copy {
                    0
                } else {
                    8 + self.dtype.size() as u64
                };
                let held = entry + 8 + remapped + self.written_entry();
                let budget = self.block_rows(held);
                let window = self.block_rows(8).clamp(1, 1 << 16);
                // A streaming input's mapped pages are released once a
                // block borrowed from them is written.
                let mut through: Vec<_> = if f.is_streaming() {
                    vec![indices.read_through(), data.read_through()]
                } else {
                    Vec::new()
                };
                // Blocks not lying in one piece in the file are copied into
                // these, reused from block to block.
                let (mut idx_buf, mut val_buf, mut col_buf) = (Vec::new(), Vec::new(), Vec::new());
                let mut r = 0;
                while r < shape[0] {
                    let k = window.min(shape[0] - r);
                    let ptr = read_ints(&indptr, r, k + 1)?;
                    check_ptr(&ptr, path)?;
                    // As many rows as fit the budget, at least one.
                    let mut end = 1usize;
                    while end < k as usize && ptr[end + 1] - ptr[0] <= budget {
                        end += 1;
                    }
                    let (p0, p1) = (ptr[0], ptr[end]);
                    if copy && stored_i32 {
                        // anndata's int32 columns and values as stored (the
                        // same var, the same dtype): the block goes out as
                        // it lies in the file, borrowed from the map when
                        // unfiltered (no copy before the writer's, which
                        // checks each column's range). Where the file's
                        // chunks stop following each other (libhdf5 put a
                        // node between them), the block ends at the last
                        // row before; a row across that gap goes alone,
                        // copied.
                        let lim = indices
                            .borrowable_until(p0, p1)?
                            .min(data.borrowable_until(p0, p1)?);
                        if p0 < lim && lim < p1 {
                            end = ptr[..=end].partition_point(|&p| p <= lim).saturating_sub(1);
                            end = end.max(1);
                        }
                        let p1 = ptr[end];
                        let (raw, mapped_raw) =
                            indices.read_raw_reusing(p0, p1 - p0, &mut idx_buf)?;
                        let (vals, mapped_vals) =
                            data.read_raw_reusing(p0, p1 - p0, &mut val_buf)?;
                        let cols: &[i32] = match bytemuck::try_cast_slice(raw) {
                            Ok(c) if cfg!(target_endian = "little") => c,
                            _ => {
                                col_buf.clear();
                                col_buf.extend(
                                    raw.chunks_exact(4)
                                        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                                );
                                &col_buf
                            }
                        };
                        sink(&ptr[..=end], Cols::Stored32(cols), vals)?;
                        let parts = [(raw, mapped_raw), (vals, mapped_vals)];
                        for (t, (part, mapped)) in through.iter_mut().zip(parts) {
                            if mapped {
                                t.done(part);
                            }
                        }
                        progress((p1 - p0) * entry);
                        r += end as u64;
                        continue;
                    }
                    let idx = read_ints(&indices, p0, p1 - p0)?;
                    let vals = data.read_raw(&[p0], &[p1 - p0])?;
                    if copy {
                        // Columns and values as stored (the same var,
                        // the same dtype): the block goes out as read.
                        if let Some(&c) = idx.iter().find(|&&c| c >= shape[1]) {
                            return Err(Error::invalid(format!(
                                "{path}/indices: column {c} is out of range for {} columns",
                                shape[1]
                            )));
                        }
                        sink(&ptr[..=end], Cols::Wide(&idx), &vals)?;
                        progress((p1 - p0) * entry);
                        r += end as u64;
                        continue;
                    }
                    let es = conv.in_size();
                    rows.clear();
                    for w in ptr[..=end].windows(2) {
                        for e in (w[0] - p0) as usize..(w[1] - p0) as usize {
                            let c = idx[e];
                            if c >= shape[1] {
                                return Err(Error::invalid(format!(
                                    "{path}/indices: column {c} is out of range for {} columns",
                                    shape[1]
                                )));
                            }
                            let b = &vals[e * es..(e + 1) * es];
                            if drop_zeros && conv.is_zero(b) {
                                continue;
                            }
                            if let Some(t) = cols.target(c) {
                                rows.entry(t, b);
                            }
                        }
                        rows.end_row(&conv, sort);
                    }
                    sink(&rows.ptr, Cols::Wide(&rows.idx), &rows.data)?;
                    progress((p1 - p0) * entry);
                    r += end as u64;
                }
                Ok(())
            }
            Part::Sparse {
                path,
                format: SparseFormat::Csc,
                shape,
            } => self.csc_input(input.file, path, *shape, cols, sink, progress),
        }
    }

    /// A CSC input's rows: for each block of rows, one pass over the
    /// stored entries picks those in the block.
    fn csc_input(
        &self,
        f: &File,
        path: &str,
        shape: [u64; 2],
        cols: &ColumnMap,
        sink: &mut RowSink<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let indptr = f.dataset(&format!("{path}/indptr"))?;
        let indices = f.dataset(&format!("{path}/indices"))?;
        let data = f.dataset(&format!("{path}/data"))?;
        let conv = Converter::new(data.dtype(), &self.dtype, path)?;
        let es = conv.in_size();
        let entry = (es + indices.dtype().size()) as u64;
        let nnz = data.len();
        let per_row = nnz.div_ceil(shape[0].max(1)).max(1);
        // Half the block scans the stored entries (index as stored and as
        // u64, value), half holds the block's rows: a hit (24 bytes and
        // the value), its CSR copy (u64 column, value) and the writer's.
        let hit = 24 + es as u64 + 8 + self.dtype.size() as u64 + self.written_entry();
        let step = self.block_rows(2 * per_row * hit);
        let scan = self.block_rows(2 * (entry + 8));
        let drop_zeros = cols.reindexed();
        let ptr = read_ints(&indptr, 0, shape[1] + 1)?;
        check_ptr(&ptr, path)?;
        if ptr.last() != Some(&nnz) || ptr.first() != Some(&0) {
            return Err(Error::invalid(format!(
                "{path}/indptr: expected to run from 0 to {nnz}"
            )));
        }
        let passes = shape[0].div_ceil(step).max(1);
        let mut rows = RowBuilder::default();
        let mut r0 = 0;
        while r0 < shape[0] || (shape[0] == 0 && r0 == 0) {
            let r1 = (r0 + step).min(shape[0]);
            // (row in block, result column, value bytes) of the block.
            let mut hits: Vec<(u32, u64, usize)> = Vec::new();
            let mut hit_vals: Vec<u8> = Vec::new();
            let mut col = 0usize;
            let mut e0 = 0u64;
            while e0 < nnz {
                let n = scan.min(nnz - e0);
                let idx = read_ints(&indices, e0, n)?;
                let mut vals: Option<Vec<u8>> = None;
                for (k, &row) in idx.iter().enumerate() {
                    let e = e0 + k as u64;
                    // The entry's column is the one whose range holds it.
                    while col + 1 < ptr.len() && ptr[col + 1] <= e {
                        col += 1;
                    }
                    if row >= shape[0] {
                        return Err(Error::invalid(format!(
                            "{path}/indices: row {row} is out of range for {} rows",
                            shape[0]
                        )));
                    }
                    if row < r0 || row >= r1 {
                        continue;
                    }
                    let vals = match &mut vals {
                        Some(v) => v,
                        None => vals.insert(data.read_raw(&[e0], &[n])?),
                    };
                    let b = &vals[k * es..(k + 1) * es];
                    if drop_zeros && conv.is_zero(b) {
                        continue;
                    }
                    if let Some(t) = cols.target(col as u64) {
                        hits.push(((row - r0) as u32, t, hit_vals.len()));
                        hit_vals.extend_from_slice(b);
                    }
                }
                progress(n * entry / passes);
                e0 += n;
            }
            // Entries come column by column: a stable sort by row keeps
            // each row's columns in the order they came.
            hits.sort_by_key(|h| h.0);
            rows.clear();
            let mut h = 0;
            for row in 0..(r1 - r0) as u32 {
                while h < hits.len() && hits[h].0 == row {
                    let (_, t, at) = hits[h];
                    rows.entry(t, &hit_vals[at..at + es]);
                    h += 1;
                }
                rows.end_row(&conv, !cols.monotone());
            }
            sink(&rows.ptr, Cols::Wide(&rows.idx), &rows.data)?;
            if shape[0] == 0 {
                break;
            }
            r0 = r1;
        }
        Ok(())
    }

    /// One input pushed as dense rows.
    fn dense_input(
        &self,
        input: &Input<'_>,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let cols = &input.columns;
        let os = self.dtype.size();
        let out_row = self.shape[1] as usize * os;
        let fill = nan_bytes(&self.dtype);
        let fill_row: Vec<u8> = fill.iter().copied().cycle().take(out_row).collect();
        match &input.part {
            Part::Missing { rows: n } => {
                // The fill block and the writer's copy.
                let step = self.block_rows(2 * out_row as u64);
                let mut done = 0;
                while done < *n {
                    let k = step.min(n - done);
                    let block: Vec<u8> = fill_row
                        .iter()
                        .copied()
                        .cycle()
                        .take(out_row * k as usize)
                        .collect();
                    sink(&block)?;
                    done += k;
                }
                Ok(())
            }
            Part::Dense { path, shape } => {
                let ds: Dataset<'_> = input.file.dataset(path)?;
                let conv = Converter::new(ds.dtype(), &self.dtype, path)?;
                let es = conv.in_size();
                let row_bytes = shape[1] * es as u64;
                // A row as read, converted, and in the writer.
                let step = self.block_rows(row_bytes + 2 * out_row as u64);
                let whole = cols.map.is_none() && cols.n_in == cols.n_out;
                let mut out = Vec::new();
                let mut r = 0;
                while r < shape[0] {
                    let k = step.min(shape[0] - r);
                    let raw = ds.read_raw(&[r, 0], &[k, shape[1]])?;
                    out.clear();
                    if whole {
                        conv.push_all(&raw, &mut out);
                    } else {
                        for row in raw.chunks_exact(row_bytes.max(1) as usize).take(k as usize) {
                            let start = out.len();
                            out.extend_from_slice(&fill_row);
                            let mut one = Vec::with_capacity(os);
                            for (c, b) in row.chunks_exact(es).enumerate() {
                                if let Some(t) = cols.target(c as u64) {
                                    one.clear();
                                    conv.push(b, &mut one);
                                    let at = start + t as usize * os;
                                    out[at..at + os].copy_from_slice(&one);
                                }
                            }
                        }
                        if row_bytes == 0 {
                            for _ in 0..k {
                                out.extend_from_slice(&fill_row);
                            }
                        }
                    }
                    sink(&out)?;
                    progress(raw.len() as u64);
                    r += k;
                }
                Ok(())
            }
            Part::Sparse { .. } => Err(Error::invalid("a sparse input in a dense result")),
        }
    }
}

/// Where CSR rows go: `indptr` (from 0), column indices, value bytes.
pub(crate) type RowSink<'s> = dyn FnMut(&[u64], Cols<'_>, &[u8]) -> Result<()> + 's;

/// A block's column indices: widened, or anndata's int32 as stored.
pub(crate) enum Cols<'a> {
    /// Columns widened to u64.
    Wide(&'a [u64]),
    /// anndata's int32 columns as stored (a negative one is the sink's to refuse).
    Stored32(&'a [i32]),
}

/// CSR rows being assembled for one push.
#[derive(Default)]
struct RowBuilder {
    ptr: Vec<u64>,
    idx: Vec<u64>,
    data: Vec<u8>,
    /// The current row's (column, value bytes) before sorting.
    row: Vec<(u64, [u8; 8])>,
}

impl RowBuilder {
    fn clear(&mut self) {
        self.ptr.clear();
        self.ptr.push(0);
        self.idx.clear();
        self.data.clear();
        self.row.clear();
    }

    fn entry(&mut self, col: u64, value: &[u8]) {
        let mut b = [0u8; 8];
        let n = value.len().min(8);
        b[..n].copy_from_slice(&value[..n]);
        self.row.push((col, b));
    }

    fn end_row(&mut self, conv: &Converter, sort: bool) {
        if sort {
            self.row.sort_by_key(|e| e.0);
        }
        let es = conv.in_size();
        for (c, b) in self.row.drain(..) {
            self.idx.push(c);
            conv.push(&b[..es], &mut self.data);
        }
        self.ptr.push(self.idx.len() as u64);
    }
}

fn check_ptr(ptr: &[u64], path: &str) -> Result<()> {
    if ptr.windows(2).any(|w| w[1] < w[0]) {
        return Err(Error::invalid(format!("{path}/indptr: entries decrease")));
    }
    Ok(())
}
