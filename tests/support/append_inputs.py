"""Inputs for tests/append_obs.rs, written by anndata 0.12: targets and the
sources whose cells are appended to them, and sources that must be refused.

rich_t / rich_s / rich_s2: every element append grows (sparse CSR X, CSR and
dense layers, obsm arrays 1-D and 2-D, sparse and dataframe, CSR and dense
obsp, raw) and every obs encoding (categoricals ordered and not, with new
categories in the sources; nullable integer, boolean and string; bools,
float32, int64, unique strings). rich_s brings categories the target lacks,
a column stored as strings where the target's is categorical and the
reverse, and other value types that convert without loss (int32 counts into
int64, an int8 X into float32); rich_s2, appended after it, widens a float32
column to float64 and brings enough categories to widen int8 codes to int16.
rich_s_mixed: every matrix stored the other way round from the target's.
rich_t_latest: rich_t in HDF5's latest format. narrow_t / narrow_s: an int8
indptr that the appended entries overflow. csc_t / csc_s: a CSC obsp. full_t / full_s: fixtures/anndata_full.h5ad split
(without its CSC layer, which append refuses), dense X.
fx_anndata_t: fixtures/anndata.h5ad's first 12 cells; fx_gzip_s: the last 8
of fixtures/anndata_gzip.h5ad. legacy06_s / legacy07_s: the anndata <= 0.7
fixtures with their cells renamed (sources in the old encodings).
bad_*: sources that rich_t must refuse; full_s_csc: full's last cells with
its CSC layer, for fixtures/anndata_full.h5ad as the target.

usage: append_inputs.py FIXTURES_DIR OUT_DIR
"""
import os
import shutil
import sys
import warnings

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.simplefilter("ignore")
anndata.settings.allow_write_nullable_strings = True
fixtures, out = sys.argv[1:]
n_vars = 15


def path(name):
    return os.path.join(out, name)


def sparse(rng, shape, density, fmt, dtype):
    m = sp.random(*shape, density=density, format=fmt, random_state=rng, dtype=np.float64)
    m.data = np.ceil(m.data * 50)
    return m.astype(dtype)


def rich(n, prefix, seed, kinds, levels, tissue, label_categorical, x_dtype=np.float32):
    """A rich AnnData of `n` cells named `prefix{i}`."""
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame(index=pd.Index([f"{prefix}{i}" for i in range(n)], name="cell_id"))
    obs["kind"] = pd.Categorical(rng.choice(kinds[0], n), categories=kinds[1])
    obs["level"] = pd.Categorical(rng.choice(levels, n), categories=["low", "mid", "high"],
                                  ordered=True)
    obs["count"] = rng.integers(0, 1000, n)
    obs["score"] = rng.random(n).astype(np.float32)
    obs["flag"] = rng.random(n) > 0.5
    maybe_int = pd.array(rng.integers(0, 50, n), dtype="Int32")
    maybe_int[::7] = pd.NA
    obs["maybe_int"] = maybe_int
    maybe_bool = pd.array(rng.random(n) > 0.5, dtype="boolean")
    maybe_bool[1::5] = pd.NA
    obs["maybe_bool"] = maybe_bool
    note = pd.array([f"{prefix}-note-{i}" for i in range(n)], dtype="string")
    note[2::6] = pd.NA
    obs["note"] = note
    if tissue == "categorical":
        obs["tissue"] = pd.Categorical(rng.choice(["lung", "liver", "gut"], n))
    else:  # unique values: written as a string array
        obs["tissue"] = [f"organ{i}" for i in range(n)]
    if label_categorical:  # repeated values: a categorical
        obs["label"] = pd.Categorical([f"lab{i % 3}" for i in range(n)])
    else:
        obs["label"] = [f"{prefix}-label-{i}" for i in range(n)]
    var = pd.DataFrame(
        {"gene_ids": [f"ENSG{i:03d}" for i in range(n_vars)], "hv": np.arange(n_vars) % 2 == 0},
        index=[f"gene{i}" for i in range(n_vars)],
    )
    meta = pd.DataFrame(
        {"x": rng.random(n),
         "group": pd.Categorical(rng.choice(["p", "q"] if seed == 1 else ["q", "r"], n))},
        index=obs.index,
    )
    a = anndata.AnnData(
        X=sparse(rng, (n, n_vars), 0.3, "csr", x_dtype),
        obs=obs,
        var=var,
        uns={"note": "rich", "params": {"k": 3}},
        obsm={
            "X_pca": rng.random((n, 5)),
            "ids": np.arange(n, dtype=np.int32) + 1000 * seed,
            "X_sparse": sparse(rng, (n, 7), 0.3, "csr", np.float64),
            "meta": meta,
        },
        varm={"PCs": rng.random((n_vars, 3))},
        layers={
            "counts": sparse(rng, (n, n_vars), 0.3, "csr", np.int64),
            "dense": rng.random((n, n_vars)),
        },
        obsp={
            "distances": sparse(rng, (n, n), 0.2, "csr", np.float32),
            "dense_p": rng.random((n, n)),
        },
        varp={"corr": rng.random((n_vars, n_vars))},
    )
    raw_var = pd.DataFrame({"n_cells": np.arange(n_vars + 3)},
                           index=[f"rawgene{i}" for i in range(n_vars + 3)])
    a.raw = anndata.AnnData(X=sparse(rng, (n, n_vars + 3), 0.3, "csr", np.float32), var=raw_var)
    return a


def write(a, name, **kw):
    a.write_h5ad(path(name), convert_strings_to_categoricals=False, **kw)


# The target: categories include one no cell uses.
t = rich(40, "t", 1, (["a", "b", "c"], ["c", "b", "a", "unused"]), ["low", "mid", "high"],
         "categorical", False)
write(t, "rich_t.h5ad")

# The first source: new categories (e, d) in its own order, tissue stored as
# strings, label as a categorical, counts int32, X int8.
s = rich(20, "s", 2, (["a", "d", "e"], ["e", "a", "d"]), ["low", "high"], "strings", True,
         x_dtype=np.int8)
s.layers["counts"] = s.layers["counts"].astype(np.int32)
s.obs["count"] = s.obs["count"].astype(np.int32)
s.obsm["X_pca"] = s.obsm["X_pca"].astype(np.float32)
write(s, "rich_s.h5ad")

# The second source: score float64 (the column widens), 130 new kinds (the
# codes widen to int16).
kinds = [f"k{i}" for i in range(130)]
s2 = rich(30, "u", 3, (kinds, kinds), ["mid"], "categorical", False)
s2.obs["score"] = s2.obs["score"].astype(np.float64)
write(s2, "rich_s2.h5ad")


# Every matrix stored the other way round: X CSC, a dense layer into the
# sparse one and the reverse, dense obsp into the sparse one and the
# reverse, a dense obsm into the sparse one.
m = rich(16, "m", 5, (["a", "b"], ["a", "b"]), ["low"], "categorical", False)
m.X = sp.csc_matrix(m.X)
m.layers["counts"], m.layers["dense"] = m.layers["counts"].toarray(), sp.csr_matrix(
    m.layers["dense"])
m.obsp["distances"], m.obsp["dense_p"] = m.obsp["distances"].toarray(), sp.csr_matrix(
    m.obsp["dense_p"])
m.obsm["X_sparse"] = m.obsm["X_sparse"].toarray()
write(m, "rich_s_mixed.h5ad")

# The target in the latest format (superblock v3, link-message groups, dense
# link storage for obs's 11 members, extensible-array chunk indexes).
with h5py.File(path("rich_t_latest.h5ad"), "w", libver="latest") as f:
    anndata.io.write_elem(f, "/", t)


def bad(name, change):
    b = rich(10, "x", 4, (["a"], ["a"]), ["low"], "categorical", False)
    change(b)
    write(b, name)


bad("bad_no_column.h5ad", lambda b: b.obs.drop(columns=["count"], inplace=True))
bad("bad_no_layer.h5ad", lambda b: b.layers.pop("dense"))
bad("bad_no_obsm.h5ad", lambda b: b.obsm.pop("ids"))
bad("bad_no_obsp.h5ad", lambda b: b.obsp.pop("dense_p"))
bad("bad_no_meta_column.h5ad", lambda b: b.obsm["meta"].drop(columns=["x"], inplace=True))


def extra(b):
    b.obs["extra"] = np.arange(b.n_obs)
    b.layers["more"] = b.layers["counts"].copy()


bad("bad_extra.h5ad", extra)
bad("bad_no_raw.h5ad", lambda b: setattr(b, "raw", None))


def var_order(b):
    b._inplace_subset_var(list(range(n_vars))[::-1])


bad("bad_var_order.h5ad", var_order)


def x_f64(b):
    b.X = b.X.astype(np.float64)


bad("bad_x_float64.h5ad", x_f64)


def ordered_new(b):
    b.obs["level"] = pd.Categorical(["extreme"] * b.n_obs,
                                    categories=["low", "mid", "high", "extreme"], ordered=True)


bad("bad_ordered_new.h5ad", ordered_new)


def duplicate(b):
    b.obs_names = [f"t{i}" for i in range(b.n_obs)]


bad("bad_duplicate.h5ad", duplicate)


def pca_width(b):
    b.obsm["X_pca"] = b.obsm["X_pca"][:, :4]


bad("bad_pca_width.h5ad", pca_width)


def bool_score(b):
    b.obs["score"] = b.obs["score"] > 0.5


bad("bad_bool_score.h5ad", bool_score)

# Damage the cheap checks cannot see: a column index past var in X, found
# only while the rows stream (the transaction is then rolled back).
bad("bad_x_index.h5ad", lambda b: None)
with h5py.File(path("bad_x_index.h5ad"), "r+") as f:
    f["X/indices"][3] = 999

# X's indptr stored as int8 (anndata reads any integer type): the source's
# entries overflow it, so it widens to int64.
for name, n, prefix in (("narrow_t.h5ad", 10, "n"), ("narrow_s.h5ad", 30, "o")):
    a = anndata.AnnData(
        X=sparse(np.random.default_rng(n), (n, 4), 0.9, "csr", np.float32),
        obs=pd.DataFrame(index=[f"{prefix}{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{i}" for i in range(4)]),
    )
    write(a, name)
with h5py.File(path("narrow_t.h5ad"), "r+") as f:
    indptr = f["X/indptr"][...]
    assert indptr[-1] < 100
    del f["X/indptr"]
    f["X"].create_dataset("indptr", data=indptr.astype(np.int8), maxshape=(None,), chunks=(4,))

# A CSC obsp, grown by columns.
rng = np.random.default_rng(9)
for name, n, prefix in (("csc_t.h5ad", 12, "c"), ("csc_s.h5ad", 7, "d")):
    a = anndata.AnnData(
        X=sparse(rng, (n, 4), 0.5, "csr", np.float32),
        obs=pd.DataFrame(index=[f"{prefix}{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{i}" for i in range(4)]),
        obsp={"conn": sparse(rng, (n, n), 0.3, "csc", np.float64)},
    )
    write(a, name)

# anndata_full without its CSC layer, split; and its last cells with it.
full = anndata.read_h5ad(os.path.join(fixtures, "anndata_full.h5ad"))
for name, part in (("full_t.h5ad", full[:18]), ("full_s.h5ad", full[18:])):
    part = part.copy()
    del part.layers["spliced"]
    write(part, name)
last = full[25:].copy()
last.obs_names = [f"{n}-new" for n in last.obs_names]
last.obsm["meta"].index = last.obs_names
write(last, "full_s_csc.h5ad")

small = anndata.read_h5ad(os.path.join(fixtures, "anndata.h5ad"))
small[:12].copy().write_h5ad(path("fx_anndata_t.h5ad"))
gz = anndata.read_h5ad(os.path.join(fixtures, "anndata_gzip.h5ad"))
gz[12:].copy().write_h5ad(path("fx_gzip_s.h5ad"), compression="gzip")

# The legacy fixtures as sources: the same file with its cells renamed.
for fixture, name in (("anndata06_compound.h5ad", "legacy06_s.h5ad"),
                      ("anndata07_refs.h5ad", "legacy07_s.h5ad")):
    shutil.copy(os.path.join(fixtures, fixture), path(name))
    with h5py.File(path(name), "r+") as f:
        if isinstance(f["obs"], h5py.Dataset):
            rec = f["obs"][...]
            # A fixed-length field: renamed in place, same length.
            rec["index"] = [v.replace(b"cell", b"celn") for v in rec["index"]]
            f["obs"][...] = rec
        else:
            names = [v.decode() + "-new" for v in f["obs/_index"][...]]
            f["obs/_index"][...] = np.array(names, dtype=object)
