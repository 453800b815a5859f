"""Writes: create_dataset, __setitem__, append, replace, del; each result
checked by reading it back here and by h5py/anndata (libhdf5)."""

import os

import anndata
import h5py
import numpy as np
import pytest
import scipy.sparse as sp

import h5sparse_rs as h5s
from conftest import assert_same, random_matrix


def read_with_h5py(path, group):
    """The matrix as libhdf5 sees it (anndata's reader)."""
    with h5py.File(path, "r") as f:
        return anndata.io.sparse_dataset(f[group]).to_memory()


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("opts", [{}, {"compression": "gzip"}, {"compression": "gzip", "compression_opts": 9, "chunks": (7,)}])
def test_create_dataset_opens_in_h5py_and_anndata(tmp_path, rng, fmt, opts):
    m = random_matrix(rng, (40, 17), fmt=fmt, dtype=np.float32)
    path = tmp_path / "w.h5"
    with h5s.File(path, "w") as f:
        x = f.create_dataset("X", data=m, **opts)
        assert repr(x) == f"<HDF5 sparse dataset: format '{fmt}', shape (40, 17), type '<f4'>"
    assert_same(read_with_h5py(path, "X"), m)
    with h5py.File(path) as f:
        assert f["X/data"].maxshape == (None,)
        assert f["X"].attrs["h5sparse_format"] == fmt
        assert f["X"].attrs["encoding-type"] == f"{fmt}_matrix"
        if "compression" in opts:
            assert f["X/data"].compression == "gzip"
            assert f["X/data"].compression_opts == opts.get("compression_opts", 4)
        if "chunks" in opts:
            assert f["X/data"].chunks == (7,)


def test_create_dataset_dtype_and_other_formats(tmp_path, rng):
    m = random_matrix(rng, (10, 8), dtype=np.int64)
    with h5s.File(tmp_path / "w.h5", "w") as f:
        x = f.create_dataset("X", data=sp.coo_matrix(m), dtype=np.float32)
        assert (x.format, x.dtype) == ("csr", np.float32)
        assert_same(x[:], sp.csr_matrix(m, dtype=np.float32))
        with pytest.raises(ValueError, match="exists"):
            f.create_dataset("X", data=m)


def test_setitem_keeps_the_structure_or_writes_nothing(tmp_path, rng):
    m = random_matrix(rng, (30, 12), dtype=np.float64)
    path = tmp_path / "s.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
    expected = m.copy()
    with h5s.File(path, "r+") as f:
        x = f["X"]
        # A block of rows, scaled: structure unchanged.
        x[3:9] = 2 * x[3:9]
        expected[3:9] = 2 * expected[3:9]
        # A fancy selection on both axes, through np.log1p as in the seed.
        rows, cols = [0, 7, 2], [1, 5, 11, 3]
        x[np.ix_(rows, cols)] = np.log1p(x[np.ix_(rows, cols)])
        expected[np.ix_(rows, cols)] = np.log1p(expected[np.ix_(rows, cols)])
        # One stored element; then one not stored set to 0 (no change).
        r, c = expected.nonzero()
        x[int(r[0]), int(c[0])] = 42.5
        expected[int(r[0]), int(c[0])] = 42.5
        zr, zc = np.argwhere(expected.toarray() == 0)[0]
        x[int(zr), int(zc)] = 0
        assert_same(x[:], expected)

        # Anything that adds an entry is refused, and nothing is written.
        before = os.path.getsize(path)
        with pytest.raises(ValueError, match="sparsity structure"):
            x[int(zr), int(zc)] = 1.0
        dense = sp.csr_matrix(np.ones((2, 12)))
        with pytest.raises(ValueError, match="sparsity structure"):
            x[0:2] = dense
        with pytest.raises(ValueError):
            x[0:2] = 3.0
        assert os.path.getsize(path) == before
        assert_same(x[:], expected)
    assert_same(read_with_h5py(path, "X"), expected)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_append_grows_the_stored_axis(tmp_path, rng, fmt):
    m = random_matrix(rng, (20, 9), fmt=fmt, dtype=np.int32)
    more = random_matrix(rng, (5, 9) if fmt == "csr" else (20, 4), fmt="csr", dtype=np.int64)
    path = tmp_path / "a.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
    with h5s.File(path, "a") as f:
        x = f["X"]
        x.append(more)  # any format and dtype; converted to the stored ones
        stack = sp.vstack if fmt == "csr" else sp.hstack
        expected = stack([m, more.astype(np.int32)], format=fmt)
        assert x.shape == expected.shape and x.nnz == expected.nnz
        assert_same(x[:], expected)
        with pytest.raises(ValueError):
            x.append(sp.csr_matrix((1, 3)) if fmt == "csr" else sp.csc_matrix((3, 1)))
    assert_same(read_with_h5py(path, "X"), expected)
    with h5py.File(path) as f:
        assert list(f["X"].attrs["h5sparse_shape"]) == list(expected.shape)


def test_replace_and_delete(tmp_path, rng):
    m = random_matrix(rng, (15, 6), dtype=np.float32)
    path = tmp_path / "r.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
        f.create_dataset("Y", data=np.arange(6))
    new = random_matrix(rng, (4, 11), fmt="csc", dtype=np.int64)
    with h5s.File(path, "r+") as f:
        x = f["X"]
        f["X"] = new  # CSR -> CSC, another shape and dtype
        assert repr(x) == "<HDF5 sparse dataset: format 'csc', shape (4, 11), type '<i8'>"
        assert_same(f["X"][:], new)
        f["Z"] = m  # a new name: created
        assert_same(f["Z"][:], m)
        del f["Y"]
        assert "Y" not in f and set(f) == {"X", "Z"}
        with pytest.raises(KeyError):
            del f["Y"]
        with pytest.raises(ValueError):
            f["Z"] = np.zeros(3)  # a dense array over an existing name
    assert_same(read_with_h5py(path, "X"), new)
    with h5py.File(path) as f:
        assert set(f) == {"X", "Z"}


def test_groups_attrs_and_dense_writes(tmp_path):
    path = tmp_path / "g.h5"
    with h5s.File(path, "w") as f:
        g = f.create_group("obsm")
        g.create_dataset("pca", data=np.arange(12, dtype=np.float32).reshape(4, 3),
                         chunks=(2, 3), maxshape=(None, 3), compression="gzip")
        f.attrs["note"] = "hello"
        f.attrs["ints"] = np.array([1, 2, 3], dtype=np.int16)
        f.attrs["one"] = 2.5
        g.attrs["flag"] = True
        d = f["obsm/pca"]
        d[1:3, 0:2] = [[-1, -2], [-3, -4]]
        d.resize(6, axis=0)
        d[4:6] = 7
        assert f.require_group("obsm") == g
        assert "obsm" in f and "pca" in g and "nope" not in g
        del f.attrs["one"]
    with h5py.File(path) as f:
        want = np.zeros((6, 3), dtype=np.float32)
        want[:4] = np.arange(12).reshape(4, 3)
        want[1:3, 0:2] = [[-1, -2], [-3, -4]]
        want[4:6] = 7
        np.testing.assert_array_equal(f["obsm/pca"][:], want)
        assert f["obsm/pca"].chunks == (2, 3) and f["obsm/pca"].maxshape == (None, 3)
        assert f.attrs["note"] == "hello"
        assert f.attrs["ints"].dtype == np.int16 and list(f.attrs["ints"]) == [1, 2, 3]
        assert "one" not in f.attrs
        assert bool(f["obsm"].attrs["flag"]) is True


def test_anndata_reads_what_we_change_in_an_h5ad(tmp_path, rng):
    m = random_matrix(rng, (25, 10), dtype=np.float32)
    adata = anndata.AnnData(X=m, layers={"counts": m.copy()})
    path = tmp_path / "a.h5ad"
    adata.write_h5ad(path)
    more = random_matrix(rng, (3, 10), dtype=np.float32)
    with h5s.File(path, "r+") as f:
        assert set(f["layers"]) == {"counts"}
        f["layers/counts"][:5] = 10 * f["layers/counts"][:5]
        f["X"] = sp.csc_matrix(m)
    back = anndata.read_h5ad(path)
    expected = m.copy()
    expected[:5] = 10 * expected[:5]
    assert_same(sp.csr_matrix(back.layers["counts"]), sp.csr_matrix(expected))
    assert back.X.format == "csc"
    np.testing.assert_array_equal(back.X.toarray(), m.toarray())
    del more
