//! # h5sparse
//!
//! A pure-Rust store for sparse matrices in HDF5 files (`.h5`, `.h5ad`), with
//! its own reader and writer for the HDF5 subset involved: no libhdf5, no C.
//!
//! ## API structure
//! * [`File`], [`Group`], [`Dataset`], [`Attribute`]: the object model.
//! * [`format`]: pure parsers of HDF5's on-disk structures.
//! * [`filters`]: deflate, shuffle, fletcher32, LZF.
//! * [`Limits`]: budgets for hostile input; [`Error`]: everything that fails.
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

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
pub use handle::{DatasetHandle, H5File, SparseHandle};
pub use limits::Limits;
pub use read::{
    Attribute, ByteOrder, CharSet, Dataset, Dtype, File, FilterInfo, Group, H5Bool, H5Type,
    LayoutKind, Link, LinkTarget, Node, StringPadding, Values,
};

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
