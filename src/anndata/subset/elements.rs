//! Writing each element of a subset: matrices and arrays streamed through
//! the engines, the rest (dataframes in `obsm`, legacy record fields,
//! string arrays, `uns`) through memory or copied as stored.

use super::dense::{streamable, DenseSink, DenseSubset};
use super::frame::prune_categories;
use super::sparse::{SparseSink, SparseSubset};
use super::Take;
use crate::anndata::write::{DenseStream, H5adWriter, IndexWidth, SparseStream};
use crate::anndata::{AnnData, ColumnData, DataFrame, Element};
use crate::error::{Error, Result};
use crate::read::{Dtype, File, H5Type, Value, Values};
use crate::sparse::IndexType;

/// Every position, for the axes a matrix keeps whole (raw.X's columns).
static ALL: Take = Take::All;

impl SparseSink for SparseStream<'_> {
    fn push<T: H5Type, I: IndexType + H5Type>(
        &mut self,
        indptr: &[I],
        indices: &[I],
        data: &[T],
    ) -> Result<()> {
        SparseStream::push(self, indptr, indices, data)
    }
}

impl DenseSink for DenseStream<'_> {
    fn push_raw(&mut self, rows: &[u8]) -> Result<()> {
        DenseStream::push_raw(self, rows)
    }
}

/// Writes the elements of one subset, counting the bytes read.
pub(super) struct Copier<'a> {
    h5: &'a crate::H5File,
    file: &'a File,
    block_bytes: usize,
    progress: &'a mut dyn FnMut(u64, u64),
    done: u64,
    total: u64,
}

impl<'a> Copier<'a> {
    pub(super) fn new(
        h5: &'a crate::H5File,
        file: &'a File,
        block_bytes: usize,
        progress: &'a mut dyn FnMut(u64, u64),
    ) -> Copier<'a> {
        Copier {
            h5,
            file,
            block_bytes,
            progress,
            done: 0,
            total: 0,
        }
    }

    /// Adds up the bytes every streamed matrix and array will read, for
    /// the progress total (sparse matrices from their indptr).
    pub(super) fn plan_total(&mut self, input: &AnnData, obs: &Take, var: &Take) -> Result<()> {
        let mut total = 0u64;
        let mut add = |e: &Element, rows: &Take, cols: &Take| -> Result<()> {
            total = total.saturating_add(match e {
                Element::Sparse { path, .. } => {
                    let x = input.file().sparse(path)?;
                    SparseSubset::plan(x, rows, cols, self.block_bytes)?.read_bytes()
                }
                Element::Dense { shape, dtype, .. } => {
                    let rows_out = rows.len(shape.first().copied().unwrap_or(0));
                    let row = shape
                        .iter()
                        .skip(1)
                        .try_fold(1u64, |a, &d| a.checked_mul(d));
                    row.and_then(|r| r.checked_mul(rows_out))
                        .and_then(|b| b.checked_mul(numpy_size(dtype)))
                        .unwrap_or(u64::MAX)
                }
                _ => 0,
            });
            Ok(())
        };
        if let Some(x) = input.x() {
            add(x, obs, var)?;
        }
        for (_, e) in input.layers() {
            add(e, obs, var)?;
        }
        for (_, e) in input.obsm() {
            add(e, obs, &ALL)?;
        }
        for (_, e) in input.varm() {
            add(e, var, &ALL)?;
        }
        for (_, e) in input.obsp() {
            add(e, obs, obs)?;
        }
        for (_, e) in input.varp() {
            add(e, var, var)?;
        }
        if let Some(x) = input.raw().and_then(|r| r.x.as_ref()) {
            add(x, obs, &ALL)?;
        }
        self.total = total;
        Ok(())
    }

    /// `bytes` more read: tells the progress callback.
    fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        (self.progress)(self.done, self.total.max(self.done));
    }

    /// `e[rows]` or `e[rows][:, cols]` (X, layers, obsp, varp, raw.X) at
    /// `dst`.
    pub(super) fn element(
        &mut self,
        w: &mut H5adWriter,
        e: &Element,
        dst: &str,
        rows: &Take,
        cols: Option<&Take>,
    ) -> Result<()> {
        match e {
            Element::Sparse { path, .. } => {
                let x = self.h5.sparse(path)?;
                let plan = SparseSubset::plan(x, rows, cols.unwrap_or(&ALL), self.block_bytes)?;
                let width = if plan.wide_index() {
                    IndexWidth::I64
                } else {
                    IndexWidth::I32
                };
                let mut s = w.sparse(dst, plan.format(), plan.shape(), plan.dtype(), width)?;
                plan.run(&mut s, &mut |b| self.advance(b))?;
                s.finish()
            }
            Element::Dense { path, .. } => self.dense(w, path, dst, rows, cols),
            Element::DataFrame { path } if cols.is_none() => {
                let df = DataFrame::open(self.file, path, None)?;
                let mut data = df.to_data(self.file)?.take(&positions(rows, df.len())?)?;
                // anndata's view of a dataframe drops unused categories too
                // (`as_view` of a DataFrame), with no palettes to follow.
                for (_, col) in &mut data.columns {
                    let whole = std::mem::replace(col, ColumnData::Values(Values::Int(Vec::new())));
                    *col = prune_categories(whole)?.0;
                }
                w.write_dataframe(dst, &data)
            }
            other => Err(Error::unsupported(format!(
                "{}: subsetting an element of this kind ({other:?})",
                other.path()
            ))),
        }
    }

    /// An `obsm`/`varm` entry `key`: rows only; anndata ≤ 0.6 kept these
    /// as fields of one record array.
    pub(super) fn axis_element(
        &mut self,
        w: &mut H5adWriter,
        e: &Element,
        key: &str,
        dst: &str,
        rows: &Take,
    ) -> Result<()> {
        if let Element::Dense { path, .. } = e {
            let ds = self.file.dataset(path)?;
            if let Dtype::Compound { fields, .. } = ds.dtype() {
                let field = fields
                    .iter()
                    .find(|f| f.name == key)
                    .ok_or_else(|| Error::invalid(format!("{path} has no field {key:?}")))?;
                let (base, dims) = match &field.dtype {
                    Dtype::Array { dims, base } => ((**base).clone(), dims.clone()),
                    other => (other.clone(), Vec::new()),
                };
                let records = match ds.values()? {
                    Values::Nested(r) => r,
                    _ => return Err(Error::invalid(format!("{path}: expected records"))),
                };
                let mut flat = Vec::new();
                let n = records.len() as u64;
                for p in positions(rows, n)? {
                    let v = records[p as usize].field(key).ok_or_else(|| {
                        Error::invalid(format!("{path}: a record lacks field {key:?}"))
                    })?;
                    flatten(v, &mut flat);
                }
                let mut shape = vec![rows.len(n)];
                shape.extend(dims);
                return w.write_array(dst, &base, &shape, &values_of(flat, path)?);
            }
        }
        self.element(w, e, dst, rows, None)
    }

    /// A dense array: streamed when its elements are plain bytes, through
    /// memory otherwise (strings).
    fn dense(
        &mut self,
        w: &mut H5adWriter,
        path: &str,
        dst: &str,
        rows: &Take,
        cols: Option<&Take>,
    ) -> Result<()> {
        let ds = self.file.dataset(path)?;
        if streamable(ds.dtype()) && !ds.shape().is_some_and(|s| s.is_empty()) {
            let plan = DenseSubset::plan(self.file, path, rows, cols, self.block_bytes)?;
            let mut s = w.dense(dst, &plan.shape(), &plan.dtype())?;
            let file = self.file;
            plan.run(file, &mut s, &mut |b| self.advance(b))?;
            return s.finish();
        }
        let shape = ds.shape().unwrap_or(&[]).to_vec();
        if shape.len() != 1 || cols.is_some() {
            return Err(Error::unsupported(format!(
                "{path}: subsetting a {}-D array of {}",
                shape.len(),
                ds.dtype().numpy_str()
            )));
        }
        let values = ColumnData::Values(ds.values()?).take(&positions(rows, shape[0])?)?;
        let ColumnData::Values(values) = values else {
            unreachable!("take keeps the kind")
        };
        w.write_array(dst, ds.dtype(), &[values.len() as u64], &values)
    }

    /// `uns[key]` after its categories lost some: `colors` in place of the
    /// stored palette at `e`.
    pub(super) fn palette(
        &mut self,
        w: &mut H5adWriter,
        e: &Element,
        dst: &str,
        colors: &Values,
    ) -> Result<()> {
        let dtype = self.file.dataset(e.path())?.dtype().clone();
        w.write_array(dst, &dtype, &[colors.len() as u64], colors)
    }

    /// An element kept whole (`uns`, `raw/varm`): copied, in the encoding
    /// anndata 0.12 gives what it reads (the writer's `copy_from` rewrites
    /// what older anndata wrote).
    pub(super) fn uns(&mut self, w: &mut H5adWriter, src: &str, dst: &str) -> Result<()> {
        w.copy_from(self.file, src, dst)
    }
}

/// Every position a [`Take`] keeps, as a list.
pub(super) fn positions(take: &Take, n: u64) -> Result<Vec<u64>> {
    Ok(match take {
        Take::All => {
            let mut v = crate::buf::try_with_capacity(n as usize, "positions")?;
            v.extend(0..n);
            v
        }
        Take::Indices(v) => v.clone(),
    })
}

/// The byte size of numpy's dtype string (`<f4` → 4), 8 when unknown.
fn numpy_size(dtype: &str) -> u64 {
    dtype
        .trim_start_matches(['<', '>', '|', '='])
        .get(1..)
        .and_then(|n| n.parse().ok())
        .unwrap_or(8)
}

/// The scalars of `v` (nested lists flattened) appended to `out`.
fn flatten(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::List(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other.clone()),
    }
}

/// Scalars of one kind as [`Values`].
fn values_of(items: Vec<Value>, path: &str) -> Result<Values> {
    let mut ints = Vec::new();
    let mut uints = Vec::new();
    let mut floats = Vec::new();
    let mut bools = Vec::new();
    for v in &items {
        match v {
            Value::Int(x) => ints.push(*x),
            Value::UInt(x) => uints.push(*x),
            Value::Float(x) => floats.push(*x),
            Value::Bool(x) => bools.push(*x),
            _ => {
                return Err(Error::unsupported(format!(
                    "{path}: a record field of {v:?}"
                )))
            }
        }
    }
    let n = items.len();
    Ok(if floats.len() == n {
        Values::Float(floats)
    } else if ints.len() == n {
        Values::Int(ints)
    } else if uints.len() == n {
        Values::UInt(uints)
    } else if bools.len() == n {
        Values::Bool(bools)
    } else {
        return Err(Error::unsupported(format!(
            "{path}: a record field of mixed kinds"
        )));
    })
}
