//! Minor-axis ranges (`X[:, a:b]` of CSR, `X[a:b, :]` of CSC) read without
//! a map (positional reads, and a source serving 7 bytes per call) against
//! scipy, on files written by h5py (every integer type of `indices`,
//! big-endian too, contiguous and chunked), anndata and our writer: the
//! first read proves the rows sorted in one pass, later ones read windows;
//! a file with an unsorted row reads sorted, one with an index out of range
//! fails with the memory map's error.

mod support;

use std::path::Path;

use h5sparse::io::source::{FileSource, Piecewise};
use h5sparse::sparse::{Sel, SparseDataset, SparseFormat, SparseWriteOptions};
use h5sparse::File;
use serde_json::Value;

/// Writes the files into argv[1] and prints, per file, the matrix and
/// scipy's answers for each range (all majors, and majors [5, 2, 2]).
const ORACLE: &str = r#"
import json, os, sys, warnings
import numpy as np, scipy.sparse as sp, h5py, anndata
warnings.simplefilter("ignore")
out_dir = sys.argv[1]
rng = np.random.default_rng(14)

def matrix(n_major, n_minor):
    rows = []
    for r in range(n_major):
        kind = rng.integers(7)
        if kind == 0:
            cols = np.array([], dtype=np.int64)
        elif kind == 1:
            cols = rng.choice(n_minor, size=min(n_minor, rng.integers(1, 4)), replace=False)
        elif kind == 2:  # crowded at one end
            span = max(2, n_minor // 8)
            base = 0 if rng.integers(2) == 0 else n_minor - span
            cols = base + rng.choice(span, size=rng.integers(1, span), replace=False)
        elif kind == 3:  # clustered from just below a range: a guess from an even spread misses
            span = max(2, n_minor // 6)
            base = min(n_minor - span, [n_minor // 2 - 15, n_minor // 3 - 2][rng.integers(2)])
            cols = base + rng.choice(span, size=rng.integers(span // 2, span), replace=False)
        else:  # long rows
            cols = rng.choice(n_minor, size=rng.integers(n_minor // 5, n_minor * 3 // 5), replace=False)
        rows.append(np.sort(cols))
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in rows])]).astype(np.int64)
    indices = np.concatenate(rows).astype(np.int64) if rows else np.array([], np.int64)
    data = rng.normal(size=len(indices))
    return indptr, indices, data

def write_h5py(path, fmt, shape, indptr, indices, data, dtype, chunked):
    kw = dict(chunks=True, maxshape=(None,)) if chunked else {}
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["h5sparse_format"] = fmt
        g.attrs["h5sparse_shape"] = np.array(shape, dtype=np.int64)
        g.create_dataset("data", data=data, **kw)
        g.create_dataset("indices", data=indices.astype(dtype), **kw)
        g.create_dataset("indptr", data=indptr, **kw)

def answers(m, fmt, n_minor):
    def raw(x):
        x = x.copy()
        x.sort_indices()
        return {"indptr": x.indptr.tolist(), "indices": x.indices.tolist(), "data": x.data.tolist()}
    out = []
    for a, b in [(0, 7), (n_minor // 2 - 5, n_minor // 2 + 20), (n_minor - 9, n_minor), (n_minor // 3, n_minor // 3 + 1)]:
        if fmt == "csr":
            full, few = m[:, a:b], m[[5, 2, 2]][:, a:b]
        else:
            full, few = m[a:b, :], m[:, [5, 2, 2]][a:b, :]
        out.append({"a": a, "b": b, "full": raw(full), "few": raw(few)})
    return out

files = []
def add(name, fmt, shape, indptr, indices, data, m, expect_error=False):
    n_minor = shape[1] if fmt == "csr" else shape[0]
    files.append({"path": os.path.join(out_dir, name), "format": fmt, "shape": list(shape),
                  "matrix": {"indptr": indptr.tolist(), "indices": indices.tolist(), "data": data.tolist()},
                  "error": expect_error,
                  "ranges": [] if expect_error else answers(m, fmt, n_minor)})

widths = {"i1": 120, "u1": 250, "i2": 3000, "u2": 3000, "i4": 3000, "u4": 3000,
          "i8": 3000, "u8": 3000, ">i4": 3000, ">u8": 3000}
for k, (code, n_minor) in enumerate(widths.items()):
    for chunked in (False, True):
        fmt = "csc" if k % 3 == 2 else "csr"
        indptr, indices, data = matrix(200, n_minor)
        shape = (200, n_minor) if fmt == "csr" else (n_minor, 200)
        cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
        m = cls((data, indices, indptr), shape=shape)
        name = f"h5py_{code.replace('>', 'be')}_{'chunked' if chunked else 'flat'}_{fmt}.h5"
        write_h5py(os.path.join(out_dir, name), fmt, shape, indptr, indices, data, np.dtype(code), chunked)
        add(name, fmt, shape, indptr, indices, data, m)

# anndata (int32 indices, chunked, its own attributes).
indptr, indices, data = matrix(300, 2000)
m = sp.csr_matrix((data, indices, indptr), shape=(300, 2000))
anndata.AnnData(X=m).write_h5ad(os.path.join(out_dir, "anndata.h5ad"))
add("anndata.h5ad", "csr", (300, 2000), indptr, indices, data, m)

# One row stored unsorted: read as scipy's sorted_indices() gives it.
indptr, indices, data = matrix(300, 3000)
r = next(i for i in range(300) if indptr[i + 1] - indptr[i] > 50)
indices[indptr[r]:indptr[r + 1]] = indices[indptr[r]:indptr[r + 1]][::-1].copy()
m = sp.csr_matrix((data, indices, indptr), shape=(300, 3000))
write_h5py(os.path.join(out_dir, "unsorted.h5"), "csr", (300, 3000), indptr, indices, data, np.int32, False)
add("unsorted.h5", "csr", (300, 3000), indptr, indices, data, m)

# An index out of range: an error, the same as from the memory map.
indptr, indices, data = matrix(300, 3000)
indices[indptr[r] + 3] = 3000
write_h5py(os.path.join(out_dir, "bad_index.h5"), "csr", (300, 3000), indptr, indices, data, np.int32, False)
add("bad_index.h5", "csr", (300, 3000), indptr, indices, data, None, expect_error=True)
print(json.dumps(files))
"#;

type Raw = (Vec<usize>, Vec<usize>, Vec<f64>);

fn raw(v: &Value) -> Raw {
    let ints = |k: &str| -> Vec<usize> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    (ints("indptr"), ints("indices"), data)
}

/// Majors `majors`, minors `a..b`, as the stored orientation's arrays.
fn read(x: &SparseDataset<'_>, majors: &Sel, a: u64, b: u64) -> h5sparse::Result<Raw> {
    let minors = Sel::range(a as i64, b as i64);
    let m = match x.format() {
        SparseFormat::Csr => x.read::<f64>(majors, &minors)?,
        SparseFormat::Csc => x.read::<f64>(&minors, majors)?,
    };
    Ok(m.into_raw_storage())
}

/// The file at `path` as a map, by positional reads, and 7 bytes per read.
fn sources(path: &Path) -> Vec<(&'static str, File)> {
    vec![
        ("mmap", File::open(path).unwrap()),
        (
            "pread",
            File::open_source(Box::new(FileSource::open(path).unwrap())).unwrap(),
        ),
        (
            "7 bytes",
            File::open_source(Box::new(Piecewise::new(FileSource::open(path).unwrap(), 7)))
                .unwrap(),
        ),
    ]
}

/// Every range of `case`, twice (the proving pass, then windows), and a few
/// rows, from every source of the file at `path`.
fn check_file(path: &Path, case: &Value) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let few = Sel::Indices(vec![5, 2, 2]);
    if case["error"].as_bool().unwrap() {
        let mut errors = Vec::new();
        for (source, file) in sources(path) {
            let x = SparseDataset::open(&file, "/X").unwrap();
            let e = read(&x, &Sel::All, 100, 200).unwrap_err().to_string();
            errors.push((source, e));
        }
        assert!(errors[0].1.contains("out of range"), "{name}: {errors:?}");
        assert!(
            errors.iter().all(|e| e.1 == errors[0].1),
            "{name}: {errors:?}"
        );
        return;
    }
    for (source, file) in sources(path) {
        let x = SparseDataset::open(&file, "/X").unwrap();
        for round in ["first", "again"] {
            for r in case["ranges"].as_array().unwrap() {
                let (a, b) = (r["a"].as_u64().unwrap(), r["b"].as_u64().unwrap());
                let what = format!("{name} from {source}, {round} read, minors {a}..{b}");
                assert_eq!(
                    read(&x, &Sel::All, a, b).unwrap(),
                    raw(&r["full"]),
                    "{what}"
                );
                assert_eq!(read(&x, &few, a, b).unwrap(), raw(&r["few"]), "{what}, few");
            }
        }
    }
}

#[test]
fn column_ranges_without_a_map_equal_scipy() {
    let Some(py) = support::require_python("column_ranges").unwrap() else {
        return;
    };
    let dir = support::test_dir("column_ranges");
    let cases: Value =
        serde_json::from_slice(&support::run_python(&py, ORACLE, [dir.as_os_str()])).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() > 20);
    for case in cases {
        let path = Path::new(case["path"].as_str().unwrap());
        check_file(path, case);
        // The same matrix through our writer (default; chunked with int64
        // indices).
        if case["error"].as_bool().unwrap() || path.ends_with("unsorted.h5") {
            continue;
        }
        let (indptr, indices, data) = raw(&case["matrix"]);
        let shape = (
            case["shape"][0].as_u64().unwrap() as usize,
            case["shape"][1].as_u64().unwrap() as usize,
        );
        let m = match case["format"].as_str().unwrap() {
            "csr" => sprs::CsMat::new(shape, indptr, indices, data),
            _ => sprs::CsMat::new_csc(shape, indptr, indices, data),
        };
        for chunk_len in [None, Some(1000)] {
            let ours = dir.join(format!(
                "ours_{}_{}.h5",
                chunk_len.is_some(),
                path.file_stem().unwrap().to_string_lossy()
            ));
            let f = h5sparse::H5File::create(&ours).unwrap();
            let opts = SparseWriteOptions {
                chunk_len,
                int64_indices: chunk_len.is_some(),
                ..SparseWriteOptions::default()
            };
            f.create_sparse("/X", &m, &opts).unwrap();
            drop(f);
            check_file(&ours, case);
        }
    }
}
