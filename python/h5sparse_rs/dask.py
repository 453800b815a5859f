"""Dask arrays of sparse row blocks read from a file, for work beyond one
machine (``dask.distributed``) or beyond one core.

Each task opens the file itself (in the worker's process, once per process)
and reads only its rows, so the graph carries a path and row ranges, never
data. Blocks are ``scipy.sparse.csr_matrix``, as anndata's dask support
expects.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, Optional, Tuple

import numpy as np
import scipy.sparse as sp

__all__ = ["to_dask", "RowBlocks"]

# Files opened by tasks in this process, by path and driver: opening maps
# the file (or opens it for positional reads) once; reads from many threads
# share it (they release the GIL).
_OPEN: Dict[Tuple[str, Optional[str]], Any] = {}
_OPEN_LOCK = threading.Lock()

# `to_dask`'s default driver: the one the dataset's file was opened with.
_FILE_DRIVER = object()


def _open(path: str, driver: Optional[str] = None):
    from . import File

    with _OPEN_LOCK:
        f = _OPEN.get((path, driver))
        if f is None:
            f = File(path, "r", driver=driver)
            _OPEN[(path, driver)] = f
        return f


class RowBlocks:
    """A picklable stand-in for a stored sparse matrix that reads row
    slices on demand, in whatever process indexes it (``dask.array.from_array``
    calls ``__getitem__`` with a pair of slices per block)."""

    def __init__(
        self,
        path: str,
        group: str,
        shape: Tuple[int, int],
        dtype: np.dtype,
        driver: Optional[str] = None,
    ):
        self.path = path
        self.driver = driver
        self.group = group
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.ndim = 2

    def __getitem__(self, key: Any):
        m = _open(self.path, self.driver)[self.group][key]
        if sp.issparse(m) and m.format != "csr":
            m = m.tocsr()
        return m

    def __reduce__(self):
        return (RowBlocks, (self.path, self.group, self.shape, self.dtype, self.driver))

    def __repr__(self) -> str:
        return (
            f"RowBlocks({self.path!r}, {self.group!r}, shape={self.shape}, "
            f"dtype={self.dtype}, driver={self.driver!r})"
        )


def to_dask(
    dataset,
    rows_per_block: Optional[int] = None,
    values_per_block: int = 4_000_000,
    driver: Any = _FILE_DRIVER,
):
    """A ``dask.array.Array`` over the sparse ``dataset`` (``f['X']``) in
    blocks of ``rows_per_block`` rows and every column, each block a
    ``csr_matrix`` read by its task from the file.

    Without ``rows_per_block``, blocks hold about ``values_per_block``
    stored values. The file must stay where it is (tasks open it by its
    path, on any worker that sees that path, or by its ``http://`` URL). CSC storage works too, each
    block then filtering its rows from every column (slower; store CSR for
    row blocks).

    ``driver`` is how tasks open a local file (see :class:`h5sparse_rs.File`),
    by default the driver ``dataset``'s file was opened with: ``'sec2'``
    reads with positional reads, so a worker's memory holds the blocks it
    reads, not the mapped pages of the file, which count in its RSS (and
    against ``dask.distributed``'s memory limits) with the default map.
    """
    import dask.array as da
    from dask.base import tokenize

    path = dataset.file.filename
    is_url = "://" in path
    if not is_url:
        path = os.path.abspath(path)
    n, m = dataset.shape
    if rows_per_block is None:
        nnz = max(dataset.nnz, 1)
        rows_per_block = max(1, int(n * values_per_block // nnz))
    rows_per_block = max(1, min(int(rows_per_block), max(n, 1)))
    if driver is _FILE_DRIVER:
        driver = getattr(dataset.file, "driver", None)
    if is_url:
        driver = None  # read by range requests
    source = RowBlocks(path, dataset.name, (n, m), dataset.dtype, driver)
    version = (0, 0) if is_url else (os.stat(path).st_mtime_ns, os.stat(path).st_size)
    name = "h5sparse-rs-" + tokenize(path, dataset.name, version, n, dataset.nnz, rows_per_block, driver)
    meta = sp.csr_matrix((0, 0), dtype=dataset.dtype)
    return da.from_array(
        source,
        chunks=(rows_per_block, m),
        name=name,
        asarray=False,
        fancy=False,
        meta=meta,
        inline_array=True,
    )
