//! 10x → `.h5ad` streams (what `h5sparse convert` runs): converting a
//! matrix many times the block budget keeps the peak of live heap memory
//! (counted by a global allocator) to a small multiple of the budget while
//! the next block is read as the last one is written (two blocks in
//! flight, the writer's buffers, the read's stored bytes).

use h5sparse::anndata::tenx::{TenxMatrix, TenxOptions};
use h5sparse::anndata::{ColumnData, DataFrameData, H5adWriter, IndexWidth, WriteOptions};
use h5sparse::sparse::SparseFormat;
use h5sparse::write::{DatasetOptions, Writer};
use h5sparse::{CharSet, Dtype, Values};

mod support;
use support::counting::{peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const BARCODES: u64 = 20_000;
const FEATURES: u64 = 4_000;
const PER_ROW: u64 = 400;

/// The count at (barcode, feature), never 0.
fn count(b: u64, f: u64) -> i32 {
    ((b * 31 + f * 7) % 97 + 1) as i32
}

/// A Cell Ranger 3 file: BARCODES × FEATURES counts (int32, int64 indices,
/// gzip, as Cell Ranger stores them), PER_ROW features per barcode.
fn write_tenx(path: &std::path::Path) {
    let step = FEATURES / PER_ROW;
    let mut indices: Vec<i64> = Vec::new();
    let mut data: Vec<i32> = Vec::new();
    let mut indptr: Vec<i64> = vec![0];
    for b in 0..BARCODES {
        for k in 0..PER_ROW {
            let f = k * step + b % step;
            indices.push(f as i64);
            data.push(count(b, f));
        }
        indptr.push(indices.len() as i64);
    }
    let mut w = Writer::create(path).unwrap();
    let gz = DatasetOptions::default().chunks(&[80_000]).gzip(1);
    let plain = DatasetOptions::default();
    let strings = |n: u64, f: &dyn Fn(u64) -> String| Values::Str((0..n).map(f).collect());
    let s = Dtype::VarString {
        charset: CharSet::Ascii,
    };
    w.create_group("/matrix").unwrap();
    w.create_group("/matrix/features").unwrap();
    w.create_dataset("/matrix/data", &[data.len() as u64], &data, &gz)
        .unwrap();
    w.create_dataset("/matrix/indices", &[indices.len() as u64], &indices, &gz)
        .unwrap();
    w.create_dataset("/matrix/indptr", &[indptr.len() as u64], &indptr, &plain)
        .unwrap();
    w.create_dataset(
        "/matrix/shape",
        &[2],
        &[FEATURES as i32, BARCODES as i32],
        &plain,
    )
    .unwrap();
    let put = |w: &mut Writer<_>, path: &str, n: u64, f: &dyn Fn(u64) -> String| {
        w.create_dataset_values(path, &s, &[n], &strings(n, f), &plain)
            .unwrap()
    };
    put(&mut w, "/matrix/barcodes", BARCODES, &|i| {
        format!("AAAC{i:08}-1")
    });
    put(&mut w, "/matrix/features/id", FEATURES, &|i| {
        format!("ENSG{i:07}")
    });
    put(&mut w, "/matrix/features/name", FEATURES, &|i| {
        format!("G{i}")
    });
    put(&mut w, "/matrix/features/feature_type", FEATURES, &|_| {
        "Gene Expression".into()
    });
    put(&mut w, "/matrix/features/genome", FEATURES, &|_| {
        "GRCh38".into()
    });
    w.close().unwrap();
}

/// What `convert` does: obs and var, then X block by block.
fn convert(input: &std::path::Path, out: &std::path::Path, block: usize) {
    let file = h5sparse::File::open(input).unwrap();
    file.set_streaming(true);
    let m = TenxMatrix::open(&file, &TenxOptions::default()).unwrap();
    let opts = WriteOptions {
        block_bytes: block,
        ..WriteOptions::default()
    };
    let mut w = H5adWriter::create(out, opts).unwrap();
    let frame = |index: &[String], columns: &[(String, ColumnData)]| {
        let mut df = DataFrameData::with_index(index.to_vec());
        df.columns = columns.to_vec();
        df
    };
    w.write_dataframe("obs", &frame(m.obs_names(), m.obs_columns()))
        .unwrap();
    w.write_dataframe("var", &frame(m.var_names(), m.var_columns()))
        .unwrap();
    let mut x = w
        .sparse(
            "X",
            SparseFormat::Csr,
            m.shape(),
            m.x_dtype(),
            IndexWidth::I32,
        )
        .unwrap();
    m.for_each_block(block, |b| x.push_raw(&b.indptr, &b.indices, &b.data))
        .unwrap();
    x.finish().unwrap();
    w.finish().unwrap();
}

#[test]
fn tenx_convert_peak_memory_stays_within_the_block_budget() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("convert-memory");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("tenx.h5");
    write_tenx(&input);
    // X as the blocks hold it: u64 indices and float32 values.
    let x_bytes = BARCODES * PER_ROW * (8 + 4);
    let out = dir.join("out.h5ad");
    let run = |block: usize| {
        let ((), peak) = peak_during(|| convert(&input, &out, block));
        println!(
            "X read: {x_bytes} bytes; block {block}; peak live heap {peak} bytes ({:.2} x block)",
            peak as f64 / block as f64
        );
        peak
    };
    run(1 << 20);
    let block = 4usize << 20;
    let peak = run(block);

    // The result is all there.
    let f = h5sparse::H5File::open(&out).unwrap();
    let x = f.sparse("X").unwrap();
    assert_eq!(x.shape().unwrap(), [BARCODES, FEATURES]);
    assert_eq!(x.nnz().unwrap(), BARCODES * PER_ROW);
    let step = FEATURES / PER_ROW;
    for b in [0, 1, BARCODES / 2, BARCODES - 1] {
        let f_ = 3 * step + b % step;
        assert_eq!(
            x.get::<f32>(b as usize, f_ as usize).unwrap(),
            count(b, f_) as f32
        );
    }

    // Two blocks (the one written, the next read: 2 x block), the stored
    // bytes of the one being read (int64 indices and int32 counts, read on
    // to the end of their last chunks: about 1 x block), the writer's copy
    // of a block as stored (int32 indices and float32 values: 2/3 x
    // block), the file's write buffer, obs and var: about 4.6 x block here.
    assert!(
        peak as f64 <= 5.0 * block as f64 && peak < x_bytes / 4,
        "peak {peak} bytes for {x_bytes} bytes of X with a {block}-byte block"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
