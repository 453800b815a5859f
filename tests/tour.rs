//! The README's main job: `h5sparse tour` reproduces the seed walkthrough,
//! prints the seed's matrices, and leaves files h5py and anndata open.

use std::process::Command;

mod support;

/// The matrices the seed notebook prints, in order.
const SEED_BLOCKS: &[&str] = &[
    "array([[1, 0],\n       [0, 2],\n       [0, 0],\n       [4, 0]])",
    "<HDF5 sparse dataset: format 'csr', shape (4, 3), type '<i8'>",
    "array([[0, 1, 0],\n       [3, 4, 0]])",
    "array([[0, 9, 0],\n       [0, 0, 2],\n       [0, 0, 0],\n       [3, 4, 0]])",
    "array([[ 0, 18,  0],\n       [ 0,  0,  4],\n       [ 0,  0,  0],\n       [ 3,  4,  0]])",
    "array([[ 0, 18,  0],\n       [ 0,  0,  4],\n       [ 0,  0,  0],\n       [ 3,  4,  0],\n       [ 0, 36,  0],\n       [ 0,  0,  8]])",
    "<HDF5 dataset \"Y\": shape (4, 3), type \"<i8\">",
    "/                        Group\n/X                       Group\n/X/data                  Dataset {6/Inf}\n/X/indices               Dataset {6/Inf}\n/X/indptr                Dataset {7/Inf}\n/Y                       Dataset {4, 3}",
    "variable-length null-terminated UTF-8 string",
    "<HDF5 sparse dataset: format 'csr', shape (4, 3), type '<f4'>",
    "array([[0.       , 0.6931472, 0.       ],\n       [0.       , 0.       , 1.0986123],\n       [0.       , 0.       , 0.       ],\n       [3.       , 4.       , 0.       ]], dtype=float32)",
    "<HDF5 sparse dataset: format 'csc', shape (4, 3), type '<i8'>",
    "<4x1000 sparse matrix of type '<class 'numpy.float64'>'\n    with 4000 stored elements",
    "<1000x1000 sparse matrix of type '<class 'numpy.float64'>'\n    with 1000000 stored elements",
];

#[test]
fn the_tour_prints_the_seed_and_its_files_open_in_h5py_and_anndata() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tour");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(["tour", "--ones", "1000", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tour failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut from = 0;
    for block in SEED_BLOCKS {
        match text[from..].find(block) {
            Some(i) => from += i + block.len(),
            None => panic!(
                "the tour did not print (in order):\n{block}\n--- output from there:\n{}",
                &text[from..]
            ),
        }
    }
    let py = support::python().expect("python with h5py and anndata (scripts/test installs .venv)");
    let script = format!(
        "import h5py, anndata, numpy as np, scipy.sparse as sp\n\
         f = h5py.File({h5:?}, 'r')\n\
         g = f['X']\n\
         assert g.attrs['h5sparse_format'] == 'csr', g.attrs['h5sparse_format']\n\
         assert list(g.attrs['h5sparse_shape']) == [6, 3]\n\
         X = sp.csr_matrix((g['data'][:], g['indices'][:], g['indptr'][:]), shape=(6, 3)).toarray()\n\
         assert (X == np.array([[0,18,0],[0,0,4],[0,0,0],[3,4,0],[0,36,0],[0,0,8]])).all(), X\n\
         assert (f['Y'][:] == np.array([[0,1,0],[0,0,2],[0,0,0],[3,4,0]])).all()\n\
         assert g['data'].maxshape == (None,)\n\
         a = anndata.read_h5ad({h5ad:?})\n\
         assert a.shape == (4, 3) and sp.issparse(a.X) and a.X.format == 'csc', (a.shape, type(a.X))\n\
         assert (a.X.toarray() == np.array([[0,1,0],[0,0,2],[0,0,0],[3,4,0]])).all()\n\
         b = anndata.read_h5ad({h5ad:?}, backed='r')\n\
         assert b.X.shape == (4, 3)\n\
         print('ok')\n",
        h5 = dir.join("test.h5").display().to_string(),
        h5ad = dir.join("test.h5ad").display().to_string(),
    );
    let res = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        res.status.success(),
        "h5py/anndata: {}",
        String::from_utf8_lossy(&res.stderr)
    );
}
