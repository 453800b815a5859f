"""h5sparse_rs.to_dask against anndata's own dask path (read_elem_lazy) on a
dask.distributed LocalCluster of 1, 2 and 4 worker processes: per-gene sums
over all cells of the medium matrix and of a 4x concatenation of it.

    .venv/bin/python bench/python_dask.py [--workers 1,2,4] [--rows-per-block 5000]

Each (system, file, workers) runs on a fresh cluster; a worker's peak RSS
(VmHWM, reset before the runs) is that of its computations; time is the compute() wall time, warm page cache, best of 2.
The 4x file is written once into the cache directory by h5sparse_rs (CSR,
both attribute conventions, so anndata reads it too). Prints a markdown table.

Build and install the optimised wheel first: ``scripts/python-package build --release``
(the test command installs an unoptimised one).
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import h5sparse_rs as h5s


def cache() -> Path:
    d = os.environ.get("H5SPARSE_BENCH_CACHE")
    return Path(d) if d else Path(__file__).resolve().parent / ".cache"


def gene_sums(block):
    return np.asarray(block.sum(axis=0), dtype=np.float64)


def reset_peak():
    """Resets this process's peak RSS (VmHWM), Linux >= 4.0."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def concat4(src: Path, out: Path) -> None:
    if out.exists():
        return
    z = np.load(src)
    m = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
    with h5s.File(out, "w") as f:
        x = f.create_dataset("X", data=m)
        for _ in range(3):
            x.append(m)


def main():
    from dask.distributed import Client, LocalCluster

    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--rows-per-block", type=int, default=5000)
    ap.add_argument("--out-dir", default=None, help="where the 4x file goes (default: the cache)")
    a = ap.parse_args()
    c = cache()
    medium = c / "medium_anndata.h5ad"
    big = Path(a.out_dir or c) / "medium_x4_h5sparse_rs.h5ad"
    concat4(c / "medium.npz", big)

    with h5s.File(medium) as f:
        expected = gene_sums(f["X"][:]).ravel()

    def ours(path):
        with h5s.File(path) as f:
            x = h5s.to_dask(f["X"], rows_per_block=a.rows_per_block)
        return x

    def theirs(path):
        import anndata
        import h5py

        hf = h5py.File(path, "r")
        return anndata.experimental.read_elem_lazy(hf["X"], chunks=(a.rows_per_block, -1))

    print("| workers | file | h5sparse_rs.to_dask | peak RSS per worker | anndata read_elem_lazy | peak RSS per worker | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n in [int(w) for w in a.workers.split(",")]:
        for label, path in [("medium (50k × 20k, 50 M values)", medium), ("4× concatenation (200k rows)", big)]:
            cells = []
            for system in (ours, theirs):
                best = None
                with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit=None) as cl, Client(cl) as client:
                    x = system(path)
                    s = x.map_blocks(gene_sums, chunks=(1, x.shape[1]), dtype=np.float64).sum(axis=0)
                    client.run(reset_peak)
                    for _ in range(2):
                        t0 = time.perf_counter()
                        got = s.compute()
                        dt = time.perf_counter() - t0
                        best = dt if best is None else min(best, dt)
                    if path == medium:
                        np.testing.assert_allclose(got, expected, rtol=1e-4)
                    rss = client.run(peak_rss_mb)
                cells.append((best, max(rss.values())))
            (t1, m1), (t2, m2) = cells
            print(f"| {n} | {label} | {t1:.2f} s | {m1:.0f} MB | {t2:.2f} s | {m2:.0f} MB | {t2 / t1:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
