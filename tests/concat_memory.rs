//! `concat` streams: concatenating files whose X is many times the block
//! budget keeps the peak of live heap memory (counted by a global
//! allocator) to a small multiple of the budget, whatever the matrices'
//! sizes. One input's columns are reordered, so its rows go through the
//! remapping and sorting path.

use h5sparse::anndata::{
    concat, AnnData, ConcatOptions, DataFrameData, H5adWriter, IndexWidth, Join, WriteOptions,
};
use h5sparse::sparse::SparseFormat;
use h5sparse::{ByteOrder, Dtype};

mod support;
use support::counting::{peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const ROWS: u64 = 20_000;
const COLS: u64 = 2_000;
const PER_ROW: u64 = 200;

/// A file of ROWS × COLS float32 CSR with PER_ROW entries a row; var
/// names reversed when `reversed`.
fn write_input(path: &std::path::Path, tag: &str, reversed: bool) {
    let mut w = H5adWriter::create(path, WriteOptions::default()).unwrap();
    let obs: Vec<String> = (0..ROWS).map(|i| format!("{tag}{i}")).collect();
    let mut var: Vec<String> = (0..COLS).map(|j| format!("g{j}")).collect();
    if reversed {
        var.reverse();
    }
    w.write_dataframe("obs", &DataFrameData::with_index(obs))
        .unwrap();
    w.write_dataframe("var", &DataFrameData::with_index(var))
        .unwrap();
    let f4 = Dtype::Float {
        size: 4,
        order: ByteOrder::Little,
    };
    let mut x = w
        .sparse("X", SparseFormat::Csr, [ROWS, COLS], &f4, IndexWidth::I32)
        .unwrap();
    let step = COLS / PER_ROW;
    for i in 0..ROWS {
        let cols: Vec<u32> = (0..PER_ROW).map(|k| (k * step + i % step) as u32).collect();
        let vals: Vec<f32> = cols
            .iter()
            .map(|&c| (i + 1) as f32 + c as f32 / 8.0)
            .collect();
        x.push::<f32, u32>(&[0, PER_ROW as u32], &cols, &vals)
            .unwrap();
    }
    x.finish().unwrap();
    w.finish().unwrap();
}

#[test]
fn concat_peak_memory_stays_within_the_block_budget() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("concat-memory");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.h5ad"), dir.join("b.h5ad"));
    write_input(&a, "a", false);
    write_input(&b, "b", true);
    let x_bytes = 2 * ROWS * PER_ROW * (4 + 4);

    let fa = h5sparse::H5File::open(&a).unwrap();
    let fb = h5sparse::H5File::open(&b).unwrap();
    let (da, db) = (AnnData::open(&fa).unwrap(), AnnData::open(&fb).unwrap());
    let out = dir.join("out.h5ad");
    let opts = ConcatOptions::default().join(Join::Outer).label("batch");
    let run = |block: usize| {
        let write = WriteOptions {
            block_bytes: block,
            ..WriteOptions::default()
        };
        let ((), peak) = peak_during(|| concat(&[&da, &db], &out, &opts, &write).unwrap());
        println!(
            "X read: {x_bytes} bytes; block {block}; peak live heap {peak} bytes ({:.2} x block)",
            peak as f64 / block as f64
        );
        peak
    };
    for block in [1 << 20, 4 << 20] {
        run(block);
    }
    let block = 8usize << 20;
    let peak = run(block);

    // The result is all there: every entry, in b's rows moved to a's order.
    let f = h5sparse::H5File::open(&out).unwrap();
    let x = f.sparse("X").unwrap();
    assert_eq!(x.shape().unwrap(), [2 * ROWS, COLS]);
    assert_eq!(x.nnz().unwrap(), 2 * ROWS * PER_ROW);
    // The outer join sorts the names (as pandas' union does); b's stored
    // column c is gene g{COLS-1-c}, and its row 0 holds c = 0 as 1.0.
    let mut names: Vec<String> = (0..COLS).map(|j| format!("g{j}")).collect();
    names.sort();
    let at = names
        .iter()
        .position(|n| *n == format!("g{}", COLS - 1))
        .unwrap();
    assert_eq!(x.get::<f32>(ROWS as usize, at).unwrap(), 1.0);
    let first = names.iter().position(|n| n == "g0").unwrap();
    assert_eq!(x.get::<f32>(0, first).unwrap(), 1.0);

    // The block read, its remapped copy and the writer's buffers: about
    // the block to twice it, with obs's names and frames besides.
    assert!(
        peak as f64 <= 2.5 * block as f64 && peak < x_bytes / 4,
        "peak {peak} bytes for {x_bytes} bytes of X with a {block}-byte block"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
