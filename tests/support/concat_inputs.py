"""Inputs for tests/concat.rs, derived from the fixtures with anndata:
overlapping but different var sets, different obs columns, categoricals
with different categories, CSR/CSC/dense X of different dtypes, layers
present in some inputs only, obsm arrays of different widths, raw.

usage: concat_inputs.py FIXTURES_DIR OUT_DIR
"""
import os
import sys
import warnings

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.simplefilter("ignore")
anndata.settings.allow_write_nullable_strings = True
fixtures, out = sys.argv[1:]
small = anndata.read_h5ad(os.path.join(fixtures, "anndata.h5ad"))
full = anndata.read_h5ad(os.path.join(fixtures, "anndata_full.h5ad"))


def write(adata, name):
    adata.write_h5ad(os.path.join(out, name))


# a: cells 0-11, genes 0-8, CSR float32 with a stored zero, a layer.
a = small[:12, :9].copy()
a.X = a.X.tocsr()
a.X.data[0] = 0.0
write(a, "a.h5ad")

# b: cells 8-19 (repeated names with a), genes 3-11 in another order, CSR
# float64; no `quality`, a string column, cell_type with other categories,
# obsm X_pca narrower, an extra layer.
b = small[8:, [11, 4, 3, 10, 5, 9, 6, 8, 7]].copy()
b.X = sp.csr_matrix(b.X.astype(np.float64))
del b.obs["quality"]
b.obs["tissue"] = np.where(np.arange(b.n_obs) % 3 == 0, "lung", "liver")
b.obs["cell_type"] = pd.Categorical(
    [f"{c}{i % 2}" if i % 4 == 0 else c for i, c in enumerate(b.obs["cell_type"])]
)
b.obsm["X_pca"] = b.obsm["X_pca"][:, :2]
b.layers["extra"] = sp.csr_matrix(np.ones(b.shape, dtype=np.int64))
write(b, "b.h5ad")

# c: CSC int32 X over genes 1, 10, 2 and two genes of its own; n_genes
# int16; an ordered categorical.
c = anndata.AnnData(
    X=sp.csc_matrix(np.arange(6 * 5, dtype=np.int32).reshape(6, 5) % 4),
    obs=pd.DataFrame(
        {
            "n_genes": np.arange(6, dtype=np.int16) * 7,
            "stage": pd.Categorical(["early", "late"] * 3, categories=["early", "late"], ordered=True),
        },
        index=[f"c_{i}" for i in range(6)],
    ),
    var=pd.DataFrame(index=["gene_01", "gene_10", "gene_02", "gene_x2", "gene_x10"]),
    layers={"counts": sp.csr_matrix(np.ones((6, 5), dtype=np.float32))},
)
c.obsm["X_pca"] = np.ones((6, 4), dtype=np.float32)
write(c, "c.h5ad")

# full_a / full_b: every obs encoding (nullable, boolean, string, object),
# dense X, CSR and CSC layers, an obsm dataframe and sparse array, raw.
full_a = full[:14, :10].copy()
write(full_a, "full_a.h5ad")
full_b = full[14:, 2:].copy()
for col in ("is_doublet", "score", "passed_qc", "barcode"):
    del full_b.obs[col]
full_b.obsm["meta"] = full_b.obsm["meta"][["label"]]
write(full_b, "full_b.h5ad")

# a_plain / b_plain: a and b without dense arrays (concat_on_disk stacks
# those through dask, which the oracle environment does not have).
for adata, name in ((a, "a_plain.h5ad"), (b, "b_plain.h5ad")):
    plain = adata.copy()
    plain.obsm.clear()
    write(plain, name)

# gappy: a CSR X whose data/indices chunks do not follow each other in the
# file (chunks 0-4 written in order, the rest in reverse), so concat's
# blocks borrowed from the map must end where a run of chunks does.
rng = np.random.default_rng(5)
gx = sp.random(300, 9, density=0.4, format="csr", dtype=np.float32, random_state=rng)
gx.data[:] = np.round(gx.data * 100)
gappy = anndata.AnnData(
    X=gx,
    obs=pd.DataFrame(index=[f"g{i}" for i in range(300)]),
    var=pd.DataFrame(index=[f"gene_{j:02}" for j in range(9)]),
)
write(gappy, "gappy.h5ad")
import h5py  # noqa: E402

with h5py.File(os.path.join(out, "gappy.h5ad"), "r+") as f:
    for name in ("data", "indices"):
        values = f["X"][name][...]
        del f["X"][name]
        d = f["X"].create_dataset(name, shape=values.shape, dtype=values.dtype, chunks=(7,),
                                  maxshape=(None,))
        n = -(-len(values) // 7)
        for i in list(range(5)) + list(reversed(range(5, n))):
            d[i * 7:(i + 1) * 7] = values[i * 7:(i + 1) * 7]
