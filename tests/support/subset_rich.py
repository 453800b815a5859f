"""Writes .h5ad files with every element subset touches, by anndata 0.12,
for tests/subset.rs: OUT_DIR/rich_csr.h5ad (sparse CSR X, with raw) and
OUT_DIR/rich_dense.h5ad (dense X, CSC layer, no raw).

usage: subset_rich.py OUT_DIR
"""
import sys
import warnings

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.simplefilter("ignore")
out = sys.argv[1]
rng = np.random.default_rng(12)
n_obs, n_vars = 40, 15


def frame(n, prefix):
    df = pd.DataFrame(index=[f"{prefix}{i}" for i in range(n)])
    df["kind"] = pd.Categorical(
        rng.choice(["a", "b", "c", "d"], n), categories=["d", "c", "b", "a", "unused"]
    )
    df["level"] = pd.Categorical(
        rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"], ordered=True
    )
    df["count"] = rng.integers(0, 1000, n)
    df["score"] = rng.random(n).astype(np.float32)
    df["flag"] = rng.random(n) > 0.5
    df["maybe_int"] = pd.array(
        [None if i % 7 == 0 else int(i) for i in range(n)], dtype="Int64"
    )
    df["maybe_bool"] = pd.array(
        [None if i % 5 == 0 else bool(i % 2) for i in range(n)], dtype="boolean"
    )
    df["label"] = [f"{prefix}-label-{i}" for i in range(n)]  # unique strings
    return df


def sparse(shape, density, fmt, dtype=np.float32):
    m = sp.random(*shape, density=density, format=fmt, random_state=rng, dtype=dtype)
    m.data = np.round(m.data * 100).astype(dtype)
    return m


obs, var = frame(n_obs, "cell"), frame(n_vars, "gene")
obs.index.name = "cell_id"
uns = {
    "kind_colors": np.array(["#d", "#c", "#b", "#a", "#u"], dtype=object),
    "level_colors": np.array(["#1", "#2"], dtype=object),  # wrong length: dropped
    "params": {"n_pcs": 5, "method": "pca", "nested": {"values": np.arange(4)}},
    "note": "rich",
}
obsm_df = pd.DataFrame(
    {"x": rng.random(n_obs), "group": pd.Categorical(rng.choice(["p", "q"], n_obs))},
    index=obs.index,
)

a = anndata.AnnData(
    X=sparse((n_obs, n_vars), 0.3, "csr"),
    obs=obs,
    var=var,
    uns=uns,
    obsm={
        "X_pca": rng.random((n_obs, 5)),
        "X_sparse": sparse((n_obs, 7), 0.3, "csr", np.float64),
        "meta": obsm_df,
        "ids": np.arange(n_obs, dtype=np.int32),
    },
    varm={"PCs": rng.random((n_vars, 5)).astype(np.float32)},
    layers={
        "counts": sparse((n_obs, n_vars), 0.3, "csr", np.int64),
        "dense": rng.random((n_obs, n_vars)),
    },
    obsp={"distances": sparse((n_obs, n_obs), 0.2, "csr"), "dense_p": rng.random((n_obs, n_obs))},
    varp={"corr": rng.random((n_vars, n_vars)), "sparse_p": sparse((n_vars, n_vars), 0.3, "csc")},
)
raw_var = pd.DataFrame(
    {"n_cells": rng.integers(0, 50, n_vars + 3)},
    index=[f"rawgene{i}" for i in range(n_vars + 3)],
)
raw = anndata.AnnData(
    X=sparse((n_obs, n_vars + 3), 0.3, "csr"),
    var=raw_var,
    varm={"loadings": rng.random((n_vars + 3, 2))},
)
a.raw = raw
a.write_h5ad(f"{out}/rich_csr.h5ad")

b = anndata.AnnData(
    X=rng.random((n_obs, n_vars)).astype(np.float32),
    obs=obs,
    var=var,
    uns={"kind_colors": "#only"},  # 0-d: becomes 1-d
    layers={"csc": sparse((n_obs, n_vars), 0.3, "csc")},
    obsm={"X_umap": rng.random((n_obs, 2))},
)
b.write_h5ad(f"{out}/rich_dense.h5ad")
