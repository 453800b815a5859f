"""Dense datasets read like h5py's; threads read in parallel; errors map to
Python's exceptions with our message."""

import shutil
import threading

import h5py
import numpy as np
import pytest

import h5sparse_rs as h5s
from conftest import FIXTURES, assert_same, random_matrix


def dense_keys(shape):
    n = shape[0]
    keys = [(), Ellipsis, slice(None), 0, -1, slice(1, n - 1), slice(None, None, 2),
            slice(None, None, -1), slice(n, 0, -3), [0, n - 1], np.arange(n) % 2 == 0]
    if len(shape) == 2:
        m = shape[1]
        keys += [(slice(None), 1), (1, slice(None)), (slice(1, 3), slice(None, None, 2)),
                 (-1, -1), (Ellipsis, 0), (slice(None), [m - 1, 0])]
    return keys


def test_dense_reads_equal_h5py(tmp_path):
    path = tmp_path / "d.h5"
    rng = np.random.default_rng(3)
    arrays = {
        "f64": rng.random((9, 7)),
        "i16": rng.integers(-500, 500, (11, 4)).astype(np.int16),
        "u8_1d": rng.integers(0, 255, 20).astype(np.uint8),
        "f16": rng.random((5, 6)).astype(np.float16),
        "bool": rng.random((6, 3)) < 0.5,
        "big_endian": rng.random((4, 4)).astype(">f8"),
    }
    with h5py.File(path, "w") as f:
        for name, a in arrays.items():
            f.create_dataset(name, data=a, chunks=True, compression="gzip")
        f.create_dataset("plain", data=arrays["f64"])
        f.create_dataset("scalar", data=3.5)
        f.create_dataset("strings", data=np.array(["a", "bc", "def"], dtype=object),
                         dtype=h5py.string_dtype())
        f["plain"].attrs["unit"] = "m"
        f["plain"].attrs["scale"] = np.array([1.5, 2.5])
    with h5s.File(path) as ours, h5py.File(path) as theirs:
        assert set(ours) == set(theirs)
        for name in arrays:
            o, t = ours[name], theirs[name]
            assert (o.shape, o.dtype.newbyteorder("="), o.chunks) == (
                t.shape, t.dtype.newbyteorder("="), t.chunks)
            assert o.compression == "gzip" and o.compression_opts == 4
            full = t[()]  # libhdf5's read; numpy indexes it (h5py has no negative steps)
            for key in dense_keys(t.shape):
                got, want = o[key], full[key]
                np.testing.assert_array_equal(got, want, err_msg=f"{name} {key!r}")
                assert np.shape(got) == np.shape(want), (name, key)
        assert ours["scalar"][()] == 3.5 and ours["scalar"].shape == ()
        assert list(ours["strings"][:]) == ["a", "bc", "def"]
        assert ours["plain"].attrs["unit"] == "m"
        np.testing.assert_array_equal(ours["plain"].attrs["scale"], [1.5, 2.5])
        assert repr(ours["plain"]) == '<HDF5 dataset "plain": shape (9, 7), type "<f8">'


def test_threads_read_in_parallel(tmp_path):
    rng = np.random.default_rng(5)
    m = random_matrix(rng, (2000, 300), density=0.05, dtype=np.float32)
    path = tmp_path / "t.h5"
    with h5s.File(path, "w") as f:
        f.create_dataset("X", data=m, compression="gzip", chunks=(500,))
    f = h5s.File(path)
    x = f["X"]
    keys = [np.sort(rng.integers(0, 2000, 50)) for _ in range(40)]
    results, errors = {}, []

    def work(tid):
        try:
            for i in range(tid, len(keys), 4):
                results[i] = x[keys[i]]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, k in enumerate(keys):
        assert_same(results[i], m[k])
    f.close()


def test_errors_map_to_python_exceptions(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        h5s.File(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError):
        h5s.File(tmp_path / "nope.h5", "r+")
    with pytest.raises(ValueError, match="invalid mode"):
        h5s.File(tmp_path / "x.h5", "q")

    # A damaged file: the first 600 bytes of a real one.
    src = FIXTURES / "anndata.h5ad"
    bad = tmp_path / "bad.h5"
    bad.write_bytes(src.read_bytes()[:600])
    with pytest.raises(OSError) as e:
        f = h5s.File(bad)
        f["X"][:]
    assert "malformed HDF5" in str(e.value) or "I/O error" in str(e.value) or "unsupported" in str(e.value)
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("hello, not HDF5\n" * 100)
    with pytest.raises(OSError):
        h5s.File(not_hdf5)

    path = tmp_path / "f.h5"
    shutil.copy(FIXTURES / "seed.h5", path)
    with h5s.File(path) as f:
        with pytest.raises(KeyError, match="'missing'"):
            f["missing"]
        with pytest.raises(KeyError):
            f["X/missing"]
        with pytest.raises(ValueError, match="read-only"):
            f["X"][0, 1] = 5
        with pytest.raises(ValueError, match="read-only"):
            f.create_group("g")
        x = f["X"]
    with pytest.raises(ValueError, match="closed"):
        x[:]
    # A writer holds a lock: a second writer (ours or libhdf5) is refused.
    with h5s.File(path, "r+") as f:
        with pytest.raises(OSError):
            h5s.File(path, "r+")
        with pytest.raises(OSError):
            h5py.File(path, "r+")
