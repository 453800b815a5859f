"""anndata's reading of crash images: the oracle of tests/transactions.rs.

    crash_oracle.py DIR

DIR holds the reference states `state_NN.h5ad` (the file before the first
transaction, after each one) and crash images `crash_NNNN.h5`, each with
`crash_NNNN.h5.states.json`: the two states it may show (before and after
the interrupted transaction). An image passes when anndata reads it exactly
as it reads one of the two: X through `sparse_dataset(...).to_memory()`, and
the whole file through `read_h5ad` (or the same kind of failure, when X's
rows were appended without obs, which anndata refuses). Prints one line per
failure and exits 1 if any.
"""
import json
import os
import sys
import warnings

import anndata as ad
import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_common import same  # noqa: E402

ELEMENTS = ["X", "obs", "var", "layers", "obsm", "varm", "obsp", "varp", "uns"]


def reading(path):
    with h5py.File(path, "r") as f:
        x = ad.io.sparse_dataset(f["X"]).to_memory()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adata = ad.read_h5ad(path)
        return x, adata, None
    except Exception as e:  # noqa: BLE001 - the kind of failure is compared
        return x, None, type(e).__name__


def equal(got, want):
    """None when the readings agree, else what differs."""
    try:
        same(got[0], want[0], "sparse_dataset(X)")
        if got[2] != want[2]:
            return f"read_h5ad: {got[2] or 'ok'} vs {want[2] or 'ok'}"
        if want[1] is not None:
            for k in ELEMENTS:
                same(getattr(got[1], k), getattr(want[1], k), k)
            assert got[1].obs_names.equals(want[1].obs_names), "obs_names"
            assert got[1].var_names.equals(want[1].var_names), "var_names"
    except AssertionError as e:
        return str(e).splitlines()[0]
    return None


def main(root):
    states = {}
    failures = 0
    images = sorted(f for f in os.listdir(root) if f.startswith("crash_") and f.endswith(".h5"))
    for name in images:
        path = os.path.join(root, name)
        with open(path + ".states.json") as f:
            candidates = json.load(f)
        try:
            got = reading(path)
        except Exception as e:  # noqa: BLE001 - any failure to read X is a finding
            print(f"{name}: anndata could not read X: {type(e).__name__}: {e}")
            failures += 1
            continue
        diffs = []
        for i in candidates:
            if i not in states:
                states[i] = reading(os.path.join(root, f"state_{i:02}.h5ad"))
            diffs.append(equal(got, states[i]))
        if all(d is not None for d in diffs):
            print(f"{name}: anndata reads neither state {candidates}: {diffs}")
            failures += 1
    print(f"crash_oracle: {len(images) - failures} of {len(images)} images read as a whole state")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
