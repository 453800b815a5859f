"""Inputs for tests/reflink.rs, written by anndata: two files with the same
var (so concat copies their X chunks unchanged: int32 indices, float32
values), each with a few MB of X, enough for several blocks of chunks.

usage: reflink_inputs.py FIXTURES_DIR OUT_DIR
"""
import os
import sys
import warnings

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.simplefilter("ignore")
_, out = sys.argv[1:]
n_vars = 3000
var = pd.DataFrame(index=[f"gene_{j:04}" for j in range(n_vars)])
for name, seed, n_obs in (("big_a", 11, 4000), ("big_b", 12, 3000)):
    rng = np.random.default_rng(seed)
    x = sp.random(n_obs, n_vars, density=0.04, format="csr", dtype=np.float32, random_state=rng)
    x.data[:] = np.round(x.data * 1000) + 1
    adata = anndata.AnnData(
        X=x,
        obs=pd.DataFrame(index=[f"{name}_{i}" for i in range(n_obs)]),
        var=var.copy(),
    )
    adata.write_h5ad(os.path.join(out, f"{name}.h5ad"))
