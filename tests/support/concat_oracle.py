"""Oracle for tests/concat.rs: anndata.concat of the inputs (read with
anndata.read_h5ad) against the file h5sparse wrote, element by element;
with --on-disk, also anndata.experimental.concat_on_disk's file.

usage: concat_oracle.py OUT JOIN LABEL KEYS INDEX_UNIQUE ON_DISK IN...
LABEL, KEYS (comma-separated), INDEX_UNIQUE: "" for None. ON_DISK: 0 or 1.
Prints "EQUAL" or fails.
"""
import os
import sys
import tempfile
import warnings

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp


# concat_on_disk appends every input to a dataset of the first input's
# dtype, where anndata.concat promotes: values are compared, not dtypes.
LOOSE = False


def same(a, b, at):
    """`a` (h5sparse's, as read) equals `b` (anndata's)."""
    if sp.issparse(b):
        assert sp.issparse(a), f"{at}: {type(a)} vs sparse"
        assert a.format == b.format, f"{at}: format {a.format} vs {b.format}"
        assert a.shape == b.shape, f"{at}: shape {a.shape} vs {b.shape}"
        if LOOSE:
            b = b.astype(a.dtype)
        assert a.dtype == b.dtype, f"{at}: dtype {a.dtype} vs {b.dtype}"
        # anndata's reindexing product leaves each row's entries in an
        # arbitrary order (h5sparse writes them ascending): compare sorted,
        # explicit zeros included.
        a, b = a.sorted_indices(), b.sorted_indices()
        np.testing.assert_array_equal(a.indptr, b.indptr, err_msg=f"{at}/indptr")
        np.testing.assert_array_equal(a.indices, b.indices, err_msg=f"{at}/indices")
        np.testing.assert_array_equal(a.data, b.data, err_msg=f"{at}/data")
    elif isinstance(b, pd.DataFrame):
        assert isinstance(a, pd.DataFrame), f"{at}: {type(a)} vs frame"
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=at)
    elif isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray), f"{at}: {type(a)} vs ndarray"
        assert a.shape == b.shape, f"{at}: shape {a.shape} vs {b.shape}"
        assert a.dtype == b.dtype, f"{at}: dtype {a.dtype} vs {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=at)
    elif b is None:
        assert a is None, f"{at}: {type(a)} vs None"
    else:
        raise AssertionError(f"{at}: cannot compare {type(b)}")


def mapping(a, b, at):
    assert sorted(a.keys()) == sorted(b.keys()), f"{at}: keys {sorted(a.keys())} vs {sorted(b.keys())}"
    for k in b.keys():
        same(a[k], b[k], f"{at}/{k}")


def compare(got, exp, what, layers=True, obsm=True, raw=True):
    assert got.shape == exp.shape, f"{what}: shape {got.shape} vs {exp.shape}"
    same(got.obs, exp.obs, f"{what}: obs")
    same(got.var, exp.var, f"{what}: var")
    same(got.X, exp.X, f"{what}: X")
    if layers:
        mapping(got.layers, exp.layers, f"{what}: layers")
    if obsm:
        mapping(got.obsm, exp.obsm, f"{what}: obsm")
    for m in ("obsp", "varm", "varp"):
        assert len(getattr(got, m)) == 0, f"{what}: {m} should be empty"
    assert len(got.uns) == 0, f"{what}: uns should be empty"
    if raw:
        assert (got.raw is None) == (exp.raw is None), f"{what}: raw {got.raw} vs {exp.raw}"
        if exp.raw is not None:
            same(got.raw.X, exp.raw.X, f"{what}: raw/X")
            same(got.raw.var, exp.raw.var, f"{what}: raw/var")


def main():
    out, join, label, keys, index_unique, on_disk, *ins = sys.argv[1:]
    kw = dict(
        join=join,
        label=label or None,
        keys=keys.split(",") if keys else None,
        index_unique=index_unique or None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Stacking inputs that share obs names repeats them, in anndata too.
        warnings.filterwarnings("ignore", message="Observation names are not unique")
        got = anndata.read_h5ad(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = anndata.concat([anndata.read_h5ad(p) for p in ins], **kw)
        # What anndata writes for it (write_h5ad turns repeated strings
        # into categoricals), as anndata reads it back.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "expected.h5ad")
            anndata.settings.allow_write_nullable_strings = True
            exp.write_h5ad(path)
            exp = anndata.read_h5ad(path)
    compare(got, exp, "anndata.concat")
    if on_disk == "1":
        global LOOSE
        LOOSE = True
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "on_disk.h5ad")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                anndata.experimental.concat_on_disk(ins, path, **kw)
                disk = anndata.read_h5ad(path)
            # concat_on_disk keeps layers and obsm every input has, and no raw.
            compare(got, disk, "concat_on_disk", layers=join == "inner",
                    obsm=join == "inner", raw=False)
    print("EQUAL")


main()
