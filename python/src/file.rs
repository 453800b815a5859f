//! `NativeFile`: an open file, its groups and attributes.

use std::path::{Path, PathBuf};

use h5sparse::io::source::FileSource;
use h5sparse::read::Node;
use h5sparse::sparse::SparseDataset;
use h5sparse::write::DatasetOptions;
use h5sparse::{CharSet, Dtype, H5File, StringPadding, Values};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyFileExistsError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::{self, borrow, Elem, IntoPy};
use crate::dense::NativeDataset;
use crate::matrix_args;
use crate::sparse::NativeSparse;
use crate::with_elem;

/// An open HDF5 file (`h5sparse::H5File`): cheap to share between threads.
#[pyclass(frozen, module = "h5sparse_rs._native")]
pub struct NativeFile {
    pub(crate) f: H5File,
    mode: String,
}

#[pymethods]
impl NativeFile {
    /// Opens `path` with h5py's modes: `r` read-only (memory-mapped; an
    /// `http://` URL is read by range requests), `r+`
    /// read-write, `a` read-write creating the file if absent, `w` create
    /// (truncating), `w-`/`x` create, failing if the file exists.
    ///
    /// `driver` (mode `r` only) chooses how a local file is read, with
    /// h5py's names: `None` maps it; `"sec2"` (alias `"pread"`) reads it
    /// with positional reads through the paged reader (no map: memory
    /// holds the metadata blocks and what each read returns, not the
    /// mapped pages); `"core"` reads the whole file into memory first.
    #[new]
    #[pyo3(signature = (path, mode = "r", driver = None))]
    fn new(py: Python<'_>, path: PathBuf, mode: &str, driver: Option<&str>) -> PyResult<Self> {
        if let Some(d) = driver {
            return Ok(NativeFile {
                f: py.detach(|| open_with_driver(&path, mode, d))?,
                mode: mode.to_string(),
            });
        }
        let f = py.detach(|| -> PyResult<H5File> {
            Ok(match mode {
                // A local path, or an http:// URL read by range requests.
                "r" => H5File::open_any(&path.to_string_lossy()).py_err()?,
                "r+" => H5File::open_rw(&path).py_err()?,
                "a" if path.exists() => H5File::open_rw(&path).py_err()?,
                "a" | "w" => H5File::create(&path).py_err()?,
                "w-" | "x" => {
                    if path.exists() {
                        return Err(PyFileExistsError::new_err(format!(
                            "{}: the file exists (mode {mode:?} does not overwrite)",
                            path.display()
                        )));
                    }
                    H5File::create(&path).py_err()?
                }
                other => {
                    return Err(PyValueError::new_err(format!(
                        "invalid mode {other:?}: use 'r', 'r+', 'a', 'w', 'w-' or 'x'"
                    )))
                }
            })
        })?;
        Ok(NativeFile {
            f,
            mode: mode.to_string(),
        })
    }

    /// The path the file was opened with.
    #[getter]
    fn filename(&self) -> Option<String> {
        self.f.path().map(|p| p.display().to_string())
    }

    /// The mode it was opened with.
    #[getter]
    fn mode(&self) -> &str {
        &self.mode
    }

    /// Can it be written?
    #[getter]
    fn writable(&self) -> bool {
        self.f.is_writable()
    }

    /// What is at `path`: `"group"`, `"sparse"` (a group holding a sparse
    /// matrix in any convention), `"dataset"`, `"datatype"`, or `None` when
    /// nothing is.
    fn kind(&self, py: Python<'_>, path: &str) -> PyResult<Option<&'static str>> {
        let f = self.f.clone();
        py.detach(|| {
            let snap = f.snapshot()?;
            let node = match snap.get(path) {
                Ok(n) => n,
                Err(e) => {
                    return if exists(&snap, path)? {
                        Err(e)
                    } else {
                        Ok(None)
                    }
                }
            };
            Ok(Some(match node {
                Node::Group(g) => {
                    if g.path() != "/" && SparseDataset::open(&snap, path).is_ok() {
                        "sparse"
                    } else {
                        "group"
                    }
                }
                Node::Dataset(_) => "dataset",
                Node::Datatype { .. } => "datatype",
            }))
        })
        .py_err()
    }

    /// The names of the group at `path`, in the order h5py lists them.
    fn keys(&self, py: Python<'_>, path: &str) -> PyResult<Vec<String>> {
        let f = self.f.clone();
        py.detach(|| {
            let snap = f.snapshot()?;
            let g = snap.group(path)?;
            Ok(g.links()?.into_iter().map(|l| l.name).collect())
        })
        .py_err()
    }

    /// The attributes of the object at `path`, as `(name, values, dtype
    /// str, shape)`: `shape` is `None` for a null dataspace and `()` for a
    /// scalar.
    fn attrs<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyList>> {
        let f = self.f.clone();
        type Attr = (String, Values, String, Option<Vec<u64>>);
        let attrs = py
            .detach(|| -> h5sparse::Result<Vec<Attr>> {
                let snap = f.snapshot()?;
                let list = match snap.get(path)? {
                    Node::Group(g) => g.attributes()?,
                    Node::Dataset(d) => d.attributes()?,
                    Node::Datatype { .. } => Vec::new(),
                };
                list.iter()
                    .map(|a| {
                        Ok((
                            a.name().to_string(),
                            a.values()?,
                            a.dtype().numpy_str(),
                            a.shape().map(<[u64]>::to_vec),
                        ))
                    })
                    .collect()
            })
            .py_err()?;
        let out = PyList::empty(py);
        for (name, values, dtype, shape) in attrs {
            out.append((name, convert::values(py, values)?, dtype, shape))?;
        }
        Ok(out)
    }

    /// Sets a scalar string attribute.
    fn set_attr_str(&self, py: Python<'_>, path: &str, name: &str, value: &str) -> PyResult<()> {
        py.detach(|| self.f.set_attr_str(path, name, value))
            .py_err()
    }

    /// Sets an attribute holding an array of `shape` of variable-length
    /// UTF-8 strings (C order), as h5py stores `attrs[name] = ["a", "b"]`
    /// and anndata its `column-order`.
    fn set_attr_strings(
        &self,
        py: Python<'_>,
        path: &str,
        name: &str,
        values: Vec<String>,
        shape: Vec<u64>,
    ) -> PyResult<()> {
        let path = absolute(path);
        let dtype = Dtype::VarString {
            charset: CharSet::Utf8,
        };
        py.detach(|| {
            self.f.transaction(|w| {
                w.set_attr(&path, name, &dtype, Some(&shape), &Values::Str(values))
            })
        })
        .py_err()
    }

    /// Sets an attribute holding an array of `shape` of fixed-length
    /// strings of `size` bytes, null-padded, from numpy's `S` bytes (C
    /// order), as h5py stores `attrs[name] = np.array([b"a", b"bc"])`.
    fn set_attr_fixed_strings(
        &self,
        py: Python<'_>,
        path: &str,
        name: &str,
        raw: &[u8],
        size: usize,
        shape: Vec<u64>,
    ) -> PyResult<()> {
        let path = absolute(path);
        let dtype = Dtype::FixedString {
            size,
            padding: StringPadding::NullPadded,
            charset: CharSet::Ascii,
        };
        py.detach(|| {
            self.f
                .transaction(|w| w.set_attr_raw(&path, name, &dtype, Some(&shape), raw))
        })
        .py_err()
    }

    /// Sets a 1-D numeric attribute from a contiguous array of dtype
    /// `dtype` (numpy `str`; bools as `u1` with `kind="bool"`).
    #[pyo3(signature = (path, name, values, dtype, kind = ""))]
    fn set_attr_array(
        &self,
        py: Python<'_>,
        path: &str,
        name: &str,
        values: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
    ) -> PyResult<()> {
        let elem = Elem::from_numpy(dtype, kind)?;
        with_elem!(elem, T => {
            let a = convert::array::<T>(values, "attribute values")?;
            let v: &[T] = borrow::<T>(&a)?;
            py.detach(|| self.f.set_attr_array(path, name, v)).py_err()
        })
    }

    /// Deletes an attribute.
    fn delete_attr(&self, py: Python<'_>, path: &str, name: &str) -> PyResult<()> {
        py.detach(|| self.f.delete_attr(path, name)).py_err()
    }

    /// Creates a group.
    fn create_group(&self, py: Python<'_>, path: &str) -> PyResult<()> {
        py.detach(|| self.f.create_group(path)).py_err()
    }

    /// Removes the link at `path` (`del f[path]`).
    fn unlink(&self, py: Python<'_>, path: &str) -> PyResult<()> {
        py.detach(|| self.f.unlink(path)).py_err()
    }

    /// Makes every write durable.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.f.flush()).py_err()
    }

    /// The sparse matrix in the group at `path`.
    fn sparse(&self, py: Python<'_>, path: &str) -> PyResult<NativeSparse> {
        let h = py.detach(|| self.f.sparse(path)).py_err()?;
        Ok(NativeSparse { h })
    }

    /// The dataset at `path`.
    fn dataset(&self, py: Python<'_>, path: &str) -> PyResult<NativeDataset> {
        let h = py.detach(|| self.f.dataset(path)).py_err()?;
        Ok(NativeDataset { h })
    }

    /// Writes a CSR (`format="csr"`) or CSC matrix from its three arrays
    /// (indices sorted within each row/column; `indices` and `indptr` of
    /// one dtype, int32 or int64) as a growable sparse group.
    #[pyo3(signature = (path, format, shape, data, indices, indptr, dtype, kind = "", gzip = None, chunk_len = None, int64_indices = false))]
    #[allow(clippy::too_many_arguments)]
    fn create_sparse(
        &self,
        py: Python<'_>,
        path: &str,
        format: &str,
        shape: (usize, usize),
        data: &Bound<'_, PyAny>,
        indices: &Bound<'_, PyAny>,
        indptr: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
        gzip: Option<u32>,
        chunk_len: Option<u64>,
        int64_indices: bool,
    ) -> PyResult<NativeSparse> {
        let opts = crate::sparse::write_options(gzip, chunk_len, int64_indices);
        let f = &self.f;
        let h = matrix_args!(format, shape, data, indices, indptr, dtype, kind, |m| {
            py.detach(|| f.create_sparse(path, &m, &opts)).py_err()
        })?;
        Ok(NativeSparse { h })
    }

    /// Creates a dataset of `shape` from a contiguous 1-D array (C order).
    /// `chunks`/`maxshape` (entries `None` for unlimited) as h5py takes
    /// them; any of them, or `gzip`, makes it chunked.
    #[pyo3(signature = (path, shape, data, dtype, kind = "", chunks = None, maxshape = None, gzip = None, shuffle = false))]
    #[allow(clippy::too_many_arguments)]
    fn create_dataset(
        &self,
        py: Python<'_>,
        path: &str,
        shape: Vec<u64>,
        data: &Bound<'_, PyAny>,
        dtype: &str,
        kind: &str,
        chunks: Option<Vec<u64>>,
        maxshape: Option<Vec<Option<u64>>>,
        gzip: Option<u32>,
        shuffle: bool,
    ) -> PyResult<NativeDataset> {
        let mut opts = DatasetOptions::default();
        if chunks.is_some() || maxshape.is_some() || gzip.is_some() || shuffle {
            opts = DatasetOptions::growable();
            opts.maxshape =
                Some(maxshape.unwrap_or_else(|| shape.iter().map(|&n| Some(n)).collect()));
        }
        if let Some(c) = chunks {
            opts = opts.chunks(&c);
        }
        if let Some(level) = gzip {
            opts = opts.gzip(level);
        }
        if shuffle {
            opts = opts.shuffle();
        }
        let elem = Elem::from_numpy(dtype, kind)?;
        let f = &self.f;
        let h = with_elem!(elem, T => {
            let a: PyReadonlyArray1<'_, <T as convert::Plain>::Np> = convert::array::<T>(data, "data")?;
            let v: &[T] = borrow::<T>(&a)?;
            py.detach(|| f.create_dataset(path, &shape, v, &opts)).py_err()?
        });
        Ok(NativeDataset { h })
    }
}

/// `path` from the root, as the writer takes paths.
fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Opens `path` read-only through `driver` (see `NativeFile::new`).
fn open_with_driver(path: &Path, mode: &str, driver: &str) -> PyResult<H5File> {
    if mode != "r" {
        return Err(PyValueError::new_err(format!(
            "driver {driver:?} reads only: open {} with mode 'r', not {mode:?} (writes use the memory map)",
            path.display()
        )));
    }
    if let Some(scheme) = h5sparse::io::source::url_scheme(&path.to_string_lossy()) {
        return Err(PyValueError::new_err(format!(
            "driver {driver:?} reads local files; a {scheme}:// URL is read by range requests (open it without a driver)"
        )));
    }
    let file = match driver {
        "sec2" | "pread" => {
            let source = FileSource::open(path).py_err()?;
            h5sparse::File::open_source(Box::new(source)).py_err()?
        }
        "core" => {
            let bytes = std::fs::read(path)
                .map_err(|e| h5sparse::Error::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))
                .py_err()?;
            h5sparse::File::from_bytes(bytes).py_err()?
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "driver {other:?}: expected None (memory map), 'sec2' (or 'pread': positional reads) or 'core' (read into memory)"
            )))
        }
    };
    Ok(H5File::from_file(file))
}

/// Whether `path` names something: its parent group is readable and links
/// the last name. Tells "no such object" (a `KeyError` above) from a damaged
/// file (an error to report).
fn exists(snap: &h5sparse::File, path: &str) -> h5sparse::Result<bool> {
    let trimmed = path.trim_end_matches('/');
    let (parent, name) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => ("", trimmed),
    };
    if name.is_empty() {
        return Ok(true);
    }
    let parent = if parent.is_empty() { "/" } else { parent };
    match snap.get(parent) {
        Ok(Node::Group(g)) => Ok(g.links()?.iter().any(|l| l.name == name)),
        Ok(_) => Ok(false),
        Err(e) => {
            if exists(snap, parent)? {
                Err(e)
            } else {
                Ok(false)
            }
        }
    }
}
