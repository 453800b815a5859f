"""Files, groups, sparse and dense datasets: the seed's API on the Rust engine."""

from __future__ import annotations

import os
import weakref
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp

from . import _index
from ._native import NativeDataset, NativeFile, NativeSparse

__all__ = ["File", "Group", "SparseDataset", "Dataset", "AttributeManager"]


def _join(parent: str, name: str) -> str:
    if name.startswith("/"):
        return name
    if parent == "/":
        return "/" + name
    return parent.rstrip("/") + "/" + name


def _native_dtype(a: np.ndarray) -> Tuple[np.ndarray, str, str]:
    """``a`` in native byte order and contiguous, as the native layer takes
    it: ``(array, dtype str, kind)``, bools and float16 as same-size views."""
    a = np.ascontiguousarray(a)
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and np.little_endian is False):
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype == bool:
        return a.view(np.uint8), "|u1", "bool"
    if a.dtype == np.float16:
        return a.view(np.uint16), "<u2", "f16"
    if a.dtype.kind not in "iuf":
        raise TypeError(f"unsupported dtype {a.dtype}: numbers and bools only")
    return a, a.dtype.str, ""


def _from_native(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Views a native result (``u1`` bools, ``u2`` halves) as ``dtype``."""
    if dtype.kind == "b" or (dtype.kind == "f" and dtype.itemsize == 2):
        return a.view(dtype)
    return a


def _dtype(s: str) -> np.dtype:
    if s == "vlen-str":
        return np.dtype(object)
    if s == "|b1":
        return np.dtype(bool)
    return np.dtype(s)


class AttributeManager:
    """The attributes of an object, as a mapping (h5py's ``.attrs``)."""

    def __init__(self, file: "File", path: str):
        self._file = file
        self._path = path

    def _items(self) -> Dict[str, Any]:
        out = {}
        for name, values, dtype, shape in self._file._native.attrs(self._path):
            out[name] = _attr_value(values, dtype, shape)
        return out

    def __getitem__(self, name: str) -> Any:
        items = self._items()
        if name not in items:
            raise KeyError(f"no attribute {name!r} on {self._path}")
        return items[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._items().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._items()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items()))

    def __len__(self) -> int:
        return len(self._items())

    def keys(self):
        return self._items().keys()

    def values(self):
        return self._items().values()

    def items(self):
        return self._items().items()

    def __setitem__(self, name: str, value: Any) -> None:
        nf = self._file._writable_native()
        if isinstance(value, str):
            nf.set_attr_str(self._path, name, value)
            return
        a = np.asarray(value)
        if a.dtype.kind == "O" and all(isinstance(v, (str, bytes)) for v in a.flat):
            a = a.astype(str)
        if a.dtype.kind == "S" and a.dtype.itemsize > 0:
            # bytes: fixed-length, null-padded strings, as h5py stores them.
            raw = np.ascontiguousarray(a).tobytes()
            nf.set_attr_fixed_strings(self._path, name, raw, a.dtype.itemsize, list(a.shape))
            return
        if a.dtype.kind in "US":
            if a.ndim == 0:
                nf.set_attr_str(self._path, name, _text(a[()]))
                return
            # Variable-length UTF-8 strings, as h5py stores a list of str.
            nf.set_attr_strings(self._path, name, [_text(v) for v in a.flat], list(a.shape))
            return
        a = np.atleast_1d(a)
        if a.ndim != 1:
            raise TypeError(f"attribute {name!r}: only scalars and 1-D arrays are supported")
        arr, dt, kind = _native_dtype(a)
        nf.set_attr_array(self._path, name, arr, dt, kind)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(f"no attribute {name!r} on {self._path}")
        self._file._writable_native().delete_attr(self._path, name)

    def __repr__(self) -> str:
        return f"<Attributes of HDF5 object at {self._path!r}>"


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _bytes(v: Any) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


def _attr_value(values: Any, dtype: str, shape: Optional[Tuple[int, ...]]) -> Any:
    if shape is None:
        return None
    if isinstance(values, list):
        if dtype.startswith("|S"):
            # Fixed-length strings: bytes, as h5py gives them (``S`` arrays).
            arr = np.array([_bytes(v) for v in values], dtype=dtype)
            if len(shape) == 0:
                return arr[0] if arr.size else None
            return arr.reshape(shape)
        if len(shape) == 0:
            return values[0] if values else None
        # Variable-length strings: an object array of str, as h5py.
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr.reshape(shape)
    try:
        dt = _dtype(dtype)
        arr = values.astype(dt)
    except (TypeError, ValueError):
        arr = values
    if len(shape) == 0:
        return arr[0]
    return arr.reshape(shape)


class Group:
    """A group: a mapping of names to groups, sparse datasets and datasets.

    ``g['X']`` is a :class:`SparseDataset` when the group there holds a
    sparse matrix (h5sparse, anndata or 10x convention), a :class:`Dataset`
    for a dense dataset, a :class:`Group` otherwise. A missing name is a
    ``KeyError``.
    """

    def __init__(self, file: "File", path: str):
        self._file = file
        self._path = path

    @property
    def name(self) -> str:
        """The absolute path."""
        return self._path

    @property
    def file(self) -> "File":
        return self._file

    @property
    def attrs(self) -> AttributeManager:
        return AttributeManager(self._file, self._path)

    def _get(self, name: str):
        path = _join(self._path, name)
        kind = self._file._native.kind(path)
        if kind is None:
            raise KeyError(f"{name!r}: no such object in {self._file.filename} (at {path})")
        if kind == "sparse":
            return SparseDataset(self._file, self._file._native.sparse(path))
        if kind == "dataset":
            return Dataset(self._file, self._file._native.dataset(path))
        if kind == "group":
            return Group(self._file, path)
        raise KeyError(f"{path} is a committed datatype, which is not supported")

    def __getitem__(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"group keys are names (str), got {type(name).__name__}")
        return self._get(name)

    def get(self, name: str, default: Any = None):
        try:
            return self._get(name)
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return self._file._native.kind(_join(self._path, name)) is not None

    def keys(self):
        return self._file._native.keys(self._path)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def values(self):
        return [self._get(k) for k in self.keys()]

    def items(self):
        return [(k, self._get(k)) for k in self.keys()]

    def create_group(self, name: str) -> "Group":
        path = _join(self._path, name)
        if self._file._native.kind(path) is not None:
            raise ValueError(f"unable to create group {path}: the name already exists")
        self._file._writable_native().create_group(path)
        return Group(self._file, path)

    def require_group(self, name: str) -> "Group":
        if name in self:
            g = self[name]
            if not isinstance(g, Group) or isinstance(g, File):
                raise TypeError(f"{name!r} exists and is not a group")
            return g
        return self.create_group(name)

    def create_dataset(
        self,
        name: str,
        shape: Optional[Tuple[int, ...]] = None,
        dtype: Any = None,
        data: Any = None,
        chunks: Any = None,
        maxshape: Optional[Tuple[Optional[int], ...]] = None,
        compression: Optional[str] = None,
        compression_opts: Optional[int] = None,
        shuffle: bool = False,
        **kwargs: Any,
    ):
        """Creates a dataset, as h5py does; ``data`` may be a scipy.sparse
        matrix or array (CSR or CSC; others are stored as CSR), which is
        written as a sparse group with growable ``data``/``indices``/
        ``indptr`` (``chunks`` is then their chunk length;
        ``compression='gzip'`` with level ``compression_opts``, 4 by
        default). Returns the :class:`SparseDataset` or :class:`Dataset`."""
        if kwargs:
            raise TypeError(f"unsupported arguments: {', '.join(sorted(kwargs))}")
        path = _join(self._path, name)
        nf = self._file._writable_native()
        if nf.kind(path) is not None:
            raise ValueError(f"unable to create dataset {path}: the name already exists")
        _ensure_parents(self, name)
        gzip = _gzip(compression, compression_opts)
        if data is not None and sp.issparse(data):
            m = _as_compressed(data, dtype)
            chunk_len = None
            if chunks is not None and chunks is not True:
                chunk_len = int(chunks[0] if isinstance(chunks, (tuple, list)) else chunks)
            args = _matrix_args(m)
            ns = nf.create_sparse(path, *args, gzip=gzip, chunk_len=chunk_len)
            return SparseDataset(self._file, ns)
        if data is None:
            if shape is None:
                raise TypeError("create_dataset needs data or a shape")
            data = np.zeros(shape, dtype=np.dtype(dtype) if dtype is not None else np.float32)
        a = np.asarray(data, dtype=np.dtype(dtype) if dtype is not None else None)
        if shape is not None and tuple(shape) != a.shape:
            if _index.element_count(shape) != a.size:
                raise ValueError(f"shape {tuple(shape)} does not match the data's {a.shape}")
            a = a.reshape(shape)
        arr, dt, kind = _native_dtype(a)
        chunk_shape = None
        if chunks is not None and chunks is not True and chunks is not False:
            chunk_shape = [int(c) for c in chunks]
        max_shape = None
        if maxshape is not None:
            max_shape = [None if m is None else int(m) for m in maxshape]
        elif chunks is True:
            max_shape = list(a.shape)
        nd = nf.create_dataset(
            path,
            list(a.shape),
            arr.reshape(-1),
            dt,
            kind,
            chunks=chunk_shape,
            maxshape=max_shape,
            gzip=gzip,
            shuffle=bool(shuffle),
        )
        return Dataset(self._file, nd)

    def __setitem__(self, name: str, value: Any) -> None:
        """``g[name] = matrix`` writes a sparse matrix, replacing one already
        there in one atomic step (CSR by CSC if it likes); ``g[name] =
        array`` creates a dense dataset (an existing name is an error, as in
        h5py)."""
        path = _join(self._path, name)
        kind = self._file._native.kind(path)
        if sp.issparse(value):
            if kind == "sparse":
                self._get(name).replace(value)
                return
            if kind is not None:
                raise ValueError(f"{path} exists and is not a sparse matrix; delete it first")
            self.create_dataset(name, data=value)
            return
        if isinstance(value, (SparseDataset, Dataset, Group)):
            raise TypeError("copying objects between files is not supported")
        if kind is not None:
            raise ValueError(f"unable to create {path}: the name already exists")
        self.create_dataset(name, data=value)

    def __delitem__(self, name: str) -> None:
        path = _join(self._path, name)
        if self._file._native.kind(path) is None:
            raise KeyError(f"{name!r}: no such object in {self._file.filename}")
        self._file._writable_native().unlink(path)

    def __repr__(self) -> str:
        return f'<HDF5 group "{self._path}" ({len(self)} members)>'

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Group)
            and other._file is self._file
            and other._path == self._path
        )

    def __hash__(self) -> int:
        return hash((id(self._file), self._path))


def _ensure_parents(group: Group, name: str) -> None:
    """Creates the missing groups on the way to ``name``, as h5py's
    ``create_dataset('a/b/c')`` does."""
    g = group
    for part in [p for p in name.split("/")[:-1] if p]:
        g = g.require_group(part)


class File(Group):
    """An HDF5 file, opened with h5py's modes.

    ``'r'`` reads (memory-mapped), ``'r+'`` reads and writes an existing
    file, ``'a'`` also creates it when absent, ``'w'`` creates or truncates,
    ``'w-'``/``'x'`` create and fail if it exists; ``'r'`` also takes an
    ``http://`` URL, read by range requests. Writers take an exclusive
    lock (ours and libhdf5's). ``sparse_array=True`` makes sparse reads
    return ``csr_array``/``csc_array`` instead of ``csr_matrix``/
    ``csc_matrix``.

    ``driver`` (mode ``'r'``, h5py's names) chooses how a local file is
    read: ``None`` maps it; ``'sec2'`` (alias ``'pread'``) uses positional
    reads, no map, so a process's memory (RSS) holds only the metadata
    blocks and what it read, never mapped pages (what Dask workers and
    network file systems want); ``'core'`` reads the whole file into
    memory first. Results are the same with every driver.

    Reads and writes release the GIL, so threads read in parallel.
    """

    def __init__(
        self,
        name: Union[str, os.PathLike],
        mode: str = "r",
        sparse_array: bool = False,
        driver: Optional[str] = None,
    ):
        self._name = os.fspath(name)
        self._native = NativeFile(self._name, mode, driver)
        self._driver = driver
        self._closed = False
        # Dataset objects taken from this file: close() detaches them, so
        # that the file (and a writer's lock) is released as h5py does.
        self._children: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._sparse_array = bool(sparse_array)
        super().__init__(self, "/")

    @property
    def filename(self) -> str:
        """The path (or URL) the file was opened with."""
        return self._native.filename or self._name

    @property
    def mode(self) -> str:
        return "r" if not self._native.writable else "r+"

    @property
    def driver(self) -> Optional[str]:
        """How the file is read: ``None`` (memory map), ``'sec2'``/``'pread'``
        (positional reads) or ``'core'`` (in memory)."""
        return self._driver

    def _writable_native(self) -> NativeFile:
        if self._closed:
            raise ValueError("the file is closed")
        if not self._native.writable:
            raise ValueError(
                f"{self.filename} was opened read-only (mode 'r'); open it with 'r+' or 'a' to write"
            )
        return self._native

    def flush(self) -> None:
        """Makes every write so far durable (fsync)."""
        self._native.flush()

    def close(self) -> None:
        """Flushes and closes the file, releasing a writer's lock; dataset
        objects taken from it stop working, as in h5py."""
        if not self._closed:
            self._native.flush()
            self._closed = True
            closed = _ClosedFile(self._native.filename)
            for child in list(self._children):
                child._native = closed
            self._native = closed

    def __enter__(self) -> "File":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __bool__(self) -> bool:
        return not self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"mode {self._native.mode}"
        return f'<HDF5 file "{os.path.basename(self.filename or "")}" ({state})>'


class _ClosedFile:
    """Stands for the native file after ``close()``: every use is an error."""

    def __init__(self, filename: Optional[str]):
        self.filename = filename
        self.writable = False
        self.mode = "closed"
        self.path = "(closed)"

    def flush(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        raise ValueError(f"{self.filename}: the file is closed")


def _gzip(compression: Optional[str], opts: Optional[int]) -> Optional[int]:
    if compression is None:
        if opts is not None:
            return int(opts)
        return None
    if isinstance(compression, int):
        return int(compression)
    if compression != "gzip":
        raise ValueError(f"compression {compression!r}: only 'gzip' is supported")
    return 4 if opts is None else int(opts)


def _as_compressed(m: Any, dtype: Any = None):
    """A CSR or CSC copy-if-needed of ``m`` with sorted, summed indices."""
    if m.format not in ("csr", "csc"):
        m = m.tocsr()
    if dtype is not None and m.dtype != np.dtype(dtype):
        m = m.astype(dtype)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
        m.sort_indices()
    return m


def _matrix_args(m: Any):
    """``(format, shape, data, indices, indptr, dtype, kind)`` for the
    native writers: indices and indptr of one dtype (int32 or int64)."""
    data, dt, kind = _native_dtype(np.asarray(m.data))
    idx = np.asarray(m.indices)
    ptr = np.asarray(m.indptr)
    wide = idx.dtype == np.int64 or ptr.dtype == np.int64
    it = np.int64 if wide else np.int32
    idx = np.ascontiguousarray(idx, dtype=it)
    ptr = np.ascontiguousarray(ptr, dtype=it)
    return m.format, tuple(int(n) for n in m.shape), data, idx, ptr, dt, kind


class _DatasetBase:
    """What sparse and dense datasets share: the file, the native handle
    (detached by ``File.close``), the path and the attributes."""

    def __init__(self, file: File, native: Any):
        self._file = file
        self._native = native
        file._children.add(self)

    @property
    def name(self) -> str:
        return self._native.path

    @property
    def file(self) -> File:
        return self._file

    @property
    def attrs(self) -> AttributeManager:
        return AttributeManager(self._file, self.name)


class SparseDataset(_DatasetBase):
    """A sparse matrix stored in a file (h5sparse's ``f['X']``).

    Indexing takes everything numpy takes on a 2-D sparse matrix (slices
    with steps, negative indices, integer lists in any order with repeats,
    boolean masks, ``np.ix_`` pairs, pointwise pairs of index arrays, single
    elements) and reads only what it needs, returning scipy.sparse in the
    stored format (``csr_matrix`` for CSR storage, ``csc_matrix`` for CSC;
    ``*_array`` with ``File(..., sparse_array=True)`` or
    :meth:`as_sparray`). A single element is a numpy scalar.
    """

    def __init__(self, file: File, native: NativeSparse, sparse_array: Optional[bool] = None):
        super().__init__(file, native)
        self._array = file._sparse_array if sparse_array is None else sparse_array

    # --- metadata -----------------------------------------------------------

    @property
    def shape(self) -> Tuple[int, int]:
        r, c = self._native.shape()
        return (int(r), int(c))

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype:
        return _dtype(self._native.dtype())

    @property
    def format(self) -> str:
        """``'csr'`` or ``'csc'``."""
        return self._native.format()

    @property
    def format_str(self) -> str:
        return self.format

    @property
    def nnz(self) -> int:
        """How many values are stored."""
        return int(self._native.nnz())

    @property
    def convention(self) -> str:
        """The convention marking the group: h5sparse, anndata or 10x."""
        return self._native.convention()

    def as_sparray(self) -> "SparseDataset":
        """The same dataset, reading ``csr_array``/``csc_array``."""
        return SparseDataset(self._file, self._native, sparse_array=True)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (
            f"<HDF5 sparse dataset: format '{self.format}', shape {self.shape}, "
            f"type '{self._native.dtype()}'>"
        )

    # --- reads --------------------------------------------------------------

    def _build(self, data, indices, indptr, shape, fmt: str):
        data = _from_native(data, self.dtype)
        if data.dtype == np.float16:
            data = data.astype(np.float32)  # scipy.sparse has no float16
        if self._array:
            cls = sp.csr_array if fmt == "csr" else sp.csc_array
        else:
            cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
        # Arrays from the native reader are sorted and canonical; the
        # constructor takes them as they are (no copy).
        m = cls((data, indices, indptr), shape=shape, copy=False)
        m.has_sorted_indices = True
        return m

    def read(self, rows: Any = None, cols: Any = None):
        """``X[rows, cols]`` with outer (``np.ix_``) semantics on each axis:
        ``None`` for everything, an int, a slice, an index list or a mask."""
        shape = self.shape
        return self._read(_index.Outer(_index._axis(slice(None) if rows is None else rows, shape[0], "row"),
                                       _index._axis(slice(None) if cols is None else cols, shape[1], "column")))

    def _read(self, sel: "_index.Outer"):
        data, indices, indptr, shape = self._native.read(sel.rows, sel.cols)
        m = self._build(data, indices, indptr, shape, self.format)
        if self._array and (_index._is_int(sel.rows) or _index._is_int(sel.cols)):
            # scipy's sparse arrays drop an integer-indexed axis: a 1-D coo_array.
            c = m.tocoo()
            if _index._is_int(sel.rows):
                return sp.coo_array((c.data, (c.col,)), shape=(shape[1],))
            return sp.coo_array((c.data, (c.row,)), shape=(shape[0],))
        return m

    def __getitem__(self, key: Any):
        sel = _index.normalize(key, self.shape)
        if isinstance(sel, _index.Pointwise):
            vals = _from_native(self._native.get_many(sel.rows, sel.cols), self.dtype)
            if self._array:
                return vals.reshape(sel.shape[1:] if sel.shape[0] == 1 and len(sel.shape) == 2 else sel.shape)
            return np.asmatrix(vals.reshape(sel.shape))
        if sel.is_element():
            v = self._native.get_many(
                np.array([sel.rows], dtype=np.int64), np.array([sel.cols], dtype=np.int64)
            )
            return _from_native(v, self.dtype)[0]
        return self._read(sel)

    def to_memory(self):
        """The whole matrix."""
        return self._read(_index.Outer(None, None))

    @property
    def value(self):
        """The whole matrix (the original h5sparse package's ``.value``)."""
        return self.to_memory()

    def __array__(self, dtype=None, copy=None):
        a = self.to_memory().toarray()
        return a if dtype is None else a.astype(dtype)

    # --- writes -------------------------------------------------------------

    def __setitem__(self, key: Any, value: Any) -> None:
        """``X[key] = value`` where only values already stored change: a
        sparse ``value`` whose nonzeros all land on stored entries (stored
        entries it leaves empty become 0), or a scalar for one element; with
        two index arrays, pointwise as in scipy (``X[[0, 3], [1, 2]] = [5,
        6]`` sets two elements, which must be stored unless the value is 0).
        A change to the sparsity structure is a ``ValueError`` and nothing is
        written."""
        self._file._writable_native()
        shape = self.shape
        sel = _index.normalize(key, shape)
        if isinstance(sel, _index.Pointwise):
            self._set_points(sel, value, shape)
            return
        if sp.issparse(value):
            m = value
        else:
            a = np.asarray(value)
            if sel.is_element():
                a = a.reshape(1, 1)
            elif a.ndim == 0:
                raise ValueError(
                    "assigning a scalar to a selection would store it everywhere; "
                    "assign a sparse matrix with the same structure"
                )
            m = sp.csr_matrix(np.atleast_2d(a))
        m = _as_compressed(m, self.dtype)
        if m.format != self.format:
            m = m.asformat(self.format)
        fmt, shape, data, idx, ptr, dt, kind = _matrix_args(m)
        self._native.set(sel.rows, sel.cols, fmt, shape, data, idx, ptr, dt, kind)

    def _set_points(self, sel: "_index.Pointwise", value: Any, shape: Tuple[int, int]) -> None:
        """``X[rows, cols] = values`` with numpy's pointwise (broadcast)
        semantics, as scipy does: ``values`` broadcast to the points' shape,
        cast to the stored dtype, a repeated point taking its last value.
        Every nonzero must land on a stored entry (a zero where nothing is
        stored changes nothing); otherwise a ``ValueError`` and nothing is
        written. One atomic write."""
        if sp.issparse(value):
            value = value.toarray()
        vals = np.broadcast_to(np.asarray(value, dtype=self.dtype), sel.shape).reshape(-1)
        rows = np.asarray(sel.rows, dtype=np.int64).reshape(-1)
        cols = np.asarray(sel.cols, dtype=np.int64).reshape(-1)
        rows = np.where(rows < 0, rows + shape[0], rows)
        cols = np.where(cols < 0, cols + shape[1], cols)
        arr, dt, kind = _native_dtype(vals)
        self._native.set_points(np.ascontiguousarray(rows), np.ascontiguousarray(cols), arr, dt, kind)

    def append(self, m: Any) -> None:
        """Appends the rows of ``m`` (CSR storage) or its columns (CSC),
        atomically: h5sparse's ``f['X'].append(m)``."""
        self._file._writable_native()
        if not sp.issparse(m):
            m = sp.csr_matrix(np.atleast_2d(np.asarray(m)))
        m = _as_compressed(m, self.dtype)
        if m.format != self.format:
            m = m.asformat(self.format)
            m.sort_indices()
        self._native.append(*_matrix_args(m))

    def replace(self, m: Any, compression: Optional[str] = None, compression_opts: Optional[int] = None) -> None:
        """Replaces the whole matrix by ``m`` (CSR or CSC, any dtype), in one
        atomic step; this object then reads the new matrix."""
        self._file._writable_native()
        m = _as_compressed(m)
        self._native.replace(*_matrix_args(m), gzip=_gzip(compression, compression_opts))


class Dataset(_DatasetBase):
    """A dense dataset, read like h5py's: ``d[:]``, slices with steps,
    integer and boolean indices, ``d[()]``, ``.shape``, ``.dtype``,
    ``.attrs``. Only the hyperslab bounding the selection is read."""

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(int(n) for n in self._native.shape())

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return _index.element_count(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return _dtype(self._native.dtype())

    @property
    def chunks(self) -> Optional[Tuple[int, ...]]:
        c = self._native.storage()[0]
        return None if c is None else tuple(int(n) for n in c)

    @property
    def maxshape(self) -> Tuple[Optional[int], ...]:
        m = self._native.storage()[1]
        return self.shape if m is None else tuple(m)

    @property
    def compression(self) -> Optional[str]:
        names = [n for n, _ in self._native.storage()[2]]
        return "gzip" if "deflate" in names else ("lzf" if "lzf" in names else None)

    @property
    def compression_opts(self) -> Optional[int]:
        for n, cd in self._native.storage()[2]:
            if n == "deflate":
                return int(cd[0]) if cd else None
        return None

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("a scalar dataset has no len()")
        return self.shape[0]

    def __repr__(self) -> str:
        base = self.name.rsplit("/", 1)[-1]
        return f'<HDF5 dataset "{base}": shape {self.shape}, type "{self._native.dtype()}">'

    def _all(self) -> np.ndarray:
        if not self._native.is_numeric():
            vals = self._native.values()
            if isinstance(vals, list):
                arr = np.empty(len(vals), dtype=object)
                arr[:] = vals
            else:
                arr = vals
            return arr.reshape(self.shape)
        return _from_native(self._native.read(), self.dtype).reshape(self.shape)

    def __getitem__(self, key: Any) -> Any:
        shape = self.shape
        if key is Ellipsis or (isinstance(key, tuple) and key == ()) or (
            isinstance(key, slice) and key == slice(None)
        ):
            out = self._all()
            return out[()] if not shape else out
        if not self._native.is_numeric():
            return self._all()[key]
        start, count, local = _index.hyperslab(key, shape)
        if any(c == 0 for c in count):
            return np.zeros([c for c, k in zip(count, local) if not _index._is_int(k)], dtype=self.dtype)
        slab = _from_native(self._native.read(start, count), self.dtype).reshape(count)
        return _index.take(slab, local)

    def __array__(self, dtype=None, copy=None):
        a = self[()]
        return a if dtype is None else np.asarray(a, dtype=dtype)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Writes a hyperslab: basic slices with step 1 and integers."""
        self._file._writable_native()
        shape = self.shape
        parts = list(key) if isinstance(key, tuple) else [key]
        if any(p is Ellipsis for p in parts):
            i = parts.index(Ellipsis)
            parts = parts[:i] + [slice(None)] * (len(shape) - len(parts) + 1) + parts[i + 1 :]
        parts += [slice(None)] * (len(shape) - len(parts))
        start, count = [], []
        for k, n in zip(parts, shape):
            if isinstance(k, slice):
                lo, hi, step = k.indices(n)
                if step != 1:
                    raise ValueError("writes take slices with step 1 and integers")
                start.append(lo)
                count.append(max(0, hi - lo))
            elif _index._is_int(k):
                i = _index._check_int(k, n, "dataset")
                start.append(i + n if i < 0 else i)
                count.append(1)
            else:
                raise ValueError("writes take slices with step 1 and integers")
        a = np.broadcast_to(np.asarray(value, dtype=self.dtype), count) if count else np.asarray(value, dtype=self.dtype)
        arr, dt, kind = _native_dtype(np.ascontiguousarray(a).reshape(-1))
        self._native.write(start, count, arr, dt, kind)

    def resize(self, size: Union[int, Tuple[int, ...]], axis: Optional[int] = None) -> None:
        """Changes the shape within ``maxshape`` (h5py's ``resize``)."""
        self._file._writable_native()
        if axis is not None:
            shape = list(self.shape)
            shape[axis] = int(size)
        else:
            shape = [int(size)] if isinstance(size, (int, np.integer)) else [int(n) for n in size]
        self._native.resize(shape)
