"""Generates the benchmark files of issue 6 into a cache directory.

Run through ``bench/gen-data`` (which sets up the project venv first). The cache
directory is ``bench/.cache/`` unless ``H5SPARSE_BENCH_CACHE`` names another.

Files (each skipped when it exists with a ``.params.json`` sidecar that matches):

- ``medium.npz``: the CSR matrix itself (50,000 x 20,000 float32, 500-1500
  stored values per row, sorted int32 indices), the source of the others.
- ``medium_anndata.h5ad`` / ``medium_anndata_gzip.h5ad``: anndata ``write_h5ad``,
  uncompressed and ``compression='gzip'`` (level 4).
- ``medium_h5sparse.h5``: the h5sparse convention written with h5py (group
  ``/X`` with ``data``/``indices``/``indptr`` chunked, ``maxshape=(None,)``, and
  the ``h5sparse_format``/``h5sparse_shape`` attributes).
- ``ones.h5``: the seed's 10000 x 10000 matrix of ones, float64, uncompressed,
  stored the way ``h5sparse tour`` stores it (``sparse::write_matrix`` with
  default options: growable datasets with h5py's automatic chunks, int32
  indices/indptr, h5sparse and anndata attributes).
- ``selections.json``: the selections every system reads (fixed seed), so that
  all systems do identical work.
"""

import hashlib
import importlib.metadata
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

SEED = 20240606
N_ROWS, N_COLS = 50_000, 20_000
ONES_N = 10_000
# Bumped whenever the contents a file gets would change.
GEN_VERSION = 1


def cache_dir() -> Path:
    d = os.environ.get("H5SPARSE_BENCH_CACHE")
    p = Path(d) if d else Path(__file__).resolve().parent / ".cache"
    p.mkdir(parents=True, exist_ok=True)
    return p


def log(msg: str) -> None:
    print(f"gen-data: {msg}", file=sys.stderr, flush=True)


def params_ok(path: Path, params: dict) -> bool:
    side = path.with_name(path.name + ".params.json")
    if not path.exists() or not side.exists():
        return False
    try:
        return json.loads(side.read_text()) == params
    except ValueError:
        return False


def finish(tmp: Path, path: Path, params: dict) -> None:
    """Publishes a finished file and its parameters (the sidecar last)."""
    os.replace(tmp, path)
    side = path.with_name(path.name + ".params.json")
    side.write_text(json.dumps(params, sort_keys=True))


def medium_params() -> dict:
    return {
        "gen": GEN_VERSION,
        "seed": SEED,
        "shape": [N_ROWS, N_COLS],
        "per_row": [500, 1500],
        "dtype": "float32",
    }


def make_medium() -> sp.csr_matrix:
    """Row r keeps each column with probability p_r, p_r uniform in
    [0.0275, 0.0725]: about 550 to 1450 stored values per row (the few rows
    outside 500..1500 redrawn), sorted, drawn in batches of 1000 rows."""
    rng = np.random.default_rng(SEED)
    p = rng.uniform(0.0275, 0.0725, size=N_ROWS).astype(np.float32)
    indptr = np.zeros(N_ROWS + 1, dtype=np.int64)
    idx_parts = []
    batch = 1000
    for r0 in range(0, N_ROWS, batch):
        keys = rng.random((batch, N_COLS), dtype=np.float32)
        hit = keys < p[r0 : r0 + batch, None]
        counts = hit.sum(axis=1)
        # The rare row whose draw falls outside 500..1500 is redrawn exactly.
        for k in np.flatnonzero((counts < 500) | (counts > 1500)):
            want = int(rng.integers(500, 1501))
            hit[k] = False
            hit[k, rng.choice(N_COLS, size=want, replace=False)] = True
            counts[k] = want
        rows, cols = np.nonzero(hit)  # row-major: columns sorted within each row
        idx_parts.append(cols.astype(np.int32))
        indptr[r0 + 1 : r0 + batch + 1] = indptr[r0] + np.cumsum(counts)
    indices = np.concatenate(idx_parts)
    data = (rng.random(indices.size, dtype=np.float32) + np.float32(0.5)).astype(np.float32)
    assert indptr[-1] < 2**31
    return sp.csr_matrix((data, indices, indptr.astype(np.int32)), shape=(N_ROWS, N_COLS))


def load_or_make_medium(d: Path) -> sp.csr_matrix:
    path = d / "medium.npz"
    params = medium_params()
    if params_ok(path, params):
        log(f"{path.name}: up to date")
        with np.load(path) as z:
            return sp.csr_matrix(
                (z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"])
            )
    t = time.time()
    m = make_medium()
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, data=m.data, indices=m.indices, indptr=m.indptr, shape=np.array(m.shape))
    finish(tmp, path, params)
    log(f"{path.name}: {m.shape}, {m.nnz} stored values ({time.time() - t:.1f} s)")
    return m


def write_anndata(d: Path, m: sp.csr_matrix, gzip: bool) -> None:
    import anndata

    name = "medium_anndata_gzip.h5ad" if gzip else "medium_anndata.h5ad"
    path = d / name
    params = dict(medium_params(), writer="anndata.write_h5ad", compression="gzip" if gzip else None,
                  anndata=importlib.metadata.version("anndata"))
    if params_ok(path, params):
        log(f"{name}: up to date")
        return
    t = time.time()
    tmp = path.with_name(path.name + ".tmp")
    ad = anndata.AnnData(X=m)
    ad.write_h5ad(tmp, compression="gzip" if gzip else None)
    finish(tmp, path, params)
    log(f"{name}: written ({time.time() - t:.1f} s)")


def write_h5sparse_group(g, m: sp.csr_matrix, anndata_attrs: bool) -> None:
    """data/indices/indptr chunked (h5py's automatic chunks), growable."""
    for key in ("data", "indices", "indptr"):
        arr = getattr(m, key)
        g.create_dataset(key, data=arr, maxshape=(None,), chunks=True)
    g.attrs["h5sparse_format"] = "csr"
    g.attrs["h5sparse_shape"] = np.array(m.shape, dtype=np.int64)
    if anndata_attrs:
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array(m.shape, dtype=np.int64)


def write_h5sparse(d: Path, m: sp.csr_matrix) -> None:
    import h5py

    path = d / "medium_h5sparse.h5"
    params = dict(medium_params(), writer="h5py", convention="h5sparse", h5py=h5py.__version__)
    if params_ok(path, params):
        log(f"{path.name}: up to date")
        return
    t = time.time()
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        write_h5sparse_group(f.create_group("X"), m, anndata_attrs=False)
    finish(tmp, path, params)
    log(f"{path.name}: written ({time.time() - t:.1f} s)")


def write_ones(d: Path) -> None:
    import h5py

    path = d / "ones.h5"
    params = {"gen": GEN_VERSION, "n": ONES_N, "dtype": "float64", "writer": "h5py",
              "h5py": h5py.__version__}
    if params_ok(path, params):
        log(f"{path.name}: up to date")
        return
    t = time.time()
    n = ONES_N
    m = sp.csr_matrix(
        (
            np.ones(n * n, dtype=np.float64),
            np.tile(np.arange(n, dtype=np.int32), n),
            np.arange(0, n * n + 1, n, dtype=np.int32),
        ),
        shape=(n, n),
    )
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        # Like `h5sparse tour`: both attribute sets, so anndata reads it too.
        write_h5sparse_group(f.create_group("X"), m, anndata_attrs=True)
    del m
    finish(tmp, path, params)
    log(f"{path.name}: written ({time.time() - t:.1f} s)")


def write_selections(d: Path, m: sp.csr_matrix) -> None:
    path = d / "selections.json"
    params = dict(medium_params(), what="selections", sel_version=1)
    if params_ok(path, params):
        log(f"{path.name}: up to date")
        return
    rng = np.random.default_rng(SEED + 1)
    n, c = m.shape
    block = 1000
    starts = sorted(int(s) for s in rng.integers(0, n - block + 1, size=20))
    rows = np.sort(rng.choice(n, size=2000, replace=False))
    mask_rows = np.flatnonzero(rng.random(n) < 0.10)
    # 1000 single elements: half on stored entries, half anywhere.
    pts = []
    stored_rows = rng.integers(0, n, size=500)
    for r in stored_rows:
        lo, hi = m.indptr[r], m.indptr[r + 1]
        k = int(rng.integers(lo, hi))
        pts.append([int(r), int(m.indices[k])])
    for r, col in zip(rng.integers(0, n, size=500), rng.integers(0, c, size=500)):
        pts.append([int(r), int(col)])
    order = rng.permutation(len(pts))
    pts = [pts[i] for i in order]
    sel = {
        "medium": {
            "shape": [n, c],
            "op1_block_starts": starts,
            "op1_block_len": block,
            "op2_rows": [int(r) for r in rows],
            "op3_mask_rows": [int(r) for r in mask_rows],
            "op4_cols": [100, 200],
            "op5_points": pts,
            "op8_append_rows": [0, 5000],
        },
        "ones": {"op9_slice": [1, 5], "op9_rows": [1, 5, 10, 13]},
    }
    blob = json.dumps(sel, sort_keys=True)
    sel["sha256"] = hashlib.sha256(blob.encode()).hexdigest()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(sel))
    finish(tmp, path, params)
    log(f"{path.name}: written ({len(mask_rows)} mask rows)")


def main() -> None:
    d = cache_dir()
    log(f"cache {d}")
    m = load_or_make_medium(d)
    write_selections(d, m)
    write_h5sparse(d, m)
    write_anndata(d, m, gzip=False)
    write_anndata(d, m, gzip=True)
    del m
    write_ones(d)


if __name__ == "__main__":
    main()
