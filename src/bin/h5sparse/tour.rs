//! `h5sparse tour`: the seed walkthrough ("Sparse matrices with h5py",
//! anndata 0.5), reproduced step by step in a temporary directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser};
use h5sparse::sparse::{self, SparseWriteOptions};
use h5sparse::write::{DatasetOptions, Writer};
use h5sparse::{H5File, SparseHandle, Values};
use sprs::{CsMat, CsMatI, TriMat};

use crate::CliError;

/// Arguments of `tour`.
#[derive(Args)]
pub struct TourArgs {
    /// Directory to work in (default: a fresh temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Side of the matrix of ones used for the memory profile (the seed: 10000).
    #[arg(long, default_value_t = 10_000)]
    ones: usize,
    /// Keep the files afterwards (always kept with --dir).
    #[arg(long)]
    keep: bool,
}

/// numpy's repr of a 2-D integer array.
fn np_int(d: &[Vec<i64>]) -> String {
    let w = d
        .iter()
        .flatten()
        .map(|v| v.to_string().len())
        .max()
        .unwrap_or(1);
    let rows: Vec<String> = d
        .iter()
        .map(|r| {
            format!(
                "[{}]",
                r.iter()
                    .map(|v| format!("{v:>w$}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    format!("array([{}])", rows.join(",\n       "))
}

/// numpy's repr of a 2-D float32 array (values printed with numpy's shortest
/// round-trip digits, padded to a common width).
fn np_f32(d: &[Vec<f32>]) -> String {
    let fmt = |v: f32| {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.")
        }
    };
    let frac = d
        .iter()
        .flatten()
        .map(|&v| fmt(v).split('.').nth(1).map_or(0, str::len))
        .max()
        .unwrap_or(0);
    let int = d
        .iter()
        .flatten()
        .map(|&v| fmt(v).split('.').next().map_or(1, str::len))
        .max()
        .unwrap_or(1);
    let cell = |v: f32| {
        let s = fmt(v);
        let (i, f) = s.split_once('.').unwrap_or((&s, ""));
        format!("{i:>int$}.{f:<frac$}")
    };
    let rows: Vec<String> = d
        .iter()
        .map(|r| {
            format!(
                "[{}]",
                r.iter().map(|&v| cell(v)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    format!("array([{}], dtype=float32)", rows.join(",\n       "))
}

fn dense_i64(m: &CsMat<i64>) -> Vec<Vec<i64>> {
    let d = m.to_dense();
    (0..d.nrows()).map(|r| d.row(r).to_vec()).collect()
}

fn dense_f32(m: &CsMat<f32>) -> Vec<Vec<f32>> {
    let d = m.to_dense();
    (0..d.nrows()).map(|r| d.row(r).to_vec()).collect()
}

fn csr(d: &[Vec<i64>]) -> CsMat<i64> {
    let mut t = TriMat::new((d.len(), d.first().map_or(0, Vec::len)));
    for (r, row) in d.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            if v != 0 {
                t.add_triplet(r, c, v);
            }
        }
    }
    t.to_csr()
}

/// A field of /proc/self/status in bytes (Linux; 0 elsewhere).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Memory the process allocated (anonymous resident pages). Pages of the
/// memory-mapped file are page cache the kernel can drop; [`mapped`]
/// reports them separately.
fn rss() -> u64 {
    status_kb("RssAnon:")
}

/// Resident pages of mapped files.
fn mapped() -> u64 {
    status_kb("RssFile:")
}

/// Bytes in the seed's unit: its "GB" are 2^30 bytes (psutil's bytes / 1024³).
fn gb(b: u64) -> String {
    format!("{:.2} GB", b as f64 / f64::from(1u32 << 30))
}

fn ls(out: &mut impl Write, args: &[&str]) -> Result<(), CliError> {
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        ls: crate::ls::LsArgs,
    }
    let w = Wrap::try_parse_from(std::iter::once("ls").chain(args.iter().copied()))
        .map_err(|e| CliError::Message(e.to_string()))?;
    crate::ls::run(&w.ls, out)
}

fn scale(m: &CsMat<i64>, k: i64) -> CsMat<i64> {
    m.map(|v| v * k)
}

/// Runs the tour.
pub fn run(args: &TourArgs, out: &mut impl Write) -> Result<(), CliError> {
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => std::env::temp_dir().join(format!("h5sparse-tour-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let result = tour(&dir, args.ones, out);
    if args.dir.is_none() && !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        writeln!(out, "\nFiles kept in {}", dir.display())?;
    }
    result
}

fn tour(dir: &Path, ones: usize, out: &mut impl Write) -> Result<(), CliError> {
    let test_h5 = dir.join("test.h5");
    writeln!(out, "# Indexing sparse matrices on disk as in memory\n")?;
    let x_array = vec![vec![0, 1, 0], vec![0, 0, 2], vec![0, 0, 0], vec![3, 4, 0]];
    let x = csr(&x_array);
    writeln!(out, ">>> X\n<4x3 sparse matrix of type '<class 'numpy.int64'>'\n    with {} stored elements in Compressed Sparse Row format>", x.nnz())?;
    writeln!(out, ">>> print(X)")?;
    for (v, (r, c)) in x.iter() {
        writeln!(out, "  ({r}, {c})\t{v}")?;
    }
    let sub = dense_i64(&x);
    let cols12: Vec<Vec<i64>> = sub.iter().map(|r| r[1..3].to_vec()).collect();
    writeln!(out, ">>> X[:, 1:3].toarray()\n{}", np_int(&cols12))?;

    let f = H5File::create(&test_h5)?;
    let xs = f.create_sparse("X", &x, &SparseWriteOptions::default())?;
    writeln!(out, ">>> f.create_dataset('X', data=X)\n{xs}")?;
    let m = xs.read::<i64>(.., 1..3)?;
    writeln!(
        out,
        ">>> f['X'][:, 1:3].toarray()\n{}",
        np_int(&dense_i64(&m))
    )?;
    let m = xs.read::<i64>([true, false, false, true], ..)?;
    writeln!(
        out,
        ">>> f['X'][np.array([True, False, False, True])].toarray()\n{}",
        np_int(&dense_i64(&m))
    )?;
    writeln!(
        out,
        "\n# Set an element that preserves the sparsity structure."
    )?;
    xs.set_value(0, 1, 9i64)?;
    print_x(&xs, out, ">>> f['X'][0, 1] = 9\n>>> f['X'][:].toarray()")?;
    writeln!(
        out,
        "\n# Set a chunk that preserves the sparsity structure."
    )?;
    xs.set(0..2, .., &scale(&xs.read(0..2, ..)?, 2))?;
    print_x(
        &xs,
        out,
        ">>> f['X'][0:2] = 2*f['X'][0:2]\n>>> f['X'][:].toarray()",
    )?;
    writeln!(out, "\n# Append.")?;
    xs.append(&scale(&xs.read(0..2, ..)?, 2))?;
    print_x(
        &xs,
        out,
        ">>> f['X'].append(2*f['X'][0:2])\n>>> f['X'][:].toarray()",
    )?;
    writeln!(
        out,
        "\n# Just check that we can do the same with the array."
    )?;
    let flat: Vec<i64> = x_array.iter().flatten().copied().collect();
    let y = f.create_dataset("Y", &[4, 3], &flat, &DatasetOptions::default())?;
    writeln!(out, ">>> f.create_dataset('Y', data=X_array)\n{y}")?;
    let v = y.read::<i64>()?;
    let rows: Vec<Vec<i64>> = v.chunks(3).map(<[i64]>::to_vec).collect();
    writeln!(out, ">>> f['Y'][:]\n{}", np_int(&rows))?;
    drop((xs, y));
    f.close()?;
    writeln!(
        out,
        "\n# Looking into the file reveals the following structure.\n$ h5sparse ls -r test.h5"
    )?;
    let p = test_h5.to_string_lossy().to_string();
    ls(out, &["-r", &p])?;
    writeln!(out, "$ h5sparse ls -v test.h5")?;
    ls(out, &["-v", &p])?;

    writeln!(out, "\n# Within an AnnData object")?;
    let h5ad = dir.join("test.h5ad");
    write_h5ad(&h5ad, &x_array)?;
    let adata = H5File::open_rw(&h5ad)?;
    let adata_x = adata.sparse("X")?;
    writeln!(out, ">>> adata.X\n{adata_x}")?;
    let top = adata_x.read::<f32>(0..2, ..)?;
    adata_x.set(0..2, .., &top.map(|v| v.ln_1p()))?;
    writeln!(
        out,
        ">>> adata.X[0:2] = np.log1p(adata.X[0:2])\n>>> adata.X[:].toarray()\n{}",
        np_f32(&dense_f32(&adata_x.to_memory::<f32>()?))
    )?;
    writeln!(
        out,
        "\n# Changing from csr to csc of the file.\n>>> adata.X\n{adata_x}"
    )?;
    adata_x.replace(&csr(&x_array).to_csc(), &SparseWriteOptions::default())?;
    writeln!(
        out,
        ">>> adata.X = csc_matrix(X_array)\n>>> adata.X\n{adata_x}"
    )?;
    drop(adata_x);
    adata.close()?;

    writeln!(out, "\n# Memory profiling")?;
    memory_profile(dir, ones, out)?;
    Ok(())
}

fn print_x(x: &SparseHandle, out: &mut impl Write, header: &str) -> Result<(), CliError> {
    let m = x.to_memory::<i64>()?;
    writeln!(out, "{header}\n{}", np_int(&dense_i64(&m)))?;
    Ok(())
}

/// A minimal valid `.h5ad`: the root and dataframe encodings anndata reads,
/// X as float32 CSR.
fn write_h5ad(path: &Path, x: &[Vec<i64>]) -> Result<(), CliError> {
    let m = csr(x).map(|&v| v as f32);
    let mut w = Writer::create(path)?;
    w.set_attr_str("/", "encoding-type", "anndata")?;
    w.set_attr_str("/", "encoding-version", "0.1.0")?;
    sparse::write_matrix(&mut w, "/X", m.view(), &SparseWriteOptions::default())?;
    for (name, n) in [("obs", x.len()), ("var", x.first().map_or(0, Vec::len))] {
        let g = format!("/{name}");
        w.create_group(&g)?;
        w.set_attr_str(&g, "encoding-type", "dataframe")?;
        w.set_attr_str(&g, "encoding-version", "0.2.0")?;
        w.set_attr_str(&g, "_index", "_index")?;
        w.set_attr(
            &g,
            "column-order",
            &h5sparse::Dtype::Float {
                size: 8,
                order: h5sparse::ByteOrder::Little,
            },
            Some(&[0]),
            &Values::Float(Vec::new()),
        )?;
        let names: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        w.create_dataset_values(
            &format!("{g}/_index"),
            &h5sparse::Dtype::VarString {
                charset: h5sparse::CharSet::Utf8,
            },
            &[n as u64],
            &Values::Str(names),
            &DatasetOptions::default(),
        )?;
        w.set_attr_str(&format!("{g}/_index"), "encoding-type", "string-array")?;
        w.set_attr_str(&format!("{g}/_index"), "encoding-version", "0.2.0")?;
    }
    for name in ["layers", "obsm", "obsp", "uns", "varm", "varp"] {
        let g = format!("/{name}");
        w.create_group(&g)?;
        w.set_attr_str(&g, "encoding-type", "dict")?;
        w.set_attr_str(&g, "encoding-version", "0.1.0")?;
    }
    drop(w.close()?);
    Ok(())
}

fn memory_profile(dir: &Path, n: usize, out: &mut impl Write) -> Result<(), CliError> {
    let path = dir.join("test2.h5");
    let base = rss();
    writeln!(
        out,
        ">>> logging.print_memory_usage()\nMemory usage: current {}",
        gb(base)
    )?;
    {
        // The ones matrix straight in CSR form (building it through triplets
        // would take several times its size).
        // int32 indices, as scipy keeps them (sprs's default usize would
        // double their memory).
        let indptr: Vec<i32> = (0..=n).map(|r| (r * n) as i32).collect();
        let indices: Vec<i32> = (0..n * n).map(|i| (i % n) as i32).collect();
        let data = vec![1.0f64; n * n];
        let x = CsMatI::new((n, n), indptr, indices, data);
        writeln!(out, ">>> X = csr_matrix(np.ones(({n}, {n})))\n<{n}x{n} sparse matrix of type '<class 'numpy.float64'>'\n    with {} stored elements in Compressed Sparse Row format>", x.nnz())?;
        let with_x = rss();
        writeln!(
            out,
            "Memory usage: current {}, difference +{}",
            gb(with_x),
            gb(with_x.saturating_sub(base))
        )?;
        let f = H5File::create(&path)?;
        let xs = f.create_sparse("X", &x, &SparseWriteOptions::default())?;
        writeln!(out, ">>> f.create_dataset('X', data=X)\n{xs}")?;
    }
    // X is dropped here, as the seed restarts its notebook.
    let start = rss();
    writeln!(
        out,
        ">>> f = h5py.File('./test2.h5')  # X freed\nMemory usage: current {}",
        gb(start)
    )?;
    let f = H5File::open(&path)?;
    let xs = f.sparse("X")?;
    let before = rss();
    let m = xs.read::<f64>(1..5, ..)?;
    let after = rss();
    writeln!(out, ">>> f['X'][1:5]\n<{}x{} sparse matrix of type '<class 'numpy.float64'>'\n    with {} stored elements in Compressed Sparse Row format>", m.rows(), m.cols(), m.nnz())?;
    writeln!(
        out,
        "Memory usage: current {}, difference +{} (result: {} bytes)",
        gb(after),
        gb(after.saturating_sub(before)),
        m.nnz() * 16
    )?;
    drop(m);
    let before = rss();
    let m = xs.read::<f64>([1, 5, 10, 13], ..)?;
    let after = rss();
    writeln!(out, ">>> f['X'][[1, 5, 10, 13]]\n<{}x{} sparse matrix of type '<class 'numpy.float64'>'\n    with {} stored elements in Compressed Sparse Row format>", m.rows(), m.cols(), m.nnz())?;
    writeln!(
        out,
        "Memory usage: current {}, difference +{}",
        gb(after),
        gb(after.saturating_sub(before))
    )?;
    drop(m);
    let before = rss();
    // int32 indices, as scipy keeps them (sprs's default usize doubles them).
    let m = xs.to_memory_as::<f64, i32>()?;
    let after = rss();
    writeln!(out, ">>> f['X'][:]\n<{}x{} sparse matrix of type '<class 'numpy.float64'>'\n    with {} stored elements in Compressed Sparse Row format>", m.rows(), m.cols(), m.nnz())?;
    writeln!(
        out,
        "Memory usage: current {}, difference +{}",
        gb(after),
        gb(after.saturating_sub(before))
    )?;
    writeln!(
        out,
        "(Memory usage counts allocated memory. The file's mapped pages, page cache the kernel can\n \
         drop, are another {}.)",
        gb(mapped())
    )?;
    Ok(())
}
