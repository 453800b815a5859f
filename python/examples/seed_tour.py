"""The seed walkthrough ("Sparse matrices with h5py", anndata 0.5) on h5sparse_rs.

Every step of the seed, with the same matrices; each result is printed under
a ``## step`` line so that python/tests/test_seed_tour.py can compare it with
the seed's outputs. Run it with the package installed::

    python python/examples/seed_tour.py [DIR] [--memory]

DIR (a temporary directory by default) receives test.h5 and test.h5ad.
``--memory`` also runs the seed's last part: a 10000 x 10000 matrix of ones
(1.2 GB on disk) written and read back, with the process's peak memory.
"""

import os
import sys
import tempfile

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

import h5sparse_rs as h5s


def step(title, value):
    print(f"## {title}")
    print(value if isinstance(value, str) else repr(value))


def tour(workdir):
    X_array = np.array([[0, 1, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]])
    X = csr_matrix(X_array)
    step("in memory: X[:, 1:3]", X[:, 1:3].toarray())

    path = os.path.join(workdir, "test.h5")
    if os.path.exists(path):
        os.remove(path)
    f = h5s.File(path, "a")
    step("create_dataset X", repr(f.create_dataset("X", data=X)))
    step("f['X'][:, 1:3]", f["X"][:, 1:3].toarray())
    step("f['X'][mask]", f["X"][np.array([True, False, False, True])].toarray())

    f["X"][0, 1] = 9
    step("after f['X'][0, 1] = 9", f["X"][:].toarray())

    f["X"][0:2] = 2 * f["X"][0:2]
    step("after f['X'][0:2] = 2 * f['X'][0:2]", f["X"][:].toarray())

    f["X"].append(2 * f["X"][0:2])
    step("after append", f["X"][:].toarray())

    step("create_dataset Y", repr(f.create_dataset("Y", data=X_array)))
    step("f['Y'][:]", f["Y"][:])
    step("X attrs", f"h5sparse_format={f['X'].attrs['h5sparse_format']} "
         f"h5sparse_shape={f['X'].attrs['h5sparse_shape'].tolist()}")
    f.close()

    # Within an AnnData file: anndata 0.5 stored X as float32.
    try:
        import anndata
    except ImportError:
        print("## anndata: not installed, skipped")
        return
    h5ad = os.path.join(workdir, "test.h5ad")
    anndata.AnnData(X.astype(np.float32)).write_h5ad(h5ad)
    with h5s.File(h5ad, "r+") as a:
        step("adata.X", repr(a["X"]))
        a["X"][0:2] = np.log1p(a["X"][0:2])
        step("after adata.X[0:2] = np.log1p(adata.X[0:2])", a["X"][:].toarray())
        a["X"] = csc_matrix(X_array)
        step("after adata.X = csc_matrix(X_array)", repr(a["X"]))


def memory(workdir):
    import resource

    X = csr_matrix(np.ones((10000, 10000)))
    path = os.path.join(workdir, "test2.h5")
    with h5s.File(path, "w") as f:
        step("create_dataset ones", repr(f.create_dataset("X", data=X)))
    del X
    with h5s.File(path) as f:
        rows = f["X"][1:5]
        step("ones rows 1:5", f"shape {rows.shape}, nnz {rows.nnz}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    step("peak memory", f"{peak:.2f} GB")
    os.remove(path)


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if args:
        os.makedirs(args[0], exist_ok=True)
        tour(args[0])
        if "--memory" in argv:
            memory(args[0])
        return
    with tempfile.TemporaryDirectory() as d:
        tour(d)
        if "--memory" in argv:
            memory(d)


if __name__ == "__main__":
    np.set_printoptions(precision=7)
    main(sys.argv[1:])
