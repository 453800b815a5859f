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

from oracle_common import read_without_warnings, same, written_and_read_back


def compare(got, exp, what, layers=True, obsm=True, raw=True, loose=False):
    # anndata's reindexing product leaves each row's entries in an
    # arbitrary order (h5sparse writes them ascending): sparse matrices
    # are compared sorted, explicit zeros included.
    def check(a, b, at):
        same(a, b, f"{what}: {at}", sort=True, loose=loose)

    assert got.shape == exp.shape, f"{what}: shape {got.shape} vs {exp.shape}"
    check(got.obs, exp.obs, "obs")
    check(got.var, exp.var, "var")
    check(got.X, exp.X, "X")
    if layers:
        check(got.layers, exp.layers, "layers")
    if obsm:
        check(got.obsm, exp.obsm, "obsm")
    for m in ("obsp", "varm", "varp"):
        assert len(getattr(got, m)) == 0, f"{what}: {m} should be empty"
    assert len(got.uns) == 0, f"{what}: uns should be empty"
    if raw:
        assert (got.raw is None) == (exp.raw is None), f"{what}: raw {got.raw} vs {exp.raw}"
        if exp.raw is not None:
            check(got.raw.X, exp.raw.X, "raw/X")
            check(got.raw.var, exp.raw.var, "raw/var")


def main():
    out, join, label, keys, index_unique, on_disk, *ins = sys.argv[1:]
    kw = dict(
        join=join,
        label=label or None,
        keys=keys.split(",") if keys else None,
        index_unique=index_unique or None,
    )
    # Stacking inputs that share obs names repeats them, in anndata too.
    got = read_without_warnings(out, "Observation names are not unique")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = anndata.concat([anndata.read_h5ad(p) for p in ins], **kw)
    with tempfile.TemporaryDirectory() as d:
        exp, _ = written_and_read_back(exp, d)
    compare(got, exp, "anndata.concat")
    if on_disk == "1":
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "on_disk.h5ad")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                anndata.experimental.concat_on_disk(ins, path, **kw)
                disk = anndata.read_h5ad(path)
            # concat_on_disk keeps layers and obsm every input has, and no
            # raw; it appends every input to a dataset of the first input's
            # dtype, where anndata.concat promotes: values are compared,
            # not dtypes.
            compare(got, disk, "concat_on_disk", layers=join == "inner",
                    obsm=join == "inner", raw=False, loose=True)
    print("EQUAL")


main()
