"""Pointwise assignment ``X[rows, cols] = values`` against scipy's
``m[rows, cols] = values`` on the same matrix: where every nonzero lands on
a stored entry the results are equal; otherwise a ValueError and the file
is unchanged (scipy would insert entries)."""

import h5py
import numpy as np
import pytest
import scipy.sparse as sp

import h5sparse_rs as h5s
from conftest import random_matrix


def stored_points(rng, m, k):
    """``k`` random stored (row, col) pairs of ``m``, with repeats."""
    c = m.tocoo()
    pick = rng.integers(0, c.nnz, size=k)
    return c.row[pick].astype(np.int64), c.col[pick].astype(np.int64)


def scipy_set(m, rows, cols, values):
    out = m.copy()
    out[rows, cols] = values
    return out


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_pointwise_set_equals_scipy(tmp_path, rng, fmt, dtype):
    m = random_matrix(rng, (30, 20), density=0.2, fmt=fmt, dtype=dtype)
    path = tmp_path / "p.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
    rows, cols = stored_points(rng, m, 25)
    values = rng.integers(1, 50, size=rows.size).astype(dtype)
    # Negative indices count from the end, as in scipy.
    neg_rows = np.where(rng.random(rows.size) < 0.5, rows - m.shape[0], rows)
    expected = scipy_set(m, rows, cols, values)
    with h5s.File(path, "r+") as f:
        f["X"][neg_rows, cols] = values
        got = f["X"][:]
        np.testing.assert_array_equal(got.toarray(), expected.toarray())
        assert f["X"].nnz == m.nnz
    with h5py.File(path) as g:  # libhdf5 reads the same values
        np.testing.assert_array_equal(np.sort(g["X/data"][:]), np.sort(got.data))


@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")
def test_pointwise_set_forms(tmp_path, rng):
    """Lists, a scalar broadcast, repeats (the last value wins), zeros where
    nothing is stored (nothing changes), a 2-D boolean mask, values cast to
    the stored dtype."""
    m = random_matrix(rng, (12, 9), density=0.4, dtype=np.float64)
    path = tmp_path / "forms.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
    dense = m.toarray()
    (r0, c0), (r1, c1) = zip(*np.argwhere(dense != 0)[:2])
    (zr, zc) = np.argwhere(dense == 0)[0]
    cases = [
        ([r0, r1], [c0, c1], [5.5, 6.5]),
        ([r0, r1], [c0, c1], 2.25),
        ([r0, r0, r1], [c0, c0, c1], [1.0, 2.0, 3.0]),
        ([r0, zr], [c0, zc], [4.0, 0.0]),
        (np.array([[r0], [r1]]), np.array([[c0], [c1]]), np.array([[7.0], [8.0]])),
    ]
    expected = m.copy()
    with h5s.File(path, "r+") as f:
        for rows, cols, values in cases:
            expected = scipy_set(expected, rows, cols, values)
            f["X"][rows, cols] = values
            np.testing.assert_array_equal(f["X"][:].toarray(), expected.toarray())
        mask = np.zeros(m.shape, dtype=bool)
        mask[r0, c0] = mask[r1, c1] = True
        expected = expected.copy()
        expected[mask] = 9.0
        f["X"][mask] = 9.0
        np.testing.assert_array_equal(f["X"][:].toarray(), expected.toarray())
        ints = h5s.File(tmp_path / "ints.h5", "w")
        xi = ints.create_dataset("X", data=m.astype(np.int32))
        expected = scipy_set(m.astype(np.int32), [r0], [c0], [3.75])
        xi[[r0], [c0]] = [3.75]
        np.testing.assert_array_equal(xi[:].toarray(), expected.toarray())
        ints.close()


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_pointwise_set_refuses_new_entries_and_writes_nothing(tmp_path, rng, fmt):
    m = random_matrix(rng, (15, 10), density=0.3, fmt=fmt, dtype=np.float32)
    path = tmp_path / "refuse.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
    dense = m.toarray()
    stored = np.argwhere(dense != 0)[:3]
    empty = np.argwhere(dense == 0)[0]
    rows = np.array([*stored[:, 0], empty[0]])
    cols = np.array([*stored[:, 1], empty[1]])
    before = open(path, "rb").read()
    with h5s.File(path, "r+") as f:
        with pytest.raises(ValueError, match="sparsity structure"):
            f["X"][rows, cols] = [1.0, 2.0, 3.0, 4.0]
        np.testing.assert_array_equal(f["X"][:].toarray(), dense)
        with pytest.raises(ValueError):  # shapes that do not broadcast, as scipy
            f["X"][rows, cols] = [1.0, 2.0]
        with pytest.raises(IndexError):
            f["X"][[0, 99], [0, 0]] = [1.0, 2.0]
    assert open(path, "rb").read() == before
    with h5s.File(path) as f, pytest.raises(ValueError, match="read-only"):
        f["X"][rows[:1], cols[:1]] = [1.0]
