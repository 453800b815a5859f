"""to_dask on a dask.distributed LocalCluster of worker processes: per-gene
sum and mean over all cells, and a row filter + sum, equal scipy's."""

import numpy as np
import pytest
import scipy.sparse as sp

import h5sparse_rs as h5s
from conftest import random_matrix

distributed = pytest.importorskip("distributed")


def gene_sums(block):
    return np.asarray(block.sum(axis=0))


def mapped(path):
    """Is ``path`` mapped into this (worker) process?"""
    with open("/proc/self/maps") as maps:
        return any(line.rstrip().endswith(path) for line in maps)


def opened_here():
    """The files to_dask's tasks opened in this (worker) process."""
    from h5sparse_rs import dask as hd

    return sorted(hd._OPEN)


def filtered_gene_sums(block, threshold):
    keep = np.asarray(block.sum(axis=1)).ravel() > threshold
    return np.asarray(block[keep].sum(axis=0))


def test_dask_on_a_local_cluster_equals_scipy(tmp_path):
    rng = np.random.default_rng(7)
    m = random_matrix(rng, (3000, 120), density=0.05, dtype=np.float32)
    path = tmp_path / "cells.h5ad"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m, compression="gzip", chunks=(2000,))
    with h5s.File(path) as f:
        x = h5s.to_dask(f["X"], rows_per_block=700)
    assert x.shape == m.shape and x.chunks[0] == (700, 700, 700, 700, 200)
    assert isinstance(x._meta, sp.csr_matrix)

    with h5s.File(path, driver="sec2") as f:
        x_pread = h5s.to_dask(f["X"], rows_per_block=700)  # the file's driver
    assert x_pread.name != x.name

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        # Positional reads first: the same sums, and no worker maps the file
        # (its pages never count in a worker's memory).
        sums = x_pread.map_blocks(gene_sums, chunks=(1, m.shape[1]), dtype=np.float64)
        per_gene = client.compute(sums.sum(axis=0)).result()
        np.testing.assert_allclose(per_gene, np.asarray(m.sum(axis=0)).ravel(), rtol=1e-5)
        assert any(client.run(opened_here).values()), "no worker opened the file"
        assert not any(client.run(mapped, str(path)).values())

        sums = x.map_blocks(gene_sums, chunks=(1, m.shape[1]), dtype=np.float64)
        per_gene = client.compute(sums.sum(axis=0)).result()
        np.testing.assert_allclose(per_gene, np.asarray(m.sum(axis=0)).ravel(), rtol=1e-5)
        np.testing.assert_allclose(per_gene / m.shape[0], np.asarray(m.mean(axis=0)).ravel(), rtol=1e-5)

        threshold = float(np.median(np.asarray(m.sum(axis=1))))
        kept = x.map_blocks(filtered_gene_sums, threshold, chunks=(1, m.shape[1]), dtype=np.float64)
        got = client.compute(kept.sum(axis=0)).result()
        keep = np.asarray(m.sum(axis=1)).ravel() > threshold
        np.testing.assert_allclose(got, np.asarray(m[keep].sum(axis=0)).ravel(), rtol=1e-5)

        # The default driver maps it: the check above can fail.
        assert any(client.run(mapped, str(path)).values())

        # Whole blocks come back as csr_matrix, as anndata's dask path has them.
        block = client.compute(x.blocks[1]).result()
        assert isinstance(block, sp.csr_matrix)
        np.testing.assert_array_equal(block.toarray(), m[700:1400].toarray())


def test_to_dask_reads_over_http(tmp_path):
    """A file served over HTTP (range requests) opens by URL, and dask tasks
    read their rows from the URL."""
    import functools
    import http.server
    import re
    import threading

    class Ranges(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.translate_path(self.path)
            with open(path, "rb") as f:
                body = f.read()
            m = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if m:
                start = int(m.group(1))
                stop = int(m.group(2)) + 1 if m.group(2) else len(body)
                part = body[start:stop]
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{start + len(part) - 1}/{len(body)}")
            else:
                part = body
                self.send_response(200)
            self.send_header("Content-Length", str(len(part)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(part)

    rng = np.random.default_rng(8)
    m = random_matrix(rng, (500, 40), density=0.1, dtype=np.float32)
    with h5s.File(tmp_path / "served.h5ad", "w") as f:
        f.create_dataset("X", data=m)
    handler = functools.partial(Ranges, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served.h5ad"
        with h5s.File(url) as f:
            assert f.filename == url
            np.testing.assert_array_equal(f["X"][10:20].toarray(), m[10:20].toarray())
            x = h5s.to_dask(f["X"], rows_per_block=120)
        sums = x.map_blocks(gene_sums, chunks=(1, 40), dtype=np.float64).sum(axis=0)
        np.testing.assert_allclose(sums.compute(scheduler="threads"), np.asarray(m.sum(axis=0)).ravel(), rtol=1e-5)
    finally:
        server.shutdown()
