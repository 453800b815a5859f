//! `h5sparse::anndata::Selection` against pandas and anndata: for every
//! `.h5ad` fixture, and a file anndata writes here with nullable, float32,
//! numeric-categorical and missing-category columns, every SEL form
//! (positions, `@names`, `COLUMN==VALUE`, `COLUMN!=VALUE` on each obs/var
//! column) resolves to the positions pandas gives:
//! `np.arange(n)[(df[col] == v).fillna(False)]`,
//! `df.index.get_indexer(names)`, `np.arange(n)[slice]`.

mod support;

use h5sparse::anndata::{AnnData, Axis, Selection};
use h5sparse::H5File;
use serde_json::Value;

/// Writes `nullable.h5ad` into argv[1], then for each .h5ad in argv[2:]
/// (and that file) makes SEL cases and resolves them with pandas: a JSON
/// list of {file, axis, sel, positions (null: an error)}.
const ORACLE: &str = r#"
import json, os, sys, warnings
import anndata as ad, numpy as np, pandas as pd
warnings.simplefilter("ignore")
out_dir = sys.argv[1]
n = 9
obs = pd.DataFrame({
    "ni": pd.array([1, None, 3, 1, 2, None, 3, 1, 0], dtype="Int64"),
    "nb": pd.array([True, None, False, True, False, True, None, False, True], dtype="boolean"),
    "ns": pd.array(["a", None, "b", "a", "c", "b", None, "a", "c"], dtype="string"),
    "cat": pd.Categorical(["x", None, "y", "x", "y z", None, "x", "y", "x"]),
    "icat": pd.Categorical([1, 2, 3, 1, 2, 3, 1, 2, 3]),
    "f32": np.array([0.1, np.nan, 0.2, 0.1, 1.5, 0.3, np.nan, 0.1, 2.0], dtype=np.float32),
    "u8": np.arange(1, 10, dtype=np.uint8),
    "flag": np.array([True, False] * 4 + [True]),
}, index=[f"c{i}" for i in range(n)])
ad.settings.allow_write_nullable_strings = True
extra = os.path.join(out_dir, "nullable.h5ad")
ad.AnnData(np.zeros((n, 3), dtype=np.float32), obs=obs).write_h5ad(
    extra, convert_strings_to_categoricals=False)

def text(x):
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (float, np.floating)):
        return str(x)   # float32's shortest repr for float32 values
    return str(x)

def typed(s, v):
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        k = dt.categories.dtype.kind
        try:
            return float(v) if k == "f" else int(v) if k in "iu" else v
        except ValueError:
            return v    # not a category: pandas matches no row
    if dt.kind == "b" or isinstance(dt, pd.BooleanDtype):
        return v in ("true", "True", "1")
    if dt.kind in "iu":
        return int(v)
    if dt.kind == "f":
        return float(v)
    return v

cases = []
for path in sys.argv[2:] + [extra]:
    a = ad.read_h5ad(path)
    for axis, df in (("obs", a.obs), ("var", a.var)):
        m = len(df)
        def add(sel, positions):
            cases.append({"file": path, "axis": axis, "sel": sel,
                          "positions": None if positions is None else [int(p) for p in positions]})
        for sel, sl in (("::2", slice(None, None, 2)), ("-2:", slice(-2, None)), ("::-3", slice(None, None, -3))):
            add(sel, np.arange(m)[sl])
        add("-1,0,0", np.arange(m)[[-1, 0, 0]])
        add(str(m), None)                       # out of range
        names = [df.index[-1], df.index[0], df.index[m // 2]]
        names_file = os.path.join(out_dir, f"{os.path.basename(path)}.{axis}.txt")
        with open(names_file, "w") as fh:
            fh.write("\n".join(names) + "\n\n")
        add("@" + names_file, df.index.get_indexer(names))
        bad_file = names_file + ".bad"
        with open(bad_file, "w") as fh:
            fh.write(names[0] + "\nnot a name\n")
        add("@" + bad_file, None)
        for col in df.columns:
            s = df[col]
            present = [x for x in (s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else s.dropna().unique())]
            values = [text(x) for x in present[:2]]
            if s.dtype.kind in "OUS" or isinstance(s.dtype, (pd.CategoricalDtype, pd.StringDtype)):
                values.append("no such value")
            elif s.dtype.kind in "iuf" or isinstance(s.dtype, pd.Int64Dtype):
                values.append("12345")
            for v in values:
                for op in ("==", "!="):
                    mask = (s == typed(s, v)) if op == "==" else (s != typed(s, v))
                    mask = pd.array(mask, dtype="boolean").fillna(False).to_numpy(dtype=bool)
                    add(f"{col}{op}{v}", np.arange(m)[mask])
            if s.dtype.kind in "iuf" and not isinstance(s.dtype, pd.CategoricalDtype):
                add(f"{col}==many", None)
        add("no_such_column==1", None)
print(json.dumps(cases))
"#;

#[test]
fn selections_resolve_as_pandas_does() {
    let Some(py) = support::require_python("pandas selection oracle").unwrap() else {
        return;
    };
    let dir = support::test_dir("select");
    let fixtures = support::h5ad_fixtures();
    assert!(fixtures.len() >= 4, "{fixtures:?}");
    let mut args = vec![dir.clone()];
    args.extend(fixtures);
    let stdout = support::run_python(&py, ORACLE, &args);
    let cases: Vec<Value> = serde_json::from_slice(&stdout).unwrap();
    assert!(cases.len() > 100, "{} cases", cases.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut opened = std::collections::HashMap::new();
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        let adata = opened
            .entry(file.to_string())
            .or_insert_with(|| AnnData::open(&H5File::open(file).unwrap()).unwrap());
        let axis = match case["axis"].as_str().unwrap() {
            "obs" => Axis::Obs,
            _ => Axis::Var,
        };
        let sel = case["sel"].as_str().unwrap();
        let got = Selection::parse(sel).and_then(|s| s.resolve(adata, axis));
        let want: Option<Vec<u64>> = serde_json::from_value(case["positions"].clone()).unwrap();
        let name = std::path::Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy();
        match (&got, &want) {
            (Ok(g), Some(w)) if g == w => compared += 1,
            (Err(_), None) => compared += 1,
            _ => failures.push(format!(
                "{name} {axis:?} {sel:?}: ours {got:?}, pandas {want:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(compared, cases.len());
}

#[test]
fn missing_names_are_listed() {
    let path = support::fixture("anndata.h5ad");
    let adata = AnnData::open(&H5File::open(&path).unwrap()).unwrap();
    let wanted: Vec<String> = (0..8)
        .map(|i| format!("nope{i}"))
        .chain(["cell_00".into()])
        .collect();
    let e = Selection::names(wanted)
        .resolve(&adata, Axis::Obs)
        .unwrap_err()
        .to_string();
    assert!(e.contains("8 of 9 names are not obs_names"), "{e}");
    assert!(
        e.contains("\"nope0\"") && e.contains("\"nope4\"") && !e.contains("nope5"),
        "{e}"
    );
    let e = Selection::parse("1:x").unwrap_err().to_string();
    assert!(e.contains("COLUMN==VALUE"), "{e}");
    let e = Selection::parse("==3").unwrap_err().to_string();
    assert!(e.contains("no column name"), "{e}");
}
