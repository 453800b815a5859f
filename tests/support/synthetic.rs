//! Large synthetic `.h5ad` files for the memory tests, written by our
//! writer block by block.

use std::path::Path;

use h5sparse::anndata::{DataFrameData, H5adWriter, IndexWidth, WriteOptions};
use h5sparse::sparse::SparseFormat;
use h5sparse::{ByteOrder, Dtype};

/// Writes an `.h5ad` of `n_obs` cells named `{prefix}{i}` (a multiple of
/// 1000) and `n_vars` genes `gene{j}` with a float32 CSR X of `per_row`
/// entries a row: row `r` holds columns `(r + 7k) mod n_vars`, sorted, with
/// values `r * per_row + k`. `obs` adds columns to obs before it is written;
/// `more` writes further elements before the file is finished.
pub fn csr_h5ad(
    path: &Path,
    prefix: &str,
    (n_obs, n_vars, per_row): (u64, u64, u64),
    obs: impl FnOnce(&mut DataFrameData),
    more: impl FnOnce(&mut H5adWriter),
) {
    assert_eq!(n_obs % 1000, 0, "cells are written 1000 at a time");
    let mut w = H5adWriter::create(path, WriteOptions::default()).unwrap();
    let names = |p: &str, n: u64| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let mut df = DataFrameData::with_index(names(prefix, n_obs));
    obs(&mut df);
    w.write_dataframe("obs", &df).unwrap();
    w.write_dataframe("var", &DataFrameData::with_index(names("gene", n_vars)))
        .unwrap();
    let f4 = Dtype::Float {
        size: 4,
        order: ByteOrder::Little,
    };
    let mut x = w
        .sparse(
            "X",
            SparseFormat::Csr,
            [n_obs, n_vars],
            &f4,
            IndexWidth::I32,
        )
        .unwrap();
    for block in 0..n_obs / 1000 {
        let indptr: Vec<i32> = (0..=1000).map(|r| (r * per_row) as i32).collect();
        let mut indices = Vec::new();
        let mut data = Vec::new();
        for r in 0..1000 {
            let row = block * 1000 + r;
            indices.extend((0..per_row).map(|k| ((row + k * 7) % n_vars) as i32));
            let start = indices.len() - per_row as usize;
            indices[start..].sort_unstable();
            data.extend((0..per_row).map(|k| (row * per_row + k) as f32));
        }
        x.push(&indptr, &indices, &data).unwrap();
    }
    x.finish().unwrap();
    more(&mut w);
    w.finish().unwrap();
}
