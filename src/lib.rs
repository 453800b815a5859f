//! # h5sparse
//!
//! A pure-Rust store for sparse matrices in HDF5 files (`.h5`, `.h5ad`), with
//! its own reader and writer for HDF5: no libhdf5, no C. It reads the CSR/CSC
//! matrices that anndata, Cell Ranger (10x) and the h5sparse convention
//! store, indexes them on disk as if they were in memory, changes them in
//! place and appends to them, crash-consistently.
//!
//! ## Opening a file and reading a matrix
//! [`H5File`] opens a file; [`H5File::sparse`] gives a handle to the sparse
//! matrix in a group, whatever convention marks it. Reads take one
//! selection per axis in Rust syntax, with numpy's meaning, and return
//! [`sprs`] matrices. Only the selected part is read:
//!
//! ```
//! use h5sparse::H5File;
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
//! let f = H5File::open(path)?;                    // memory-mapped, read-only
//! let x = f.sparse("X")?;
//! println!("{x}");                                 // <HDF5 sparse dataset: format 'csr', ...>
//! let [n_obs, n_vars] = x.shape()?;
//! let rows = x.read::<f32>(1..5, ..)?;             // X[1:5]: 4 rows, nothing else
//! let some = x.read::<f32>([7, 2, 7], 2..8)?;      // X[[7, 2, 7]][:, 2:8]
//! let mask: Vec<bool> = (0..n_obs).map(|i| i % 3 == 0).collect();
//! let every_third = x.read::<f32>(&mask, ..)?;      // a boolean mask
//! let one: f32 = x.get(3, -1)?;                     // one element, a binary search
//! assert_eq!((rows.rows(), some.shape(), every_third.rows()), (4, (3, 6), mask.iter().filter(|&&b| b).count()));
//! # let _ = (n_vars, one);
//! # Ok::<(), h5sparse::Error>(())
//! ```
//!
//! ## Writing, setting values, appending rows
//! [`H5File::create`] makes a new file (the layout h5py writes by default,
//! which every libhdf5 reads), [`H5File::open_rw`] changes an existing one,
//! locked against other writers. Handles stay valid across writes, and every
//! read sees the last write:
//!
//! ```
//! use h5sparse::{sparse::SparseWriteOptions, H5File};
//! use sprs::CsMat;
//!
//! # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("test.h5");
//! let m = CsMat::csr_from_dense(ndarray::arr2(&[[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]]).view(), 0.0);
//! let f = H5File::create(&path)?;
//! let x = f.create_sparse("X", &m, &SparseWriteOptions::default().gzip(4))?;
//! x.set_value(0, 1, 9.0)?;                         // where an entry is stored
//! let doubled = x.read::<f64>(0..2, ..)?.map(|v| 2.0 * v);
//! x.set(0..2, .., &doubled)?;                      // X[0:2] = 2 * X[0:2]
//! x.append(&m)?;                                   // two more rows
//! assert_eq!(x.shape()?, [4, 3]);
//! assert_eq!(x.get::<f64>(0, 1)?, 18.0);
//! f.close()?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Setting a value where nothing is stored would change the sparsity
//! structure: that is an error, raised before anything is written. Each
//! write is atomic: after a crash at any point the file opens, here and in
//! h5py, with the matrix as it was before the write or after it.
//! [`SparseHandle::replace`] swaps the whole matrix (CSR for CSC, say);
//! dense datasets have [`DatasetHandle`]s ([`H5File::create_dataset`],
//! [`H5File::create_array`]).
//!
//! ## API structure
//! * [`H5File`], [`SparseHandle`], [`DatasetHandle`]: open, read and write,
//!   with methods; selections are [`sparse::Sel`], made from Rust syntax.
//! * [`File`], [`Group`], [`Dataset`], [`Attribute`]: the read-only object
//!   model of one snapshot of a file ([`H5File::snapshot`]), for walking
//!   groups and attributes and for zero-copy views.
//! * [`sparse`]: the conventions, [`sparse::SparseDataset`] over a snapshot,
//!   and the write operations over a [`write::Writer`].
//! * [`anndata`]: `.h5ad` files as a whole (obs/var dataframes, X, layers,
//!   obsm, uns, raw; current and legacy encodings), with anndata's repr.
//! * [`write`](mod@write): the writer underneath, for any [`io::sink::Sink`].
//! * [`format`](mod@format): pure parsers of HDF5's on-disk structures.
//! * [`filters`]: deflate, shuffle, fletcher32, LZF.
//! * [`Limits`]: budgets for hostile input; [`Error`]: everything that fails.
//!
//! ## Features
//! * `mmap` (default): memory-mapped files ([`H5File::open`]). Without it
//!   (e.g. for `wasm32-unknown-unknown`), [`H5File::from_bytes`] and
//!   [`H5File::in_memory`] remain.
//! * `cli` (default): the `h5sparse` command-line tool.
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod anndata;
mod buf;
pub mod dump;
pub mod error;
pub mod filters;
pub mod format;
mod handle;
pub mod io;
pub mod limits;
mod par;
pub mod read;
pub mod sparse;
pub mod write;

pub use error::{Error, Result};
pub use handle::{DatasetHandle, DynWriter, H5File, SparseHandle};
pub use limits::Limits;
pub use read::{
    Attribute, ByteOrder, CharSet, Dataset, Dtype, Field, File, FilterInfo, Group, H5Bool, H5Type,
    LayoutKind, Link, LinkTarget, Node, StringPadding, Values, F16,
};

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
