//! The seed walkthrough, "Sparse matrices with h5py" (anndata 0.5, 2017),
//! as a Rust program: index a sparse matrix on disk as in memory, set values
//! that keep its sparsity structure, append rows, keep a dense array beside
//! it, switch CSR for CSC, and read 4 rows of a 10000 × 10000 matrix of ones
//! (1.2 GB on disk) without loading it.
//!
//! ```sh
//! cargo run --release --example seed_tour [-- DIR [N]]
//! ```
//!
//! Every result is checked against the one the seed printed.
//! `h5sparse tour` runs the same steps and prints them as numpy would.

use std::path::{Path, PathBuf};

use h5sparse::sparse::SparseWriteOptions;
use h5sparse::{H5File, Result};
use ndarray::arr2;
use sprs::{CsMat, CsMatI};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map_or_else(
        || std::env::temp_dir().join("h5sparse-seed-tour"),
        PathBuf::from,
    );
    let ones = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    std::fs::create_dir_all(&dir)?;
    seed_tour(&dir, ones)
}

fn seed_tour(dir: &Path, ones: usize) -> Result<()> {
    // Indexing sparse matrices on disk as in memory.
    let x_array = arr2(&[[0i64, 1, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]]);
    let x = CsMat::csr_from_dense(x_array.view(), 0);

    let f = H5File::create(dir.join("test.h5"))?;
    let xs = f.create_sparse("X", &x, &SparseWriteOptions::default())?;
    println!("{xs}"); // <HDF5 sparse dataset: format 'csr', shape (4, 3), type '<i8'>

    let cols = xs.read::<i64>(.., 1..3)?.to_dense();
    println!("f['X'][:, 1:3] =\n{cols}");
    assert_eq!(cols, arr2(&[[1, 0], [0, 2], [0, 0], [4, 0]]));

    let picked = xs.read::<i64>([true, false, false, true], ..)?.to_dense();
    println!("f['X'][[True, False, False, True]] =\n{picked}");
    assert_eq!(picked, arr2(&[[0, 1, 0], [3, 4, 0]]));

    // Set an element, then a chunk, that preserve the sparsity structure.
    xs.set_value(0, 1, 9i64)?;
    let top = xs.read::<i64>(0..2, ..)?;
    xs.set(0..2, .., &top.map(|v| 2 * v))?;

    // Append.
    xs.append(&xs.read::<i64>(0..2, ..)?.map(|v| 2 * v))?;
    let all = xs.to_memory::<i64>()?.to_dense();
    println!("f['X'][:] =\n{all}");
    assert_eq!(
        all,
        arr2(&[
            [0, 18, 0],
            [0, 0, 4],
            [0, 0, 0],
            [3, 4, 0],
            [0, 36, 0],
            [0, 0, 8]
        ])
    );

    // The same with a dense array.
    let y = f.create_array("Y", &x_array, &Default::default())?;
    println!("{y}"); // <HDF5 dataset "Y": shape (4, 3), type "<i8">
    assert_eq!(y.read_2d::<i64>()?, x_array);
    f.close()?;

    // Within an AnnData file: X is float32 there, and carries anndata's
    // markers as well as h5sparse's (`h5sparse tour` writes a whole .h5ad).
    let f = H5File::create(dir.join("test.h5ad"))?;
    let adata_x = f.create_sparse("X", &x.map(|&v| v as f32), &Default::default())?;
    let top = adata_x.read::<f32>(0..2, ..)?;
    adata_x.set(0..2, .., &top.map(|v| v.ln_1p()))?;
    println!(
        "adata.X[0:2] = np.log1p(adata.X[0:2])\n{}",
        adata_x.to_memory::<f32>()?.to_dense()
    );
    assert_eq!(adata_x.get::<f32>(1, 2)?, 2f32.ln_1p());

    // Changing from CSR to CSC in the file.
    adata_x.replace(&x.to_csc(), &Default::default())?;
    println!("{adata_x}"); // <HDF5 sparse dataset: format 'csc', shape (4, 3), type '<i8'>
    f.close()?;

    memory_profile(&dir.join("test2.h5"), ones)
}

/// Writes an n × n matrix of ones and reads parts of it, printing how much
/// memory each step allocated.
fn memory_profile(path: &Path, n: usize) -> Result<()> {
    {
        // Straight in CSR form, with scipy's int32 indices.
        let indptr: Vec<i32> = (0..=n).map(|r| (r * n) as i32).collect();
        let indices: Vec<i32> = (0..n * n).map(|i| (i % n) as i32).collect();
        let ones = CsMatI::new((n, n), indptr, indices, vec![1.0f64; n * n]);
        let f = H5File::create(path)?;
        println!("{}", f.create_sparse("X", &ones, &Default::default())?);
    }
    let f = H5File::open(path)?;
    let x = f.sparse("X")?;
    let before = allocated();
    let rows = x.read::<f64>(1..5, ..)?;
    println!(
        "f['X'][1:5]: {} stored values, +{:.2} GB",
        rows.nnz(),
        gb(allocated() - before)
    );
    assert_eq!(rows.nnz(), 4 * n);
    let rows = x.read::<f64>([1, 5, 10, 13].map(|r: usize| r.min(n - 1)), ..)?;
    println!(
        "f['X'][[1, 5, 10, 13]]: {} stored values, +{:.2} GB",
        rows.nnz(),
        gb(allocated() - before)
    );
    let all = x.to_memory_as::<f64, i32>()?;
    println!(
        "f['X'][:]: {} stored values, +{:.2} GB",
        all.nnz(),
        gb(allocated() - before)
    );
    assert_eq!(all.nnz(), n * n);
    Ok(())
}

/// Anonymous memory the process holds, in bytes (Linux; 0 elsewhere).
fn allocated() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("RssAnon:"))?;
            line.split_whitespace().nth(1)?.parse::<i64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn gb(bytes: i64) -> f64 {
    bytes as f64 / f64::from(1u32 << 30)
}

#[cfg(test)]
mod tests {
    /// The whole tour, with a 300 × 300 matrix of ones.
    #[test]
    fn the_seed_tour_gives_the_seeds_results() {
        let dir =
            std::env::temp_dir().join(format!("h5sparse-seed-tour-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let result = super::seed_tour(&dir, 300);
        let _ = std::fs::remove_dir_all(&dir);
        result.unwrap();
    }
}
