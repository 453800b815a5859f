//! `NativeDataset`: a dense dataset (`h5sparse::DatasetHandle`).

use h5sparse::DatasetHandle;
use pyo3::prelude::*;

use crate::convert::{self, borrow, owned, Elem, IntoPy};
use crate::with_elem;

/// A dense dataset: hyperslab reads and writes, returned as flat arrays
/// (C order) that the Python layer reshapes.
#[pyclass(frozen, module = "h5sparse_rs._native")]
pub struct NativeDataset {
    pub(crate) h: DatasetHandle,
}

/// Storage facts h5py shows on a dataset.
type Storage = (
    Option<Vec<u64>>,
    Option<Vec<Option<u64>>>,
    Vec<(String, Vec<u32>)>,
);

#[pymethods]
impl NativeDataset {
    /// The dataset's path.
    #[getter]
    fn path(&self) -> &str {
        self.h.path()
    }

    /// Its shape (`[]` for a scalar).
    fn shape(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        py.detach(|| self.h.shape()).py_err()
    }

    /// numpy's `dtype.str` (`vlen-str` for variable-length strings).
    fn dtype(&self, py: Python<'_>) -> PyResult<String> {
        Ok(py.detach(|| self.h.dtype()).py_err()?.numpy_str())
    }

    /// Is the dtype one read as numbers (else `values` decodes it)?
    fn is_numeric(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(Elem::of(&py.detach(|| self.h.dtype()).py_err()?).is_some())
    }

    /// `(chunks, maxshape, filters)`: chunk shape (`None` when not
    /// chunked), maximum shape (`None` entries unlimited), filter names
    /// with their client values.
    fn storage(&self, py: Python<'_>) -> PyResult<Storage> {
        let h = &self.h;
        py.detach(|| -> h5sparse::Result<Storage> {
            let snap = h.file().snapshot()?;
            let d = snap.dataset(h.path())?;
            Ok((
                d.chunks().map(<[u64]>::to_vec),
                d.maxshape(),
                d.filters()
                    .iter()
                    .map(|f| (f.name.clone(), f.cd_values.clone()))
                    .collect(),
            ))
        })
        .py_err()
    }

    /// The hyperslab `start`/`count` as a flat array (C order); the whole
    /// dataset when both are `None`.
    #[pyo3(signature = (start = None, count = None))]
    fn read<'py>(
        &self,
        py: Python<'py>,
        start: Option<Vec<u64>>,
        count: Option<Vec<u64>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let h = &self.h;
        let elem = Elem::require(&py.detach(|| h.dtype()).py_err()?, h.path())?;
        with_elem!(elem, T => {
            let v = py
                .detach(|| match (&start, &count) {
                    (Some(s), Some(c)) => h.read_slab::<T>(s, c),
                    _ => h.read::<T>(),
                })
                .py_err()?;
            Ok(owned(py, v))
        })
    }

    /// Every value decoded (strings, compounds, references...): numbers as
    /// a flat array, everything else as a flat list.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = py.detach(|| self.h.values()).py_err()?;
        convert::values(py, v)
    }

    /// Writes the hyperslab `start`/`count` from a flat array of the
    /// stored dtype (the Python layer casts).
    #[pyo3(signature = (start, count, data, dtype, kind = ""))]
    fn write(
        &self,
        py: Python<'_>,
        start: Vec<u64>,
        count: Vec<u64>,
        data: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
    ) -> PyResult<()> {
        let elem = Elem::from_numpy(dtype, kind)?;
        let h = &self.h;
        with_elem!(elem, T => {
            let a = convert::array::<T>(data, "data")?;
            let v: &[T] = borrow::<T>(&a)?;
            py.detach(|| h.write_slab(&start, &count, v)).py_err()
        })
    }

    /// Changes the shape within the maximum shape (h5py's `resize`).
    fn resize(&self, py: Python<'_>, shape: Vec<u64>) -> PyResult<()> {
        py.detach(|| self.h.resize(&shape)).py_err()
    }
}
