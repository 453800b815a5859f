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

from oracle_common import read_without_warnings, same, written_and_read_back


def sel(text):
    if text == "all":
        return slice(None)
    if text == "":
        return np.array([], dtype=np.int64)
    return np.array([int(t) for t in text.split(",")], dtype=np.int64)


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
    src, out, obs_text, var_text = sys.argv[1:5]
    # A repeated selection makes scipy order the entries a repeated column
    # produces by numpy's argsort, which is not stable for long selections
    # (and depends on the CPU's sort kernel): entries equal in value and
    # column may come in another order, so such rows are compared sorted.
    repeats = False
    for t in (obs_text, var_text):
        if t not in ("all", ""):
            v = t.split(",")
            repeats |= len(set(v)) != len(v)
    # What anndata writes for adata[obs, var].copy(), read back.
    tmp = tempfile.TemporaryDirectory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view = anndata.read_h5ad(src)[sel(obs_text), sel(var_text)]
        want, ref = written_and_read_back(view.copy(), tmp.name)
    # Our file must read without any warning (but the one repeated
    # selections earn).
    got = read_without_warnings(out, ".* names are not unique")

    def check(a, b, at):
        same(a, b, at, sort=repeats)

    assert want.shape == got.shape, f"shape {want.shape} vs {got.shape}"
    check(got.obs, want.obs, "obs")
    check(got.var, want.var, "var")
    check(got.X, want.X, "X")
    for m in ["layers", "obsm", "varm", "obsp", "varp"]:
        check(dict(getattr(got, m)), dict(getattr(want, m)), m)
    check(dict(got.uns), dict(want.uns), "uns")
    if want.raw is None:
        assert got.raw is None, "raw: expected none"
    else:
        assert got.raw is not None, "raw: missing"
        check(got.raw.X, want.raw.X, "raw/X")
        check(got.raw.var, want.raw.var, "raw/var")
        check(dict(got.raw.varm), dict(want.raw.varm), "raw/varm")
    # The encoding on disk: what anndata writes for the same object.
    a, b = encodings(ref), encodings(out)
    assert sorted(a) == sorted(b), f"objects: {sorted(set(a) ^ set(b))}"
    for k in a:
        assert a[k] == b[k], f"{k}: {a[k]} vs {b[k]}"
    print("EQUAL")


main()
