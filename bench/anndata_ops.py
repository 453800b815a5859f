"""Issue 12's whole-file operations side by side: `h5sparse subset`, `concat`
and `convert` against what an anndata/scanpy user runs for the same result,
each a whole process timed from spawn to exit with its peak resident set
(GNU time's %M), on the 50,000 x 20,000 medium matrix (bench/gen_data.py).

    python bench/anndata_ops.py --bin target/release/h5sparse [--runs 3] [--ops subset,concat,convert]
        [--variant 'no-sync=target/release/h5sparse --no-sync'] [--variant 'old=/tmp/old-h5sparse']
        [--workdir NAME=DIR] [--xfs 4G]

Each `--variant NAME=BIN [ARGS]` runs the same h5sparse commands with
another binary and/or extra arguments after the subcommand's own, in the
same run (side by side with `--bin` and the peer), as a row of its own.

`--workdir NAME=DIR` runs everything again with the inputs (hard-linked, or
copied from another file system) and outputs in DIR, rows marked [NAME];
`--xfs SIZE` does so on an XFS image with reflink that bench/xfs-image makes
on a loop device and removes at the end (root, xfsprogs), where concat
shares its inputs' blocks instead of copying them.

Inputs (built once into the bench cache, reused while their parameters hold):
- medium_annotated.h5ad: the medium X with obs (cell_type: 10 categories,
  round-robin, so `cell_type==c3` is 10% of the cells; n_counts) and var
  (gene_ids), written by anndata.
- medium_10x.h5: the same counts in Cell Ranger 3's layout (features x
  barcodes CSC = cells x genes CSR), for `convert`.

Operations (the anndata side as its docs suggest for files it cannot load):
- subset: `h5sparse subset IN OUT --obs 'cell_type==c3'` vs
  `read_h5ad(IN, backed='r')`, `a[a.obs.cell_type == 'c3'].to_memory().write_h5ad(OUT)`.
- concat: 4 copies of IN, `h5sparse concat A B C D -o OUT --index-unique -`
  vs `anndata.experimental.concat_on_disk([A, B, C, D], OUT, index_unique='-')`.
- convert: `h5sparse convert medium_10x.h5 OUT.h5ad` vs
  `scanpy.read_10x_h5(IN).write_h5ad(OUT)`.

Each result is checked (shape and stored values of X through h5py) before
its time counts. One JSON line per (system, op), then a markdown table.
"""

import argparse
import json
import shlex
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_data  # noqa: E402

GNU_TIME = "/usr/bin/time"
N_TYPES = 10


def run_once(argv, tmp: Path):
    """Wall seconds and peak RSS (MB) of one process under GNU time."""
    rss = tmp / "rss.txt"
    t0 = time.perf_counter()
    p = subprocess.run([GNU_TIME, "-f", "%M", "-o", str(rss)] + argv,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.decode()[-500:]}")
    return dt, int(rss.read_text().split()[-1]) / 1024.0


def x_summary(path: Path):
    """(shape, nnz) of X, read by h5py."""
    import h5py

    with h5py.File(path, "r") as f:
        x = f["X"]
        shape = tuple(int(v) for v in x.attrs["shape"])
        return shape, int(x["data"].shape[0])


def annotated(d: Path) -> Path:
    import anndata
    import numpy as np
    import pandas as pd

    path = d / "medium_annotated.h5ad"
    params = dict(gen_data.medium_params(), what="annotated", n_types=N_TYPES)
    if gen_data.params_ok(path, params):
        return path
    m = gen_data.load_or_make_medium(d)
    n, g = m.shape
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical([f"c{i % N_TYPES}" for i in range(n)]),
         "n_counts": np.asarray(m.sum(axis=1)).ravel()},
        index=[f"cell{i}" for i in range(n)])
    var = pd.DataFrame({"gene_ids": [f"ENSG{i:07d}" for i in range(g)]},
                       index=[f"gene{i}" for i in range(g)])
    tmp = path.with_name(path.name + ".tmp")
    anndata.AnnData(X=m, obs=obs, var=var).write_h5ad(tmp)
    gen_data.finish(tmp, path, params)
    return path


def tenx(d: Path) -> Path:
    import h5py
    import numpy as np

    path = d / "medium_10x.h5"
    params = dict(gen_data.medium_params(), what="10x v3")
    if gen_data.params_ok(path, params):
        return path
    m = gen_data.load_or_make_medium(d)
    n, g = m.shape
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["filetype"] = "matrix"
        f.attrs["version"] = 2
        mat = f.create_group("matrix")
        # Cell Ranger's counts are integers stored as int32.
        mat.create_dataset("data", data=np.ceil(m.data).astype(np.int32), compression="gzip",
                           chunks=(80000,))
        mat.create_dataset("indices", data=m.indices.astype(np.int64), compression="gzip",
                           chunks=(80000,))
        mat.create_dataset("indptr", data=m.indptr.astype(np.int64))
        mat.create_dataset("shape", data=np.array([g, n], dtype=np.int32))
        mat.create_dataset("barcodes", data=np.array([f"AAAC{i:08d}-1" for i in range(n)], dtype="S"))
        feat = mat.create_group("features")
        feat.create_dataset("id", data=np.array([f"ENSG{i:07d}" for i in range(g)], dtype="S"))
        feat.create_dataset("name", data=np.array([f"GENE{i}" for i in range(g)], dtype="S"))
        feat.create_dataset("feature_type", data=np.array([b"Gene Expression"] * g))
        feat.create_dataset("genome", data=np.array([b"GRCh38"] * g))
        feat.create_dataset("_all_tag_keys", data=np.array([b"genome"]))
    gen_data.finish(tmp, path, params)
    return path


PY_SUBSET = """
import sys, anndata
a = anndata.read_h5ad(sys.argv[1], backed="r")
a[a.obs["cell_type"] == "c3"].to_memory().write_h5ad(sys.argv[2])
"""
PY_CONCAT = """
import sys, anndata.experimental as ex
ex.concat_on_disk(sys.argv[2:], sys.argv[1], index_unique="-")
"""
PY_CONVERT = """
import sys, warnings, scanpy as sc
warnings.simplefilter("ignore")
sc.read_10x_h5(sys.argv[1]).write_h5ad(sys.argv[2])
"""


def place_inputs(work: Path, src: Path, ten: Path, with_ten: bool):
    """The inputs under `work`: `src` once (hard-linked where it lies on
    the same file system, copied otherwise) and under four names for
    concat, `ten` when convert runs."""
    def link(a: Path, b: Path):
        try:
            os.link(a, b)  # the same bytes under another name
        except OSError:
            subprocess.run(["cp", str(a), str(b)], check=True)

    local = work / src.name
    link(src, local)
    copies = []
    for k in "abcd":
        c = work / f"part_{k}.h5ad"
        link(local, c)
        copies.append(str(c))
    local_ten = ten
    if with_ten:
        local_ten = work / ten.name
        link(ten, local_ten)
    return local, local_ten, copies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ops", default="subset,concat,convert")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=BIN [ARGS]: also run h5sparse as BIN with ARGS appended")
    ap.add_argument("--workdir", action="append", default=[],
                    help="NAME=DIR: also run every op with its inputs and outputs in DIR "
                         "(another file system), rows marked [NAME]")
    ap.add_argument("--xfs", metavar="SIZE",
                    help="also run on an XFS image with reflink of SIZE (e.g. 4G) that "
                         "bench/xfs-image makes on a loop device (root), rows marked [xfs]")
    args = ap.parse_args()
    d = gen_data.cache_dir()
    py = sys.executable
    src = annotated(d)
    ten = tenx(d)
    places = [("", d)]
    for w in args.workdir:
        name, _, path = w.partition("=")
        if not name or not path:
            raise SystemExit(f"--workdir {w!r}: expected NAME=DIR")
        places.append((name, Path(path)))
    xfs_dir = None
    if args.xfs:
        xfs_dir = Path(tempfile.mkdtemp(prefix="h5sparse-xfs-", dir=d))
        script = Path(__file__).resolve().parent / "xfs-image"
        mnt = subprocess.run([str(script), "up", str(xfs_dir), args.xfs], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip()
        places.append(("xfs", Path(mnt)))
    try:
        results = []
        for place, root in places:
            results += run_place(args, py, src, ten, place, root)
    finally:
        if xfs_dir is not None:
            subprocess.run([str(Path(__file__).resolve().parent / "xfs-image"), "down",
                            str(xfs_dir)])
            subprocess.run(["rm", "-rf", str(xfs_dir)])
    print()
    print("| operation | h5sparse s | peer s | speed-up | h5sparse peak RSS MB | peer peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for place, _ in places:
        mark = f" [{place}]" if place else ""
        for op in args.ops.split(","):
            rows = [r for r in results if r["op"] == op and r["place"] == place]
            peer = next(r for r in rows if not r["system"].startswith("h5sparse"))
            for ours in (r for r in rows if r["system"].startswith("h5sparse")):
                label = op if ours["system"] == "h5sparse" else f"{op}, {ours['system']}"
                print(f"| {label}{mark} (vs {peer['system']}) | {ours['median_s']:.2f} | "
                      f"{peer['median_s']:.2f} | {peer['median_s'] / ours['median_s']:.1f}x | "
                      f"{ours['peak_rss_mb']:.0f} | {peer['peak_rss_mb']:.0f} |")


def run_place(args, py, src: Path, ten: Path, place: str, root: Path):
    """Every op with its inputs and outputs under `root`; one result per
    (op, system)."""
    work = Path(tempfile.mkdtemp(prefix="h5sparse-anndata-ops-", dir=root))
    try:
        src, ten, copies = place_inputs(work, src, ten, "convert" in args.ops.split(","))
        return run_ops(args, py, src, ten, copies, work, place)
    finally:
        subprocess.run(["rm", "-rf", str(work)])


def run_ops(args, py, src: Path, ten: Path, copies, work: Path, place: str):
    out = work / "out.h5ad"
    ops = {
        "subset": {
            "h5sparse": [args.bin, "--quiet", "subset", str(src), str(out), "--obs", "cell_type==c3"],
            "anndata": [py, "-c", PY_SUBSET, str(src), str(out)],
        },
        "concat": {
            "h5sparse": [args.bin, "--quiet", "concat", *copies, "-o", str(out), "--index-unique", "-"],
            "anndata": [py, "-c", PY_CONCAT, str(out), *copies],
        },
        "convert": {
            "h5sparse": [args.bin, "--quiet", "convert", str(ten), str(out)],
            "scanpy": [py, "-c", PY_CONVERT, str(ten), str(out)],
        },
    }
    # Variants: the h5sparse command with another binary and/or extra
    # arguments, run right after it (before the peer).
    variants = []
    for v in args.variant:
        name, _, rest = v.partition("=")
        words = shlex.split(rest)
        if not name or not words:
            raise SystemExit(f"--variant {v!r}: expected NAME=BIN [ARGS]")
        variants.append((name, words[0], words[1:]))
    for op, systems in ops.items():
        ours = systems.pop("h5sparse")
        peer = list(systems.items())
        systems.clear()
        systems["h5sparse"] = ours
        for name, binary, extra in variants:
            systems[f"h5sparse {name}"] = [binary] + ours[1:] + extra
        systems.update(peer)
    results = []
    for op in args.ops.split(","):
        checks = {}
        for system, argv in ops[op].items():
            times, peaks = [], []
            for _ in range(args.runs):
                if out.exists():
                    out.unlink()
                dt, peak = run_once(argv, work)
                times.append(dt)
                peaks.append(peak)
                checks[system] = x_summary(out)
            r = {"op": op, "place": place, "system": system,
                 "median_s": statistics.median(times), "times_s": times,
                 "peak_rss_mb": max(peaks), "x": checks[system]}
            print(json.dumps(r), flush=True)
            results.append(r)
        if len(set(map(str, checks.values()))) != 1:
            raise SystemExit(f"{op}: results differ: {checks}")
    if out.exists():
        out.unlink()
    return results


if __name__ == "__main__":
    main()
