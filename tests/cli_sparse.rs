//! `h5sparse slice` and `h5sparse info`, run as the built binary on the
//! fixtures: exact outputs for the seed matrix, agreement with the library
//! for the anndata and 10x fixtures, `--to OUT.h5` round trips (checked by
//! our reader and by h5py), and one-line errors.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use h5sparse::sparse::{Sel, SparseDataset};
use h5sparse::H5Type;

fn h5sparse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .expect("run the h5sparse binary")
}

fn fixture(name: &str) -> String {
    support::fixture(name).display().to_string()
}

/// Runs a command that must succeed; its stdout.
fn ok(args: &[&str]) -> String {
    let out = h5sparse(args);
    assert!(
        out.status.success(),
        "h5sparse {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a command that must fail with status 1 and one error line; the line.
fn fails(args: &[&str]) -> String {
    let out = h5sparse(args);
    assert_eq!(out.status.code(), Some(1), "h5sparse {args:?} should fail");
    assert!(out.stdout.is_empty(), "no output on failure: {args:?}");
    let err = String::from_utf8(out.stderr).expect("utf-8 stderr");
    assert_eq!(err.lines().count(), 1, "one error line: {err:?}");
    assert!(err.starts_with("h5sparse: error: "), "{err:?}");
    err.trim_end().to_string()
}

fn seed_slice(extra: &[&str]) -> String {
    let seed = fixture("seed.h5");
    let mut args = vec!["slice", seed.as_str(), "/X"];
    args.extend_from_slice(extra);
    ok(&args)
}

/// A file in this test's directory holding `text`.
fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn seed_summary() {
    assert_eq!(
        seed_slice(&[]),
        "shape: (6, 3)\nformat: csr\ndtype: <i8\nnnz: 6\nsum: 73\n"
    );
    assert_eq!(
        seed_slice(&["--rows", "1:4", "--to", "summary"]),
        "shape: (3, 3)\nformat: csr\ndtype: <i8\nnnz: 3\nsum: 11\n"
    );
}

#[test]
fn seed_dense_json() {
    let json = |extra: &[&str]| {
        let mut a = extra.to_vec();
        a.extend_from_slice(&["--to", "dense-json"]);
        seed_slice(&a)
    };
    assert_eq!(
        json(&[]),
        "{\"shape\":[6,3],\"dense\":[[0,18,0],[0,0,4],[0,0,0],[3,4,0],[0,36,0],[0,0,8]]}\n"
    );
    assert_eq!(
        json(&["--rows", "0:2", "--cols", "1:3"]),
        "{\"shape\":[2,2],\"dense\":[[18,0],[0,4]]}\n"
    );
    // Negative values parse as selections, with or without `=`.
    let last = "{\"shape\":[1,3],\"dense\":[[0,0,8]]}\n";
    assert_eq!(json(&["--rows=-1"]), last);
    assert_eq!(json(&["--rows", "-1"]), last);
    assert_eq!(
        json(&["--rows", "::-2"]),
        "{\"shape\":[3,3],\"dense\":[[0,0,8],[3,4,0],[0,0,4]]}\n"
    );
    assert_eq!(
        json(&["--rows", "-2:", "--cols", "2,-3,1,1"]),
        "{\"shape\":[2,4],\"dense\":[[0,0,36,36],[8,0,0,0]]}\n"
    );
    // An empty selection.
    assert_eq!(
        json(&["--rows", "4:1", "--cols", "::-1"]),
        "{\"shape\":[0,3],\"dense\":[]}\n"
    );
}

#[test]
fn seed_selection_files() {
    let dir = support::test_dir("cli_seed_selection_files");
    let mask = write_file(&dir, "mask.txt", "100101\n");
    assert_eq!(
        seed_slice(&["--rows", &format!("@{mask}"), "--to", "dense-json"]),
        "{\"shape\":[3,3],\"dense\":[[0,18,0],[3,4,0],[0,0,8]]}\n"
    );
    let cols = write_file(&dir, "cols.txt", "011\n");
    assert_eq!(
        seed_slice(&[
            "--cols",
            &format!("@{cols}"),
            "--rows",
            "0:2",
            "--to",
            "csv"
        ]),
        "18,0\n0,4\n"
    );
    // One index per line, negatives and repeats allowed, blank lines ignored.
    let list = write_file(&dir, "rows.txt", "-1\n\n3\n3\n");
    assert_eq!(
        seed_slice(&["--rows", &format!("@{list}"), "--to", "dense-json"]),
        "{\"shape\":[3,3],\"dense\":[[0,0,8],[3,4,0],[3,4,0]]}\n"
    );
    // A single index is a list, not a one-element mask.
    let one = write_file(&dir, "one.txt", "1\n");
    assert_eq!(
        seed_slice(&["--rows", &format!("@{one}"), "--to", "csv"]),
        "0,0,4\n"
    );
}

#[test]
fn seed_mtx_and_csv() {
    assert_eq!(
        seed_slice(&["--to", "mtx"]),
        "%%MatrixMarket matrix coordinate integer general\n\
         6 3 6\n\
         1 2 18\n\
         2 3 4\n\
         4 1 3\n\
         4 2 4\n\
         5 2 36\n\
         6 3 8\n"
    );
    assert_eq!(
        seed_slice(&["--to", "mtx", "--rows", "3:5", "--cols", "1:"]),
        "%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 4\n2 1 36\n"
    );
    assert_eq!(
        seed_slice(&["--to", "csv"]),
        "0,18,0\n0,0,4\n0,0,0\n3,4,0\n0,36,0\n0,0,8\n"
    );
}

/// The dense matrix read through the library.
fn library_dense<T: H5Type + Default + Into<f64>>(
    path: &str,
    group: &str,
    rows: &Sel,
    cols: &Sel,
) -> (usize, usize, Vec<Vec<f64>>) {
    let file = h5sparse::File::open(path).unwrap();
    let ds = SparseDataset::open(&file, group).unwrap();
    let m = ds.read::<T>(rows, cols).unwrap().to_csr();
    let (r, c) = m.shape();
    let mut dense = vec![vec![0.0; c]; r];
    for (i, row) in m.outer_iterator().enumerate() {
        for (j, &v) in row.iter() {
            dense[i][j] = v.into();
        }
    }
    (r, c, dense)
}

/// `slice --to dense-json` parsed: shape and rows as f64.
fn cli_dense(path: &str, group: &str, sel: &[&str]) -> (usize, usize, Vec<Vec<f64>>) {
    let mut args = vec!["slice", path, group, "--to", "dense-json"];
    args.extend_from_slice(sel);
    let v: serde_json::Value = serde_json::from_str(&ok(&args)).expect("valid JSON");
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let dense = v["dense"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    (shape[0], shape[1], dense)
}

/// Selections tried on every fixture matrix, as CLI text and as `Sel`.
fn selections() -> Vec<(Vec<&'static str>, Sel, Sel)> {
    let p = |s: &str| Sel::parse(s).unwrap();
    vec![
        (vec![], Sel::All, Sel::All),
        (vec!["--rows", "1:7:2"], p("1:7:2"), Sel::All),
        (vec!["--cols", "::-3"], Sel::All, p("::-3")),
        (
            vec!["--rows", "-1,0,5,5", "--cols", "2:-1"],
            p("-1,0,5,5"),
            p("2:-1"),
        ),
    ]
}

#[test]
fn anndata_fixtures_match_the_library() {
    for name in ["anndata.h5ad", "anndata_gzip.h5ad"] {
        let path = fixture(name);
        for group in ["/X", "/layers/counts", "/obsp/distances"] {
            for (args, rows, cols) in selections() {
                let cli = cli_dense(&path, group, &args);
                let lib = if group == "/obsp/distances" {
                    library_dense::<f64>(&path, group, &rows, &cols)
                } else {
                    // float32 prints in its shortest form; compare as f32.
                    let (r, c, d) = library_dense::<f32>(&path, group, &rows, &cols);
                    let cli32: Vec<Vec<f64>> = cli
                        .2
                        .iter()
                        .map(|row| row.iter().map(|&x| x as f32 as f64).collect())
                        .collect();
                    assert_eq!(
                        (cli.0, cli.1, cli32),
                        (r, c, d.clone()),
                        "{name} {group} {args:?}"
                    );
                    (r, c, d)
                };
                if group == "/obsp/distances" {
                    assert_eq!(cli, lib, "{name} {group} {args:?}");
                }
            }
        }
    }
    let path = fixture("anndata.h5ad");
    let summary = ok(&["slice", &path, "/X"]);
    assert!(
        summary.starts_with("shape: (20, 12)\nformat: csr\ndtype: <f4\nnnz: 72\nsum: "),
        "{summary}"
    );
    let mtx = ok(&["slice", &path, "/obsp/distances", "--to", "mtx"]);
    assert!(mtx.starts_with("%%MatrixMarket matrix coordinate real general\n20 20 40\n"));
    assert_eq!(mtx.lines().count(), 42);
}

#[test]
fn tenx_csc_matches_the_library() {
    let path = fixture("tenx.h5");
    for (args, rows, cols) in selections() {
        let cli = cli_dense(&path, "/matrix", &args);
        let lib = library_dense::<i32>(&path, "/matrix", &rows, &cols);
        assert_eq!(cli, lib, "tenx {args:?}");
    }
    // Matrix Market lists a CSC matrix column by column, 1-based.
    let mtx = ok(&["slice", &path, "/matrix", "--to", "mtx"]);
    let mut lines = mtx.lines();
    assert_eq!(
        lines.next(),
        Some("%%MatrixMarket matrix coordinate integer general")
    );
    assert_eq!(lines.next(), Some("30 25 150"));
    let (_, _, dense) = library_dense::<i32>(&path, "/matrix", &Sel::All, &Sel::All);
    let mut last_col = 0;
    for line in lines {
        let f: Vec<i64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        let (i, j) = (f[0] as usize - 1, f[1] as usize - 1);
        assert!(j >= last_col);
        last_col = j;
        assert_eq!(dense[i][j], f[2] as f64, "{line}");
    }
    assert!(ok(&["slice", &path, "/matrix"])
        .starts_with("shape: (30, 25)\nformat: csc\ndtype: <i4\nnnz: 150\n"));
}

#[test]
fn info_lists_every_sparse_matrix() {
    assert_eq!(
        ok(&["info", &fixture("seed.h5")]),
        "/X\n  convention: h5sparse\n  format: csr\n  shape: (6, 3)\n  nnz: 6\n  \
         dtypes: data <i8, indices <i4, indptr <i4\n  \
         data storage: chunked (4,), max shape (unlimited), filters: none\n"
    );
    // AnnData files: anndata's repr, then each element's storage
    // (tests/info.rs checks every field against h5py and anndata).
    for (name, filters) in [
        ("anndata.h5ad", "none"),
        ("anndata_gzip.h5ad", "deflate (level 4)"),
    ] {
        let text = ok(&["info", &fixture(name)]);
        assert!(
            text.starts_with("AnnData object with n_obs × n_vars = 20 × 12\n"),
            "{text}"
        );
        let x = format!(
            "\nX\n  path: /X\n  encoding: csr_matrix\n  shape: (20, 12)\n  dtype: <f4\n  \
             format: csr (anndata convention)\n  nnz: 72\n  index dtypes: indices <i4, indptr <i4\n  \
             data storage: chunked (72,), max shape (unlimited), filters: {filters}\n"
        );
        assert!(text.contains(&x), "{name}: {text}");
        assert!(text.contains(
            "\nobs\n  path: /obs\n  encoding: dataframe\n  shape: (20, 3)\n  \
             columns: 3: cell_type (categorical), n_genes (array), quality (array)\n"
        ));
    }
    assert_eq!(
        ok(&["info", &fixture("tenx.h5")]),
        "/matrix\n  convention: 10x\n  format: csc\n  shape: (30, 25)\n  nnz: 150\n  \
         dtypes: data <i4, indices <i8, indptr <i8\n  \
         data storage: chunked (150,), max shape (unlimited), filters: shuffle, deflate (level 4)\n"
    );
    // A hard-link cycle ends; a file without sparse matrices says so.
    let cycle = fixture("hardlink_cycle.h5");
    assert_eq!(
        ok(&["info", &cycle]),
        format!("no sparse matrices in {cycle}\n")
    );
}

/// Reads `group` of `path` back through the library.
fn read_back<T: H5Type>(path: &Path, group: &str) -> sprs::CsMat<T> {
    let file = h5sparse::File::open(path).unwrap();
    SparseDataset::open(&file, group)
        .unwrap()
        .to_memory::<T>()
        .unwrap()
}

#[test]
fn to_file_round_trips() {
    let dir = support::test_dir("cli_slice_to_file");
    let out = dir.join("seed_part.h5");
    let out_s = out.display().to_string();
    let printed = seed_slice(&["--rows", "::-2", "--cols", "1:", "--to", &out_s]);
    assert_eq!(printed, "");
    let seed = fixture("seed.h5");
    let file = h5sparse::File::open(&seed).unwrap();
    let expected = SparseDataset::open(&file, "/X")
        .unwrap()
        .read::<i64>(&Sel::parse("::-2").unwrap(), &Sel::parse("1:").unwrap())
        .unwrap();
    assert_eq!(read_back::<i64>(&out, "/X"), expected);
    // The written file describes itself like any other.
    assert_eq!(
        ok(&["slice", &out_s, "/X", "--to", "dense-json"]),
        "{\"shape\":[3,2],\"dense\":[[0,8],[4,0],[0,4]]}\n"
    );
    // Never overwritten, and the existing file is left alone.
    let before = std::fs::read(&out).unwrap();
    let err = fails(&["slice", &seed, "/X", "--to", &out_s]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // A CSC matrix to a nested group keeps its format.
    let tenx_out = dir.join("tenx_part.h5ad");
    let target = format!("{}:/layers/part", tenx_out.display());
    let tenx = fixture("tenx.h5");
    ok(&[
        "slice", &tenx, "/matrix", "--rows", "0:20", "--cols", "-5:", "--to", &target,
    ]);
    let file = h5sparse::File::open(&tenx).unwrap();
    let expected = SparseDataset::open(&file, "/matrix")
        .unwrap()
        .read::<i32>(&Sel::parse("0:20").unwrap(), &Sel::parse("-5:").unwrap())
        .unwrap();
    let back = read_back::<i32>(&tenx_out, "/layers/part");
    assert!(back.is_csc());
    assert_eq!(back, expected);
    // Nothing but the outputs is left in the directory (no temporary files).
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["seed_part.h5", "tenx_part.h5ad"]);

    check_with_h5py(&out, "/X", "[[0,8],[4,0],[0,4]]", "csr");
}

/// h5py reads the matrix we wrote: both conventions' attributes, and the
/// dense values rebuilt from data/indices/indptr.
fn check_with_h5py(path: &Path, group: &str, dense: &str, format: &str) {
    let py = match support::require_python("cli_sparse h5py check") {
        Ok(Some(py)) => py,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let script = r#"
import sys, json, h5py, numpy as np
path, group = sys.argv[1], sys.argv[2]
with h5py.File(path, "r") as f:
    g = f[group]
    a = g.attrs
    fmt = a["h5sparse_format"]
    fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
    enc = a["encoding-type"]
    enc = enc.decode() if isinstance(enc, bytes) else str(enc)
    assert enc == fmt + "_matrix", (enc, fmt)
    shape = [int(x) for x in a["shape"]]
    assert shape == [int(x) for x in a["h5sparse_shape"]]
    data, indices, indptr = g["data"][:], g["indices"][:], g["indptr"][:]
    dense = np.zeros(shape, dtype=data.dtype)
    for major in range(len(indptr) - 1):
        for k in range(indptr[major], indptr[major + 1]):
            if fmt == "csr":
                dense[major, indices[k]] = data[k]
            else:
                dense[indices[k], major] = data[k]
    print(fmt, json.dumps(dense.tolist(), separators=(",", ":")))
"#;
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(path)
        .arg(group)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "h5py check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        format!("{format} {dense}")
    );
}

#[test]
fn errors_are_one_clear_line() {
    let seed = fixture("seed.h5");
    let run = |extra: &[&str]| {
        let mut args = vec!["slice", seed.as_str(), "/X"];
        args.extend_from_slice(extra);
        fails(&args)
    };
    // Bad selections.
    let e = run(&["--rows", "a:b"]);
    assert!(
        e.contains("--rows a:b") && e.contains("not an integer"),
        "{e}"
    );
    let e = run(&["--cols", "1:2:0"]);
    assert!(e.contains("--cols 1:2:0") && e.contains("zero"), "{e}");
    let e = run(&["--rows", "1,,2"]);
    assert!(e.contains("--rows 1,,2"), "{e}");
    // Out of range: the message names the axis.
    assert_eq!(
        run(&["--rows", "6"]),
        "h5sparse: error: --rows 6: index 6 is out of range for an axis of length 6 (rows)"
    );
    assert_eq!(
        run(&["--cols=-4"]),
        "h5sparse: error: --cols -4: index -4 is out of range for an axis of length 3 (cols)"
    );
    // Masks of the wrong length.
    let dir = support::test_dir("cli_errors");
    let mask = write_file(&dir, "mask.txt", "101\n");
    let e = run(&["--rows", &format!("@{mask}")]);
    assert!(
        e.contains("(rows") && e.contains("mask has length 3, the axis has 6"),
        "{e}"
    );
    let bad = write_file(&dir, "bad.txt", "1\nx\n");
    let e = run(&["--cols", &format!("@{bad}")]);
    assert!(e.contains("line 2") && e.contains("\"x\""), "{e}");
    let e = run(&["--rows", "@/nonexistent/rows.txt"]);
    assert!(e.contains("cannot read /nonexistent/rows.txt"), "{e}");
    // Targets.
    let e = run(&["--to", "json"]);
    assert!(e.contains("--to json: expected summary"), "{e}");
    // Not a sparse group, no such group, no such file, not HDF5.
    let e = fails(&["slice", &seed, "/"]);
    assert!(e.contains("/ is not a sparse matrix"), "{e}");
    let e = fails(&["slice", &fixture("anndata.h5ad"), "/obs"]);
    assert!(e.contains("/obs is not a sparse matrix"), "{e}");
    let e = fails(&["slice", &seed, "/nope"]);
    assert!(e.contains("nope"), "{e}");
    let e = fails(&["slice", "/nonexistent/file.h5", "/X"]);
    assert!(e.contains("/nonexistent/file.h5"), "{e}");
    let cargo_toml = support::repo_root().join("Cargo.toml");
    let e = fails(&["info", &cargo_toml.display().to_string()]);
    assert!(e.contains("Cargo.toml") && e.contains("signature"), "{e}");
}

#[test]
fn unsupported_value_types_are_refused_clearly() {
    // String data (bool and float16 are read since issue 11): write one
    // with our writer, then slice it.
    let dir = support::test_dir("cli_string_data");
    let path: PathBuf = dir.join("strings.h5");
    let mut w = h5sparse::write::Writer::create(&path).unwrap();
    w.create_group("/B").unwrap();
    let opts = h5sparse::write::DatasetOptions::default();
    w.create_dataset_values(
        "/B/data",
        &h5sparse::Dtype::VarString {
            charset: h5sparse::CharSet::Utf8,
        },
        &[2],
        &h5sparse::Values::Str(vec!["a".into(), "b".into()]),
        &opts,
    )
    .unwrap();
    w.create_dataset("/B/indices", &[2], &[0i32, 1], &opts)
        .unwrap();
    w.create_dataset("/B/indptr", &[3], &[0i32, 1, 2], &opts)
        .unwrap();
    w.set_attr_str("/B", "h5sparse_format", "csr").unwrap();
    w.set_attr_array("/B", "h5sparse_shape", &[2i64, 2])
        .unwrap();
    w.close().unwrap();
    let p = path.display().to_string();
    let e = fails(&["slice", &p, "/B"]);
    assert!(e.contains("/B/data has dtype vlen-str"), "{e}");
    assert!(ok(&["info", &p]).contains("dtypes: data vlen-str, indices <i4, indptr <i4"));
}

/// The streamed summary (whole rows: no matrix built) prints what the
/// summary of the read matrix prints, repeats and all.
#[test]
fn streamed_summary_equals_the_matrix_summary() {
    for rows in ["5,0,0,3", "::-2", "1:4", "-1"] {
        let streamed = seed_slice(&["--rows", rows]);
        // A column list is a minor selection: the matrix is read.
        let read = seed_slice(&["--rows", rows, "--cols", "0,1,2"]);
        assert_eq!(streamed, read, "--rows {rows}");
    }
    // Compressed data is decoded into one reused buffer as it streams.
    let gz = fixture("anndata_gzip.h5ad");
    let all_cols = (0..12).map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(
        ok(&["slice", &gz, "/X", "--rows", "2:9"]),
        ok(&["slice", &gz, "/X", "--rows", "2:9", "--cols", &all_cols])
    );
}

/// bool and float16 matrices (written by h5py, as anndata stores them)
/// print in every text format: JSON true/false, CSV and Matrix Market 1/0,
/// float16 as its exact value; numpy gives the expected dense arrays.
#[test]
fn slice_prints_bool_and_float16_matrices() {
    let Some(py) = support::require_python("bool/f16 slice").unwrap() else {
        return;
    };
    let dir = support::test_dir("cli-bool-f16");
    let path = dir.join("bf.h5");
    let script = format!(
        "import h5py, numpy as np, scipy.sparse as sp, json\n\
         d = np.array([[0, 1.5, 0], [0.25, 0, -2]], dtype=np.float16)\n\
         out = {{}}\n\
         with h5py.File({p:?}, 'w') as f:\n\
         \x20   m = sp.csr_matrix(d.astype(np.float32))\n\
         \x20   for name, data, dense in [('b', m.data != 0, (d != 0).tolist()), ('h', m.data.astype(np.float16), d.astype(float).tolist())]:\n\
         \x20       g = f.create_group(name)\n\
         \x20       g.attrs['encoding-type'] = 'csr_matrix'\n\
         \x20       g.attrs['encoding-version'] = '0.1.0'\n\
         \x20       g.attrs['shape'] = np.array(m.shape)\n\
         \x20       g['data'] = data; g['indices'] = m.indices; g['indptr'] = m.indptr\n\
         \x20       out[name] = dense\n\
         print(json.dumps(out))\n",
        p = path.display().to_string()
    );
    let res = std::process::Command::new(py)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let want: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    let p = path.to_str().unwrap();
    for name in ["b", "h"] {
        let json = ok(&["slice", p, name, "--to", "dense-json"]);
        let got: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(got["dense"], want[name], "{name}: {json}");
    }
    assert_eq!(
        ok(&["slice", p, "b", "--to", "csv"]).lines().nth(1),
        Some("1,0,1")
    );
    assert!(ok(&["slice", p, "h", "--to", "mtx"]).contains("real general"));
}
