//! The sparse-matrix layer: recognising sparse matrices stored under the
//! h5sparse, anndata and 10x Genomics conventions.

pub mod convention;
mod dataset;
mod index_type;
mod modify;
mod selection;
mod selection_syntax;
mod sorted;
mod values;
mod views;
mod write;

pub use convention::{detect, Convention, SparseFormat, SparseInfo};
pub use dataset::SparseDataset;
pub use index_type::IndexType;
pub use modify::{append, replace, set};
pub use selection::Sel;
pub use selection_syntax::AxisIndex;
pub use write::{write_matrix, SparseWriteOptions};
