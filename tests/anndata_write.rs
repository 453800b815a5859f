//! `h5sparse::anndata::H5adWriter` against anndata itself: files written
//! from Rust with every element type are read by `anndata.read_h5ad`
//! (0.12, warnings raised as errors) into exactly what was written, dtypes
//! included; every `.h5ad` fixture read by our reader and written again
//! reads in anndata equal to the original; h5dump opens what we write.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5sparse::anndata::{
    AnnData, ColumnData, DataFrame, DataFrameData, Element, H5adWriter, IndexWidth, WriteOptions,
};
use h5sparse::sparse::{SparseDataset, SparseFormat};
use h5sparse::{ByteOrder, Dtype, File, H5File, Values};
use serde_json::{json, Value};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("h5sparse-anndata-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const F4: Dtype = Dtype::Float {
    size: 4,
    order: ByteOrder::Little,
};
const F8: Dtype = Dtype::Float {
    size: 8,
    order: ByteOrder::Little,
};
const I8: Dtype = Dtype::Int {
    size: 8,
    signed: true,
    order: ByteOrder::Little,
};

/// A deterministic pseudo-random sequence (no dependency needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// A dense matrix with about a third of its entries non-zero.
fn random_dense(rows: usize, cols: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut r = Lcg(seed);
    (0..rows)
        .map(|_| {
            (0..cols)
                .map(|_| {
                    let v = r.next() % 9;
                    if v < 3 {
                        v as f32 + 0.5
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

fn transpose(m: &[Vec<f32>]) -> Vec<Vec<f32>> {
    (0..m[0].len())
        .map(|j| m.iter().map(|row| row[j]).collect())
        .collect()
}

/// Writes `m` (rows × cols) as CSR, or CSC when `csc`, pushing `block`
/// major rows at a time.
fn write_sparse(w: &mut H5adWriter, path: &str, m: &[Vec<f32>], csc: bool, block: usize) {
    let major = if csc { transpose(m) } else { m.to_vec() };
    let shape = [m.len() as u64, m[0].len() as u64];
    let format = if csc {
        SparseFormat::Csc
    } else {
        SparseFormat::Csr
    };
    let mut s = w.sparse(path, format, shape, &F4, IndexWidth::I32).unwrap();
    for rows in major.chunks(block) {
        // An indptr that does not start at 0, as a slice of a larger one.
        let mut indptr = vec![100u64];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for row in rows {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(j as u64);
                    data.push(v);
                }
            }
            indptr.push(100 + indices.len() as u64);
        }
        s.push::<f32, u64>(&indptr, &indices, &data).unwrap();
    }
    s.finish().unwrap();
}

fn strings(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// What anndata reads, as JSON: each frame's index, index name, and each
/// column's pandas dtype and values; each matrix's type, dtype and dense
/// values; uns recursively.
const ORACLE: &str = r#"
import json, sys, warnings
warnings.simplefilter(sys.argv[2])
import anndata, numpy as np, pandas as pd, scipy.sparse as sp

def plain(x):
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
        return None
    return x.item() if hasattr(x, "item") else x

def frame(df):
    cols = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cols[c] = {"kind": "categorical", "codes_dtype": str(s.cat.codes.dtype),
                       "codes": s.cat.codes.tolist(), "ordered": bool(s.cat.ordered),
                       "categories": plain(s.cat.categories.tolist()),
                       "categories_dtype": str(s.cat.categories.dtype)}
        else:
            cols[c] = {"kind": str(s.dtype), "values": [plain(v) for v in s.tolist()]}
    return {"index": df.index.tolist(), "index_name": df.index.name, "columns": cols,
            "order": list(df.columns)}

def matrix(m):
    if isinstance(m, pd.DataFrame):
        return {"dataframe": frame(m)}
    if sp.issparse(m):
        return {"format": m.format, "dtype": str(m.dtype), "values": m.toarray().tolist(),
                "index_dtype": str(m.indices.dtype)}
    return {"format": "dense", "dtype": str(m.dtype), "values": np.asarray(m).tolist()}

def uns(d):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = {"dict": uns(v)}
        elif isinstance(v, pd.DataFrame):
            out[k] = {"dataframe": frame(v)}
        elif isinstance(v, str):
            out[k] = {"string": v}
        elif isinstance(v, np.ndarray):
            out[k] = {"array": plain(v.tolist()), "dtype": str(v.dtype)}
        else:
            out[k] = {"scalar": plain(v), "type": type(v).__name__}
    return out

a = anndata.read_h5ad(sys.argv[1])
out = {"shape": list(a.shape), "obs": frame(a.obs), "var": frame(a.var),
       "X": None if a.X is None else matrix(a.X),
       "layers": {k: matrix(v) for k, v in a.layers.items()},
       "obsm": {k: matrix(v) for k, v in a.obsm.items()},
       "varm": {k: matrix(v) for k, v in a.varm.items()},
       "obsp": {k: matrix(v) for k, v in a.obsp.items()},
       "varp": {k: matrix(v) for k, v in a.varp.items()},
       "uns": uns(a.uns),
       "raw": None if a.raw is None else {"X": matrix(a.raw.X), "var": frame(a.raw.var)}}
print(json.dumps(out))
"#;

fn oracle(path: &Path) -> Option<Value> {
    oracle_with(path, true)
}

/// [`oracle`], with warnings allowed unless `strict` (legacy inputs warn).
fn oracle_with(path: &Path, strict: bool) -> Option<Value> {
    let py = support::require_python("anndata oracle").unwrap()?;
    let out = Command::new(py)
        .arg("-c")
        .arg(ORACLE)
        .arg(path)
        .arg(if strict { "error" } else { "ignore" })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "anndata could not read {} without a warning:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn dense_json(m: &[Vec<f32>]) -> Value {
    json!(m)
}

/// The frame we write for obs, and the JSON anndata should read it as.
fn obs_frame(n: usize) -> (DataFrameData, Value) {
    let mut df = DataFrameData::with_index(strings("cell_", n));
    let mut cols = serde_json::Map::new();
    let mut push = |df: &mut DataFrameData, name: &str, c: ColumnData, want: Value| {
        df.columns.push((name.to_string(), c));
        cols.insert(name.to_string(), want);
    };
    let codes: Vec<i64> = (0..n as i64)
        .map(|i| if i % 4 == 3 { -1 } else { i % 3 })
        .collect();
    push(
        &mut df,
        "cell_type",
        ColumnData::Categorical {
            codes: codes.clone(),
            categories: Values::Str(vec!["B".into(), "NK".into(), "T".into()]),
            ordered: false,
        },
        json!({"kind": "categorical", "codes_dtype": "int8", "codes": codes, "ordered": false,
               "categories": ["B", "NK", "T"], "categories_dtype": "object"}),
    );
    let level: Vec<i64> = (0..n as i64).map(|i| 2 - i % 3).collect();
    push(
        &mut df,
        "level",
        ColumnData::Categorical {
            codes: level.clone(),
            categories: Values::Str(vec!["low".into(), "mid".into(), "high".into()]),
            ordered: true,
        },
        json!({"kind": "categorical", "codes_dtype": "int8", "codes": level, "ordered": true,
               "categories": ["low", "mid", "high"], "categories_dtype": "object"}),
    );
    // 130 integer categories: int16 codes, int64 categories.
    let many: Vec<i64> = (0..n as i64).map(|i| (i * 37) % 130).collect();
    push(
        &mut df,
        "many",
        ColumnData::Categorical {
            codes: many.clone(),
            categories: Values::Int((0..130).map(|i| i * 10).collect()),
            ordered: false,
        },
        json!({"kind": "categorical", "codes_dtype": "int16", "codes": many, "ordered": false,
               "categories": (0..130).map(|i| i * 10).collect::<Vec<i64>>(),
               "categories_dtype": "int64"}),
    );
    let mask: Vec<bool> = (0..n).map(|i| i % 3 == 1).collect();
    let ints: Vec<i64> = (0..n as i64)
        .map(|i| if i % 3 == 1 { 0 } else { i * 7 })
        .collect();
    push(
        &mut df,
        "n_int",
        ColumnData::Nullable {
            values: Values::Int(ints.clone()),
            mask: mask.clone(),
        },
        json!({"kind": "Int32", "values": ints.iter().zip(&mask)
            .map(|(v, m)| if *m { Value::Null } else { json!(v) }).collect::<Vec<_>>()}),
    );
    df.dtypes.insert(
        "n_int".into(),
        Dtype::Int {
            size: 4,
            signed: true,
            order: ByteOrder::Little,
        },
    );
    let bools: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    push(
        &mut df,
        "n_bool",
        ColumnData::Nullable {
            values: Values::Bool(bools.clone()),
            mask: mask.clone(),
        },
        json!({"kind": "boolean", "values": bools.iter().zip(&mask)
            .map(|(v, m)| if *m { Value::Null } else { json!(v) }).collect::<Vec<_>>()}),
    );
    let words: Vec<String> = (0..n)
        .map(|i| {
            if i % 3 == 1 {
                String::new()
            } else {
                format!("wörd{i}")
            }
        })
        .collect();
    push(
        &mut df,
        "n_str",
        ColumnData::Nullable {
            values: Values::Str(words.clone()),
            mask: mask.clone(),
        },
        json!({"kind": "string", "values": words.iter().zip(&mask)
            .map(|(v, m)| if *m { Value::Null } else { json!(v) }).collect::<Vec<_>>()}),
    );
    push(
        &mut df,
        "is_good",
        ColumnData::Values(Values::Bool(bools.clone())),
        json!({"kind": "bool", "values": bools}),
    );
    let quality: Vec<f64> = (0..n).map(|i| i as f64 * 0.25).collect();
    push(
        &mut df,
        "quality",
        ColumnData::Values(Values::Float(quality.clone())),
        json!({"kind": "float32", "values": quality}),
    );
    df.dtypes.insert("quality".into(), F4);
    let genes: Vec<i64> = (0..n as i64).map(|i| 1000 - i).collect();
    push(
        &mut df,
        "n_genes",
        ColumnData::Values(Values::Int(genes.clone())),
        json!({"kind": "int64", "values": genes}),
    );
    let notes = strings("note ", n);
    push(
        &mut df,
        "note",
        ColumnData::Values(Values::Str(notes.clone())),
        json!({"kind": "object", "values": notes}),
    );
    let order: Vec<String> = df.columns.iter().map(|(c, _)| c.clone()).collect();
    let want = json!({"index": df.index, "index_name": null, "columns": cols, "order": order});
    (df, want)
}

#[test]
fn every_element_type_reads_in_anndata_as_written() {
    let (n_obs, n_vars) = (11, 7);
    let path = tmp("every_element.h5ad");
    let mut w = H5adWriter::create(&path, WriteOptions::default()).unwrap();

    let (obs, obs_want) = obs_frame(n_obs);
    w.write_dataframe("obs", &obs).unwrap();
    let mut var = DataFrameData::with_index(strings("gene_", n_vars));
    var.index_name = "gene_id".into();
    var.columns.push((
        "symbol".into(),
        ColumnData::Values(Values::Str(strings("SYM", n_vars))),
    ));
    w.write_dataframe("var", &var).unwrap();
    let var_want = json!({"index": var.index, "index_name": "gene_id", "order": ["symbol"],
        "columns": {"symbol": {"kind": "object", "values": strings("SYM", n_vars)}}});

    let x = random_dense(n_obs, n_vars, 1);
    write_sparse(&mut w, "X", &x, false, 3);
    let counts = random_dense(n_obs, n_vars, 2);
    write_sparse(&mut w, "layers/counts", &counts, true, 2);
    let dense: Vec<f64> = (0..n_obs * n_vars).map(|i| i as f64 / 2.0).collect();
    let mut d = w
        .dense("layers/dense", &[n_obs as u64, n_vars as u64], &F8)
        .unwrap();
    for rows in dense.chunks(n_vars * 4) {
        d.push(rows).unwrap();
    }
    d.finish().unwrap();

    let emb: Vec<f64> = (0..n_obs * 2).map(|i| i as f64 - 3.0).collect();
    w.write_array(
        "obsm/X_umap",
        &F8,
        &[n_obs as u64, 2],
        &Values::Float(emb.clone()),
    )
    .unwrap();
    let mut obsm_df = DataFrameData::with_index(obs.index.clone());
    let score: Vec<i64> = (0..n_obs as i64).collect();
    obsm_df.columns.push((
        "score".into(),
        ColumnData::Values(Values::Int(score.clone())),
    ));
    w.write_dataframe("obsm/table", &obsm_df).unwrap();
    let dist = random_dense(n_obs, n_obs, 3);
    write_sparse(&mut w, "obsp/distances", &dist, false, 5);
    let loadings: Vec<f64> = (0..n_vars * 3).map(|i| i as f64).collect();
    w.write_array(
        "varm/PCs",
        &F8,
        &[n_vars as u64, 3],
        &Values::Float(loadings.clone()),
    )
    .unwrap();

    let raw_x = random_dense(n_obs, n_vars + 2, 4);
    write_sparse(&mut w, "raw/X", &raw_x, false, 4);
    w.write_dataframe(
        "raw/var",
        &DataFrameData::with_index(strings("raw_gene_", n_vars + 2)),
    )
    .unwrap();

    w.write_string("uns/params/method", "wilcoxon").unwrap();
    w.write_scalar("uns/params/n_pcs", &I8, &Values::Int(vec![50]))
        .unwrap();
    w.write_scalar("uns/params/cutoff", &F8, &Values::Float(vec![0.5]))
        .unwrap();
    w.write_scalar("uns/params/flag", &Dtype::Bool, &Values::Bool(vec![true]))
        .unwrap();
    w.write_array("uns/params/sizes", &I8, &[3], &Values::Int(vec![1, 2, 3]))
        .unwrap();
    w.write_string_array("uns/colors", &["#ff0000".into(), "#00ff00".into()])
        .unwrap();
    w.create_dict("uns/empty").unwrap();
    w.finish().unwrap();

    // Our own reader first: the model sees what was written.
    let f = H5File::open(&path).unwrap();
    let adata = AnnData::open(&f).unwrap();
    let read = adata.obs().to_data(&f.snapshot().unwrap()).unwrap();
    assert_eq!((&read.index, &read.columns), (&obs.index, &obs.columns));
    for (name, dtype) in &obs.dtypes {
        assert_eq!(read.dtypes.get(name), Some(dtype), "{name}");
    }

    let Some(got) = oracle(&path) else { return };
    let sparse = |m: &[Vec<f32>], format: &str| json!({"format": format, "dtype": "float32", "values": dense_json(m), "index_dtype": "int32"});
    let rows = |v: &[f64], cols: usize| -> Value { json!(v.chunks(cols).collect::<Vec<_>>()) };
    let want = json!({
        "shape": [n_obs, n_vars],
        "obs": obs_want,
        "var": var_want,
        "X": sparse(&x, "csr"),
        "layers": {"counts": sparse(&counts, "csc"),
                   "dense": {"format": "dense", "dtype": "float64", "values": rows(&dense, n_vars)}},
        "obsm": {"X_umap": {"format": "dense", "dtype": "float64", "values": rows(&emb, 2)},
                 "table": {"dataframe": {"index": obs.index, "index_name": null, "order": ["score"],
                     "columns": {"score": {"kind": "int64", "values": score}}}}},
        "varm": {"PCs": {"format": "dense", "dtype": "float64", "values": rows(&loadings, 3)}},
        "obsp": {"distances": sparse(&dist, "csr")},
        "varp": {},
        "uns": {"colors": {"array": ["#ff0000", "#00ff00"], "dtype": "object"},
                "empty": {"dict": {}},
                "params": {"dict": {
                    "method": {"string": "wilcoxon"},
                    "n_pcs": {"scalar": 50, "type": "int"},
                    "cutoff": {"scalar": 0.5, "type": "float"},
                    "flag": {"scalar": true, "type": "bool"},
                    "sizes": {"array": [1, 2, 3], "dtype": "int64"}}}},
        "raw": {"X": sparse(&raw_x, "csr"),
                "var": {"index": strings("raw_gene_", n_vars + 2), "index_name": null,
                        "order": [], "columns": {}}},
    });
    let mut diffs = Vec::new();
    diff("", &want, &got, &mut diffs);
    assert!(
        diffs.is_empty(),
        "anndata reads differently:\n{}",
        diffs.join("\n")
    );
    h5dump_opens(&path);
}

/// Where `want` and `got` differ, by JSON path (numbers by value).
fn diff(at: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&format!("{at}[{i}]"), x, y, out);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for k in a
                .keys()
                .chain(b.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff(&format!("{at}/{k}"), x, y, out),
                    (x, y) => out.push(format!("{at}/{k}: want {x:?}, anndata {y:?}")),
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{at}: want {a}, anndata {b}")),
    }
}

/// h5dump (libhdf5) reads the whole file.
fn h5dump_opens(path: &Path) {
    let Some(h5dump) = support::h5dump() else {
        assert!(
            support::skip_external(),
            "h5dump missing: install hdf5-tools or set H5SPARSE_SKIP_EXTERNAL=1"
        );
        return;
    };
    let out = Command::new(h5dump).arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "h5dump failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies the sparse matrix at `src_path` through a [`SparseStream`],
/// `block` major rows at a time, its values as raw stored bytes.
fn copy_sparse(w: &mut H5adWriter, f: &File, src_path: &str, dst_path: &str, block: usize) {
    let sd = SparseDataset::open(f, src_path).unwrap();
    let ints = |v: Values| -> Vec<u64> {
        match v {
            Values::Int(v) => v.into_iter().map(|x| x as u64).collect(),
            Values::UInt(v) => v,
            other => panic!("{other:?}"),
        }
    };
    let indptr = ints(sd.indptr().values().unwrap());
    let indices = ints(sd.indices().values().unwrap());
    let nnz = indices.len() as u64;
    let width = IndexWidth::for_matrix(sd.format(), sd.shape(), nnz);
    let mut s = w
        .sparse(dst_path, sd.format(), sd.shape(), sd.dtype(), width)
        .unwrap();
    // Values as stored: raw bytes of the stored type.
    let raw: Vec<u8> = match sd.dtype().size() {
        4 => bytemuck::cast_slice(&sd.data().read::<f32>().unwrap()).to_vec(),
        8 => bytemuck::cast_slice(&sd.data().read::<f64>().unwrap()).to_vec(),
        _ => panic!("{:?}", sd.dtype()),
    };
    let elem = sd.dtype().size();
    for start in (0..indptr.len() - 1).step_by(block) {
        let stop = (start + block).min(indptr.len() - 1);
        let (a, b) = (indptr[start] as usize, indptr[stop] as usize);
        s.push_raw(
            &indptr[start..=stop],
            &indices[a..b],
            &raw[a * elem..b * elem],
        )
        .unwrap();
    }
    s.finish().unwrap();
}

/// Writes `el` of `f` at `dst`: sparse matrices streamed, dataframes
/// re-encoded, record-array fields (anndata ≤ 0.6's obsm) as arrays,
/// anything else copied.
fn copy_element(w: &mut H5adWriter, f: &File, el: &Element, dst: &str, key: &str) {
    match el {
        Element::Sparse { path, .. } => copy_sparse(w, f, path, dst, 3),
        Element::DataFrame { path } => {
            let df = DataFrame::open_at(f, path).unwrap().to_data(f).unwrap();
            w.write_dataframe(dst, &df).unwrap();
        }
        Element::Dense { path, shape, .. }
            if f.dataset(path).unwrap().dtype().size() > 0
                && matches!(f.dataset(path).unwrap().dtype(), Dtype::Compound { .. }) =>
        {
            let records = f.dataset(path).unwrap().read_records().unwrap();
            let mut flat = Vec::new();
            for r in &records {
                match r.field(key).unwrap() {
                    h5sparse::read::Value::List(items) => flat.extend(items.iter().cloned()),
                    other => flat.push(other.clone()),
                }
            }
            let floats = flat
                .iter()
                .map(|v| match v {
                    h5sparse::read::Value::Float(x) => *x,
                    other => panic!("{other:?}"),
                })
                .collect();
            let Dtype::Compound { fields, .. } = f.dataset(path).unwrap().dtype().clone() else {
                unreachable!()
            };
            let field = fields.iter().find(|x| x.name == key).unwrap();
            let base = match &field.dtype {
                Dtype::Array { base, .. } => (**base).clone(),
                other => other.clone(),
            };
            w.write_array(dst, &base, shape, &Values::Float(floats))
                .unwrap();
        }
        other => w.copy_from(f, other.path(), dst).unwrap(),
    }
}

#[test]
fn every_fixture_read_and_written_again_reads_the_same_in_anndata() {
    let mut failures = Vec::new();
    for src in support::h5ad_fixtures() {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let out = tmp(&format!("again_{name}"));
        let file = H5File::open(&src).unwrap();
        let f = file.snapshot().unwrap();
        let adata = AnnData::open(&file).unwrap();
        let mut w = H5adWriter::create(&out, WriteOptions::default()).unwrap();
        w.write_dataframe("obs", &adata.obs().to_data(&f).unwrap())
            .unwrap();
        w.write_dataframe("var", &adata.var().to_data(&f).unwrap())
            .unwrap();
        if let Some(x) = adata.x() {
            copy_element(&mut w, &f, x, "X", "X");
        }
        for (group, items) in [
            ("layers", adata.layers()),
            ("obsm", adata.obsm()),
            ("varm", adata.varm()),
            ("obsp", adata.obsp()),
            ("varp", adata.varp()),
            ("uns", adata.uns()),
        ] {
            for (key, el) in items {
                copy_element(&mut w, &f, el, &format!("{group}/{key}"), key);
            }
        }
        if let Some(raw) = adata.raw() {
            if let Some(x) = &raw.x {
                copy_element(&mut w, &f, x, "raw/X", "X");
            }
            if let Some(var) = &raw.var {
                w.write_dataframe("raw/var", &var.to_data(&f).unwrap())
                    .unwrap();
            }
        }
        w.finish().unwrap();
        let (Some(want), Some(got)) = (oracle_with(&src, false), oracle(&out)) else {
            return;
        };
        let mut diffs = Vec::new();
        diff("", &want, &got, &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n{}", diffs.join("\n")));
        }
        h5dump_opens(&out);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A matrix several times the writer's buffer, gzip-compressed, written in
/// small blocks: anndata reads the same rows, and the chunks are whole.
#[test]
fn a_streamed_compressed_matrix_larger_than_the_buffer_reads_back() {
    let (rows, cols) = (20_000usize, 100usize);
    let path = tmp("streamed.h5ad");
    let opts = WriteOptions {
        compression: Some(4),
        block_bytes: 1 << 20,
        ..WriteOptions::default()
    };
    let mut w = H5adWriter::create(&path, opts).unwrap();
    w.write_dataframe("obs", &DataFrameData::with_index(strings("c", rows)))
        .unwrap();
    w.write_dataframe("var", &DataFrameData::with_index(strings("g", cols)))
        .unwrap();
    let mut r = Lcg(9);
    let mut s = w
        .sparse(
            "X",
            SparseFormat::Csr,
            [rows as u64, cols as u64],
            &F4,
            IndexWidth::I32,
        )
        .unwrap();
    let mut row_sums = Vec::with_capacity(rows);
    for _ in 0..rows / 50 {
        let (mut indptr, mut indices, mut data) = (vec![0u32], Vec::new(), Vec::new());
        for _ in 0..50 {
            let mut sum = 0.0f64;
            for j in 0..cols {
                if r.next().is_multiple_of(3) {
                    let v = (r.next() % 100) as f32;
                    indices.push(j as u32);
                    data.push(v);
                    sum += v as f64;
                }
            }
            row_sums.push(sum);
            indptr.push(indices.len() as u32);
        }
        s.push::<f32, u32>(&indptr, &indices, &data).unwrap();
    }
    let nnz = s.nnz();
    s.finish().unwrap();
    w.finish().unwrap();

    let f = H5File::open(&path).unwrap();
    let snap = f.snapshot().unwrap();
    let data = snap.dataset("/X/data").unwrap();
    assert_eq!(data.len(), nnz);
    assert_eq!(data.filters()[0].name, "deflate");
    assert!(data.chunks().unwrap()[0] < nnz, "chunked, not one chunk");

    let Some(py) = support::require_python("anndata oracle").unwrap() else {
        return;
    };
    let script = r#"
import json, sys, warnings
warnings.simplefilter("error")
import anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
print(json.dumps({"nnz": int(a.X.nnz), "sums": np.asarray(a.X.sum(axis=1, dtype=np.float64)).ravel().tolist()}))
"#;
    let got: Value = serde_json::from_slice(&support::run_python(&py, script, [&path])).unwrap();
    assert_eq!(got["nnz"], json!(nnz));
    assert_eq!(got["sums"], json!(row_sums));
}

/// Blocks pushed as anndata stores them (int32 indices, raw values), many
/// spanning several chunks, which go out straight from the slices:
/// h5py reads exactly what was pushed, with or without gzip, and with
/// int64 indices (widened); an out-of-range index is refused before
/// anything of its block is written.
#[test]
fn blocks_pushed_as_stored_int32_read_back_in_h5py() {
    let Some(py) = support::require_python("h5py oracle").unwrap() else {
        return;
    };
    for (name, compression, width) in [
        ("stored_i32.h5ad", None, IndexWidth::I32),
        ("stored_i32_gzip.h5ad", Some(1), IndexWidth::I32),
        ("stored_i32_wide.h5ad", None, IndexWidth::I64),
    ] {
        let path = tmp(name);
        let opts = WriteOptions {
            compression,
            // 8 KiB of buffer: most blocks below span several chunks.
            block_bytes: 64 << 10,
            ..WriteOptions::default()
        };
        let cols = 300u64;
        let mut w = H5adWriter::create(&path, opts).unwrap();
        let blocks: Vec<u64> = (0..60).map(|b| [1, 7, 40, 3, 200, 90][b % 6]).collect();
        let rows: u64 = blocks.iter().sum();
        let mut s = w
            .sparse("X", SparseFormat::Csr, [rows, cols], &F4, width)
            .unwrap();
        let mut r = Lcg(17);
        let (mut indptr, mut indices, mut data) = (vec![0i64], Vec::<i32>::new(), Vec::new());
        for &n in &blocks {
            let (first, start) = (indices.len(), indptr.len() - 1);
            for _ in 0..n {
                for c in 0..cols as i32 {
                    if r.next().is_multiple_of(5) {
                        indices.push(c);
                        data.push((r.next() % 1000) as f32 / 8.0);
                    }
                }
                indptr.push(indices.len() as i64);
            }
            // The block's indptr from an arbitrary base, as read from a file.
            let ptr: Vec<u64> = indptr[start..].iter().map(|&p| p as u64 + 1000).collect();
            let idx = &indices[first..];
            let vals: Vec<u8> = data[first..].iter().flat_map(|v| v.to_le_bytes()).collect();
            if n == 90 {
                // The same block with a column out of range, or negative,
                // first.
                for wrong in [cols as i32, -3] {
                    let mut bad = idx.to_vec();
                    bad[idx.len() / 2] = wrong;
                    assert!(s.push_raw_i32(&ptr, &bad, &vals).is_err());
                }
            }
            s.push_raw_i32(&ptr, idx, &vals).unwrap();
        }
        s.finish().unwrap();
        w.finish().unwrap();
        let raw = |v: Vec<u8>, ext: &str| std::fs::write(path.with_extension(ext), v).unwrap();
        raw(
            indptr.iter().flat_map(|p| p.to_le_bytes()).collect(),
            "indptr.bin",
        );
        raw(
            indices.iter().flat_map(|p| p.to_le_bytes()).collect(),
            "indices.bin",
        );
        raw(
            data.iter().flat_map(|p| p.to_le_bytes()).collect(),
            "data.bin",
        );
        let script = r#"
import sys
import h5py, numpy as np
path, stem = sys.argv[1], sys.argv[1].rsplit('.', 1)[0]
with h5py.File(path, 'r') as f:
    x = f['X']
    assert list(x.attrs['shape']) == [int(sys.argv[2]), int(sys.argv[3])], x.attrs['shape']
    for name, dt in (('indptr', '<i8'), ('indices', '<i4'), ('data', '<f4')):
        want = np.fromfile(stem + '.' + name + '.bin', dt)
        got = x[name][...]
        assert np.array_equal(got, want), (name, got.shape, want.shape)
    assert x['data'].chunks[0] < x['data'].shape[0], 'chunked'
"#;
        support::run_python(
            &py,
            script,
            [path.to_str().unwrap(), &rows.to_string(), &cols.to_string()],
        );
    }
}
