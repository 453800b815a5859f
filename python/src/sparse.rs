//! `NativeSparse`: a sparse matrix in a file (`h5sparse::SparseHandle`).

use std::collections::BTreeMap;

use h5sparse::sparse::{Sel, SparseDataset, SparseFormat, SparseWriteOptions};
use h5sparse::{H5Type, SparseHandle};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use sprs::{CsMatBase, CsMatI};

use crate::convert::{err, owned, sel, Elem, IntoPy, Plain};
use crate::with_elem;

/// A CSR/CSC view over borrowed slices, checked (sorted indices within each
/// row, in bounds, monotone `indptr`), so a bad matrix is a `ValueError`
/// before anything is written.
pub type View<'a, T, I> = CsMatBase<T, I, &'a [I], &'a [I], &'a [T], I>;

pub fn view<'a, T: H5Type, I: h5sparse::sparse::IndexType>(
    format: &str,
    shape: (usize, usize),
    indptr: &'a [I],
    indices: &'a [I],
    data: &'a [T],
) -> PyResult<View<'a, T, I>> {
    let m = match format {
        "csr" => CsMatBase::try_new(shape, indptr, indices, data),
        "csc" => CsMatBase::try_new_csc(shape, indptr, indices, data),
        other => {
            return Err(PyValueError::new_err(format!(
                "format {other:?}: expected 'csr' or 'csc'"
            )))
        }
    };
    m.map_err(|(_, _, _, e)| {
        PyValueError::new_err(format!(
            "not a valid {format} matrix of shape {shape:?}: {e}"
        ))
    })
}

/// The write options Python passes as keywords.
pub fn write_options(gzip: Option<u32>, chunk_len: Option<u64>, int64: bool) -> SparseWriteOptions {
    let mut opts = SparseWriteOptions::default();
    if let Some(level) = gzip {
        opts = opts.gzip(level);
    }
    if let Some(c) = chunk_len {
        opts = opts.chunk_len(c);
    }
    if int64 {
        opts = opts.int64_indices();
    }
    opts
}

/// Is this index array int64 (else it must be int32)?
pub fn index_is_i64(indices: &Bound<'_, PyAny>, indptr: &Bound<'_, PyAny>) -> PyResult<bool> {
    let kind = |a: &Bound<'_, PyAny>| -> PyResult<String> {
        a.getattr("dtype")?.getattr("str")?.extract::<String>()
    };
    match (kind(indices)?.as_str(), kind(indptr)?.as_str()) {
        ("<i8", "<i8") => Ok(true),
        ("<i4", "<i4") => Ok(false),
        (a, b) => Err(PyValueError::new_err(format!(
            "indices and indptr must both be int32 or both int64, got {a} and {b}"
        ))),
    }
}

/// Binds `$m` to a checked sparse view of the Python arrays (data of numpy
/// dtype `$dtype`/`$kind`, int32 or int64 indices) and evaluates `$body`.
#[macro_export]
macro_rules! matrix_args {
    ($format:expr, $shape:expr, $data:expr, $indices:expr, $indptr:expr, $dtype:expr, $kind:expr, |$m:ident| $body:expr) => {{
        let elem = $crate::convert::Elem::from_numpy($dtype, $kind)?;
        let wide = $crate::sparse::index_is_i64($indices, $indptr)?;
        $crate::with_elem!(elem, T => {
            let d = $crate::convert::array::<T>($data, "data")?;
            let data: &[T] = $crate::convert::borrow::<T>(&d)?;
            if wide {
                let ix = $crate::convert::array::<i64>($indices, "indices")?;
                let ip = $crate::convert::array::<i64>($indptr, "indptr")?;
                let (ix, ip) = ($crate::convert::borrow::<i64>(&ix)?, $crate::convert::borrow::<i64>(&ip)?);
                let $m = $crate::sparse::view($format, $shape, ip, ix, data)?;
                $body
            } else {
                let ix = $crate::convert::array::<i32>($indices, "indices")?;
                let ip = $crate::convert::array::<i32>($indptr, "indptr")?;
                let (ix, ip) = ($crate::convert::borrow::<i32>(&ix)?, $crate::convert::borrow::<i32>(&ip)?);
                let $m = $crate::sparse::view($format, $shape, ip, ix, data)?;
                $body
            }
        })
    }};
}

/// A sparse matrix stored in a file: reads return the three arrays of the
/// result in the stored orientation, owned by numpy without a copy.
#[pyclass(frozen, module = "h5sparse_rs._native")]
pub struct NativeSparse {
    pub(crate) h: SparseHandle,
}

type Arrays<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    (usize, usize),
);

fn raw<'py, T, I>(py: Python<'py>, m: CsMatI<T, I>) -> Arrays<'py>
where
    T: Plain,
    I: Plain + h5sparse::sparse::IndexType,
{
    let shape = m.shape();
    let (indptr, indices, data) = m.into_raw_storage();
    (
        owned(py, data),
        owned(py, indices),
        owned(py, indptr),
        shape,
    )
}

/// How many times a selection can repeat an index at most (for the
/// int32-or-int64 choice of the result's indices).
fn repeats(s: &Sel, n: u64) -> (u64, u64) {
    match s {
        Sel::Indices(v) => {
            let len = v.len() as u64;
            (len, len.div_ceil(n.max(1)).max(1))
        }
        _ => (n, 1),
    }
}

/// The distinct values of `v`, sorted.
fn distinct(v: &[i64]) -> Vec<i64> {
    let mut u = v.to_vec();
    u.sort_unstable();
    u.dedup();
    u
}

/// `NativeSparse::set_points`: reads the block of the points' distinct rows
/// and columns, puts the points' values into it, and sets the block back,
/// all in one transaction (so nothing else writes in between).
fn set_points<T: H5Type>(
    h: &SparseHandle,
    rows: &[i64],
    cols: &[i64],
    values: &[T],
) -> h5sparse::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (ru, cu) = (distinct(rows), distinct(cols));
    let at = |u: &[i64], i: i64| u.binary_search(&i).unwrap_or_default();
    let path = h.path().to_string();
    let (rsel, csel) = (Sel::Indices(ru.clone()), Sel::Indices(cu.clone()));
    h.file().transaction(|w| {
        let block: sprs::CsMat<T> = {
            let file = w.reader()?;
            SparseDataset::open(&file, &path)?.read::<T>(&rsel, &csel)?
        };
        // The block's entries, then the points (later ones win), by position.
        let mut cells: BTreeMap<(usize, usize), T> = BTreeMap::new();
        for (&val, ij) in block.iter() {
            cells.insert(ij, val); // (row, col) whatever the storage
        }
        for ((&i, &j), &val) in rows.iter().zip(cols).zip(values) {
            cells.insert((at(&ru, i), at(&cu, j)), val);
        }
        let mut indptr = vec![0usize; ru.len() + 1];
        let mut indices = Vec::with_capacity(cells.len());
        let mut data = Vec::with_capacity(cells.len());
        for (&(i, j), &val) in &cells {
            indptr[i + 1] += 1;
            indices.push(j);
            data.push(val);
        }
        for k in 0..ru.len() {
            indptr[k + 1] += indptr[k];
        }
        let m = sprs::CsMat::new((ru.len(), cu.len()), indptr, indices, data);
        h5sparse::sparse::set(w, &path, &rsel, &csel, &m)
    })
}

#[pymethods]
impl NativeSparse {
    /// The group's path.
    #[getter]
    fn path(&self) -> &str {
        self.h.path()
    }

    /// `(rows, cols)`.
    fn shape(&self, py: Python<'_>) -> PyResult<(u64, u64)> {
        let [r, c] = py.detach(|| self.h.shape()).py_err()?;
        Ok((r, c))
    }

    /// `"csr"` or `"csc"`.
    fn format(&self, py: Python<'_>) -> PyResult<&'static str> {
        let f = py.detach(|| self.h.format()).py_err()?;
        Ok(match f {
            SparseFormat::Csr => "csr",
            SparseFormat::Csc => "csc",
        })
    }

    /// numpy's `dtype.str` of the stored values.
    fn dtype(&self, py: Python<'_>) -> PyResult<String> {
        Ok(py.detach(|| self.h.dtype()).py_err()?.numpy_str())
    }

    /// Stored values.
    fn nnz(&self, py: Python<'_>) -> PyResult<u64> {
        py.detach(|| self.h.nnz()).py_err()
    }

    /// Which convention marks the group (`h5sparse`, `anndata`, `10x`).
    fn convention(&self, py: Python<'_>) -> PyResult<String> {
        let c = py.detach(|| self.h.convention()).py_err()?;
        Ok(format!("{c:?}").to_lowercase())
    }

    /// `X[rows, cols]` (outer indexing, each axis as `convert::sel` takes
    /// it): `(data, indices, indptr, shape)` in the stored orientation, with
    /// int32 indices when they fit and int64 otherwise.
    fn read<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
        cols: &Bound<'py, PyAny>,
    ) -> PyResult<Arrays<'py>> {
        let (rows, cols) = (sel(rows)?, sel(cols)?);
        let h = &self.h;
        let (elem, wide) = py.detach(|| -> PyResult<(Elem, bool)> {
            let elem = Elem::require(&h.dtype().map_err(err)?, h.path())?;
            let [nr, nc] = h.shape().map_err(err)?;
            let nnz = h.nnz().map_err(err)?;
            let (lr, rr) = repeats(&rows, nr);
            let (lc, rc) = repeats(&cols, nc);
            let limit = i32::MAX as u64;
            let bound = nnz.saturating_mul(rr).saturating_mul(rc);
            Ok((elem, bound >= limit || lr >= limit || lc >= limit))
        })?;
        with_elem!(elem, T => {
            if wide {
                let m = py.detach(|| h.read_as::<T, i64>(rows, cols)).py_err()?;
                Ok(raw(py, m))
            } else {
                let m = py.detach(|| h.read_as::<T, i32>(rows, cols)).py_err()?;
                Ok(raw(py, m))
            }
        })
    }

    /// Single elements `X[rows[k], cols[k]]` (numpy's pointwise indexing),
    /// as an array of the stored dtype.
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        rows: numpy::PyReadonlyArray1<'py, i64>,
        cols: numpy::PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (r, c) = (rows.as_array().to_vec(), cols.as_array().to_vec());
        if r.len() != c.len() {
            return Err(PyValueError::new_err(format!(
                "{} row indices for {} column indices",
                r.len(),
                c.len()
            )));
        }
        let h = &self.h;
        let elem = Elem::require(&py.detach(|| h.dtype()).py_err()?, h.path())?;
        with_elem!(elem, T => {
            let v = py
                .detach(|| r.iter().zip(&c).map(|(&i, &j)| h.get::<T>(i, j)).collect::<h5sparse::Result<Vec<T>>>())
                .py_err()?;
            Ok(owned(py, v))
        })
    }

    /// `X[rows, cols] = m` where `m` (the three arrays, `format`, `shape`,
    /// values of the stored dtype) only changes values already stored.
    #[pyo3(signature = (rows, cols, format, shape, data, indices, indptr, dtype, kind = ""))]
    #[allow(clippy::too_many_arguments)]
    fn set(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        cols: &Bound<'_, PyAny>,
        format: &str,
        shape: (usize, usize),
        data: &Bound<'_, PyAny>,
        indices: &Bound<'_, PyAny>,
        indptr: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
    ) -> PyResult<()> {
        let (rows, cols) = (sel(rows)?, sel(cols)?);
        let h = &self.h;
        matrix_args!(format, shape, data, indices, indptr, dtype, kind, |m| {
            // `set` takes an owned usize-indexed matrix: the values are a
            // selection's worth, small next to the file.
            let owned = m.to_other_types::<usize, T, usize>();
            py.detach(|| h.set(rows, cols, &owned)).py_err()
        })
    }

    /// Pointwise `X[rows[k], cols[k]] = values[k]` (non-negative indices in
    /// bounds, values of the stored dtype; a repeated point takes its last
    /// value, as numpy and scipy do). Every nonzero value must land on a
    /// stored entry, else a `ValueError` and nothing is written. One atomic
    /// write: the block of the points' rows and columns is read and written
    /// back inside one transaction, so a concurrent write is never lost.
    #[pyo3(signature = (rows, cols, values, dtype, kind = ""))]
    fn set_points(
        &self,
        py: Python<'_>,
        rows: numpy::PyReadonlyArray1<'_, i64>,
        cols: numpy::PyReadonlyArray1<'_, i64>,
        values: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
    ) -> PyResult<()> {
        let (r, c) = (rows.as_array().to_vec(), cols.as_array().to_vec());
        let elem = Elem::from_numpy(dtype, kind)?;
        let h = &self.h;
        with_elem!(elem, T => {
            let a = crate::convert::array::<T>(values, "values")?;
            let v: &[T] = crate::convert::borrow::<T>(&a)?;
            if r.len() != c.len() || r.len() != v.len() {
                return Err(PyValueError::new_err(format!(
                    "{} row indices, {} column indices and {} values: expected one of each per point",
                    r.len(), c.len(), v.len()
                )));
            }
            py.detach(|| set_points(h, &r, &c, v)).py_err()
        })
    }

    /// Appends rows (CSR) or columns (CSC) given as three arrays.
    #[pyo3(signature = (format, shape, data, indices, indptr, dtype, kind = ""))]
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        py: Python<'_>,
        format: &str,
        shape: (usize, usize),
        data: &Bound<'_, PyAny>,
        indices: &Bound<'_, PyAny>,
        indptr: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
    ) -> PyResult<()> {
        let h = &self.h;
        matrix_args!(format, shape, data, indices, indptr, dtype, kind, |m| {
            py.detach(|| h.append(&m)).py_err()
        })
    }

    /// Replaces the whole matrix (CSR by CSC if it likes) in one atomic step.
    #[pyo3(signature = (format, shape, data, indices, indptr, dtype, kind = "", gzip = None, chunk_len = None))]
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        py: Python<'_>,
        format: &str,
        shape: (usize, usize),
        data: &Bound<'_, PyAny>,
        indices: &Bound<'_, PyAny>,
        indptr: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
        gzip: Option<u32>,
        chunk_len: Option<u64>,
    ) -> PyResult<()> {
        let opts = write_options(gzip, chunk_len, false);
        let h = &self.h;
        matrix_args!(format, shape, data, indices, indptr, dtype, kind, |m| {
            py.detach(|| h.replace(&m, &opts)).py_err()
        })
    }
}
