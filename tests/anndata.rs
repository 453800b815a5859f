//! `h5sparse::anndata` against anndata itself: for every `.h5ad` fixture
//! (anndata 0.12, anndata 0.7-style references, anndata 0.6-style record
//! arrays), the repr, obs/var names and every obs/var column equal what
//! `anndata.read_h5ad` gives.

mod support;

use std::process::Command;

use h5sparse::anndata::{AnnData, ColumnData};
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
                cols[c] = [x.item() if hasattr(x, "item") else x for x in s.tolist()]
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
        ColumnData::Nullable { values, .. } => values_json(values),
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
    let out = Command::new(py)
        .arg("-c")
        .arg(ORACLE)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: Value = serde_json::from_slice(&out.stdout).unwrap();
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
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
