"""The node test's oracle: what h5py, scipy and anndata read from fixtures.

Usage: oracle.py FIXTURE... > oracle.json

For each file: the object tree (h5py's visititems, each object once), every
sparse matrix group (any convention) with the dense result of a few row and
column selections (scipy), and for .h5ad files anndata's repr, obs/var names
and columns. Selections are JSON: null (all), {"slice": [start, stop, step]}
(null bounds as in Python), a list of ints, or a list of booleans.
"""

import json
import sys
import warnings

import h5py
import numpy as np
import scipy.sparse as sp

warnings.simplefilter("ignore")

SELECTIONS = [
    (None, None),
    ({"slice": [0, 3, None]}, None),
    ({"slice": [None, None, -2]}, {"slice": [1, None, None]}),
    ([-1, 0, 0], [1, 0]),
    ("mask", {"slice": [None, None, -1]}),
]


def finite(values):
    """Non-finite floats as the strings JavaScript's String() gives (JSON has no NaN)."""
    def one(v):
        if isinstance(v, float) and not np.isfinite(v):
            return "NaN" if np.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
        return v
    return [one(v) for v in values]


def to_index(sel, n):
    if sel is None:
        return slice(None)
    if isinstance(sel, dict):
        return slice(*sel["slice"])
    if sel and isinstance(sel[0], bool):
        return np.array(sel, dtype=bool)
    return np.array(sel, dtype=np.int64)


def kind_dtype(obj):
    try:
        dtype = obj.dtype
    except TypeError:  # a type numpy has no equivalent for (time, ...)
        return None
    if dtype.kind in "iuf":
        return dtype.str
    if dtype.kind == "b":
        return "|b1"
    return None


def sparse_of(group):
    """(format, shape, convention) when the group is a sparse matrix."""
    if not all(k in group and isinstance(group[k], h5py.Dataset) for k in ("data", "indices", "indptr")):
        return None
    a = group.attrs
    def s(v):
        return v.decode() if isinstance(v, bytes) else str(v)
    if "h5sparse_format" in a:
        return s(a["h5sparse_format"]), [int(x) for x in a["h5sparse_shape"]], "h5sparse"
    if "encoding-type" in a and s(a["encoding-type"]) in ("csr_matrix", "csc_matrix"):
        return s(a["encoding-type"])[:3], [int(x) for x in a["shape"]], "anndata"
    if "shape" in group and isinstance(group["shape"], h5py.Dataset) and group["shape"].shape == (2,):
        return "csc", [int(x) for x in group["shape"][()]], "10x"
    return None


def sparse_entry(group, fmt, shape):
    data = group["data"][()]
    if data.dtype == bool:
        data = data.astype(np.uint8)
    cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    m = cls((data, group["indices"][()], group["indptr"][()]), shape=tuple(shape)).tocsr()
    reads = []
    for rows, cols in SELECTIONS:
        if rows == "mask":
            rows = [i % 2 == 0 for i in range(shape[0])]
        if shape[0] == 0 or shape[1] == 0:
            if rows is not None or cols is not None:
                continue
        dense = m[to_index(rows, shape[0]), :][:, to_index(cols, shape[1])].toarray()
        reads.append({"rows": rows, "cols": cols, "dense": dense.tolist()})
    return reads


def column_json(series):
    if hasattr(series, "cat"):
        return {"kind": "categorical", "codes": series.cat.codes.tolist(),
                "categories": [c if isinstance(c, str) else c.item() for c in series.cat.categories],
                "ordered": bool(series.cat.ordered)}
    import pandas as pd

    def cell(v):
        if v is None or (not isinstance(v, (str, bytes)) and pd.isna(v)):
            return None  # missing (masked or NaN)
        if isinstance(v, bytes):
            return v.decode()
        return v.item() if hasattr(v, "item") else v
    return {"kind": "values", "values": [cell(v) for v in series.to_numpy(dtype=object)]}


def anndata_entry(path):
    import anndata
    a = anndata.read_h5ad(path)
    out = {"repr": repr(a),
           "n_obs": a.n_obs, "n_vars": a.n_vars,
           "obs_names": a.obs_names.tolist(), "var_names": a.var_names.tolist(),
           "obs": {}, "var": {}}
    for frame, key in ((a.obs, "obs"), (a.var, "var")):
        for name in frame.columns:
            out[key][name] = column_json(frame[name])
    return out


def main():
    result = {}
    for path in sys.argv[1:]:
        entry = {"tree": [], "sparse": {}}
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                attrs = sorted(obj.attrs.keys())
                if isinstance(obj, h5py.Dataset):
                    item = {"path": "/" + name, "kind": "dataset", "attrs": attrs,
                            "shape": list(obj.shape) if obj.shape is not None else None,
                            "dtype": kind_dtype(obj)}
                    dcpl = obj.id.get_create_plist()
                    item["layout"] = {0: "compact", 1: "contiguous", 2: "chunked"}.get(dcpl.get_layout())
                    item["chunks"] = list(obj.chunks) if obj.chunks else None
                    item["filters"] = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
                    if item["dtype"] is not None and obj.shape is not None and obj.size <= 10000:
                        try:
                            item["values"] = finite(obj[()].ravel().tolist())
                        except Exception:  # a filter h5py lacks: no oracle
                            pass
                    entry["tree"].append(item)
                elif isinstance(obj, h5py.Group):
                    entry["tree"].append({"path": "/" + name, "kind": "group", "attrs": attrs})
                    info = sparse_of(obj)
                    if info is not None:
                        fmt, shape, convention = info
                        entry["sparse"]["/" + name] = {
                            "format": fmt, "shape": shape, "convention": convention,
                            "nnz": int(obj["data"].shape[0]),
                            "reads": sparse_entry(obj, fmt, shape)}
            f.visititems(visit)
        if path.endswith(".h5ad"):
            try:
                entry["anndata"] = anndata_entry(path)
            except Exception as e:  # anndata cannot read it: no oracle
                entry["anndata_error"] = str(e)
        result[path] = entry
    json.dump(result, sys.stdout, allow_nan=False)


main()
