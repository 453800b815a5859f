//! `anndata::subset` streams: subsetting a file whose X is 10 to 40 times
//! the block size keeps the peak of live heap memory (counted by a global
//! allocator) within a small multiple of the block size, far below X.

use h5sparse::anndata::{subset, AnnData, Take, WriteOptions};

mod support;
use support::counting::{peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: u64 = 1 << 20;

#[test]
fn subsetting_a_matrix_40_times_the_block_keeps_memory_near_the_block() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("subset-memory");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("big.h5ad");
    // 20 000 cells × 2 000 genes, 263 entries a row: 5.26 M entries,
    // 40 MiB of float32 data and int32 indices.
    let (n_obs, n_vars, per_row) = (20_000u64, 2_000u64, 263u64);
    support::synthetic::csr_h5ad(&input, "cell", (n_obs, n_vars, per_row), |_| {}, |_| {});
    let x_bytes = n_obs * per_row * 8;
    assert!(x_bytes >= 40 * MIB);

    let file = h5sparse::H5File::open(&input).unwrap();
    let adata = AnnData::open(&file).unwrap();
    let obs = Take::Indices((0..n_obs).step_by(2).collect());
    // Genes in a scattered order with repeats: every entry is remapped.
    let var = Take::Indices((0..1500).map(|k| (k * 13) % n_vars).collect());
    let out = dir.join("small.h5ad");
    let run = |block: usize| {
        let opts = WriteOptions {
            block_bytes: block,
            ..WriteOptions::default()
        };
        let ((), peak) = peak_during(|| subset(&adata, &obs, &var, &out, &opts).unwrap());
        eprintln!(
            "peak {:.1} MiB over {:.1} MiB of X with a {:.0} MiB block ({:.2} x block)",
            peak as f64 / MIB as f64,
            x_bytes as f64 / MIB as f64,
            block as f64 / MIB as f64,
            peak as f64 / block as f64
        );
        peak
    };
    run(MIB as usize);
    let block = 4 * MIB as usize;
    let peak = run(block);
    // The block read, its subset copy and the writer's buffers: about the
    // block to twice it, whatever X's size.
    assert!(
        peak as f64 <= 2.5 * block as f64,
        "peak {peak} bytes for a {block}-byte block"
    );

    // The result is right: spot-check rows against the input.
    let small = AnnData::open(&h5sparse::H5File::open(&out).unwrap()).unwrap();
    assert_eq!((small.n_obs(), small.n_vars()), (n_obs / 2, 1500));
    let got = small
        .x_sparse()
        .unwrap()
        .unwrap()
        .to_memory::<f32>()
        .unwrap();
    let whole = adata.x_sparse().unwrap().unwrap();
    for r in [0usize, 1, 4999, 9999] {
        let src = whole
            .read::<f32>(2 * r as i64..2 * r as i64 + 1, ..)
            .unwrap()
            .to_dense();
        for j in 0..1500usize {
            let c = (j as u64 * 13 % n_vars) as usize;
            assert_eq!(
                got.get(r, j).copied().unwrap_or(0.0),
                src[[0, c]],
                "row {r} col {j}"
            );
        }
    }
}
