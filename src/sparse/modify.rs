//! Changing a stored sparse matrix: set values where entries exist, append
//! rows (CSR) or columns (CSC), replace the whole group.

use std::collections::HashMap;

use std::borrow::Cow;

use sprs::{CsMat, CsMatI, CsMatView, SpIndex};

use super::dataset::read_ints;
use super::{write_matrix, Sel, SparseDataset, SparseFormat, SparseWriteOptions};
use crate::error::{Error, Result};
use crate::read::{Dtype, H5Type};
use crate::write::{Backing, Writer};

fn is_zero<T: H5Type>(v: &T) -> bool {
    bytemuck::bytes_of(v).iter().all(|&b| b == 0)
}

fn check_dtype<T: H5Type>(x: &SparseDataset<'_>) -> Result<()> {
    if T::matches(x.dtype()) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{} holds {}, cannot write {}",
            x.group().path(),
            x.dtype().numpy_str(),
            std::any::type_name::<T>()
        )))
    }
}

/// `m` in the stored orientation.
/// `m` in the storage order of `format`: borrowed when it already is.
fn oriented<T: H5Type, I: SpIndex, Iptr: SpIndex>(
    m: &CsMatI<T, I, Iptr>,
    format: SparseFormat,
) -> Cow<'_, CsMatI<T, I, Iptr>> {
    let want_csr = format == SparseFormat::Csr;
    if m.is_csr() == want_csr {
        Cow::Borrowed(m)
    } else {
        Cow::Owned(m.to_other_storage())
    }
}

/// Sets `X[rows, cols] = values` where every nonzero of `values` lands on an
/// entry that is already stored (stored entries in the selection that
/// `values` leaves empty become 0). Anything else would change the sparsity
/// structure: an [`Error::InvalidArgument`] saying so, before anything is
/// written. The change is one atomic write operation.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::sparse::{set, write_matrix, Sel, SparseDataset, SparseWriteOptions};
/// use h5sparse::write::Writer;
/// let m = sprs::CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![5i64, 6]);
/// let mut w = Writer::create_in(MemSink::default())?;
/// write_matrix(&mut w, "/X", m.view(), &SparseWriteOptions::default())?;
/// set(&mut w, "/X", &Sel::Index(0), &Sel::Index(1), &sprs::CsMat::new((1, 1), vec![0, 1], vec![0], vec![9i64]))?;
/// let err = set(&mut w, "/X", &Sel::Index(0), &Sel::Index(0), &sprs::CsMat::new((1, 1), vec![0, 1], vec![0], vec![1i64]));
/// assert!(err.unwrap_err().to_string().contains("sparsity structure"));
/// let f = w.reader()?;
/// assert_eq!(SparseDataset::open(&f, "/X")?.get::<i64>(0, 1)?, 9);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn set<B: Backing, T: H5Type>(
    w: &mut Writer<B>,
    path: &str,
    rows: &Sel,
    cols: &Sel,
    values: &CsMat<T>,
) -> Result<()> {
    let file = w.reader()?;
    let x = SparseDataset::open(&file, path)?;
    check_dtype::<T>(&x)?;
    let [nr, nc] = x.shape();
    let ri = rows.resolve(nr)?;
    let ci = cols.resolve(nc)?;
    if values.shape() != (ri.len(), ci.len()) {
        return Err(Error::invalid(format!(
            "values have shape {:?}, the selection is ({}, {})",
            values.shape(),
            ri.len(),
            ci.len()
        )));
    }
    let csr = x.format() == SparseFormat::Csr;
    let (majors, minors) = if csr { (&ri, &ci) } else { (&ci, &ri) };
    let v = oriented(values, x.format());
    // Where each minor index sits in the selection (the last repeat wins).
    let mut minor_pos: HashMap<u64, usize> = HashMap::with_capacity(minors.len());
    for (b, &c) in minors.iter().enumerate() {
        minor_pos.insert(c, b);
    }
    let (bounds, runs) = x.major_runs(majors)?;
    let stored = read_ints(x.indices(), &runs)?;
    let mut points: Vec<(u64, T)> = Vec::new();
    let mut at = 0usize;
    for (a, &(lo, hi)) in bounds.iter().enumerate() {
        let len = (hi - lo) as usize;
        let idx = &stored[at..at + len];
        at += len;
        let row_vals: HashMap<usize, T> = match v.outer_view(a) {
            Some(view) => view.iter().map(|(b, val)| (b, *val)).collect(),
            None => HashMap::new(),
        };
        // Every nonzero of the new values must hit a stored entry.
        let present: std::collections::HashSet<u64> = idx.iter().copied().collect();
        for (&b, val) in &row_vals {
            if !is_zero(val) && !present.contains(&minors[b]) {
                let (r, c) = if csr {
                    (majors[a], minors[b])
                } else {
                    (minors[b], majors[a])
                };
                return Err(Error::invalid(format!(
                    "setting ({r}, {c}) would change the sparsity structure of {path}: no entry is stored there"
                )));
            }
        }
        for (k, &col) in idx.iter().enumerate() {
            if let Some(&b) = minor_pos.get(&col) {
                let new = row_vals.get(&b).copied().unwrap_or_else(T::zeroed);
                points.push((lo + k as u64, new));
            }
        }
    }
    if points.is_empty() {
        return Ok(());
    }
    drop(x);
    drop(file);
    w.write_points(&format!("{path}/data"), &points)
}

/// Appends the integer values `vals` to the index dataset at `path`,
/// converting to its stored integer type.
fn append_ints<B: Backing>(
    w: &mut Writer<B>,
    path: &str,
    dtype: &Dtype,
    vals: &[u64],
    what: &str,
) -> Result<()> {
    macro_rules! conv {
        ($t:ty) => {{
            let v = vals
                .iter()
                .map(|&x| {
                    <$t>::try_from(x).map_err(|_| {
                        Error::invalid(format!(
                            "{what} value {x} does not fit {path}'s {} (it would overflow; rewrite the matrix with int64 {what}, e.g. write_matrix with int64_indices)",
                            dtype.numpy_str()
                        ))
                    })
                })
                .collect::<Result<Vec<$t>>>()?;
            w.append(path, &v)
        }};
    }
    match dtype {
        Dtype::Int {
            size: 1,
            signed: true,
            ..
        } => conv!(i8),
        Dtype::Int {
            size: 1,
            signed: false,
            ..
        } => conv!(u8),
        Dtype::Int {
            size: 2,
            signed: true,
            ..
        } => conv!(i16),
        Dtype::Int {
            size: 2,
            signed: false,
            ..
        } => conv!(u16),
        Dtype::Int {
            size: 4,
            signed: true,
            ..
        } => conv!(i32),
        Dtype::Int {
            size: 4,
            signed: false,
            ..
        } => conv!(u32),
        Dtype::Int {
            size: 8,
            signed: true,
            ..
        } => conv!(i64),
        Dtype::Int {
            size: 8,
            signed: false,
            ..
        } => conv!(u64),
        other => Err(Error::unsupported(format!(
            "{path}: index dtype {}",
            other.numpy_str()
        ))),
    }
}

/// Appends rows (CSR storage) or columns (CSC storage) of `m`; the other
/// dimension must match.
///
/// Index overflow is refused, not promoted: when an int32 `indptr` would
/// pass 2^31−1 stored values, the append fails with an error before
/// anything is written, and the matrix can be rewritten with int64 indices.
/// The steps (data, indices, indptr, then the shape) are each atomic and
/// ordered so that a crash leaves the old matrix readable.
pub fn append<B: Backing, T: H5Type, I: SpIndex, Iptr: SpIndex>(
    w: &mut Writer<B>,
    path: &str,
    m: &CsMatI<T, I, Iptr>,
) -> Result<()> {
    let file = w.reader()?;
    let x = SparseDataset::open(&file, path)?;
    check_dtype::<T>(&x)?;
    let [nr, nc] = x.shape();
    let csr = x.format() == SparseFormat::Csr;
    let (rows, cols) = m.shape();
    if csr && cols as u64 != nc {
        return Err(Error::invalid(format!(
            "appending rows of {cols} columns to a matrix of {nc} columns"
        )));
    }
    if !csr && rows as u64 != nr {
        return Err(Error::invalid(format!(
            "appending columns of {rows} rows to a matrix of {nr} rows"
        )));
    }
    let m = oriented(m, x.format());
    let n_major = if csr { nr } else { nc };
    let last = read_ints(x.indptr(), &[(n_major, 1)])?[0];
    let data_len = x.nnz();
    let indptr: Vec<u64> = m.indptr().raw_storage()[1..]
        .iter()
        .map(|&p| last + p.index() as u64)
        .collect();
    let indices: Vec<u64> = m.indices().iter().map(|&i| i.index() as u64).collect();
    let (idx_dtype, ptr_dtype) = (x.indices().dtype().clone(), x.indptr().dtype().clone());
    let has_h5sparse = x.group().attribute("h5sparse_shape")?.is_some();
    let has_anndata = x.group().attribute("shape")?.is_some();
    let shape_ds = matches!(x.convention(), super::Convention::TenX);
    // Check that every new index fits before writing anything.
    for (vals, dt, what) in [
        (&indptr, &ptr_dtype, "indptr"),
        (&indices, &idx_dtype, "indices"),
    ] {
        if let Dtype::Int { size, signed, .. } = dt {
            let max = if *size >= 8 {
                if *signed {
                    i64::MAX as u64
                } else {
                    u64::MAX
                }
            } else if *signed {
                (1u64 << (8 * size - 1)) - 1
            } else {
                (1u64 << (8 * size)) - 1
            };
            if let Some(v) = vals.iter().find(|&&v| v > max) {
                return Err(Error::invalid(format!(
                    "appending would put {v} in {path}/{what}, past the largest value its {} can hold; \
                     rewrite the matrix with int64 {what} (write_matrix with int64_indices) first",
                    dt.numpy_str()
                )));
            }
        }
    }
    drop(x);
    drop(file);
    if data_len != last {
        // Entries past indptr's end (an interrupted append): overwrite them.
        w.resize(&format!("{path}/data"), &[last])?;
        w.resize(&format!("{path}/indices"), &[last])?;
    }
    w.append(&format!("{path}/data"), m.data())?;
    append_ints(
        w,
        &format!("{path}/indices"),
        &idx_dtype,
        &indices,
        "indices",
    )?;
    append_ints(w, &format!("{path}/indptr"), &ptr_dtype, &indptr, "indptr")?;
    let new_shape = if csr {
        [(nr + rows as u64) as i64, nc as i64]
    } else {
        [nr as i64, (nc + cols as u64) as i64]
    };
    if has_h5sparse {
        w.set_attr_array(path, "h5sparse_shape", &new_shape)?;
    }
    if has_anndata {
        w.set_attr_array(path, "shape", &new_shape)?;
    }
    if shape_ds {
        return Err(Error::unsupported(
            "appending to 10x matrices (their shape is a dataset)",
        ));
    }
    Ok(())
}

/// Replaces the sparse matrix at `path` by `m` (e.g. CSR by CSC): the new
/// group is written under a temporary name and swapped in with one
/// publishing write, so a crash shows the old matrix or the new one.
pub fn replace<B: Backing, T: H5Type>(
    w: &mut Writer<B>,
    path: &str,
    m: CsMatView<'_, T>,
    opts: &SparseWriteOptions,
) -> Result<()> {
    let trimmed = path.trim_end_matches('/');
    let (parent, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    let tmp = format!("{parent}/.{name}.h5sparse-replace");
    let _ = w.unlink(&tmp); // a leftover from an interrupted replace
    write_matrix(w, &tmp, m, opts)?;
    w.replace_member(path, &tmp)
}
