"""numpy indexing on a 2-D sparse matrix, normalised for the native reader.

A key becomes either an *outer* selection (one selection per axis, as
``X[np.ix_(rows, cols)]``; each axis ``None``, an ``int``, a ``slice``, an
int64 array or a bool mask) or a *pointwise* one (two int64 arrays of equal
length, numpy's ``X[[0, 1], [1, 2]]``), with scipy's result shapes.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Tuple

import numpy as np


@dataclass
class Outer:
    """``X[rows, cols]`` with each axis selected independently."""

    rows: Any
    cols: Any

    def is_element(self) -> bool:
        return _is_int(self.rows) and _is_int(self.cols)


@dataclass
class Pointwise:
    """``X[rows[k], cols[k]]`` for every k, in an array of ``shape``."""

    rows: np.ndarray
    cols: np.ndarray
    shape: Tuple[int, ...]


def _is_int(k: Any) -> bool:
    return isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, (bool, np.bool_))


def _check_int(i: int, n: int, axis: str) -> int:
    i = int(i)
    if not -n <= i < n:
        raise IndexError(f"{axis} index {i} is out of bounds for axis of size {n}")
    return i


def _array(k: Any, n: int, axis: str) -> np.ndarray:
    """An index array or mask as int64 indices (checked) or a bool mask."""
    a = np.asarray(k)
    if a.dtype == bool:
        if a.ndim != 1:
            raise IndexError(f"{axis} mask must be 1-D, got {a.ndim}-D")
        if a.shape[0] != n:
            raise IndexError(
                f"boolean {axis} index has length {a.shape[0]}, the axis has {n}"
            )
        return np.ascontiguousarray(a)
    if a.size == 0:
        return np.zeros(a.shape, dtype=np.int64)
    if not np.issubdtype(a.dtype, np.integer):
        raise IndexError(f"{axis} indices must be integers or booleans, got {a.dtype}")
    a = a.astype(np.int64, copy=False)
    lo, hi = int(a.min()), int(a.max())
    if lo < -n or hi >= n:
        bad = lo if lo < -n else hi
        raise IndexError(f"{axis} index {bad} is out of bounds for axis of size {n}")
    return a


def _axis(k: Any, n: int, axis: str) -> Any:
    """One axis of an outer selection."""
    if k is None:
        raise IndexError("np.newaxis is not supported on sparse matrices")
    if isinstance(k, slice):
        if k == slice(None):
            return None
        for part in (k.start, k.stop, k.step):
            if part is not None and not _is_int(part):
                raise IndexError(f"slice indices must be integers, got {k!r}")
        if k.step is not None and int(k.step) == 0:
            raise ValueError("slice step cannot be zero")
        return slice(
            None if k.start is None else int(k.start),
            None if k.stop is None else int(k.stop),
            None if k.step is None else int(k.step),
        )
    if _is_int(k):
        return _check_int(k, n, axis)
    if isinstance(k, (bool, np.bool_)):
        raise IndexError("a single bool is not a valid sparse index")
    a = _array(k, n, axis)
    if a.dtype == bool:
        return a
    return np.ascontiguousarray(a.ravel())


def normalize(key: Any, shape: Tuple[int, int]):
    """The :class:`Outer` or :class:`Pointwise` selection ``key`` means."""
    nrows, ncols = shape
    if isinstance(key, tuple):
        parts = list(key)
    else:
        parts = [key]
    if any(p is Ellipsis for p in parts):
        if sum(p is Ellipsis for p in parts) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        i = next(i for i, p in enumerate(parts) if p is Ellipsis)
        fill = [slice(None)] * (2 - (len(parts) - 1))
        parts = parts[:i] + fill + parts[i + 1 :]
    if len(parts) == 1:
        k = parts[0]
        if hasattr(k, "toarray") and not isinstance(k, np.ndarray):
            k = k.toarray()  # a sparse boolean mask
        a = None if isinstance(k, slice) or _is_int(k) or k is None else np.asarray(k)
        if a is not None and a.dtype == bool and a.ndim == 2:
            if a.shape != (nrows, ncols):
                raise IndexError(f"boolean index of shape {a.shape} for a matrix of {shape}")
            r, c = np.nonzero(a)
            return Pointwise(r.astype(np.int64), c.astype(np.int64), (1, r.size))
        parts.append(slice(None))
    if len(parts) != 2:
        raise IndexError(f"too many indices for a 2-D matrix: {len(parts)}")
    rk, ck = parts
    r_arr = not (isinstance(rk, slice) or _is_int(rk) or rk is None)
    c_arr = not (isinstance(ck, slice) or _is_int(ck) or ck is None)
    if r_arr and c_arr:
        # Two index arrays (masks count as their nonzero positions): numpy
        # broadcasts them together and selects pointwise, unless they form
        # an open mesh (np.ix_), which is an outer selection.
        ra = _array(rk, nrows, "row")
        ca = _array(ck, ncols, "column")
        if ra.dtype == bool:
            ra = np.nonzero(ra)[0].astype(np.int64)
        if ca.dtype == bool:
            ca = np.nonzero(ca)[0].astype(np.int64)
        try:
            np.broadcast_shapes(ra.shape, ca.shape)
        except ValueError:
            raise IndexError(
                f"shape mismatch: indexing arrays could not be broadcast together "
                f"with shapes {ra.shape} {ca.shape}"
            ) from None
        if ra.ndim == 2 and ca.ndim == 2 and ra.shape[1] == 1 and ca.shape[0] == 1:
            return Outer(np.ascontiguousarray(ra.ravel()), np.ascontiguousarray(ca.ravel()))
        if ra.ndim == 2 and ra.shape[1] == 1 and ca.ndim == 1:
            return Outer(np.ascontiguousarray(ra.ravel()), np.ascontiguousarray(ca))
        br, bc = np.broadcast_arrays(ra, ca)
        out_shape = br.shape if br.ndim == 2 else (1, br.size)
        return Pointwise(
            np.ascontiguousarray(br.ravel()), np.ascontiguousarray(bc.ravel()), out_shape
        )
    return Outer(_axis(rk, nrows, "row"), _axis(ck, ncols, "column"))


def hyperslab(key: Any, shape: Tuple[int, ...]):
    """For a dense dataset: the bounding ``start``/``count`` of ``key`` and
    the numpy index that takes the wanted elements from the slab read."""
    parts = list(key) if isinstance(key, tuple) else [key]
    if any(p is Ellipsis for p in parts):
        i = next(i for i, p in enumerate(parts) if p is Ellipsis)
        fill = [slice(None)] * (len(shape) - (len(parts) - 1))
        parts = parts[:i] + fill + parts[i + 1 :]
    if len(parts) > len(shape):
        raise IndexError(
            f"too many indices for a dataset of {len(shape)} dimension(s): {len(parts)}"
        )
    parts += [slice(None)] * (len(shape) - len(parts))
    start, count, local = [], [], []
    for k, n in zip(parts, shape):
        if isinstance(k, slice):
            idx = range(*k.indices(n))
            if len(idx) == 0:
                start.append(0)
                count.append(0)
                local.append(slice(0, 0))
                continue
            lo, hi = min(idx[0], idx[-1]), max(idx[0], idx[-1])
            start.append(lo)
            count.append(hi - lo + 1)
            if idx.step == 1:
                local.append(slice(None))
            else:
                local.append(np.asarray(idx, dtype=np.int64) - lo)
        elif _is_int(k):
            i = _check_int(k, n, "dataset")
            i = i + n if i < 0 else i
            start.append(i)
            count.append(1)
            local.append(0)
        else:
            a = np.asarray(k)
            if a.dtype == bool:
                if a.shape != (n,):
                    raise IndexError(f"boolean index of shape {a.shape} for an axis of {n}")
                a = np.nonzero(a)[0]
            a = _array(a, n, "dataset").ravel()
            a = np.where(a < 0, a + n, a)
            if a.size == 0:
                start.append(0)
                count.append(0)
                local.append(a)
                continue
            lo, hi = int(a.min()), int(a.max())
            start.append(lo)
            count.append(hi - lo + 1)
            local.append(a - lo)
    return start, count, tuple(local)


def element_count(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def take(slab: np.ndarray, local) -> np.ndarray:
    """Applies the per-axis ``local`` indices of :func:`hyperslab` to the
    slab, outer-wise (each axis on its own), dropping integer axes."""
    out = slab
    for axis in reversed(range(len(local))):
        k = local[axis]
        if isinstance(k, slice):
            continue
        out = np.take(out, k, axis=axis)
    return out
