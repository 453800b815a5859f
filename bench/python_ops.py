"""The Python package (h5sparse_rs) side by side with anndata's sparse_dataset
and the h5sparse package on PyPI, on the medium benchmark files; then Python
threads reading random rows (the scaling libhdf5's global lock prevents).

    .venv/bin/python bench/python_ops.py [--runs 3] [--threads 4]

Files and selections come from bench/gen-data (``H5SPARSE_BENCH_CACHE``,
default bench/.cache): the operations are those of bench/compare, on the same
selections. Each cell is the median of --runs runs, page cache warm. Prints a
markdown table for bench/RESULTS.md.

Build and install the optimised wheel first: ``scripts/python-package build --release``
(the test command installs an unoptimised one).
"""

import argparse
import json
import os
import statistics
import threading
import time
from pathlib import Path

import numpy as np

import anndata
import h5py
import h5sparse
import h5sparse_rs as h5s


def cache() -> Path:
    d = os.environ.get("H5SPARSE_BENCH_CACHE")
    return Path(d) if d else Path(__file__).resolve().parent / ".cache"


def timed(fn, runs):
    fn()  # warm
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def fmt(s):
    if s is None:
        return "–"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def ops(sel):
    starts, blen = sel["op1_block_starts"], sel["op1_block_len"]
    rows = np.array(sel["op2_rows"])
    mask = np.zeros(sel["shape"][0], dtype=bool)
    mask[sel["op3_mask_rows"]] = True
    c0, c1 = sel["op4_cols"]
    points = sel["op5_points"]
    return starts, blen, rows, mask, (c0, c1), points


def bench_main_api(x, sel, runs, op5_limit):
    starts, blen, rows, mask, (c0, c1), points = ops(sel)
    k = min(op5_limit, len(points))

    def op5():
        for r, c in points[:k]:
            x[r, c]

    return {
        "1. 20 blocks of 1000 rows": timed(lambda: [x[s : s + blen] for s in starts], runs),
        "2. 2000 random rows": timed(lambda: x[rows], runs),
        "3. 10% row mask": timed(lambda: x[mask], runs),
        "4. X[:, 100:200]": timed(lambda: x[:, c0:c1], runs),
        "5. 1000 single elements": timed(op5, runs) * len(points) / k,
        "6. full read": timed(lambda: x[:], max(1, runs)),
    }


def bench_h5sparse_pkg(x, sel, runs):
    starts, blen, *_ = ops(sel)
    return {
        "1. 20 blocks of 1000 rows": timed(lambda: [x[s : s + blen] for s in starts], runs),
        "6. full read": timed(lambda: x[()], max(1, runs)),
    }


def threads_bench(read_rows, n_threads, batches, rng):
    """Wall time of `batches` reads of 200 random sorted rows, by one thread
    and by n_threads threads sharing them."""
    keys = [np.sort(rng.choice(50_000, 200, replace=False)) for _ in range(batches)]

    def run(parts):
        ts = [threading.Thread(target=lambda p=p: [read_rows(k) for k in p]) for p in parts]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - t0

    read_rows(keys[0])
    one = min(run([keys]) for _ in range(2))
    many = min(run([keys[i::n_threads] for i in range(n_threads)]) for _ in range(2))
    return one, many


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--op5-limit", type=int, default=20, help="points timed for anndata (scaled)")
    a = ap.parse_args()
    c = cache()
    sel = json.loads((c / "selections.json").read_text())["medium"]
    table = {}

    with h5s.File(c / "medium_anndata.h5ad") as f:
        table["h5sparse_rs (anndata file)"] = bench_main_api(f["X"], sel, a.runs, 1000)
    with h5s.File(c / "medium_h5sparse.h5") as f:
        table["h5sparse_rs (h5sparse file)"] = bench_main_api(f["X"], sel, a.runs, 1000)
    with h5py.File(c / "medium_anndata.h5ad") as f:
        table["anndata sparse_dataset"] = bench_main_api(
            anndata.io.sparse_dataset(f["X"]), sel, a.runs, a.op5_limit
        )
    with h5sparse.File(c / "medium_h5sparse.h5", "r") as f:
        table["h5sparse (PyPI)"] = bench_h5sparse_pkg(f["X"], sel, a.runs)

    systems = list(table)
    rows = list(table[systems[0]])
    base = table[systems[0]]
    print("| operation | " + " | ".join(systems) + " |")
    print("|---" * (len(systems) + 1) + "|")
    for op in rows:
        cells = []
        for s in systems:
            v = table[s].get(op)
            if v is None:
                cells.append("–")
            elif s == systems[0]:
                cells.append(fmt(v))
            else:
                cells.append(f"{fmt(v)} ({v / base[op]:.1f}×)")
        print(f"| {op} | " + " | ".join(cells) + " |")

    rng = np.random.default_rng(4)
    print()
    print(f"| {a.threads} Python threads, 400 reads of 200 random rows | 1 thread | {a.threads} threads | speed-up |")
    print("|---|---|---|---|")
    with h5s.File(c / "medium_anndata.h5ad") as f:
        x = f["X"]
        one, many = threads_bench(lambda k: x[k], a.threads, 400, rng)
        print(f"| h5sparse_rs | {fmt(one)} | {fmt(many)} | {one / many:.2f}× |")
    with h5py.File(c / "medium_anndata.h5ad") as f:
        x = anndata.io.sparse_dataset(f["X"])
        one, many = threads_bench(lambda k: x[k], a.threads, 400, rng)
        print(f"| anndata sparse_dataset (h5py) | {fmt(one)} | {fmt(many)} | {one / many:.2f}× |")


if __name__ == "__main__":
    main()
