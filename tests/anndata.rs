//! `h5sparse::anndata` against anndata itself: for every `.h5ad` fixture
//! (anndata 0.12, anndata 0.7-style references, anndata 0.6-style record
//! arrays), the repr, obs/var names and every obs/var column equal what
//! `anndata.read_h5ad` gives.

mod support;

use std::process::Command;

use h5sparse::anndata::{AnnData, ColumnData, Element};
use h5sparse::{H5File, Values};
use serde_json::{json, Value};

/// What anndata reads: repr, names, and each column as JSON.
const ORACLE: &str = r#"
import json, sys, warnings
import anndata, numpy as np, pandas as pd
warnings.simplefilter("ignore")
out = {}
for path in sys.argv[1:]:
    a = anndata.read_h5ad(path)
    def frame(df):
        cols = {}
        for c in df.columns:
            s = df[c]
            if isinstance(s.dtype, pd.CategoricalDtype):
                cols[c] = {"codes": s.cat.codes.astype(int).tolist(),
                           "categories": [x if isinstance(x, str) else x.item() if hasattr(x, "item") else x
                                          for x in s.cat.categories.tolist()],
                           "ordered": bool(s.cat.ordered)}
            else:
                cols[c] = [None if x is pd.NA else x.item() if hasattr(x, "item") else x
                           for x in s.tolist()]
        return cols
    out[path] = {"repr": repr(a), "obs_names": a.obs_names.tolist(), "var_names": a.var_names.tolist(),
                 "obs": frame(a.obs), "var": frame(a.var)}
print(json.dumps(out))
"#;

fn values_json(v: &Values) -> Value {
    match v {
        Values::Int(x) => json!(x),
        Values::UInt(x) => json!(x),
        Values::Float(x) => json!(x),
        Values::Bool(x) => json!(x),
        Values::Str(x) => json!(x),
        Values::Nested(_) => json!("nested"),
    }
}

fn column_json(c: &ColumnData) -> Value {
    match c {
        ColumnData::Values(v) => values_json(v),
        ColumnData::Categorical {
            codes,
            categories,
            ordered,
        } => json!({"codes": codes, "categories": values_json(categories), "ordered": ordered}),
        ColumnData::Nullable { values, mask } => match values_json(values) {
            Value::Array(v) => Value::Array(
                v.into_iter()
                    .zip(mask)
                    .map(|(x, &missing)| if missing { Value::Null } else { x })
                    .collect(),
            ),
            other => other,
        },
        _ => json!("unknown"),
    }
}

/// Numbers compared by value (anndata widens float32 columns to f64).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_h5ad_fixture_reads_as_anndata_reads_it() {
    let Some(py) = support::require_python("anndata oracle").unwrap() else {
        return;
    };
    let files = support::h5ad_fixtures();
    assert!(files.len() >= 4, "{files:?}");
    let oracle: Value = serde_json::from_slice(&support::run_python(&py, ORACLE, &files)).unwrap();
    let mut failures = Vec::new();
    for path in &files {
        let want = &oracle[path.to_str().unwrap()];
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let adata = AnnData::open(&H5File::open(path).unwrap()).unwrap();
        if adata.to_string() != want["repr"].as_str().unwrap() {
            failures.push(format!(
                "{name}: repr\n{adata}\n--- anndata:\n{}",
                want["repr"].as_str().unwrap()
            ));
        }
        if json!(adata.obs_names().unwrap()) != want["obs_names"] {
            failures.push(format!("{name}: obs_names"));
        }
        if json!(adata.var_names().unwrap()) != want["var_names"] {
            failures.push(format!("{name}: var_names"));
        }
        for (frame, columns) in [("obs", adata.obs()), ("var", adata.var())] {
            for col in columns.column_names() {
                let got = match frame {
                    "obs" => adata.obs_column(col),
                    _ => adata.var_column(col),
                }
                .map(|c| column_json(&c))
                .unwrap_or_else(|e| json!(e.to_string()));
                let expected = &want[frame][col];
                if !same(&got, expected) {
                    failures.push(format!(
                        "{name}: {frame}[{col:?}]: ours {got}, anndata {expected}"
                    ));
                }
            }
        }
        ranges_read_as_anndata_slices(&adata, want, &name, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rows `a..b` of anndata's JSON column: a list sliced, a categorical's
/// codes sliced (its categories whole).
fn slice_json(v: &Value, rows: std::ops::Range<u64>) -> Value {
    let (a, b) = (rows.start as usize, rows.end as usize);
    match v {
        Value::Array(x) => Value::Array(x[a..b].to_vec()),
        Value::Object(o) => {
            let mut o = o.clone();
            o["codes"] = slice_json(&o["codes"], rows);
            Value::Object(o)
        }
        other => other.clone(),
    }
}

/// `DataFrame::index_range` and `column_range` (the viewer's pages of a
/// table) against the same rows of what anndata reads; a range past the
/// end is an error naming the frame.
fn ranges_read_as_anndata_slices(
    adata: &AnnData,
    want: &Value,
    name: &str,
    failures: &mut Vec<String>,
) {
    let file = adata.file().snapshot().unwrap();
    for (frame, df) in [("obs", adata.obs()), ("var", adata.var())] {
        let n = df.len();
        for rows in [0..n.min(3), n / 3..n, n / 2..n / 2 + 1.min(n - n / 2), n..n] {
            let names = df.index_range(&file, rows.clone()).unwrap();
            let expected = slice_json(&want[format!("{frame}_names")], rows.clone());
            if json!(names) != expected {
                failures.push(format!(
                    "{name}: {frame} names {rows:?}: ours {names:?}, anndata {expected}"
                ));
            }
            for col in df.column_names() {
                let got = df
                    .column_range(&file, col, rows.clone())
                    .map(|c| column_json(&c))
                    .unwrap_or_else(|e| json!(e.to_string()));
                let expected = slice_json(&want[frame][col], rows.clone());
                if !same(&got, &expected) {
                    failures.push(format!(
                        "{name}: {frame}[{col:?}][{rows:?}]: ours {got}, anndata {expected}"
                    ));
                }
            }
        }
        let err = df.index_range(&file, 0..n + 1).unwrap_err().to_string();
        if !err.contains(df.path()) || !err.contains(&format!("{n} rows")) {
            failures.push(format!("{name}: {frame} rows 0..{}: {err}", n + 1));
        }
        if let Some(col) = df.column_names().first() {
            if df.column_range(&file, col, n..n + 1).is_ok() {
                failures.push(format!("{name}: {frame}[{col:?}] rows past the end read"));
            }
        }
    }
}

/// An element this crate does not read (an `awkward-array` in `obsm`, an
/// encoding from the future in `uns`) is reported by its encoding; the rest
/// of the file reads as anndata reads it, and `info` still works.
#[test]
fn unknown_encodings_are_reported_not_errors() {
    let Some(py) = support::require_python("h5py").unwrap() else {
        return;
    };
    let dir = support::test_dir("anndata_unknown_encodings");
    let path = dir.join("awkward.h5ad");
    let script = r#"
import shutil, sys, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "a") as f:
    g = f["obsm"].create_group("ragged")
    g.attrs["encoding-type"] = "awkward-array"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["form"] = '{"class": "ListOffsetArray", "offsets": "i64", "content": "float64"}'
    g.attrs["length"] = np.int64(f["obs/_index"].shape[0])
    g["node0-offsets"] = np.arange(f["obs/_index"].shape[0] + 1, dtype=np.int64)
    g["node1-data"] = np.zeros(f["obs/_index"].shape[0])
    u = f["uns"].create_group("future")
    u.attrs["encoding-type"] = "tensor-from-the-future"
    u.attrs["encoding-version"] = "9.0.0"
"#;
    support::run_python(
        &py,
        script,
        [
            support::fixture("anndata.h5ad").as_os_str(),
            path.as_os_str(),
        ],
    );
    let adata = AnnData::open(&H5File::open(&path).unwrap()).unwrap();
    let ragged = adata.obsm().iter().find(|(k, _)| k == "ragged").unwrap();
    assert!(
        matches!(&ragged.1, Element::Other { encoding, .. } if encoding == "awkward-array"),
        "{:?}",
        ragged.1
    );
    let future = adata.uns().iter().find(|(k, _)| k == "future").unwrap();
    assert!(
        matches!(&future.1, Element::Other { encoding, .. } if encoding == "tensor-from-the-future"),
        "{:?}",
        future.1
    );
    assert!(
        adata.to_string().contains("obsm: 'X_pca', 'ragged'"),
        "{adata}"
    );
    let original = AnnData::open(&H5File::open(support::fixture("anndata.h5ad")).unwrap()).unwrap();
    assert_eq!(adata.obs_names().unwrap(), original.obs_names().unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .arg("info")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("awkward-array"), "{text}");
}
