"""``.h5ad`` files, ``read_h5ad(path, backed='r')``-style: obs and var as
pandas DataFrames and ``uns`` as nested dicts, read now; X, layers, obsm,
obsp and raw's X stay on disk behind :class:`h5sparse_rs.SparseDataset` /
:class:`h5sparse_rs.Dataset` handles that read slices on demand (obsm/varm
dataframes are read now, as DataFrames).

Reads anndata's encodings from 0.12 back to 0.7's referenced categories
(``__categories``); anndata ≤ 0.6 record-array obs/var are read as records.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Union

import numpy as np

from . import _core

__all__ = ["read_h5ad", "LazyAnnData"]


def _strings(a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=object)
    return np.array([x.decode() if isinstance(x, bytes) else x for x in arr.ravel()], dtype=object)


def _attr_str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _column(f: _core.File, obj: Any, categories: Dict[str, Any]):
    import pandas as pd

    if isinstance(obj, _core.Dataset):
        values = obj[()]
        cats = obj.attrs.get("categories")
        if isinstance(cats, str):  # anndata 0.7: a reference to __categories/<col>
            cat_ds = f[cats]
            ordered = bool(cat_ds.attrs.get("ordered", False))
            return pd.Categorical.from_codes(values, _strings(cat_ds[()]), ordered=ordered)
        if values.dtype == object:
            return _strings(values)
        return values
    enc = _attr_str(obj.attrs.get("encoding-type", ""))
    if enc == "categorical":
        codes = obj["codes"][()]
        cats = obj["categories"][()]
        cats = _strings(cats) if cats.dtype == object else cats
        return pd.Categorical.from_codes(codes, cats, ordered=bool(obj.attrs.get("ordered", False)))
    if enc in ("nullable-integer", "nullable-boolean", "nullable-string-array"):
        values, mask = obj["values"][()], obj["mask"][()].astype(bool)
        if enc == "nullable-integer":
            return pd.arrays.IntegerArray(values, mask)
        if enc == "nullable-boolean":
            return pd.arrays.BooleanArray(values.astype(bool), mask)
        v = _strings(values)
        v[mask] = pd.NA
        return pd.array(v, dtype="string")
    raise NotImplementedError(f"{obj.name}: column encoding {enc!r} is not supported")


def _dataframe(f: _core.File, path: str):
    import pandas as pd

    obj = f[path]
    if isinstance(obj, _core.Dataset):  # anndata <= 0.6: a compound record array
        records = obj[()]
        df = pd.DataFrame([dict(r) for r in records])
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = _strings(df[c].to_numpy())
        # anndata <= 0.6 kept a categorical's categories in uns["<col>_categories"].
        for c in df.columns:
            key = f"uns/{c}_categories"
            if key in f:
                df[c] = pd.Categorical.from_codes(df[c].to_numpy(), _strings(f[key][()]))
        if "index" in df.columns:
            df = df.set_index("index")
            df.index.name = None
        return df
    index_key = _attr_str(obj.attrs.get("_index", "_index"))
    order = obj.attrs.get("column-order", [])
    order = [] if order is None else [_attr_str(c) for c in np.atleast_1d(order)]
    index = _strings(obj[index_key][()])
    cols = {name: _column(f, obj[name], {}) for name in order}
    df = pd.DataFrame(cols, index=pd.Index(index))
    if index_key != "_index":
        df.index.name = index_key
    return df


_COLUMN_ENCODINGS = ("categorical", "nullable-integer", "nullable-boolean", "nullable-string-array")


def _encoding(obj: Any) -> str:
    return _attr_str(obj.attrs.get("encoding-type", ""))


def _uns_value(ds: _core.Dataset) -> Any:
    """A dataset of ``uns`` as anndata reads it: ``str`` for a string,
    a Python number for a numeric scalar, object arrays of ``str`` for
    strings, numpy arrays."""
    v = ds[()]
    enc = _encoding(ds)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic) and enc == "numeric-scalar":
        return v.item()  # a Python bool/int/float, as anndata gives
    if not isinstance(v, np.ndarray):
        return v  # str, or a numpy scalar
    if v.dtype.kind in "OS":
        strings = _strings(v).reshape(v.shape)
        if not enc and strings.shape == (1,):
            # anndata <= 0.6 stored a string as a one-element array.
            return np.str_(strings[0])
        return strings
    return v


def _uns(f: _core.File, path: str) -> Any:
    """The element at ``path`` of ``uns``, read whole (as anndata does):
    dicts for groups, DataFrames, scipy matrices, pandas arrays for
    categorical and nullable columns, numpy for the rest. An encoding this
    reader does not know stays a lazy :class:`h5sparse_rs.Group`."""
    obj = f[path]
    if isinstance(obj, _core.SparseDataset):
        return obj.to_memory()
    if isinstance(obj, _core.Dataset):
        return _uns_value(obj)
    enc = _encoding(obj)
    if enc == "dataframe":
        return _dataframe(f, path)
    if enc in _COLUMN_ENCODINGS:
        return _column(f, obj, {})
    if enc in ("", "dict"):
        return {k: _uns(f, f"{path}/{k}") for k in obj.keys()}
    return obj


def _mapping(f: _core.File, name: str) -> Dict[str, Any]:
    """obsm/varm-style members: dataframes read as DataFrames, matrices
    and arrays lazily; anndata <= 0.6's record array as one array per
    field."""
    if name not in f:
        return {}
    g = f[name]
    if isinstance(g, _core.Dataset):
        records = g[()]
        if len(records) == 0:
            return {}
        return {k: np.array([r[k] for r in records]) for k in records[0]}
    if not isinstance(g, _core.Group):
        return {}
    out: Dict[str, Any] = {}
    for k in g.keys():
        obj = g[k]
        if isinstance(obj, _core.Group) and _encoding(obj) == "dataframe":
            out[k] = _dataframe(f, obj.name)
        else:
            out[k] = obj
    return out


class LazyAnnData:
    """An ``.h5ad`` opened for reading: ``obs``/``var`` in memory, matrices
    on disk. Use it as a context manager or call :meth:`close`."""

    def __init__(self, path: Union[str, os.PathLike], mode: str = "r"):
        self.file = _core.File(path, mode)
        f = self.file
        self.obs = _dataframe(f, "obs")
        self.var = _dataframe(f, "var")
        self.X = f["X"] if "X" in f else None
        self.uns = _uns(f, "uns") if "uns" in f else {}
        if isinstance(f["obs"], _core.Dataset):
            # anndata <= 0.6 kept a column's categories in uns; they were
            # read into obs/var above.
            cols = set(self.obs.columns) | set(self.var.columns)
            for k in [k for k in self.uns if k.endswith("_categories") and k[: -len("_categories")] in cols]:
                del self.uns[k]
        self.layers = self._members("layers")
        self.obsm = _mapping(f, "obsm")
        self.varm = _mapping(f, "varm")
        self.obsp = self._members("obsp")
        self.varp = self._members("varp")
        self.raw_X = f["raw/X"] if "raw" in f and "X" in f["raw"] else None

    def _members(self, name: str) -> Dict[str, Any]:
        if name not in self.file:
            return {}
        g = self.file[name]
        return {k: g[k] for k in g.keys()} if isinstance(g, _core.Group) else {}

    @property
    def obs_names(self):
        return self.obs.index

    @property
    def var_names(self):
        return self.var.index

    @property
    def n_obs(self) -> int:
        return len(self.obs)

    @property
    def n_vars(self) -> int:
        return len(self.var)

    @property
    def shape(self):
        return (self.n_obs, self.n_vars)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "LazyAnnData":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        lines = [f"AnnData object with n_obs × n_vars = {self.n_obs} × {self.n_vars} backed at {self.file.filename!r}"]
        for name in ("obs", "var"):
            cols = list(getattr(self, name).columns)
            if cols:
                lines.append(f"    {name}: " + ", ".join(repr(c) for c in cols))
        for name in ("uns", "obsm", "varm", "layers", "obsp", "varp"):
            keys = list(getattr(self, name))
            if keys:
                lines.append(f"    {name}: " + ", ".join(repr(k) for k in keys))
        return "\n".join(lines)


def read_h5ad(path: Union[str, os.PathLike], backed: str = "r") -> LazyAnnData:
    """Opens an ``.h5ad`` lazily (``backed='r'`` reads, ``'r+'`` lets the
    matrices be modified in place)."""
    if backed not in ("r", "r+"):
        raise ValueError("backed must be 'r' or 'r+'")
    return LazyAnnData(path, backed)
