//! The sparse-matrix layer: recognising sparse matrices stored under the
//! h5sparse, anndata and 10x Genomics conventions.

pub mod convention;

pub use convention::{detect, Convention, SparseFormat, SparseInfo};
