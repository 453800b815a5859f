"""The oracle of tests/append_obs.rs: what a target holds after the cells of
SOURCE... were appended to it, built with anndata, pandas and scipy from the
target as it was (BEFORE) and the sources, compared element by element with
`anndata.read_h5ad(RESULT)` read with warnings as errors.

The expected object is `anndata.concat([before, *sources], pairwise=True)`
for the elements that grow, spelled out so that the target keeps what an
in-place append keeps: its storage (sparse stays sparse, dense stays dense,
values in its type), the order of its categories (new ones after the old,
in the source's order, or naturally sorted where the source holds plain
strings), and its var, varm, varp, uns and raw.var. Also checks, with h5py,
that the categorical codes are stored in the type pandas gives their count
of categories.

usage: append_oracle.py RESULT BEFORE DROP_EXTRA(0|1) SOURCE...
Prints EQUAL when everything matches.
"""
import sys

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp
from natsort import natsorted

from oracle_common import read_without_warnings, same

result, before, drop_extra, *sources = sys.argv[1:]
drop_extra = drop_extra == "1"


def dense(m):
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def rows(a, b):
    """b's rows under a's, in a's storage and type."""
    if sp.issparse(a):
        b = b if sp.issparse(b) else sp.csr_matrix(dense(b))
        return sp.vstack([a, b.astype(a.dtype)], format=a.format)
    return np.concatenate([a, dense(b).astype(a.dtype)])


def pairwise(a, b):
    """a and b block-diagonal, in a's storage and type."""
    if sp.issparse(a):
        return sp.block_diag([a, sp.csr_matrix(b).astype(a.dtype)], format=a.format)
    n, m = a.shape[0], b.shape[0]
    out = np.zeros((n + m, n + m), dtype=a.dtype)
    out[:n, :n] = a
    out[n:, n:] = dense(b)
    return out


def column(a, b):
    """Column a with b's values after it."""
    if isinstance(a.dtype, pd.CategoricalDtype):
        old = list(a.cat.categories)
        if isinstance(b.dtype, pd.CategoricalDtype):
            new = [c for c in b.cat.categories if c not in old]
        else:
            new = natsorted({v for v in b if not pd.isna(v)} - set(old))
        values = list(a.astype(object)) + list(b.astype(object))
        return pd.Categorical(values, categories=old + new, ordered=a.cat.ordered)
    if isinstance(a.dtype, pd.api.extensions.ExtensionDtype):
        values = list(a.astype(object)) + list(b.astype(object))
        return pd.array(values, dtype=a.dtype if a.dtype == b.dtype else
                        pd.concat([a, b]).dtype)
    if a.dtype == object:
        return np.array(list(a) + list(b.astype(object)), dtype=object)
    return np.concatenate([a.to_numpy(), b.to_numpy()])


def frame(a, b):
    out = pd.DataFrame(index=pd.Index(list(a.index) + list(b.index), name=a.index.name))
    for c in a.columns:
        out[c] = column(a[c], b[c])
    return out


def append(t, s):
    """t with s's cells appended."""
    obs = frame(t.obs, s.obs)
    out = anndata.AnnData(
        X=None if t.X is None else rows(t.X, s.X),
        obs=obs,
        var=t.var,
        uns=t.uns,
        varm=dict(t.varm),
        varp=dict(t.varp),
        layers={k: rows(v, s.layers[k]) for k, v in t.layers.items()},
        obsp={k: pairwise(v, s.obsp[k]) for k, v in t.obsp.items()},
    )
    for k, v in t.obsm.items():
        if isinstance(v, pd.DataFrame):
            df = frame(v, s.obsm[k])
            df.index = obs.index
            out.obsm[k] = df
        else:
            out.obsm[k] = rows(v, s.obsm[k])
    if t.raw is not None:
        out.raw = anndata.AnnData(X=rows(t.raw.X, s.raw.X), var=t.raw.var, varm=dict(t.raw.varm))
    return out


want = anndata.read_h5ad(before)
for path in sources:
    src = anndata.read_h5ad(path)
    if not drop_extra:
        assert set(src.obs.columns) == set(want.obs.columns), "the source has other columns"
    want = append(want, src)

got = read_without_warnings(result, allowed="$^")
assert got.shape == want.shape, f"shape {got.shape} vs {want.shape}"
pd.testing.assert_frame_equal(got.obs, want.obs, check_exact=True, obj="obs")
pd.testing.assert_frame_equal(got.var, want.var, check_exact=True, obj="var")
same(got.X, want.X, "X", sort=True)
for name in ("layers", "obsm", "obsp", "varm", "varp", "uns"):
    same(getattr(got, name), getattr(want, name), name, sort=True)
assert (got.raw is None) == (want.raw is None), "raw"
if want.raw is not None:
    same(got.raw.X, want.raw.X, "raw/X", sort=True)
    pd.testing.assert_frame_equal(got.raw.var, want.raw.var, check_exact=True, obj="raw/var")

with h5py.File(result, "r") as f:
    for c in want.obs.columns:
        col = want.obs[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            stored = f["obs"][c]["codes"].dtype
            assert stored == col.cat.codes.dtype, f"obs/{c}/codes: {stored} vs {col.cat.codes.dtype}"
print("EQUAL")
