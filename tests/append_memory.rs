//! `AnnData::append_obs` streams: appending a source whose X is 5 to 20
//! times the block size to a target whose X is 10 to 40 times it, with a
//! contiguous obsm array several times the block that must be rewritten,
//! keeps the peak of live heap memory (counted by a global allocator)
//! within a small multiple of the block size, far below the matrices.

use h5sparse::anndata::{AnnData, AppendOptions, ColumnData, DataFrameData, H5adWriter};
use h5sparse::{ByteOrder, Dtype, Values};

mod support;
use support::counting::{peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: u64 = 1 << 20;
const N_VARS: u64 = 2_000;
const PER_ROW: u64 = 263;
const PCS: u64 = 128;

/// An .h5ad file of `n_obs` cells named `{prefix}{i}`: a CSR X of 263
/// float32 entries a row, an int64 obs column and a float64 `obsm/X_pca`
/// of 128 columns, both contiguous (as anndata writes them).
fn write_file(path: &std::path::Path, prefix: &str, n_obs: u64) {
    let n_genes = |obs: &mut DataFrameData| {
        obs.columns.push((
            "n_genes".into(),
            ColumnData::Values(Values::Int((0..n_obs as i64).collect())),
        ))
    };
    let pca = |w: &mut H5adWriter| {
        let f8 = Dtype::Float {
            size: 8,
            order: ByteOrder::Little,
        };
        let pca: Vec<f64> = (0..n_obs * PCS).map(|v| v as f64).collect();
        w.write_array("obsm/X_pca", &f8, &[n_obs, PCS], &Values::Float(pca))
            .unwrap();
    };
    support::synthetic::csr_h5ad(path, prefix, (n_obs, N_VARS, PER_ROW), n_genes, pca);
}

#[test]
fn appending_matrices_many_times_the_block_keeps_memory_near_the_block() {
    let dir = support::test_dir("append-memory");
    let (n_old, n_new) = (20_000u64, 10_000u64);
    let target = dir.join("target.h5ad");
    let source_path = dir.join("source.h5ad");
    write_file(&source_path, "new", n_new);
    let x_bytes = n_new * PER_ROW * 8;
    let pca_bytes = (n_old + n_new) * PCS * 8;
    assert!(x_bytes >= 20 * MIB && pca_bytes >= 20 * MIB);
    let source = AnnData::open(&h5sparse::H5File::open(&source_path).unwrap()).unwrap();

    let run = |block: usize| {
        write_file(&target, "cell", n_old);
        let mut adata = AnnData::open(&h5sparse::H5File::open_rw(&target).unwrap()).unwrap();
        let opts = AppendOptions::default().block_bytes(block);
        let (done, peak) = peak_during(|| adata.append_obs(&source, &opts).unwrap());
        assert!(done.rewritten.contains(&"/obsm/X_pca".to_string()));
        eprintln!(
            "peak {:.1} MiB appending {:.1} MiB of X and rewriting {:.1} MiB of obsm with a \
             {:.0} MiB block ({:.2} x block)",
            peak as f64 / MIB as f64,
            x_bytes as f64 / MIB as f64,
            pca_bytes as f64 / MIB as f64,
            block as f64 / MIB as f64,
            peak as f64 / block as f64
        );
        (adata, peak)
    };
    run(MIB as usize);
    let block = 4 * MIB as usize;
    let (adata, peak) = run(block);
    // The block read, converted and buffered, plus the obs names (about
    // 1 MiB here): about the block to twice it, whatever the sizes.
    assert!(
        peak as f64 <= 2.5 * block as f64,
        "peak {peak} bytes for a {block}-byte block"
    );

    // The result is right: spot-check rows of X and obsm.
    assert_eq!(adata.n_obs(), n_old + n_new);
    let x = adata.x_sparse().unwrap().unwrap();
    let src_x = source.x_sparse().unwrap().unwrap();
    for r in [0i64, 1, 4_999, 9_999] {
        let got = x
            .read::<f32>(n_old as i64 + r..n_old as i64 + r + 1, ..)
            .unwrap();
        let want = src_x.read::<f32>(r..r + 1, ..).unwrap();
        assert_eq!(got, want, "row {r}");
    }
    let snap = adata.file().snapshot().unwrap();
    let pca = snap.dataset("/obsm/X_pca").unwrap();
    assert_eq!(pca.shape(), Some(&[n_old + n_new, PCS][..]));
    let row = pca.read_slab::<f64>(&[n_old + 3, 0], &[1, PCS]).unwrap();
    assert_eq!(row[5], (3 * PCS + 5) as f64);
    let names = adata.obs_names().unwrap();
    assert_eq!(
        (names[0].as_str(), names[n_old as usize].as_str()),
        ("cell0", "new0")
    );
}
