"""read_h5ad-style access: obs/var equal anndata.read_h5ad's, X and layers
read lazily equal anndata's matrices."""

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from h5sparse_rs.h5ad import read_h5ad
from conftest import FIXTURES


@pytest.mark.parametrize("name", ["anndata.h5ad", "anndata_full.h5ad", "anndata_gzip.h5ad",
                                  "anndata07_refs.h5ad", "anndata06_compound.h5ad"])
def test_obs_var_and_matrices_equal_anndata(name):
    want = anndata.read_h5ad(FIXTURES / name)
    with read_h5ad(FIXTURES / name) as got:
        assert got.shape == want.shape
        for ours, theirs in [(got.obs, want.obs), (got.var, want.var)]:
            assert list(ours.index) == list(theirs.index)
            assert list(ours.columns) == list(theirs.columns)
            for c in theirs.columns:
                a, b = ours[c], theirs[c]
                if isinstance(b.dtype, pd.CategoricalDtype):
                    assert isinstance(a.dtype, pd.CategoricalDtype), c
                    assert list(a.cat.categories) == list(b.cat.categories), c
                    assert a.cat.ordered == b.cat.ordered, c
                pd.testing.assert_series_equal(a, b, check_dtype=False, check_names=False,
                                               check_categorical=False, obj=c)
        x = got.X[:]
        wx = want.X
        np.testing.assert_array_equal(
            x.toarray() if sp.issparse(x) else x,
            wx.toarray() if sp.issparse(wx) else np.asarray(wx),
        )
        assert set(got.layers) == set(want.layers.keys())
        for k in want.layers.keys():
            w = want.layers[k]
            g = got.layers[k][:]
            np.testing.assert_array_equal(
                g.toarray() if sp.issparse(g) else g, w.toarray() if sp.issparse(w) else w
            )
        assert "AnnData object with n_obs × n_vars" in repr(got)


def assert_uns_equal(ours, theirs, where="uns"):
    """Recursively equal, with the types anndata gives (dict, str, numpy
    scalars and arrays of the same dtype, DataFrames, scipy matrices)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert list(ours) == list(theirs), where
        for k in theirs:
            assert_uns_equal(ours[k], theirs[k], f"{where}/{k}")
    elif isinstance(theirs, pd.DataFrame):
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False, obj=where)
        assert [str(d) for d in ours.dtypes] == [str(d) for d in theirs.dtypes], where
    elif sp.issparse(theirs):
        assert sp.issparse(ours) and ours.format == theirs.format, where
        np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    else:
        assert type(ours) is type(theirs), (where, type(ours), type(theirs))
        if isinstance(theirs, np.ndarray):
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, where
            assert ours.tolist() == theirs.tolist(), where
        else:
            assert ours == theirs, where


def materialise(v):
    """A lazy obsm/varm member in memory (DataFrames already are)."""
    if isinstance(v, (pd.DataFrame, np.ndarray)):
        return v
    return v[()] if hasattr(v, "ndim") and not hasattr(v, "format") else v.to_memory()


@pytest.mark.parametrize("name", ["anndata.h5ad", "anndata_full.h5ad", "anndata_gzip.h5ad",
                                  "anndata07_refs.h5ad", "anndata06_compound.h5ad"])
def test_uns_obsm_varm_equal_anndata(name):
    want = anndata.read_h5ad(FIXTURES / name)
    with read_h5ad(FIXTURES / name) as got:
        assert_uns_equal(got.uns, dict(want.uns))
        for ours, theirs in [(got.obsm, want.obsm), (got.varm, want.varm)]:
            assert list(ours) == list(theirs.keys())
            for k in theirs.keys():
                o, t = materialise(ours[k]), theirs[k]
                if isinstance(t, pd.DataFrame):
                    assert_uns_equal(o, t, k)
                elif sp.issparse(t):
                    assert_uns_equal(o, t, k)
                elif name == "anndata06_compound.h5ad":
                    # A record array's fields: values equal; their stored
                    # float32 is not kept (the native layer reads compound
                    # fields as Python numbers).
                    np.testing.assert_allclose(o, t, rtol=1e-6)
                else:
                    assert_uns_equal(o, np.asarray(t), k)
    full = read_h5ad(FIXTURES / "anndata_full.h5ad")
    try:  # the fixture covers every kind this reader handles
        kinds = {type(v).__name__ for v in full.uns.values()}
        assert {"dict", "str", "ndarray", "DataFrame", "bool"} <= kinds, kinds
        assert isinstance(full.obsm["meta"], pd.DataFrame)
    finally:
        full.close()


def test_uns_of_every_kind_written_by_anndata(tmp_path):
    """What the fixtures lack: categorical, nullable and sparse values, a
    dataframe in varm, deeper nesting, empty dicts."""
    rng = np.random.default_rng(3)
    a = anndata.AnnData(
        X=sp.random(6, 4, density=0.5, format="csr", random_state=rng, dtype=np.float32),
        uns={
            "cat": pd.Categorical(["a", "b", "a"], categories=["b", "a"], ordered=True),
            "ints": pd.array([1, None, 3], dtype="Int64"),
            "bools": pd.array([True, None, False], dtype="boolean"),
            "sparse": sp.random(3, 5, density=0.4, format="csc", random_state=rng),
            "deep": {"a": {"b": {"c": np.arange(4, dtype=np.int16), "s": "x"}}, "empty": {}},
            "float": 1.5,
            "int": 7,
            "matrix": np.arange(6.0).reshape(2, 3),
        },
    )
    a.varm["frame"] = pd.DataFrame({"g": np.arange(4.0)}, index=a.var_names)
    path = tmp_path / "kinds.h5ad"
    a.write_h5ad(path)
    want = anndata.read_h5ad(path)
    with read_h5ad(path) as got:
        assert list(got.uns) == list(want.uns)
        for k in ["sparse", "deep", "float", "int", "matrix"]:
            assert_uns_equal(got.uns[k], want.uns[k], k)
        for k in ["cat", "ints", "bools"]:
            assert type(got.uns[k]) is type(want.uns[k]), k
            assert str(got.uns[k].dtype) == str(want.uns[k].dtype), k
            pd.testing.assert_extension_array_equal(got.uns[k], want.uns[k])
        assert_uns_equal(got.varm["frame"], want.varm["frame"], "varm/frame")
