//! `h5sparse info --json` on AnnData files against anndata and h5py: for
//! every `.h5ad` fixture, and a file anndata writes here with a dense `X`,
//! a CSC layer, an obsm dataframe, varm, varp, raw and gzip compression,
//! the repr is anndata's, the element names are anndata's keys, every
//! element's shape is anndata's, and its dtype, sparse format, nnz
//! (`len(data)`), index dtypes, layout, chunks, maxshape, compression and
//! filters are what h5py reports; obs/var columns are anndata's, their
//! kinds the encodings h5py reads. On a plain `.h5`, `--json` lists the
//! sparse matrices as h5py sees them.

mod support;

use std::process::Command;

use serde_json::{json, Value};

/// Writes `rich.h5ad` into argv[1]; for each file of argv[2:] (and that
/// one), what anndata and h5py say about it, as JSON.
const ORACLE: &str = r#"
import json, os, sys, warnings
import anndata as ad, h5py, numpy as np, pandas as pd, scipy.sparse as sp
warnings.simplefilter("ignore")
out_dir = sys.argv[1]
rng = np.random.default_rng(0)
X = rng.poisson(1.0, (6, 10)).astype(np.float64)
a = ad.AnnData(X, obs=pd.DataFrame({"g": pd.Categorical(list("aabbcc"))}, index=[f"c{i}" for i in range(6)]),
               var=pd.DataFrame({"s": [f"s{i}" for i in range(10)]}, index=[f"g{i}" for i in range(10)]))
a.raw = a.copy()
a.layers["csc"] = sp.csc_matrix(X.astype(np.int32))
a.obsm["df"] = pd.DataFrame({"u": np.arange(6), "v": list("xyzxyz")}, index=a.obs_names)
a.varm["PCs"] = np.ones((10, 2), dtype=np.float32)
a.varp["conn"] = sp.csr_matrix(np.eye(10))
a.uns["nested"] = {"k": 1}
rich = os.path.join(out_dir, "rich.h5ad")
a.write_h5ad(rich, compression="gzip", compression_opts=5)

LAYOUT = {h5py.h5d.COMPACT: "compact", h5py.h5d.CONTIGUOUS: "contiguous", h5py.h5d.CHUNKED: "chunked"}
def layout(ds):
    return {"layout": LAYOUT[ds.id.get_create_plist().get_layout()],
            "chunks": list(ds.chunks) if ds.chunks else None,
            "maxshape": list(ds.maxshape) if ds.maxshape is not None else None,
            "compression": ds.compression, "compression_opts": ds.compression_opts,
            "shuffle": bool(ds.shuffle), "fletcher32": bool(ds.fletcher32)}

def attr(obj, name):
    v = obj.attrs.get(name)
    return v.decode() if isinstance(v, bytes) else v

def facts(f, key):
    path = key
    if key not in f and key == "raw/X":
        path = "raw.X"
    if path in f:
        obj = f[path]
        if isinstance(obj, h5py.Group):
            enc = attr(obj, "encoding-type")
            if enc == "dataframe":
                return {"path": obj.name, "encoding": "dataframe",
                        "shape": [len(obj[attr(obj, "_index")]), len(obj.attrs["column-order"])], "dtype": None}
            fmt = attr(obj, "h5sparse_format") or enc.split("_")[0]
            shape = obj.attrs["shape"] if "shape" in obj.attrs else obj.attrs["h5sparse_shape"]
            d = obj["data"]
            return {"path": obj.name, "encoding": fmt + "_matrix", "shape": [int(x) for x in shape],
                    "dtype": d.dtype.str, "format": fmt, "nnz": len(d),
                    "indices_dtype": obj["indices"].dtype.str, "indptr_dtype": obj["indptr"].dtype.str,
                    **layout(d)}
        return {"path": obj.name, "shape": list(obj.shape), "dtype": obj.dtype.str, **layout(obj)}
    group, field = key.split("/")
    ds = f[group]
    sub = ds.dtype[field]
    return {"path": ds.name, "shape": list(ds.shape) + list(sub.shape), "dtype": sub.base.str, **layout(ds)}

def kinds(f, df_path):
    obj = f[df_path]
    if not isinstance(obj, h5py.Group):
        return None
    out = []
    for c in obj.attrs["column-order"]:
        col = obj[c]
        enc = attr(col, "encoding-type")
        if enc is None:
            enc = "categorical" if "categories" in col.attrs else (
                "string-array" if h5py.check_string_dtype(col.dtype) else "array")
        out.append("nullable" if enc.startswith("nullable") else enc)
    return out

result = {}
for path in sys.argv[2:] + [rich]:
    a = ad.read_h5ad(path)
    elements = {}
    if a.X is not None:
        elements["X"] = a.X.shape
    for m in ("layers", "obsm", "varm", "obsp", "varp"):
        for k, v in getattr(a, m).items():
            elements[f"{m}/{k}"] = v.shape
    if a.raw is not None:
        elements["raw/X"] = a.raw.X.shape
    with h5py.File(path, "r") as f:
        el = {}
        for k, shape in elements.items():
            el[k] = facts(f, k)
            el[k]["anndata_shape"] = list(shape)
        legacy = isinstance(f["obs"], h5py.Dataset)
        result[path] = {"repr": repr(a), "n_obs": a.n_obs, "n_vars": a.n_vars, "elements": el,
                        "obs": {"columns": list(a.obs.columns), "kinds": kinds(f, "obs"), "rows": a.n_obs},
                        "var": {"columns": list(a.var.columns), "kinds": kinds(f, "var"), "rows": a.n_vars},
                        "raw_var": None if a.raw is None else {"columns": list(a.raw.var.columns),
                                                               "rows": a.raw.n_vars}}
print(json.dumps(result))
"#;

fn info_json(path: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(["info", "--json", path])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn info_json_is_what_anndata_and_h5py_report() {
    let Some(py) = support::require_python("anndata/h5py info oracle").unwrap() else {
        return;
    };
    let dir = support::test_dir("info_json");
    let files = support::h5ad_fixtures();
    assert!(files.len() >= 4);
    let mut args = vec![dir.clone()];
    args.extend(files.iter().cloned());
    let stdout = support::run_python(&py, ORACLE, &args);
    let oracle: serde_json::Map<String, Value> = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(oracle.len(), files.len() + 1);
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, want) in &oracle {
        let name = std::path::Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let got = info_json(path);
        let mut check = |what: String, ours: &Value, theirs: &Value| {
            checked += 1;
            if ours != theirs {
                failures.push(format!("{name} {what}: ours {ours}, theirs {theirs}"));
            }
        };
        check("anndata".into(), &got["anndata"], &json!(true));
        for key in ["repr", "n_obs", "n_vars"] {
            check(key.into(), &got[key], &want[key]);
        }
        // The text output starts with the same repr.
        let text = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
            .args(["info", path])
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        let repr = want["repr"].as_str().unwrap();
        check(
            "text repr".into(),
            &json!(text.starts_with(&format!("{repr}\n\n"))),
            &json!(true),
        );

        let ours: Vec<&String> = got["elements"].as_object().unwrap().keys().collect();
        let theirs: Vec<&String> = want["elements"].as_object().unwrap().keys().collect();
        let mut o = ours.clone();
        let mut t = theirs.clone();
        o.sort();
        t.sort();
        check("element names".into(), &json!(o), &json!(t));
        for (key, facts) in want["elements"].as_object().unwrap() {
            let el = &got["elements"][key];
            check(
                format!("{key} shape (anndata)"),
                &el["shape"],
                &facts["anndata_shape"],
            );
            for (field, value) in facts.as_object().unwrap() {
                if field != "anndata_shape" {
                    check(format!("{key} {field}"), &el[field], value);
                }
            }
        }
        for frame in ["obs", "var", "raw_var"] {
            let (ours, theirs) = (&got[frame], &want[frame]);
            if theirs.is_null() {
                check(format!("{frame} absent"), ours, &Value::Null);
                continue;
            }
            let cols = ours["columns"].as_array().unwrap();
            let names: Vec<&Value> = cols.iter().map(|c| &c["name"]).collect();
            check(
                format!("{frame} columns"),
                &json!(names),
                &theirs["columns"],
            );
            check(format!("{frame} rows"), &ours["shape"][0], &theirs["rows"]);
            check(
                format!("{frame} n columns"),
                &ours["shape"][1],
                &json!(cols.len()),
            );
            if let Some(kinds) = theirs.get("kinds").filter(|k| !k.is_null()) {
                let ours: Vec<&Value> = cols.iter().map(|c| &c["kind"]).collect();
                check(format!("{frame} kinds"), &json!(ours), kinds);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 200, "{checked} checks");
}

/// A plain `.h5`: `--json` lists each sparse matrix as h5py sees it.
#[test]
fn info_json_on_plain_files_lists_sparse_matrices() {
    let Some(py) = support::require_python("h5py sparse oracle").unwrap() else {
        return;
    };
    const SPARSE: &str = r#"
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    g = f[sys.argv[2]]
    d = g["data"]
    print(json.dumps({"nnz": len(d), "dtype": d.dtype.str, "indices_dtype": g["indices"].dtype.str,
                      "indptr_dtype": g["indptr"].dtype.str, "chunks": list(d.chunks) if d.chunks else None,
                      "compression": d.compression, "compression_opts": d.compression_opts,
                      "shuffle": bool(d.shuffle)}))
"#;
    for (file, group) in [("seed.h5", "/X"), ("tenx.h5", "/matrix")] {
        let path = support::fixture(file).display().to_string();
        let got = info_json(&path);
        assert_eq!(got["anndata"], json!(false));
        let list = got["sparse"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{got}");
        let stdout = support::run_python(&py, SPARSE, [path.as_str(), group]);
        let want: Value = serde_json::from_slice(&stdout).unwrap();
        assert_eq!(list[0]["path"], json!(group));
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&list[0][k], v, "{file} {k}");
        }
    }
    let none = info_json(&support::fixture("hardlink_cycle.h5").display().to_string());
    assert_eq!(none, json!({"anndata": false, "sparse": []}));
}
