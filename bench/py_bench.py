"""The operations of issue 6 with anndata's ``sparse_dataset`` or with plain
h5py by hand, timed in process (imports and file opening excluded), one JSON
line per operation, the same fields as ``examples/bench.rs``:
``{"system", "op", "file", "median_s", "runs", "peak_rss_mb", "check"}``.

    .venv/bin/python bench/py_bench.py --system anndata|h5py --file F \
        --sel selections.json --ops 1,2,... [--runs N] [--tmp DIR]

The operation ids and their selections are those of ``examples/bench.rs``.
``h5py`` is what a careful user writes by hand: read ``indptr``, then slice
``data``/``indices`` per run of consecutive rows. ``peak_rss_mb`` is the
growth of the peak resident set over the operation's runs (reset through
``/proc/self/clear_refs`` first).
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import scipy.sparse as sp


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def split_rss(read):
    """Growth of allocated (RssAnon) and file-mapped (RssFile) resident
    memory while the result of the first `read` is held, in MB."""
    a0, f0 = status_kb("RssAnon:"), status_kb("RssFile:")
    held = read()
    a1, f1 = status_kb("RssAnon:"), status_kb("RssFile:")
    del held
    return {"anon_mb": round((a1 - a0) / 1024, 2), "file_mb": round((f1 - f0) / 1024, 2)}


def measure(runs, budget, op, prepare=None):
    reset_peak()
    base = status_kb("VmRSS:")
    times = []
    check = 0
    for _ in range(max(runs, 1)):
        state = prepare() if prepare else None
        t = time.perf_counter()
        check = op(state) if prepare else op()
        dt = time.perf_counter() - t
        times.append(dt)
        if dt > budget:
            break
    peak = max(status_kb("VmHWM:") - base, 0)
    return float(np.median(times)), len(times), peak / 1024.0, int(check)


# --- plain h5py, by hand ---------------------------------------------------


class ByHand:
    """A CSR group read with h5py only."""

    def __init__(self, g):
        self.g = g
        self.data = g["data"]
        self.indices = g["indices"]
        self.indptr = g["indptr"]
        attrs = g.attrs
        shape = attrs["shape"] if "shape" in attrs else attrs["h5sparse_shape"]
        self.shape = tuple(int(s) for s in shape)

    def rows(self, rows) -> sp.csr_matrix:
        """Rows (sorted or not), each run of consecutive rows one slice."""
        rows = np.asarray(rows, dtype=np.int64)
        indptr = self.indptr[:]
        datas, idxs = [], []
        counts = indptr[rows + 1] - indptr[rows]
        i = 0
        while i < len(rows):
            j = i + 1
            while j < len(rows) and rows[j] == rows[j - 1] + 1:
                j += 1
            lo, hi = indptr[rows[i]], indptr[rows[j - 1] + 1]
            datas.append(self.data[lo:hi])
            idxs.append(self.indices[lo:hi])
            i = j
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        data = np.concatenate(datas) if datas else np.zeros(0, self.data.dtype)
        idx = np.concatenate(idxs) if idxs else np.zeros(0, self.indices.dtype)
        return sp.csr_matrix((data, idx, ptr), shape=(len(rows), self.shape[1]))

    def block(self, start, stop) -> sp.csr_matrix:
        ptr = self.indptr[start : stop + 1]
        lo, hi = ptr[0], ptr[-1]
        return sp.csr_matrix(
            (self.data[lo:hi], self.indices[lo:hi], ptr - lo), shape=(stop - start, self.shape[1])
        )

    def cols(self, c0, c1) -> sp.csr_matrix:
        """X[:, c0:c1]: every index read, the kept values picked from data."""
        indptr = self.indptr[:]
        idx = self.indices[:]
        keep = (idx >= c0) & (idx < c1)
        pos = np.flatnonzero(keep)
        data = self.data[:][pos]
        rows = np.repeat(np.arange(self.shape[0]), np.diff(indptr))[pos]
        return sp.csr_matrix((data, (rows, idx[pos] - c0)), shape=(self.shape[0], c1 - c0))

    def get(self, r, c):
        lo, hi = self.indptr[r : r + 2]
        idx = self.indices[lo:hi]
        k = np.searchsorted(idx, c)
        if k < len(idx) and idx[k] == c:
            return self.data[lo + k]
        return 0

    def full(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data[:], self.indices[:], self.indptr[:]), shape=self.shape)


def write_by_hand(path, m, gzip):
    kw = dict(maxshape=(None,), chunks=True)
    if gzip:
        kw["compression"] = "gzip"
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        for key in ("data", "indices", "indptr"):
            g.create_dataset(key, data=getattr(m, key), **kw)
        g.attrs["h5sparse_format"] = "csr"
        g.attrs["h5sparse_shape"] = np.array(m.shape, dtype=np.int64)


def append_by_hand(g, m):
    nnz_old = int(g["indptr"][-1])
    n = len(g["indptr"])
    for key, arr in (("data", m.data), ("indices", m.indices), ("indptr", m.indptr[1:] + nnz_old)):
        ds = g[key]
        old = n if key == "indptr" else nnz_old
        ds.resize((old + len(arr),))
        ds[old:] = arr
    key = "shape" if "shape" in g.attrs else "h5sparse_shape"
    shape = g.attrs[key]
    g.attrs[key] = np.array([shape[0] + m.shape[0], shape[1]], dtype=np.int64)


# --- the operations ----------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", choices=["anndata", "h5py"], required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--sel", required=True)
    ap.add_argument("--ops", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--group", default="X")
    ap.add_argument("--budget-s", type=float, default=120.0)
    ap.add_argument("--op5-limit", type=int, default=1000)
    a = ap.parse_args()

    sel = json.loads(Path(a.sel).read_text())
    med, ones = sel["medium"], sel["ones"]
    name = os.path.basename(a.file)
    tmp = Path(a.tmp) / f"py-bench-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)

    if a.system == "anndata":
        from anndata.io import sparse_dataset, write_elem
    f = h5py.File(a.file, "r")

    def reader():
        if a.system == "anndata":
            return sparse_dataset(f[a.group])
        return ByHand(f[a.group])

    x = reader()
    block = med["op1_block_len"]
    starts = med["op1_block_starts"]
    rows2 = np.array(med["op2_rows"], dtype=np.int64)
    n_rows = x.shape[0]
    mask = np.zeros(n_rows, dtype=bool)
    if "3" in a.ops.split(","):
        mask[np.array(med["op3_mask_rows"], dtype=np.int64)] = True
    c0, c1 = med["op4_cols"]
    points = med["op5_points"]

    def emit(op, res, note=None, extra=None):
        median, runs, peak, check = res
        rec = dict(extra or {})
        rec |= {"system": a.system, "op": op, "file": name, "median_s": median, "runs": runs,
               "peak_rss_mb": round(peak, 2), "check": check if check >= 0 else None}
        if note:
            rec["note"] = note
        print(json.dumps(rec), flush=True)

    for op in a.ops.split(","):
        m = lambda fn, prepare=None: measure(a.runs, a.budget_s, fn, prepare)  # noqa: E731
        note = None
        extra = None
        if a.system == "anndata":
            if op == "1":
                res = m(lambda: sum(x[s : s + block].nnz for s in starts))
            elif op == "2":
                res = m(lambda: x[rows2].nnz)
            elif op == "3":
                res = m(lambda: x[mask].nnz)
            elif op == "4":
                res = m(lambda: x[:, c0:c1].nnz)
            elif op == "5":
                def one(r, c):
                    v = x[r, c]  # a numpy scalar in anndata 0.12, a 1x1 matrix before
                    return v.toarray()[0, 0] if sp.issparse(v) else v

                # anndata reads a whole row per element, ~0.2 s each here:
                # the first --op5-limit points are timed and scaled to all.
                k = min(a.op5_limit, len(points))
                t = m(lambda: sum(int(one(r, c) != 0) for r, c in points[:k]))
                res = (t[0] * len(points) / k, t[1], t[2], -1)
                if k < len(points):
                    note = f"timed on {k} of {len(points)} elements, scaled"
            elif op == "6":
                res = m(lambda: x.to_memory().nnz)
            elif op in ("7", "7-gzip"):
                full = x.to_memory()
                out = tmp / "write.h5"
                kw = {"compression": "gzip"} if op == "7-gzip" else {}

                def write():
                    with h5py.File(out, "w") as g:
                        write_elem(g, "X", full, dataset_kwargs=kw)
                    return out.stat().st_size

                res = m(write)
                del full
            elif op == "8":
                new = x[med["op8_append_rows"][0] : med["op8_append_rows"][1]]
                copy = tmp / f"append-{name}"

                def prep():
                    shutil.copyfile(a.file, copy)

                def app(_):
                    with h5py.File(copy, "r+") as g:
                        sparse_dataset(g[a.group]).append(new)
                    return new.nnz

                res = m(app, prep)
            elif op == "9-slice":
                s0, s1 = ones["op9_slice"]
                extra = split_rss(lambda: x[s0:s1])
                res = m(lambda: x[s0:s1].nnz)
            elif op == "9-list":
                r9 = np.array(ones["op9_rows"])
                extra = split_rss(lambda: x[r9])
                res = m(lambda: x[r9].nnz)
            else:
                sys.exit(f"unknown op {op}")
        else:
            if op == "1":
                res = m(lambda: sum(x.block(s, s + block).nnz for s in starts))
            elif op == "2":
                res = m(lambda: x.rows(rows2).nnz)
            elif op == "3":
                res = m(lambda: x.rows(np.flatnonzero(mask)).nnz)
            elif op == "4":
                res = m(lambda: x.cols(c0, c1).nnz)
            elif op == "5":
                res = m(lambda: sum(int(x.get(r, c) != 0) for r, c in points))
            elif op == "6":
                res = m(lambda: x.full().nnz)
            elif op in ("7", "7-gzip"):
                full = x.full()
                out = tmp / "write.h5"

                def write():
                    write_by_hand(out, full, op == "7-gzip")
                    return out.stat().st_size

                res = m(write)
                del full
            elif op == "8":
                r0, r1 = med["op8_append_rows"]
                new = x.block(r0, r1)
                copy = tmp / f"append-{name}"

                def prep():
                    shutil.copyfile(a.file, copy)

                def app(_):
                    with h5py.File(copy, "r+") as g:
                        append_by_hand(g[a.group], new)
                    return new.nnz

                res = m(app, prep)
            elif op == "9-slice":
                s0, s1 = ones["op9_slice"]
                extra = split_rss(lambda: x.block(s0, s1))
                res = m(lambda: x.block(s0, s1).nnz)
            elif op == "9-list":
                extra = split_rss(lambda: x.rows(ones["op9_rows"]))
                res = m(lambda: x.rows(ones["op9_rows"]).nnz)
            else:
                sys.exit(f"unknown op {op}")
        emit(op, res, note, extra)
    f.close()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
