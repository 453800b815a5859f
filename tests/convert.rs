//! `h5sparse convert` against scanpy, anndata and scipy (the pinned
//! environment, fixtures/requirements.txt): every 10x HDF5 fixture read by
//! `anndata.read_h5ad` after conversion equals `scanpy.read_10x_h5` (X's
//! values and dtype, obs/var names, var columns and their dtypes), with and
//! without `--genome` and the gene-expression filter; every MEX directory
//! equals `scanpy.read_10x_mtx`; every Matrix Market file equals
//! `anndata.read_mtx` and `scipy.io.mmread`; `.h5ad` → Matrix Market read
//! back by `scipy.io.mmread`, and `.h5ad` → MEX read back by
//! `scanpy.read_10x_mtx`, equal the `.h5ad`'s matrix and names. Small
//! `--block-size`s make the streams run in many blocks.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{fixture, test_dir};

/// The oracle: compares what convert wrote with what the Python libraries
/// read from the same input. Raises on any difference; prints `ok`.
const ORACLE: &str = r#"
import json, sys, warnings
import numpy as np
import scipy.io, scipy.sparse as sp
import anndata as ad
warnings.simplefilter("error")
# scanpy keeps 10x gene symbols as they are, duplicates included, and says so.
warnings.filterwarnings("ignore", message="Variable names are not unique")
import scanpy as sc

def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)

def same_matrix(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    g, w = dense(got), dense(want)
    assert np.array_equal(g, w, equal_nan=True), f"{what}: values differ at {np.argwhere(g != w)[:5].tolist()}"

def same_frame(got, want, what):
    assert list(got.index) == list(want.index), f"{what} names differ: {list(got.index)[:8]} vs {list(want.index)[:8]}"
    assert list(got.columns) == list(want.columns), f"{what} columns {list(got.columns)} != {list(want.columns)}"
    for c in want.columns:
        assert got[c].dtype == want[c].dtype, f"{what}[{c}] dtype {got[c].dtype} != {want[c].dtype}"
        assert list(got[c]) == list(want[c]), f"{what}[{c}] values differ"

def same_adata(got, want):
    same_matrix(got.X, want.X, "X")
    assert sp.isspmatrix_csr(got.X), f"X is {type(got.X).__name__}, expected CSR"
    assert got.X.has_sorted_indices, "X's indices are not sorted"
    same_frame(got.obs, want.obs, "obs")
    same_frame(got.var, want.var, "var")

def check(mode, src, out, opts):
    if mode == "tenx":
        want = sc.read_10x_h5(src, genome=opts.get("genome"), gex_only=opts.get("gex_only", True))
        same_adata(ad.read_h5ad(out), want)
    elif mode == "mex":
        want = sc.read_10x_mtx(src, var_names=opts.get("var_names", "gene_symbols"),
                               gex_only=opts.get("gex_only", True))
        same_adata(ad.read_h5ad(out), want)
    elif mode == "mtx":
        got = ad.read_h5ad(out)
        same_adata(got, ad.io.read_mtx(src))
        same_matrix(got.X, sp.csr_matrix(scipy.io.mmread(src)).astype(np.float32), "X vs mmread")
        assert list(got.obs_names) == [str(i) for i in range(got.n_obs)]
    elif mode == "to_mtx":
        a = ad.read_h5ad(src)
        x = a.layers[opts["layer"]] if opts.get("layer") else a.X
        m = scipy.io.mmread(out)
        header = open(out, "rb").read(60) if not out.endswith(".gz") else __import__("gzip").open(out).read(60)
        field = "integer" if np.asarray(dense(x)).dtype.kind in "iu" else "real"
        assert header.startswith(f"%%MatrixMarket matrix coordinate {field} general".encode()), header
        same_matrix(sp.csr_matrix(m).astype(x.dtype), x, "mmread(OUT)")
    elif mode == "to_mex":
        a = ad.read_h5ad(src)
        x = a.layers[opts["layer"]] if opts.get("layer") else a.X
        back = sc.read_10x_mtx(out, gex_only=False)
        same_matrix(back.X, sp.csc_matrix(x).astype(np.float32), "read_10x_mtx(OUT).X")
        assert list(back.obs_names) == list(a.obs_names), "barcodes"
        assert list(back.var_names) == list(ad.utils.make_index_unique(a.var_names)), "var names"
        ids = a.var["gene_ids"] if "gene_ids" in a.var else a.var_names
        assert list(back.var["gene_ids"]) == list(ids), "gene ids"
        types = a.var["feature_types"] if "feature_types" in a.var else ["Gene Expression"] * a.n_vars
        assert list(back.var["feature_types"]) == list(types), "feature types"
    elif mode == "make_h5ad":
        # Inputs the fixtures do not have: dense integer X, CSC and float64 layers.
        r = np.random.default_rng(5)
        X = r.integers(0, 4, (9, 7)) * (r.random((9, 7)) < 0.4)
        a = ad.AnnData(X.astype(np.int64), obs={"obs_names": [f"c{i}" for i in range(9)]},
                       var={"var_names": [f"g{i}" for i in range(7)]})
        a.layers["csc"] = sp.csc_matrix(X.astype(np.float64) / 3)
        a.layers["i32"] = sp.csr_matrix(X.astype(np.int32))
        a.write_h5ad(out)

for case in json.loads(sys.argv[1]):
    try:
        check(*case)
    except Exception as e:
        import traceback
        traceback.print_exc()
        sys.exit(f"case {case}: {type(e).__name__}: {e}")
print("ok")
"#;

fn h5sparse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .expect("run h5sparse")
}

fn convert(args: &[&str]) {
    let out = h5sparse(&[&["convert"], args].concat());
    assert!(
        out.status.success(),
        "h5sparse convert {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One oracle check: mode, input, output, options (JSON).
type Case = (&'static str, PathBuf, PathBuf, String);

/// Runs the oracle on every case in one Python process; false when Python
/// is missing and skipping is allowed.
fn oracle(cases: &[Case]) -> bool {
    let Some(py) = support::require_python("convert oracle").unwrap() else {
        return false;
    };
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|(mode, src, out, opts)| {
            serde_json::json!([
                mode,
                src,
                out,
                serde_json::from_str::<serde_json::Value>(opts).unwrap()
            ])
        })
        .collect();
    let o = Command::new(py)
        .args(["-c", ORACLE, &serde_json::Value::Array(list).to_string()])
        .output()
        .expect("run python");
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "ok",
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    true
}

/// Converts each fixture with its extra arguments to `dir/<i>.h5ad`, then
/// runs the oracle's `mode` on all of them with their options.
fn convert_and_check(mode: &'static str, dir: &Path, cases: &[(&str, &[&str], &str)]) {
    let mut checks: Vec<Case> = Vec::new();
    for (i, (name, extra, opts)) in cases.iter().enumerate() {
        let input = fixture(name);
        let out = dir.join(format!("{i}.h5ad"));
        convert(&[&[s(&input), s(&out)], *extra].concat());
        checks.push((mode, input, out, opts.to_string()));
    }
    oracle(&checks);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn tenx_h5_equals_scanpy_read_10x_h5() {
    let dir = test_dir("convert-tenx");
    // (fixture, extra args, scanpy options)
    let cases: &[(&str, &[&str], &str)] = &[
        ("tenx_v3.h5", &[], r#"{}"#),
        ("tenx_v3.h5", &["--genome", "mm10"], r#"{"genome": "mm10"}"#),
        ("tenx_v3.h5", &["--all-features"], r#"{"gex_only": false}"#),
        (
            "tenx_v3.h5",
            &["--all-features", "--genome", "GRCh38", "--block-size", "64"],
            r#"{"gex_only": false, "genome": "GRCh38"}"#,
        ),
        (
            "tenx_v3.h5",
            &["--block-size", "100", "--compression", "gzip=6"],
            r#"{}"#,
        ),
        ("visium.h5", &[], r#"{}"#),
        ("tenx.h5", &["--block-size", "1"], r#"{}"#),
        (
            "tenx_v2.h5",
            &["--genome", "GRCh38"],
            r#"{"genome": "GRCh38"}"#,
        ),
        (
            "tenx_v2.h5",
            &["--genome", "mm10", "--block-size", "80"],
            r#"{"genome": "mm10"}"#,
        ),
    ];
    convert_and_check("tenx", &dir, cases);
}

#[test]
fn tenx_errors_are_one_line_and_leave_no_output() {
    let dir = test_dir("convert-tenx-errors");
    let out = dir.join("x.h5ad");
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "tenx_v2.h5",
            &[],
            "more than one genome: give one of [\"GRCh38\", \"mm10\"]",
        ),
        (
            "tenx_v2.h5",
            &["--genome", "hg19"],
            "could not find genome \"hg19\"",
        ),
        (
            "tenx_v3.h5",
            &["--genome", "hg19"],
            "available genomes are [\"GRCh38\", \"mm10\", \"\"]",
        ),
        (
            "tenx_v3.h5",
            &["--layer", "counts"],
            "--layer applies to .h5ad input only",
        ),
    ];
    for (name, extra, want) in cases {
        let o = h5sparse(&[&["convert", s(&fixture(name)), s(&out)], *extra].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name} {extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("h5sparse: error: ") && err.contains(want),
            "{err}"
        );
        assert!(!out.exists(), "a failed convert left {}", out.display());
        let leftovers: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn mex_directories_equal_scanpy_read_10x_mtx() {
    let dir = test_dir("convert-mex");
    let cases: &[(&str, &[&str], &str)] = &[
        ("mex_v3", &[], r#"{}"#),
        ("mex_v3", &["--block-size", "50"], r#"{}"#),
        ("mex_v3", &["--all-features"], r#"{"gex_only": false}"#),
        (
            "mex_v3",
            &["--var-names", "gene_ids"],
            r#"{"var_names": "gene_ids"}"#,
        ),
        ("mex_v2", &[], r#"{}"#),
        (
            "mex_v2",
            &["--var-names", "gene_ids", "--block-size", "30"],
            r#"{"var_names": "gene_ids"}"#,
        ),
    ];
    convert_and_check("mex", &dir, cases);
}

#[test]
fn matrix_market_files_equal_anndata_read_mtx() {
    let dir = test_dir("convert-mtx");
    let mut names: Vec<String> = std::fs::read_dir(fixture("mtx"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    let mut checks: Vec<Case> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let input = fixture("mtx").join(name);
        for (k, block) in ["268435456", "40"].iter().enumerate() {
            let out = dir.join(format!("{i}-{k}.h5ad"));
            convert(&[s(&input), s(&out), "--block-size", block]);
            checks.push(("mtx", input.clone(), out, "{}".into()));
        }
    }
    oracle(&checks);
}

#[test]
fn h5ad_to_matrix_market_reads_back_in_scipy() {
    let dir = test_dir("convert-to-mtx");
    let made = dir.join("made.h5ad");
    if !oracle(&[("make_h5ad", made.clone(), made.clone(), "{}".into())]) {
        return;
    }
    let tenx = dir.join("tenx.h5ad");
    convert(&[s(&fixture("tenx_v3.h5")), s(&tenx)]);
    let cases: Vec<(PathBuf, Option<&str>, &str)> = vec![
        (fixture("anndata.h5ad"), None, "a.mtx"),
        (fixture("anndata_gzip.h5ad"), Some("counts"), "b.mtx.gz"),
        (made.clone(), None, "dense_int.mtx"),
        (made.clone(), Some("csc"), "csc.mtx.gz"),
        (made.clone(), Some("i32"), "i32.mtx"),
        (tenx, None, "tenx.mtx.gz"),
    ];
    let mut checks: Vec<Case> = Vec::new();
    for (input, layer, name) in cases {
        let out = dir.join(name);
        let mut args = vec![s(&input), s(&out)];
        if let Some(l) = layer {
            args.extend(["--layer", l]);
        }
        convert(&args);
        let opts = match layer {
            Some(l) => format!(r#"{{"layer": "{l}"}}"#),
            None => "{}".into(),
        };
        checks.push(("to_mtx", input, out, opts));
    }
    oracle(&checks);
}

#[test]
fn h5ad_to_mex_reads_back_in_scanpy() {
    let dir = test_dir("convert-to-mex");
    let made = dir.join("made.h5ad");
    if !oracle(&[("make_h5ad", made.clone(), made.clone(), "{}".into())]) {
        return;
    }
    let tenx = dir.join("tenx.h5ad");
    convert(&[s(&fixture("tenx_v3.h5")), s(&tenx), "--all-features"]);
    let cases: Vec<(PathBuf, Option<&str>, &str)> = vec![
        (fixture("anndata.h5ad"), None, "a/"),
        (fixture("anndata.h5ad"), Some("counts"), "counts/"),
        (made.clone(), Some("csc"), "csc/"),
        (made, None, "dense/"),
        (tenx, None, "tenx/"),
    ];
    let mut checks: Vec<Case> = Vec::new();
    for (input, layer, name) in cases {
        let out = format!("{}/{name}", dir.display());
        let mut args = vec![s(&input), out.as_str()];
        if let Some(l) = layer {
            args.extend(["--layer", l]);
        }
        convert(&args);
        let opts = match layer {
            Some(l) => format!(r#"{{"layer": "{l}"}}"#),
            None => "{}".into(),
        };
        checks.push(("to_mex", input, PathBuf::from(out), opts));
    }
    oracle(&checks);
    // Cell Ranger's layout: id, name, type per line; one barcode per line.
    let features = std::io::read_to_string(flate2::read::GzDecoder::new(
        std::fs::File::open(dir.join("tenx/features.tsv.gz")).unwrap(),
    ))
    .unwrap();
    let first = features.lines().next().unwrap();
    assert_eq!(first.split('\t').count(), 3, "{first}");
}
