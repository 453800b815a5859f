//! `adata[obs, var].copy()` written to a new `.h5ad` file, streaming:
//! every element indexed by obs or var is cut along it (X, layers,
//! obs/var, obsm/varm rows, obsp/varp on both axes, raw.X's rows), `uns`
//! is copied, and categories are pruned as anndata prunes them. Matrices
//! are read and written block by block, so memory stays bounded by the
//! block size whatever the file's size.

mod dense;
mod frame;
mod sparse;
mod take;

pub use take::Take;

#[cfg(test)]
mod tests;
