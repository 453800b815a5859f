"""``File(path, 'r', driver=...)``: positional reads ('sec2'/'pread') and
in-memory ('core') give the same results as the memory map, and 'sec2'
maps nothing."""

import numpy as np
import pytest

import h5sparse_rs as h5s
from conftest import FIXTURES, random_matrix

DRIVERS = ["sec2", "pread", "core"]


def mapped(path):
    """Is ``path`` mapped into this process (Linux)?"""
    with open("/proc/self/maps") as maps:
        return any(line.rstrip().endswith(str(path)) for line in maps)


def sparse_paths(f, group="/"):
    for name in f[group].keys():
        path = group.rstrip("/") + "/" + name
        obj = f[path]
        if isinstance(obj, h5s.SparseDataset):
            yield path
        elif isinstance(obj, h5s.Group):
            yield from sparse_paths(f, path)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.h5ad")))
def test_driver_reads_equal_the_map(fixture, driver):
    path = FIXTURES / fixture
    with h5s.File(path) as mm, h5s.File(path, driver=driver) as other:
        assert other.driver == driver and other.filename == str(path)
        paths = list(sparse_paths(mm))
        assert paths == list(sparse_paths(other))
        assert paths, f"{fixture} has no sparse matrix"
        for p in paths:
            a, b = mm[p], other[p]
            assert (a.shape, a.dtype, a.format, a.nnz) == (b.shape, b.dtype, b.format, b.nnz)
            n, m = a.shape
            for key in [slice(None), slice(1, n, 2), (slice(None), [m - 1, 0]), ([0, n - 1], [m - 1, 0])]:
                x, y = a[key], b[key]
                if hasattr(x, "toarray"):
                    x, y = x.toarray(), y.toarray()
                np.testing.assert_array_equal(x, y)
        for name in mm.keys():
            if isinstance(mm[name], h5s.Dataset):
                np.testing.assert_array_equal(mm[name][()], other[name][()])
        assert dict(mm.attrs.items()).keys() == dict(other.attrs.items()).keys()


def test_sec2_maps_nothing(tmp_path, rng):
    m = random_matrix(rng, (200, 30), density=0.1)
    path = tmp_path / "unmapped.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m)
    with h5s.File(path, driver="sec2") as f:
        np.testing.assert_array_equal(f["X"][10:50].toarray(), m[10:50].toarray())
        assert not mapped(path)
    with h5s.File(path) as f:  # the default maps it: the check can fail
        f["X"][10:50]
        assert mapped(path)


def test_driver_errors(tmp_path):
    with pytest.raises(ValueError, match="reads only"):
        h5s.File(tmp_path / "new.h5", "w", driver="sec2")
    with pytest.raises(ValueError, match='driver "mpio"'):
        h5s.File(FIXTURES / "anndata.h5ad", driver="mpio")
    with pytest.raises(ValueError, match="range requests"):
        h5s.File("http://127.0.0.1:9/x.h5ad", driver="sec2")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        h5s.File(tmp_path / "missing.h5", driver="sec2")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        h5s.File(tmp_path / "missing.h5", driver="core")
