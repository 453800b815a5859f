"""Oracle for tests/subset.rs: anndata's own `adata[obs, var].copy()`
against the file h5sparse wrote, element by element.

usage: subset_oracle.py IN OUT OBS VAR
OBS/VAR: "all" or comma-separated positions. Prints "EQUAL" or fails.
"""
import sys
import tempfile
import warnings

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp


def sel(text):
    if text == "all":
        return slice(None)
    if text == "":
        return np.array([], dtype=np.int64)
    return np.array([int(t) for t in text.split(",")], dtype=np.int64)


# Whether a selection repeats a position. scipy then orders the entries a
# repeated column produces by numpy's argsort, which is not stable for long
# selections (and depends on the CPU's sort kernel): entries equal in value
# and column may come in another order, so such rows are compared sorted.
REPEATS = False


def same(a, b, at):
    if sp.issparse(a):
        assert sp.issparse(b), f"{at}: sparse vs {type(b)}"
        assert a.format == b.format, f"{at}: format {a.format} vs {b.format}"
        assert a.shape == b.shape, f"{at}: shape {a.shape} vs {b.shape}"
        assert a.dtype == b.dtype, f"{at}: dtype {a.dtype} vs {b.dtype}"
        if REPEATS:
            a, b = a.sorted_indices(), b.sorted_indices()
        # scipy's structure itself: entry order within rows, explicit zeros.
        np.testing.assert_array_equal(a.indptr, b.indptr, err_msg=f"{at}/indptr")
        np.testing.assert_array_equal(a.indices, b.indices, err_msg=f"{at}/indices")
        np.testing.assert_array_equal(a.data, b.data, err_msg=f"{at}/data")
    elif isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), f"{at}: frame vs {type(b)}"
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=at)
    elif isinstance(a, dict):
        assert isinstance(b, dict), f"{at}: dict vs {type(b)}"
        assert sorted(a) == sorted(b), f"{at}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            same(a[k], b[k], f"{at}/{k}")
    elif isinstance(a, np.ndarray):
        b = np.asarray(b)
        assert a.shape == b.shape, f"{at}: shape {a.shape} vs {b.shape}"
        assert a.dtype == b.dtype, f"{at}: dtype {a.dtype} vs {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=at)
    else:
        assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b)), \
            f"{at}: {type(a)} vs {type(b)}"
        assert a == b, f"{at}: {a!r} vs {b!r}"


def encodings(path):
    """Every object's path, kind and encoding-type."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            kind = "group" if isinstance(obj, h5py.Group) else "dataset"
            out[name] = (kind, obj.attrs.get("encoding-type"))
        f.visititems(visit)
    return out


def main():
    global REPEATS
    src, out, obs_text, var_text = sys.argv[1:5]
    for t in (obs_text, var_text):
        if t not in ("all", ""):
            v = t.split(",")
            REPEATS |= len(set(v)) != len(v)
    # What anndata writes for adata[obs, var].copy(), read back.
    # Nullable string columns are written as anndata 0.11+ writes them.
    anndata.settings.allow_write_nullable_strings = True
    tmp = tempfile.TemporaryDirectory()
    ref = f"{tmp.name}/ref.h5ad"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view = anndata.read_h5ad(src)[sel(obs_text), sel(var_text)]
        view.copy().write_h5ad(ref)
        want = anndata.read_h5ad(ref)
    # Our file must read without any warning (but the one repeated
    # selections earn).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".* names are not unique")
        got = anndata.read_h5ad(out)
    assert want.shape == got.shape, f"shape {want.shape} vs {got.shape}"
    same(want.obs, got.obs, "obs")
    same(want.var, got.var, "var")
    if want.X is None:
        assert got.X is None
    else:
        same(want.X, got.X, "X")
    for m in ["layers", "obsm", "varm", "obsp", "varp"]:
        same(dict(getattr(want, m)), dict(getattr(got, m)), m)
    same(dict(want.uns), dict(got.uns), "uns")
    if want.raw is None:
        assert got.raw is None, "raw: expected none"
    else:
        assert got.raw is not None, "raw: missing"
        same(want.raw.X, got.raw.X, "raw/X")
        same(want.raw.var, got.raw.var, "raw/var")
        same(dict(want.raw.varm), dict(got.raw.varm), "raw/varm")
    # The encoding on disk: what anndata writes for the same object.
    a, b = encodings(ref), encodings(out)
    assert sorted(a) == sorted(b), f"objects: {sorted(set(a) ^ set(b))}"
    for k in a:
        assert a[k] == b[k], f"{k}: {a[k]} vs {b[k]}"
    print("EQUAL")


main()
