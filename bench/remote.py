"""Sparse reads over loopback HTTP (issue 14): h5sparse's HTTP source against
fsspec + h5py through anndata's ``sparse_dataset`` (what anndata users do with
a remote ``.h5ad``), both reading the same file from the same nginx.

    .venv/bin/python bench/remote.py [--runs 3] [--fsspec-runs 1]

Needs ``bench/.cache/medium_anndata.h5ad`` and ``selections.json``
(``bench/gen-data``), ``target/release/examples/remote_bench``
(``cargo build --release --example remote_bench``), nginx
(``scripts/setup-system``) and fsspec + aiohttp (pinned in
``fixtures/requirements.txt``, installed by ``scripts/setup-python``).

Operations: ``open`` (open the file and ``/X``), ``2`` (2000 random rows) and
``4`` (``X[:, 100:200]``), with the selections of ``bench/compare``. Every run
opens the URL afresh. Requests and bytes are counted from nginx's access log
(per run); times are medians of the runs. Prints one JSON line per system and
operation, then a table. nginx runs one worker with ``sendfile on`` (as Debian's
packaged configuration and any production static server has it).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

root = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx on 127.0.0.1 serving ``www``, logging each request's bytes."""

    def __init__(self, www: Path):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.dir = Path(tempfile.mkdtemp(prefix="h5sparse-bench-nginx-"))
        (self.dir / "tmp").mkdir()
        self.port = free_port()
        d = self.dir
        (d / "nginx.conf").write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format ranges "$request\\t$status\\t$body_bytes_sent\\t$http_range";
    access_log {d}/access.log ranges;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 100000;
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{self.port};
        root {www};
        location / {{ }}
    }}
}}
""")
        self.proc = subprocess.Popen([binary, "-c", str(d / "nginx.conf"), "-p", str(d)],
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit("bench/remote: nginx did not start")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def log(self):
        text = (self.dir / "access.log").read_text() if (self.dir / "access.log").exists() else ""
        rows = [line.split("\t") for line in text.splitlines()]
        return [(r[0], int(r[1]), int(r[2])) for r in rows if len(r) >= 3]

    def settled_log(self):
        """The log once it stops growing (nginx writes a line after each
        response)."""
        last = -1
        while True:
            log = self.log()
            if len(log) == last:
                return log
            last = len(log)
            time.sleep(0.2)

    def clear(self):
        with open(self.dir / "access.log", "a") as f:
            f.truncate(0)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def counted(srv: Nginx, runs: int):
    log = srv.settled_log()
    bad = [r for r in log if r[1] not in (200, 206)]
    if bad:
        sys.exit(f"bench/remote: failed requests {bad[:3]}")
    return len(log) / runs, sum(r[2] for r in log) / runs


def ours(srv, url, sel, op, runs):
    exe = root / "target/release/examples/remote_bench"
    srv.clear()
    out = subprocess.run([str(exe), "--url", url, "--sel", str(sel), "--ops", op,
                          "--runs", str(runs)], check=True, capture_output=True, text=True)
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    requests, nbytes = counted(srv, rec["runs"])
    # The source's own counters must agree with the server's log.
    assert abs(requests - rec["requests"]) < 1e-6, (requests, rec)
    rec["requests"], rec["bytes"] = requests, nbytes
    return rec


def fsspec_h5py(srv, url, sel, op, runs):
    import fsspec
    import h5py
    import numpy as np
    from anndata.io import sparse_dataset

    med = json.loads(Path(sel).read_text())["medium"]
    rows = np.array(med["op2_rows"], dtype=np.int64)
    c0, c1 = med["op4_cols"]
    srv.clear()
    times = []
    check = None
    for _ in range(runs):
        t = time.perf_counter()
        with fsspec.open(url, "rb") as raw, h5py.File(raw, "r") as f:
            x = sparse_dataset(f["X"])
            if op == "open":
                check = int(x.group["data"].shape[0])
            elif op == "2":
                check = int(x[rows].nnz)
            elif op == "4":
                check = int(x[:, c0:c1].nnz)
        times.append(time.perf_counter() - t)
    requests, nbytes = counted(srv, runs)
    times.sort()
    return {"system": "fsspec+h5py (anndata sparse_dataset)", "op": op, "url": url,
            "median_s": times[len(times) // 2], "runs": runs, "requests": requests,
            "bytes": nbytes, "check": check}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fsspec-runs", type=int, default=1)
    ap.add_argument("--ops", default="open,2,4")
    a = ap.parse_args()
    cache = Path(os.environ.get("H5SPARSE_BENCH_CACHE", root / "bench/.cache"))
    name = "medium_anndata.h5ad"
    sel = cache / "selections.json"
    if not (cache / name).exists() or not sel.exists():
        sys.exit(f"bench/remote: {cache / name} or {sel} missing: run bench/gen-data")
    srv = Nginx(cache)
    results = []
    try:
        url = srv.url(name)
        for op in a.ops.split(","):
            r = ours(srv, url, sel, op, a.runs)
            print(json.dumps(r), flush=True)
            p = fsspec_h5py(srv, url, sel, op, a.fsspec_runs)
            print(json.dumps(p), flush=True)
            if r["check"] != p["check"]:
                sys.exit(f"bench/remote: op {op}: h5sparse found {r['check']}, fsspec {p['check']}")
            results.append((op, r, p))
    finally:
        srv.stop()
    print("\n| op | h5sparse: requests, MB, s | fsspec + h5py: requests, MB, s | bytes | time |")
    print("|---|---|---|---|---|")
    for op, r, p in results:
        mb = lambda x: x["bytes"] / 1e6  # noqa: E731
        print(f"| {op} | {r['requests']:.0f}, {mb(r):.1f}, {r['median_s']:.3f} "
              f"| {p['requests']:.0f}, {mb(p):.1f}, {p['median_s']:.2f} "
              f"| {mb(p) / max(mb(r), 1e-9):.1f}x fewer | {p['median_s'] / r['median_s']:.1f}x faster |")


if __name__ == "__main__":
    main()
