//! Changing a stored sparse matrix: set values where entries exist, append
//! rows (CSR) or columns (CSC), replace the whole group.

use std::collections::HashMap;

use sprs::{CsMat, CsMatBase, CsMatI, CsMatViewI, SpIndex};

use super::index_type::read_ints;
use super::{write_matrix, IndexType, Sel, SparseDataset, SparseFormat, SparseWriteOptions};
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

/// `m` turned into the storage order of `format`, when it is not in it
/// already (`None`: use `m` as it is).
fn reoriented<T: H5Type, I: SpIndex, Iptr: SpIndex>(
    m: CsMatViewI<'_, T, I, Iptr>,
    format: SparseFormat,
) -> Option<CsMatI<T, I, Iptr>> {
    (m.is_csr() != (format == SparseFormat::Csr)).then(|| m.to_other_storage())
}

/// Sets `X[rows, cols] = values` where every nonzero of `values` lands on an
/// entry that is already stored (stored entries in the selection that
/// `values` leaves empty become 0). Anything else would change the sparsity
/// structure: an [`Error::InvalidArgument`] saying so, before anything is
/// written. The change is one atomic write operation.
///
/// This is the operation behind [`SparseHandle::set`](crate::SparseHandle::set),
/// for a [`Writer`] over a sink of your own.
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
    let flipped = reoriented(values.view(), x.format());
    let v = flipped.as_ref().map_or(values.view(), |f| f.view());
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

/// The largest value an integer `dtype` holds (`None`: not an integer).
fn int_max(dtype: &Dtype) -> Option<u64> {
    match *dtype {
        Dtype::Int { size, signed, .. } => Some(match (size, signed) {
            (8.., true) => i64::MAX as u64,
            (8.., false) => u64::MAX,
            (s, true) => (1u64 << (8 * s - 1)) - 1,
            (s, false) => (1u64 << (8 * s)) - 1,
        }),
        _ => None,
    }
}

/// Appends `vals` to the index dataset at `path`, in its stored integer
/// type. The caller has checked that the largest value fits. int32 and
/// int64 values stored as such (anndata's `indices`) are written from
/// `vals` without a copy.
fn append_ints<B: Backing, I: IndexType>(
    w: &mut Writer<B>,
    path: &str,
    dtype: &Dtype,
    vals: &[I],
) -> Result<()> {
    let Dtype::Int { size, signed, .. } = *dtype else {
        return Err(Error::unsupported(format!(
            "{path}: index dtype {}",
            dtype.numpy_str()
        )));
    };
    match (size, signed) {
        (4, true) => {
            if let Some(v) = I::as_i32(vals) {
                return w.append(path, v);
            }
        }
        (8, true) => {
            if let Some(v) = I::as_i64(vals) {
                return w.append(path, v);
            }
        }
        _ => {}
    }
    macro_rules! conv {
        ($t:ty) => {{
            let v: Vec<$t> = vals.iter().map(|&x| x.index() as $t).collect();
            w.append(path, &v)
        }};
    }
    match (size, signed) {
        (1, true) => conv!(i8),
        (1, false) => conv!(u8),
        (2, true) => conv!(i16),
        (2, false) => conv!(u16),
        (4, true) => conv!(i32),
        (4, false) => conv!(u32),
        (8, true) => conv!(i64),
        (8, false) => conv!(u64),
        _ => Err(Error::unsupported(format!(
            "{path}: index dtype {}",
            dtype.numpy_str()
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
///
/// This is the operation behind [`SparseHandle::append`](crate::SparseHandle::append),
/// for a [`Writer`] over a sink of your own.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::sparse::{append, write_matrix, SparseDataset, SparseWriteOptions};
/// use h5sparse::write::Writer;
///
/// let m = sprs::CsMat::new((2, 3), vec![0, 1, 2], vec![1, 2], vec![1i64, 2]);
/// let mut w = Writer::create_in(MemSink::default())?;
/// write_matrix(&mut w, "/X", m.view(), &SparseWriteOptions::default())?;
/// append(&mut w, "/X", &m)?;
/// append(&mut w, "/X", &m.to_csc())?;                      // rows all the same
/// let f = w.reader()?;
/// let x = SparseDataset::open(&f, "/X")?;
/// assert_eq!((x.shape(), x.get::<i64>(5, 2)?), ([6, 3], 2));
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn append<B, T, I, Iptr, IpS, IS, DS>(
    w: &mut Writer<B>,
    path: &str,
    m: &CsMatBase<T, I, IpS, IS, DS, Iptr>,
) -> Result<()>
where
    B: Backing,
    T: H5Type,
    I: IndexType,
    Iptr: IndexType,
    IpS: std::ops::Deref<Target = [Iptr]>,
    IS: std::ops::Deref<Target = [I]>,
    DS: std::ops::Deref<Target = [T]>,
{
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
    if matches!(x.convention(), super::Convention::TenX) {
        return Err(Error::unsupported(
            "appending to 10x matrices (their shape is a dataset)",
        ));
    }
    let flipped = reoriented(m.view(), x.format());
    let m = flipped.as_ref().map_or(m.view(), |f| f.view());
    let n_major = if csr { nr } else { nc };
    let last = read_ints(x.indptr(), &[(n_major, 1)])?[0];
    let data_len = x.nnz();
    // Starting at 0 (an outer slice keeps its parent's offsets).
    let ptr = m.indptr();
    let ptr = ptr.to_proper();
    let (data, indices) = (m.data(), m.indices());
    let (idx_dtype, ptr_dtype) = (x.indices().dtype().clone(), x.indptr().dtype().clone());
    let has_h5sparse = x.group().attribute("h5sparse_shape")?.is_some();
    let has_anndata = x.group().attribute("shape")?.is_some();
    // Check that every new index fits before writing anything: the largest
    // minor index, and indptr's new end.
    let max_index = indices.iter().map(|i| i.index() as u64).max().unwrap_or(0);
    let new_end = last
        .checked_add(data.len() as u64)
        .ok_or_else(|| Error::invalid(format!("{path}: indptr overflows 64 bits")))?;
    for (v, dt, what) in [
        (new_end, &ptr_dtype, "indptr"),
        (max_index, &idx_dtype, "indices"),
    ] {
        if int_max(dt).is_some_and(|max| v > max) {
            return Err(Error::invalid(format!(
                "appending would put {v} in {path}/{what}, past the largest value its {} can hold; \
                 rewrite the matrix with int64 {what} (write_matrix with int64_indices) first",
                dt.numpy_str()
            )));
        }
    }
    drop(x);
    drop(file);
    // One transaction: a reader sees the old matrix or the whole new one,
    // never data/indices/indptr/shape from different moments.
    w.transaction(|w| {
        if data_len != last {
            // Entries past indptr's end (an interrupted append): overwrite them.
            w.resize(&format!("{path}/data"), &[last])?;
            w.resize(&format!("{path}/indices"), &[last])?;
        }
        w.append(&format!("{path}/data"), data)?;
        append_ints(w, &format!("{path}/indices"), &idx_dtype, indices)?;
        // indptr[1..], shifted to continue from the old end.
        let tail: Vec<u64> = ptr[1..].iter().map(|&p| last + p.index() as u64).collect();
        append_ints(w, &format!("{path}/indptr"), &ptr_dtype, &tail)?;
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
        Ok(())
    })
}

/// Replaces the sparse matrix at `path` by `m` (e.g. CSR by CSC): the new
/// group is written under a temporary name and swapped in with one
/// publishing write, so a crash shows the old matrix or the new one.
///
/// This is the operation behind [`SparseHandle::replace`](crate::SparseHandle::replace),
/// for a [`Writer`] over a sink of your own.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::sparse::{replace, write_matrix, SparseDataset, SparseFormat, SparseWriteOptions};
/// use h5sparse::write::Writer;
///
/// let m = sprs::CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![5i64, 6]);
/// let mut w = Writer::create_in(MemSink::default())?;
/// write_matrix(&mut w, "/X", m.view(), &SparseWriteOptions::default())?;
/// replace(&mut w, "/X", m.to_csc().view(), &SparseWriteOptions::default())?;
/// let f = w.reader()?;
/// let x = SparseDataset::open(&f, "/X")?;
/// assert_eq!((x.format(), x.get::<i64>(1, 0)?), (SparseFormat::Csc, 6));
/// assert_eq!(f.root()?.links()?.len(), 1);                 // no temporary left behind
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn replace<B: Backing, T: H5Type, I: IndexType, Iptr: IndexType>(
    w: &mut Writer<B>,
    path: &str,
    m: CsMatViewI<'_, T, I, Iptr>,
    opts: &SparseWriteOptions,
) -> Result<()> {
    let trimmed = path.trim_end_matches('/');
    let (parent, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    let tmp = format!("{parent}/.{name}.h5sparse-replace");
    w.transaction(|w| {
        let _ = w.unlink(&tmp); // a leftover from an interrupted replace
        write_matrix(w, &tmp, m, opts)?;
        w.replace_member(path, &tmp)
    })
}
