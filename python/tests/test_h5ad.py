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
