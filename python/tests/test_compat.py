"""h5sparse_rs.compat against the h5sparse package on PyPI (the oracle):
files each writes, the other reads, with that package's slicing semantics."""

import h5sparse
import numpy as np
import pytest
import scipy.sparse as sp

import h5sparse_rs.compat as compat
from conftest import assert_same, random_matrix

SLICES = [slice(None), slice(1, 3), slice(0, 7), slice(-3, None), slice(2, -1), slice(None, 4)]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("writer", ["theirs", "ours"])
def test_compat_reads_and_appends_like_h5sparse(tmp_path, fmt, writer):
    rng = np.random.default_rng(11)
    m = random_matrix(rng, (12, 9), fmt=fmt)
    more = random_matrix(rng, (3, 9) if fmt == "csr" else (12, 2), fmt=fmt)
    path = tmp_path / "c.h5"
    lib = h5sparse if writer == "theirs" else compat
    with lib.File(path, "w") as f:
        f.create_dataset("sparse/matrix", data=m, chunks=(100,), maxshape=(None,))
    # The other one appends: both must take the file and agree on it.
    other = compat if writer == "theirs" else h5sparse
    if fmt == "csc":
        other = compat  # h5sparse's append is CSR-only; ours grows CSC by columns
    with other.File(path, "a") as f:
        f["sparse/matrix"].append(more)
    both = (sp.vstack if fmt == "csr" else sp.hstack)([m, more], format=fmt)
    with h5sparse.File(path, "r") as theirs, compat.File(path, "r") as ours:
        t, o = theirs["sparse"]["matrix"], ours["sparse"]["matrix"]
        assert o.format_str == t.format_str == fmt
        assert tuple(o.shape) == tuple(t.shape) == both.shape
        assert o.dtype == t.dtype
        assert_same(o.value, t.value)
        assert_same(o[()], both)
        for key in SLICES:
            assert_same(o[key], t[key])  # CSC: the slice takes columns
        with pytest.raises(NotImplementedError):
            o[1]
        with pytest.raises(ValueError, match="Format not the same"):
            o.append(more.asformat("csc" if fmt == "csr" else "csr"))


def test_compat_dense_and_empty(tmp_path):
    path = tmp_path / "d.h5"
    with compat.File(path, "w") as f:
        f.create_dataset("dense", data=np.arange(6).reshape(2, 3))
        f.create_dataset("empty", shape=(0, 5), sparse_format="csr", dtype=np.float32)
        f["empty"].append(sp.csr_matrix(np.eye(2, 5, dtype=np.float32)))
    with h5sparse.File(path, "r") as f:
        np.testing.assert_array_equal(f["dense"][()], np.arange(6).reshape(2, 3))
        np.testing.assert_array_equal(f["empty"][()].toarray(), np.eye(2, 5))
