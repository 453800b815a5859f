//! The matrix-like elements that grow with the cells: `X`, `layers`,
//! `raw/X`, `obsm` arrays (rows), and `obsp` (rows and columns).
//!
//! A CSR target gets the source's rows appended to `data`, `indices` and
//! `indptr` (offset by the target's stored entries), whatever the source
//! stores (CSR copied as read, CSC turned into rows, dense rows without
//! their zeros), then its `shape` attribute. A dense target gets the
//! source's rows (a sparse source densified, a block of rows at a time).
//! `obsp` grows on both axes: the old rows keep their entries (a dense one
//! gains zero columns: it is rewritten), the new rows hold the source's
//! `obsp` shifted past the old cells, so the result is block-diagonal as
//! `anndata.concat(..., pairwise=True)` makes it. A CSC `obsp` grows by
//! columns the same way, from a CSC source. Values keep the target's type:
//! the source's must convert without loss.

use super::grow::{little, room, Grower, Growth, Reads};
use crate::anndata::concat::dtype::{result_type, Converter};
use crate::anndata::concat::matrix::{Cols, ColumnMap, Input, Part, Stack};
use crate::anndata::ints::read_ints;
use crate::anndata::Element;
use crate::error::{Error, Result};
use crate::read::{Dtype, File, Values};
use crate::sparse::{detect, Convention, SparseFormat};
use crate::write::{Backing, Writer};

/// Where a matrix's new rows come from.
#[derive(Debug, Clone)]
pub(super) enum Source {
    /// A sparse group; `shape` as its major lines are read (a CSC group
    /// read by columns has its shape swapped and `format` CSR).
    Sparse {
        path: String,
        format: SparseFormat,
        shape: [u64; 2],
        nnz: u64,
    },
    /// A dense dataset.
    Dense {
        path: String,
        shape: Vec<u64>,
        dtype: Dtype,
    },
    /// A field of a record array (anndata ≤ 0.6's `obsm`): `record`-byte
    /// records, the field's elements at `offset`; `shape` is the records'
    /// and then the field's.
    Field {
        path: String,
        offset: usize,
        record: usize,
        dtype: Dtype,
        shape: Vec<u64>,
    },
}

impl Source {
    /// The source's rows as one input of a concat stack (2-D only).
    fn input<'f>(&self, file: &'f File) -> Result<Input<'f>> {
        let (part, n_cols) = match self {
            Source::Sparse {
                path,
                format,
                shape,
                ..
            } => (
                Part::Sparse {
                    path: path.clone(),
                    format: *format,
                    shape: *shape,
                },
                shape[1],
            ),
            Source::Dense { path, shape, .. } => match shape[..] {
                [rows, cols] => (
                    Part::Dense {
                        path: path.clone(),
                        shape: [rows, cols],
                    },
                    cols,
                ),
                _ => return Err(Error::invalid(format!("{path}: expected a 2-D array"))),
            },
            Source::Field { path, .. } => {
                return Err(Error::unsupported(format!(
                    "{path}: a record array's field into a sparse matrix"
                )))
            }
        };
        Ok(Input {
            file,
            part,
            columns: ColumnMap {
                n_in: n_cols,
                n_out: n_cols,
                map: None,
            },
        })
    }

    /// Bytes the source's blocks read (for progress).
    fn bytes(&self, file: &File) -> Result<u64> {
        Ok(match self {
            Source::Sparse { path, nnz, .. } => {
                let d = file.dataset(&format!("{path}/data"))?.dtype().size();
                let i = file.dataset(&format!("{path}/indices"))?.dtype().size();
                nnz.saturating_mul((d + i) as u64)
            }
            Source::Dense { shape, dtype, .. } => shape
                .iter()
                .fold(dtype.size() as u64, |a, &d| a.saturating_mul(d)),
            Source::Field { shape, record, .. } => shape
                .first()
                .map_or(0, |n| n.saturating_mul(*record as u64)),
        })
    }

    /// The type of its values.
    fn dtype(&self, file: &File) -> Result<Dtype> {
        Ok(match self {
            Source::Sparse { path, .. } => file.dataset(&format!("{path}/data"))?.dtype().clone(),
            Source::Dense { dtype, .. } | Source::Field { dtype, .. } => dtype.clone(),
        })
    }

    fn shape(&self) -> Vec<u64> {
        match self {
            Source::Sparse { shape, .. } => shape.to_vec(),
            Source::Dense { shape, .. } | Source::Field { shape, .. } => shape.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Sparse { format, .. } => format!("a {}_matrix", format.as_str()),
            Source::Dense { shape, .. } | Source::Field { shape, .. } => {
                format!("a dense array of shape {shape:?}")
            }
        }
    }
}

/// A sparse target's plan.
#[derive(Debug, Clone)]
pub(super) struct SparseStep {
    /// The element's name (`X`, `layers/counts`, `obsp/distances`).
    pub at: String,
    group: String,
    /// Added to the source's minor indices (`obsp`: the old cells).
    shift: u64,
    /// Minor dimension of the result.
    n_minor: u64,
    old_nnz: u64,
    data: Growth,
    indices: Growth,
    indptr: Growth,
    /// Whether `data`/`indices` know their added length (a dense source
    /// loses its zeros on the way).
    exact: bool,
    shape_attrs: Vec<(String, Dtype)>,
    new_shape: [u64; 2],
    source: Source,
    source_bytes: u64,
}

/// A dense target's plan.
#[derive(Debug, Clone)]
pub(super) struct DenseStep {
    pub at: String,
    growth: Growth,
    /// `obsp`: new rows start with this many zeros (the old cells).
    shift: u64,
    source: Source,
    source_bytes: u64,
}

/// One matrix to grow.
#[derive(Debug, Clone)]
pub(super) enum MatrixStep {
    Sparse(Box<SparseStep>),
    Dense(Box<DenseStep>),
}

/// The largest value an integer type holds.
fn int_max(d: &Dtype) -> Option<u64> {
    match d {
        Dtype::Int { size, signed, .. } => {
            let bits = 8 * u32::from(*size) - u32::from(*signed);
            Some(if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            })
        }
        _ => None,
    }
}

/// Appends `v` to `out` as an integer of (little-endian) `dtype`.
fn put_int(v: u64, dtype: &Dtype, out: &mut Vec<u8>) {
    let size = dtype.size().min(8);
    out.extend_from_slice(&v.to_le_bytes()[..size]);
}

/// Whether values of `from` become `to` without loss: numpy's common type
/// of the two is `to`'s.
pub(super) fn lossless(from: &Dtype, to: &Dtype, at: &str) -> Result<bool> {
    Ok(little(&result_type([to, from], at)?) == little(to))
}

/// Refuses a source type the target's cannot hold.
fn check_type(from: &Dtype, to: &Dtype, at: &str) -> Result<()> {
    if !lossless(from, to, at)? {
        return Err(Error::invalid(format!(
            "{at}: the target stores {}, the source {}, which {} cannot hold without loss",
            to.numpy_str(),
            from.numpy_str(),
            to.numpy_str()
        )));
    }
    Ok(())
}

/// The element `e` of the source, as a [`Source`]; `at` ends with its key
/// (a record array's field).
fn source_of(file: &File, e: &Element, at: &str) -> Result<Source> {
    match e {
        Element::Sparse { path, .. } => {
            let g = file.group(path)?;
            let info = detect(&g)?
                .ok_or_else(|| Error::invalid(format!("{path}: not a sparse matrix")))?;
            let n_major = match info.format {
                SparseFormat::Csr => info.shape[0],
                SparseFormat::Csc => info.shape[1],
            };
            let nnz = read_ints(&file.dataset(&format!("{path}/indptr"))?, n_major, 1)?
                .first()
                .copied()
                .unwrap_or(0);
            Ok(Source::Sparse {
                path: path.clone(),
                format: info.format,
                shape: info.shape,
                nnz,
            })
        }
        Element::Dense { path, shape, .. } => {
            let ds = file.dataset(path)?;
            if let Dtype::Compound { fields, size } = ds.dtype() {
                let key = at.rsplit('/').next().unwrap_or(at);
                let field = fields
                    .iter()
                    .find(|f| f.name == key)
                    .ok_or_else(|| Error::invalid(format!("{path}: no field {key:?}")))?;
                let dtype = match &field.dtype {
                    Dtype::Array { base, .. } => (**base).clone(),
                    other => other.clone(),
                };
                return Ok(Source::Field {
                    path: path.clone(),
                    offset: field.offset,
                    record: *size,
                    dtype,
                    shape: shape.clone(),
                });
            }
            Ok(Source::Dense {
                path: path.clone(),
                shape: shape.clone(),
                dtype: ds.dtype().clone(),
            })
        }
        other => Err(Error::unsupported(format!(
            "{at}: the source's is {other:?}, not a matrix or an array"
        ))),
    }
}

/// What the caller knows of a matrix to grow.
pub(super) struct MatrixSpec<'a> {
    pub at: &'a str,
    pub target: &'a Element,
    pub source: &'a Element,
    pub n_old: u64,
    pub n_new: u64,
    /// `obsp`: rows and columns are cells.
    pub pairwise: bool,
}

/// Plans one matrix: shapes, types and storage checked, nothing written.
pub(super) fn plan_matrix(t: &File, s: &File, spec: &MatrixSpec<'_>) -> Result<MatrixStep> {
    let at = spec.at;
    let source = source_of(s, spec.source, at)?;
    let t_shape = spec.target.shape().unwrap_or_default();
    let s_shape = source.shape();
    if t_shape.first() != Some(&spec.n_old) {
        return Err(Error::invalid(format!(
            "{at}: the target's has shape {t_shape:?}, expected {} rows as its obs has",
            spec.n_old
        )));
    }
    let (want_source, rest) = if spec.pairwise {
        if t_shape != [spec.n_old, spec.n_old] {
            return Err(Error::invalid(format!(
                "{at}: the target's has shape {t_shape:?}, expected ({0}, {0})",
                spec.n_old
            )));
        }
        (vec![spec.n_new, spec.n_new], vec![spec.n_old + spec.n_new])
    } else {
        let mut want = vec![spec.n_new];
        want.extend(&t_shape[1..]);
        (want, t_shape[1..].to_vec())
    };
    if s_shape != want_source {
        return Err(Error::invalid(format!(
            "{at}: expected shape {want_source:?} in the source, found {s_shape:?}"
        )));
    }
    let shift = if spec.pairwise { spec.n_old } else { 0 };
    let source_bytes = source.bytes(s)?;
    match spec.target {
        Element::Sparse { path, .. } => plan_sparse(t, s, spec, path, source, shift, source_bytes)
            .map(|step| MatrixStep::Sparse(Box::new(step))),
        Element::Dense { path, .. } => {
            let ds = t.dataset(path)?;
            let dtype = ds.dtype().clone();
            check_type(&source.dtype(s)?, &dtype, at)?;
            if matches!(source, Source::Sparse { .. }) && rest.len() != 1 {
                return Err(Error::invalid(format!(
                    "{at}: a sparse source for an array of rank {}",
                    t_shape.len()
                )));
            }
            let growth = Growth::plan(&ds, spec.n_old, spec.n_new, dtype, rest)?;
            Ok(MatrixStep::Dense(Box::new(DenseStep {
                at: at.to_string(),
                growth,
                shift,
                source,
                source_bytes,
            })))
        }
        other => Err(Error::unsupported(format!(
            "{at}: appending rows to the target's {other:?}"
        ))),
    }
}

fn plan_sparse(
    t: &File,
    s: &File,
    spec: &MatrixSpec<'_>,
    path: &str,
    source: Source,
    shift: u64,
    source_bytes: u64,
) -> Result<SparseStep> {
    let at = spec.at;
    let g = t.group(path)?;
    let info = detect(&g)?.ok_or_else(|| Error::invalid(format!("{path}: not a sparse matrix")))?;
    if info.convention == Convention::TenX {
        return Err(Error::unsupported(format!(
            "{at}: appending to a 10x matrix (its shape is a dataset)"
        )));
    }
    let source = match (info.format, spec.pairwise, source) {
        (SparseFormat::Csr, _, source) => source,
        (
            SparseFormat::Csc,
            true,
            Source::Sparse {
                path: p,
                format: SparseFormat::Csc,
                shape,
                nnz,
            },
        ) => Source::Sparse {
            // Its columns are the major lines appended.
            path: p,
            format: SparseFormat::Csr,
            shape: [shape[1], shape[0]],
            nnz,
        },
        (SparseFormat::Csc, true, other) => {
            return Err(Error::invalid(format!(
                "{at}: the target stores it as csc_matrix, so its new columns must come from \
                 a csc_matrix; the source has {}",
                other.describe()
            )))
        }
        (SparseFormat::Csc, false, _) => {
            return Err(Error::invalid(format!(
                "{at}: the target stores it as csc_matrix; appending rows to CSC interleaves \
                 them with every column, a rewrite of the whole matrix, which append refuses \
                 (store it as csr_matrix to append cells)"
            )))
        }
    };
    if let Source::Field { path, .. } = &source {
        return Err(Error::unsupported(format!(
            "{at}: the source's is a field of the record array {path}, the target's a sparse matrix"
        )));
    }
    check_type(&source.dtype(s)?, &info.data_dtype, at)?;
    let (n_major, n_minor) = match info.format {
        SparseFormat::Csr => (info.shape[0], info.shape[1]),
        SparseFormat::Csc => (info.shape[1], info.shape[0]),
    };
    let indptr = t.dataset(&format!("{path}/indptr"))?;
    let old_nnz = read_ints(&indptr, n_major, 1)?
        .first()
        .copied()
        .unwrap_or(0);
    let data = t.dataset(&format!("{path}/data"))?;
    let indices = t.dataset(&format!("{path}/indices"))?;
    if data.len() < old_nnz || indices.len() < old_nnz {
        return Err(Error::invalid(format!(
            "{path}: indptr ends at {old_nnz}, past data's {} or indices' {} entries",
            data.len(),
            indices.len()
        )));
    }
    let n_minor_new = if spec.pairwise {
        spec.n_old + spec.n_new
    } else {
        n_minor
    };
    let (added, exact) = match &source {
        Source::Sparse { nnz, .. } => (*nnz, true),
        Source::Dense { shape, .. } | Source::Field { shape, .. } => {
            (shape.iter().fold(1u64, |a, &d| a.saturating_mul(d)), false)
        }
    };
    if int_max(indices.dtype()).is_none_or(|m| n_minor_new.saturating_sub(1) > m) {
        return Err(Error::invalid(format!(
            "{at}: its indices are {}, which cannot hold column {} of the result",
            indices.dtype().numpy_str(),
            n_minor_new.saturating_sub(1)
        )));
    }
    // An indptr whose type cannot hold the new end is widened to int64.
    let end = old_nnz.saturating_add(added);
    let ptr_dtype = match int_max(indptr.dtype()) {
        Some(m) if m >= end => indptr.dtype().clone(),
        Some(_) => Dtype::Int {
            size: 8,
            signed: true,
            order: crate::read::ByteOrder::Little,
        },
        None => {
            return Err(Error::invalid(format!(
                "{path}/indptr: expected integers, found {}",
                indptr.dtype().numpy_str()
            )))
        }
    };
    let grow = |ds: &crate::read::Dataset<'_>, keep: u64, added: u64, dtype: Dtype| {
        Growth::plan(ds, keep, added, dtype, Vec::new())
    };
    let mut shape_attrs = Vec::new();
    for name in ["shape", "h5sparse_shape"] {
        if let Some(a) = g.attribute(name)? {
            shape_attrs.push((name.to_string(), a.dtype().clone()));
        }
    }
    let new_shape = match (info.format, spec.pairwise) {
        (_, true) => [n_minor_new, n_minor_new],
        (_, false) => [spec.n_old + spec.n_new, info.shape[1]],
    };
    Ok(SparseStep {
        at: at.to_string(),
        group: path.to_string(),
        shift,
        n_minor: n_minor_new,
        old_nnz,
        data: grow(&data, old_nnz, added, info.data_dtype.clone())?,
        indices: grow(&indices, old_nnz, added, indices.dtype().clone())?,
        indptr: grow(&indptr, n_major.saturating_add(1), spec.n_new, ptr_dtype)?,
        exact,
        shape_attrs,
        new_shape,
        source,
        source_bytes,
    })
}

impl MatrixStep {
    /// The element's name.
    pub(super) fn at(&self) -> &str {
        match self {
            MatrixStep::Sparse(s) => &s.at,
            MatrixStep::Dense(d) => &d.at,
        }
    }

    /// The datasets rewritten rather than grown in place.
    pub(super) fn rewritten(&self) -> Vec<String> {
        let growths: Vec<&Growth> = match self {
            MatrixStep::Sparse(s) => vec![&s.data, &s.indices, &s.indptr],
            MatrixStep::Dense(d) => vec![&d.growth],
        };
        growths
            .into_iter()
            .filter(|g| g.rewrites())
            .map(|g| g.path.clone())
            .collect()
    }

    /// Bytes read while writing it (for progress).
    pub(super) fn bytes(&self) -> u64 {
        match self {
            MatrixStep::Sparse(s) => [&s.data, &s.indices, &s.indptr]
                .iter()
                .fold(s.source_bytes, |a, g| a.saturating_add(g.copy_bytes())),
            MatrixStep::Dense(d) => d.source_bytes.saturating_add(d.growth.copy_bytes()),
        }
    }

    /// Writes it: old rows copied where rewritten, new rows appended.
    pub(super) fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        match self {
            MatrixStep::Sparse(step) => step.write(w, r, progress),
            MatrixStep::Dense(step) => step.write(w, r, progress),
        }
        .map_err(|e| e.context(self.at()))
    }
}

impl SparseStep {
    fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let (t, s, opts) = (r.old, r.source, r.opts);
        let flush = opts.flush_bytes();
        let block = opts.reading_bytes();
        let mut data = Grower::start(&self.data, w, flush)?;
        let mut indices = Grower::start(&self.indices, w, flush)?;
        let mut indptr = Grower::start(&self.indptr, w, flush)?;
        data.copy_old(w, t, block, progress)?;
        indices.copy_old(w, t, block, progress)?;
        indptr.copy_old(w, t, block, progress)?;

        let bound = self.old_nnz.saturating_add(self.data.added);
        let stack = Stack::single(self.source.input(s)?, self.data.dtype.clone(), bound, opts)?;
        let (idx_dtype, ptr_dtype) = (&self.indices.dtype, &self.indptr.dtype);
        let (shift, n_minor) = (self.shift, self.n_minor);
        let mut last = self.old_nnz;
        let (mut ibuf, mut pbuf) = (Vec::new(), Vec::new());
        let mut sink = |ptr: &[u64], cols: Cols<'_>, vals: &[u8]| -> Result<()> {
            let (base, end) = match (ptr.first(), ptr.last()) {
                (Some(&b), Some(&e)) if e >= b => (b, e),
                _ => return Err(Error::invalid("a block's indptr decreases")),
            };
            let entries = end - base;
            ibuf.clear();
            let mut put = |c: u64| -> Result<()> {
                match c.checked_add(shift) {
                    Some(c) if c < n_minor => put_int(c, idx_dtype, &mut ibuf),
                    _ => {
                        return Err(Error::invalid(format!(
                            "the source's index {c} is out of range for {} columns",
                            n_minor - shift
                        )))
                    }
                }
                Ok(())
            };
            match cols {
                Cols::Wide(c) => c.iter().try_for_each(|&c| put(c))?,
                Cols::Stored32(c) => c.iter().try_for_each(|&c| {
                    let c = u64::try_from(c).map_err(|_| {
                        Error::invalid(format!("the source's index {c} is negative"))
                    })?;
                    put(c)
                })?,
            }
            indices.push(w, &ibuf, entries)?;
            data.push(w, vals, entries)?;
            pbuf.clear();
            let overflow = || Error::invalid("the result's indptr overflows 64 bits");
            for &p in &ptr[1..] {
                let at = last.checked_add(p - base).ok_or_else(overflow)?;
                put_int(at, ptr_dtype, &mut pbuf);
            }
            indptr.push(w, &pbuf, (ptr.len() - 1) as u64)?;
            last = last.checked_add(entries).ok_or_else(overflow)?;
            Ok(())
        };
        stack.rows(&mut sink, progress)?;
        if !self.exact {
            // A dense source's zeros were dropped: the entries are what came.
            data.set_added(last - self.old_nnz);
            indices.set_added(last - self.old_nnz);
        }
        data.finish(w, t)?;
        indices.finish(w, t)?;
        indptr.finish(w, t)?;
        let shape = Values::Int(self.new_shape.iter().map(|&d| d as i64).collect());
        for (name, dtype) in &self.shape_attrs {
            w.set_attr(&self.group, name, dtype, Some(&[2]), &shape)?;
        }
        Ok(())
    }
}

impl DenseStep {
    fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let (t, s, opts) = (r.old, r.source, r.opts);
        let block = opts.reading_bytes();
        let mut g = Grower::start(&self.growth, w, opts.flush_bytes())?;
        g.copy_old(w, t, block, progress)?;
        let dtype = &self.growth.dtype;
        let es = dtype.size();
        let width: u64 = self.growth.rest.iter().product();
        let row_bytes = width as usize * es;
        let lead = self.shift as usize * es;
        match &self.source {
            Source::Dense {
                path,
                shape,
                dtype: from,
            } => {
                let ds = s.dataset(path)?;
                let conv = Converter::new(from, dtype, path)?;
                let in_row = shape[1..]
                    .iter()
                    .fold(from.size() as u64, |a, &d| a.saturating_mul(d));
                // A block as read, converted, and in the writer's buffer.
                let held = in_row.saturating_add((row_bytes as u64).saturating_mul(2));
                let step = (block / held.max(1)).max(1);
                let mut out = Vec::new();
                let mut r = 0;
                while r < shape[0] {
                    let k = step.min(shape[0] - r);
                    let mut start = vec![0u64; shape.len()];
                    start[0] = r;
                    let mut count = shape.clone();
                    count[0] = k;
                    let raw = ds.read_raw(&start, &count)?;
                    room(&mut out, k.saturating_mul(row_bytes as u64))?;
                    if lead == 0 {
                        conv.push_all(&raw, &mut out);
                    } else {
                        for row in raw.chunks_exact(in_row.max(1) as usize).take(k as usize) {
                            out.resize(out.len() + lead, 0);
                            conv.push_all(row, &mut out);
                        }
                    }
                    g.push(w, &out, k)?;
                    progress(raw.len() as u64);
                    r += k;
                }
            }
            Source::Field {
                path,
                offset,
                record,
                dtype: from,
                shape,
            } => {
                let ds = s.dataset(path)?;
                let conv = Converter::new(from, dtype, path)?;
                let field = shape[1..]
                    .iter()
                    .fold(from.size() as u64, |a, &d| a.saturating_mul(d));
                let field = usize::try_from(field).unwrap_or(usize::MAX);
                let held = (*record as u64).saturating_add((row_bytes as u64).saturating_mul(2));
                let step = (block / held.max(1)).max(1);
                let mut out = Vec::new();
                let mut r = 0;
                while r < shape[0] {
                    let k = step.min(shape[0] - r);
                    let raw = ds.read_raw(&[r], &[k])?;
                    room(&mut out, k.saturating_mul(row_bytes as u64))?;
                    for rec in raw.chunks_exact((*record).max(1)) {
                        let bytes =
                            rec.get(*offset..offset.saturating_add(field))
                                .ok_or_else(|| {
                                    Error::invalid(format!("{path}: a field outside its record"))
                                })?;
                        out.resize(out.len() + lead, 0);
                        conv.push_all(bytes, &mut out);
                    }
                    g.push(w, &out, k)?;
                    progress(raw.len() as u64);
                    r += k;
                }
            }
            Source::Sparse { .. } => {
                let stack = Stack::single(self.source.input(s)?, dtype.clone(), 0, opts)?;
                // Dense rows a block of entries becomes, a slice at a time.
                let held = (row_bytes as u64).saturating_mul(2);
                let rows_at_once = (block / held.max(1)).max(1) as usize;
                let shift = self.shift;
                let mut out = Vec::new();
                let mut sink = |ptr: &[u64], cols: Cols<'_>, vals: &[u8]| -> Result<()> {
                    let base = ptr.first().copied().unwrap_or(0);
                    let n = ptr.len().saturating_sub(1);
                    let col = |e: usize| -> Result<u64> {
                        match &cols {
                            Cols::Wide(c) => Ok(c[e]),
                            Cols::Stored32(c) => u64::try_from(c[e]).map_err(|_| {
                                Error::invalid(format!("the source's index {} is negative", c[e]))
                            }),
                        }
                    };
                    let mut r0 = 0;
                    while r0 < n {
                        let r1 = (r0 + rows_at_once).min(n);
                        room(&mut out, ((r1 - r0) * row_bytes) as u64)?;
                        out.resize((r1 - r0) * row_bytes, 0);
                        for r in r0..r1 {
                            for e in (ptr[r] - base) as usize..(ptr[r + 1] - base) as usize {
                                let c = col(e)? + shift;
                                if c >= width {
                                    return Err(Error::invalid(format!(
                                        "the source's index {} is out of range",
                                        c - shift
                                    )));
                                }
                                let at = (r - r0) * row_bytes + c as usize * es;
                                out[at..at + es].copy_from_slice(&vals[e * es..(e + 1) * es]);
                            }
                        }
                        g.push(w, &out, (r1 - r0) as u64)?;
                        r0 = r1;
                    }
                    Ok(())
                };
                stack.rows(&mut sink, progress)?;
            }
        }
        g.finish(w, t)
    }
}
