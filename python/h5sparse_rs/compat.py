"""The API of the ``h5sparse`` package on PyPI (Appier's), on our engine.

Switch with one import change::

    import h5sparse_rs.compat as h5sparse

    with h5sparse.File("test.h5", "a") as h5f:
        h5f.create_dataset("sparse/matrix", data=m, chunks=(100000,), maxshape=(None,))
        h5f["sparse"]["matrix"][1:3]          # rows 1-2 of a CSR matrix...
        h5f["sparse/matrix"][1:3]             # ...but columns 1-2 of a CSC one
        h5f["sparse/matrix"].value            # the whole matrix
        h5f["sparse/matrix"].append(m)

Its semantics are kept here, not in the main API: a slice selects along the
stored (major) axis, so for CSC ``m[1:3]`` takes columns; ``()`` reads the
whole matrix; ``append`` wants the stored format. Dense datasets come back
as :class:`h5sparse_rs.Dataset` (h5py-like reads).
"""

from __future__ import annotations

import os
from typing import Any, Optional, Union

import numpy as np
import scipy.sparse as sp

from . import _core

__all__ = ["File", "Group", "Dataset"]


def _format_str(m: Any) -> str:
    if isinstance(m, (sp.csr_matrix, sp.csr_array)):
        return "csr"
    if isinstance(m, (sp.csc_matrix, sp.csc_array)):
        return "csc"
    raise ValueError(f"Data type {type(m)} is not supported.")


class Group:
    """A group whose sparse members are :class:`Dataset`."""

    def __init__(self, group: _core.Group):
        self._group = group

    @property
    def name(self) -> str:
        return self._group.name

    @property
    def attrs(self):
        return self._group.attrs

    def __getitem__(self, key: str):
        item = self._group[key]
        if isinstance(item, _core.SparseDataset):
            return Dataset(item)
        if isinstance(item, _core.Group):
            return Group(item)
        return item

    def __contains__(self, key: object) -> bool:
        return key in self._group

    def __iter__(self):
        return iter(self._group)

    def __len__(self) -> int:
        return len(self._group)

    def keys(self):
        return self._group.keys()

    def __delitem__(self, key: str) -> None:
        del self._group[key]

    def create_group(self, name: str) -> "Group":
        return Group(self._group.create_group(name))

    def require_group(self, name: str) -> "Group":
        return Group(self._group.require_group(name))

    def create_dataset(
        self,
        name: str,
        shape: Optional[tuple] = None,
        dtype: Any = None,
        data: Any = None,
        sparse_format: Optional[str] = None,
        indptr_dtype: Any = np.int64,
        indices_dtype: Any = np.int32,
        chunks: Any = None,
        maxshape: Any = None,
        compression: Optional[str] = None,
        compression_opts: Optional[int] = None,
        **kwargs: Any,
    ):
        """As the h5sparse package: a scipy matrix (or another sparse
        :class:`Dataset`, copied) becomes a sparse group; with ``data=None``
        and ``sparse_format``, an empty matrix of ``shape``; anything else a
        dense dataset. Sparse groups are always growable here (``maxshape``
        is accepted and implied); int64 ``indptr_dtype`` keeps the file's
        index columns int64 as that package writes them."""
        if isinstance(data, Dataset):
            data = data.value
        if data is None and sparse_format is not None:
            if shape is None:
                raise ValueError("an empty sparse matrix needs a shape")
            cls = sp.csr_matrix if sparse_format == "csr" else sp.csc_matrix
            if sparse_format not in ("csr", "csc"):
                raise ValueError(f"Format string {sparse_format} is not supported.")
            data = cls(tuple(shape), dtype=dtype or np.float64)
        if data is not None and sp.issparse(data):
            if sparse_format is not None and sparse_format != data.format:
                data = data.asformat(sparse_format)
            chunk_len = None
            if chunks is not None and chunks is not True:
                chunk_len = int(chunks[0] if isinstance(chunks, (tuple, list)) else chunks)
            m = _core._as_compressed(data, dtype)
            nf = self._group.file._writable_native()
            path = _core._join(self._group.name, name)
            _core._ensure_parents(self._group, name)
            wide = np.dtype(indptr_dtype) == np.int64 or np.dtype(indices_dtype) == np.int64
            ns = nf.create_sparse(
                path,
                *_core._matrix_args(m),
                gzip=_core._gzip(compression, compression_opts),
                chunk_len=chunk_len,
                int64_indices=bool(wide),
            )
            return Dataset(_core.SparseDataset(self._group.file, ns))
        _core._ensure_parents(self._group, name)
        return self._group.create_dataset(
            name,
            shape=shape,
            dtype=dtype,
            data=data,
            chunks=chunks,
            maxshape=maxshape,
            compression=compression,
            compression_opts=compression_opts,
            **kwargs,
        )


class File(Group):
    """A file (``h5sparse.File(path, mode)``), usable as a context manager."""

    def __init__(self, name: Union[str, os.PathLike], mode: str = "r"):
        self._file = _core.File(name, mode)
        super().__init__(self._file)

    @property
    def filename(self) -> str:
        return self._file.filename

    def close(self) -> None:
        self._file.close()

    def flush(self) -> None:
        self._file.flush()

    def __enter__(self) -> "File":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Dataset:
    """A sparse matrix, as the h5sparse package's ``Dataset``: slices select
    along the stored axis (rows of CSR, columns of CSC)."""

    def __init__(self, ds: _core.SparseDataset):
        self._ds = ds

    @property
    def h5py_group(self):
        return self._ds

    @property
    def name(self) -> str:
        return self._ds.name

    @property
    def attrs(self):
        return self._ds.attrs

    @property
    def shape(self):
        return self._ds.shape

    @property
    def dtype(self) -> np.dtype:
        return self._ds.dtype

    @property
    def format_str(self) -> str:
        return self._ds.format

    def __getitem__(self, key: Any):
        if isinstance(key, tuple) and key == ():
            return self._ds.to_memory()
        if isinstance(key, slice):
            if self._ds.format == "csr":
                return self._ds[key]
            return self._ds[:, key]
        raise NotImplementedError("Only support one slice as index.")

    @property
    def value(self):
        return self._ds.to_memory()

    def append(self, sparse_matrix: Any) -> None:
        if self.format_str != _format_str(sparse_matrix):
            raise ValueError("Format not the same.")
        self._ds.append(sparse_matrix)

    def __repr__(self) -> str:
        return repr(self._ds)
