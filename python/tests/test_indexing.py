"""Every numpy indexing form on a stored sparse matrix equals scipy's on the
same matrix in memory: values, shape, dtype, result type."""

import h5py
import numpy as np
import pytest
import scipy.sparse as sp
import anndata

import h5sparse_rs as h5s
from conftest import assert_same, random_matrix

SHAPE = (37, 23)


def keys(rng, shape):
    n, m = shape
    rows = rng.integers(-n, n, size=9)
    cols = rng.integers(-m, m, size=6)
    rmask = rng.random(n) < 0.4
    cmask = rng.random(m) < 0.5
    return [
        # single rows, slices, steps
        0, -1, 5, slice(None), slice(2, 10), slice(None, None, 3), slice(None, None, -1),
        slice(30, 2, -4), slice(-5, None), slice(100, 200), slice(3, 3),
        # integer lists (unsorted, repeated, negative), arrays of other widths, empty
        [3, 1, 3], [-1, 0], list(rows), rows.astype(np.int32), np.array([], dtype=np.int64),
        # masks
        rmask, list(rmask),
        # both axes
        (slice(None), slice(1, 3)), (slice(None, None, 2), slice(None, None, -3)),
        (slice(4, 20), 7), (7, slice(4, 20)), (2, -1), (-1, -1), (np.int64(3), np.int32(5)),
        (list(rows), slice(2, 9)), (slice(None), list(cols)), (rmask, slice(1, 9)),
        (slice(None, None, -2), cmask), (slice(1, 30, 7), cmask), (5, list(cols)), (5, cmask),
        (rmask, np.flatnonzero(rmask) % SHAPE[1]), (rmask, 4),
        (list(rows), 4),
        np.ix_(rows, cols), np.ix_(rmask, cmask), np.ix_([4, 4, 0], [2]),
        # pointwise: equal-length arrays, broadcasting
        (list(rows[:6]), list(cols)), ([1, 2, 3], [4, 4, 4]),
        (np.array([[0], [2]]), np.array([1, 2, 5])),
        # Ellipsis
        (Ellipsis, 2), (3, Ellipsis), Ellipsis, (slice(2, 4), Ellipsis),
    ]


def write_ours(path, m):
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)


def write_anndata(path, m):
    with h5py.File(path, "w") as f:
        anndata.io.write_elem(f, "X", m)


def write_h5py_by_hand(path, m):
    """The seed's layout (h5sparse attributes), written with h5py."""
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["h5sparse_format"] = m.format
        g.attrs["h5sparse_shape"] = np.array(m.shape)
        g.create_dataset("data", data=m.data, chunks=True, maxshape=(None,), compression="gzip")
        g.create_dataset("indices", data=m.indices, chunks=True, maxshape=(None,))
        g.create_dataset("indptr", data=m.indptr, chunks=True, maxshape=(None,))


WRITERS = {"ours": write_ours, "anndata": write_anndata, "h5py": write_h5py_by_hand}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.uint16, np.int8])
def test_every_indexing_form_equals_scipy(tmp_path, rng, writer, fmt, dtype):
    m = random_matrix(rng, SHAPE, dtype=dtype, fmt=fmt)
    expected_type = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    m = expected_type(m)
    path = tmp_path / "m.h5"
    WRITERS[writer](path, m)
    with h5s.File(path) as f:
        x = f["X"]
        assert (x.shape, x.format, x.dtype, x.nnz) == (m.shape, fmt, m.dtype, m.nnz)
        assert_same(x.to_memory(), m)
        for key in keys(rng, SHAPE):
            want = m[key]
            got = x[key]
            try:
                assert_same(got, want)
                if sp.issparse(got):
                    # numpy's indexing keeps the stored orientation for every
                    # outer selection, as scipy does for these formats.
                    assert got.format == fmt
            except AssertionError as e:
                raise AssertionError(f"key {key!r}: {e}") from None


def test_bool_matrix(tmp_path, rng):
    for dtype in (bool,):
        m = random_matrix(rng, (12, 9), dtype=dtype)
        path = tmp_path / f"{np.dtype(dtype).name}.h5"
        write_ours(path, m)
        with h5py.File(path) as f:
            assert f["X/data"].dtype == np.dtype(dtype)
        with h5s.File(path) as f:
            assert f["X"].dtype == np.dtype(dtype)
            for key in [slice(None), [3, 1], (slice(2, 8), [0, 4]), (1, 2)]:
                assert_same(f["X"][key], m[key])


def test_a_2d_boolean_mask_selects_pointwise(tmp_path, rng):
    m = random_matrix(rng, SHAPE)
    write_ours(tmp_path / "m.h5", m)
    mask = m.toarray() > 0.9
    with h5s.File(tmp_path / "m.h5") as f:
        assert_same(f["X"][mask], m[mask])


def test_sparse_array_results(tmp_path, rng):
    m = random_matrix(rng, SHAPE)
    write_ours(tmp_path / "m.h5", m)
    a = sp.csr_array(m)
    rows = rng.integers(0, SHAPE[0], size=8)
    with h5s.File(tmp_path / "m.h5", sparse_array=True) as f:
        for key in [slice(None), slice(3, 9), list(rows), (slice(None), [2, 0]), np.ix_(rows, [1, 5]),
                    4, -1, (slice(None), 2), (1, slice(2, 9)), ([1, 2], 3), (3, [0, 2]), (-1, slice(None, None, 2))]:
            got, want = f["X"][key], a[key]
            assert_same(got, want)
            assert (got.format, got.ndim) == (want.format, want.ndim), key
        assert_same(f["X"][[1, 2], [3, 4]], a[[1, 2], [3, 4]])
    with h5s.File(tmp_path / "m.h5") as f:
        assert_same(f["X"].as_sparray()[2:5], a[2:5])


def test_out_of_bounds_and_bad_keys_raise_like_scipy(tmp_path, rng):
    m = random_matrix(rng, SHAPE)
    write_ours(tmp_path / "m.h5", m)
    with h5s.File(tmp_path / "m.h5") as f:
        x = f["X"]
        for key in [37, -38, (0, 23), [0, 40], (slice(None), [-24]), np.zeros(5, bool)]:
            with pytest.raises(IndexError):
                m[key]
            with pytest.raises(IndexError):
                x[key]
        for key in [(0, 1, 2), 1.5, "a"]:
            with pytest.raises((IndexError, TypeError)):
                x[key]
        with pytest.raises(ValueError):
            x[::0]


def test_reads_of_10x_and_anndata_fixtures_equal_anndata(tmp_path):
    from conftest import FIXTURES

    for name, group in [("anndata.h5ad", "X"), ("anndata_gzip.h5ad", "X"),
                        ("anndata_full.h5ad", "layers/counts"), ("tenx_v3.h5", "matrix")]:
        with h5py.File(FIXTURES / name) as hf:
            if group == "matrix":
                g = hf[group]
                n, mm = g["shape"][:]
                want = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=(n, mm))
            else:
                want = anndata.io.sparse_dataset(hf[group]).to_memory()
        with h5s.File(FIXTURES / name) as f:
            x = f[group]
            assert_same(x.to_memory(), want)
            n = want.shape[0]
            assert_same(x[n // 3 : n // 2, ::2], want[n // 3 : n // 2, ::2])


def test_results_own_no_copy_of_the_rust_vectors(tmp_path, rng):
    """data/indices/indptr are numpy arrays over the vectors the Rust reader
    filled (numpy does not own them: no copy was made on the way)."""
    m = random_matrix(rng, SHAPE, dtype=np.float32)
    write_ours(tmp_path / "m.h5", m)
    with h5s.File(tmp_path / "m.h5") as f:
        got = f["X"][[3, 1, 4]]
    for a in (got.data, got.indices, got.indptr):
        assert not a.flags.owndata and a.base is not None
    assert got.indices.dtype == np.int32 and got.indptr.dtype == np.int32
    assert_same(got, m[[3, 1, 4]])
