"""Ops 1-6 of issue 6 through the ``h5sparse slice`` command line, each run a
whole process: wall time from spawn to exit and the process's peak resident
set (GNU time's ``%M``; ``ru_maxrss`` from ``wait4`` without it, which
includes Python's own), one JSON line per operation, the same
fields as the in-process drivers (system ``h5sparse CLI``).

    python bench/cli_bench.py --bin target/release/h5sparse --file F \\
        --sel selections.json --ops 1,2,3,4,5,6 [--runs 5] [--tmp DIR]

Every operation prints the default ``--to summary``, whose ``nnz`` line is
the ``check`` field. Op 1 is one process given the 20 blocks' 20,000 rows as
an index list (``--rows @FILE``); op 3 the mask as a file of 0s and 1s;
op 5 one process per element (``--rows R --cols C``), the first
``--op5-limit`` elements timed and scaled to all 1000, as for anndata.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path


# A process spawned straight from Python reports Python's own resident set
# (~15 MB) as its peak: Linux carries the parent's peak over exec. GNU time
# is small and reports the command's own peak (%M, kB) through a file.
GNU_TIME = "/usr/bin/time"


def run_once(argv, rss_file=None):
    """Wall seconds, peak RSS in MB and stdout of one process. With
    `rss_file`, the process runs under GNU time for its peak RSS (and the
    time includes GNU time's own start, ~1 ms)."""
    use_time = rss_file is not None and os.path.exists(GNU_TIME)
    wrapped = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] + argv if use_time else argv
    t0 = time.perf_counter()
    p = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {code}: {err.decode()[:300]}")
    peak_kb = int(rss_file.read_text().split()[-1]) if use_time else ru.ru_maxrss
    return dt, peak_kb / 1024.0, out.decode()


def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ": "):
            return line.split(": ", 1)[1]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--sel", required=True)
    ap.add_argument("--ops", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget-s", type=float, default=120.0)
    ap.add_argument("--op5-limit", type=int, default=1000)
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--group", default="/X")
    a = ap.parse_args()

    med = json.loads(Path(a.sel).read_text())["medium"]
    name = os.path.basename(a.file)
    tmp = Path(a.tmp) / f"cli-bench-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    block = med["op1_block_len"]
    op1 = tmp / "op1_rows.txt"
    op1.write_text("".join(f"{r}\n" for s in med["op1_block_starts"] for r in range(s, s + block)))
    op2 = tmp / "op2_rows.txt"
    op2.write_text("".join(f"{r}\n" for r in med["op2_rows"]))
    mask = bytearray(b"0" * med["shape"][0])
    for r in med["op3_mask_rows"]:
        mask[r] = ord("1")
    op3 = tmp / "op3_mask.txt"
    op3.write_bytes(bytes(mask) + b"\n")
    c0, c1 = med["op4_cols"]
    points = med["op5_points"]
    rss = tmp / "peak_rss_kb"
    base = [a.bin, "slice", a.file, a.group]
    argv = {
        "1": base + ["--rows", f"@{op1}"],
        "2": base + ["--rows", f"@{op2}"],
        "3": base + ["--rows", f"@{op3}"],
        "4": base + ["--cols", f"{c0}:{c1}"],
        "6": base,
    }

    for op in a.ops.split(","):
        times, peaks, check, note = [], [], None, None
        # Timed runs spawn the binary directly; one more run under GNU time
        # gives the peak RSS.
        if op == "5":
            r, c = points[0]
            peaks.append(run_once(base + ["--rows", str(r), "--cols", str(c)], rss)[1])
        else:
            peaks.append(run_once(argv[op], rss)[1])
        for _ in range(max(a.runs, 1)):
            if op == "5":
                k = min(a.op5_limit, len(points))
                dt, found = 0.0, 0
                for r, c in points[:k]:
                    t, _, out = run_once(base + ["--rows", str(r), "--cols", str(c)])
                    dt += t
                    found += float(field(out, "sum") or 0) != 0
                dt *= len(points) / k
                if k < len(points):
                    note = f"one process per element, timed on {k} of {len(points)}, scaled"
                else:
                    check = found
            else:
                dt, _, out = run_once(argv[op])
                check = int(field(out, "nnz"))
            times.append(dt)
            if dt > a.budget_s:
                break
        rec = {"system": "h5sparse CLI", "op": op, "file": name,
               "median_s": statistics.median(times), "runs": len(times),
               "peak_rss_mb": round(max(peaks), 2), "check": check}
        if note:
            rec["note"] = note
        print(json.dumps(rec), flush=True)
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
