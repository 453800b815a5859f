"""python/examples/seed_tour.py prints the seed's outputs (../shared/seed-tour.md)."""

import subprocess
import sys

import anndata
import h5py
import numpy as np

from conftest import ROOT

# The seed's printed results, transcribed from the walkthrough.
SEED = {
    "in memory: X[:, 1:3]": np.array([[1, 0], [0, 2], [0, 0], [4, 0]]),
    "create_dataset X": "<HDF5 sparse dataset: format 'csr', shape (4, 3), type '<i8'>",
    "f['X'][:, 1:3]": np.array([[1, 0], [0, 2], [0, 0], [4, 0]]),
    "f['X'][mask]": np.array([[0, 1, 0], [3, 4, 0]]),
    "after f['X'][0, 1] = 9": np.array([[0, 9, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]]),
    "after f['X'][0:2] = 2 * f['X'][0:2]": np.array(
        [[0, 18, 0], [0, 0, 4], [0, 0, 0], [3, 4, 0]]
    ),
    "after append": np.array(
        [[0, 18, 0], [0, 0, 4], [0, 0, 0], [3, 4, 0], [0, 36, 0], [0, 0, 8]]
    ),
    "create_dataset Y": '<HDF5 dataset "Y": shape (4, 3), type "<i8">',
    "f['Y'][:]": np.array([[0, 1, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]]),
    "X attrs": "h5sparse_format=csr h5sparse_shape=[6, 3]",
    "adata.X": "<HDF5 sparse dataset: format 'csr', shape (4, 3), type '<f4'>",
    "after adata.X[0:2] = np.log1p(adata.X[0:2])": np.array(
        [[0.0, 0.6931472, 0.0], [0.0, 0.0, 1.0986123], [0.0, 0.0, 0.0], [3.0, 4.0, 0.0]],
        dtype=np.float32,
    ),
    "after adata.X = csc_matrix(X_array)": "<HDF5 sparse dataset: format 'csc', shape (4, 3), type '<i8'>",
}


def parse(out):
    steps, title = {}, None
    for line in out.splitlines():
        if line.startswith("## "):
            title = line[3:]
            steps[title] = []
        else:
            steps[title].append(line)
    return {k: "\n".join(v) for k, v in steps.items()}


def test_seed_tour_prints_the_seeds_outputs(tmp_path):
    script = ROOT / "python" / "examples" / "seed_tour.py"
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    got = parse(out)
    assert list(got) == list(SEED)
    for title, want in SEED.items():
        if isinstance(want, str):
            assert got[title] == want, title
        else:
            value = eval(got[title], {"array": np.array, "float32": np.float32})
            np.testing.assert_allclose(value, want, rtol=1e-6, err_msg=title)
            assert np.asarray(value).dtype == want.dtype or want.dtype != np.float32

    # The file structure the seed's h5ls shows, seen by h5py (libhdf5).
    with h5py.File(tmp_path / "test.h5", "r") as f:
        assert set(f) == {"X", "Y"}
        assert f["X"].attrs["h5sparse_format"] in ("csr", b"csr")
        assert list(f["X"].attrs["h5sparse_shape"]) == [6, 3]
        assert f["X/data"].shape == (6,) and f["X/data"].maxshape == (None,)
        assert f["X/indices"].shape == (6,) and f["X/indices"].maxshape == (None,)
        assert f["X/indptr"].shape == (7,) and f["X/indptr"].maxshape == (None,)
        assert f["Y"].shape == (4, 3) and f["Y"].dtype == np.int64
    # And the .h5ad after the CSR -> CSC swap, by anndata.
    adata = anndata.read_h5ad(tmp_path / "test.h5ad")
    assert adata.X.format == "csc"
    np.testing.assert_array_equal(
        adata.X.toarray(), [[0, 1, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]]
    )
