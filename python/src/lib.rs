//! The native half of the `h5sparse_rs` Python package: thin PyO3 classes
//! over [`h5sparse::H5File`] and its handles. The Pythonic API (numpy
//! indexing, scipy.sparse results, h5py-like groups) is the pure-Python
//! package `h5sparse_rs` around this module; this module moves arrays and
//! releases the GIL during every read and write.

mod convert;
mod dense;
mod file;
mod sparse;

use pyo3::prelude::*;

/// The extension module `h5sparse_rs._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<file::NativeFile>()?;
    m.add_class::<sparse::NativeSparse>()?;
    m.add_class::<dense::NativeDataset>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
