"""Shared fixtures for the h5sparse_rs suite: random matrices and their files.

The oracles are scipy (indexing), h5py and anndata (files), all from the
project's pinned venv; the package under test is the installed wheel.
"""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

ROOT = Path(os.environ.get("H5SPARSE_ROOT", Path(__file__).resolve().parents[2]))
FIXTURES = ROOT / "fixtures"


def random_matrix(rng, shape, density=0.3, dtype=np.float64, fmt="csr"):
    """A random sparse matrix whose values are never zero (so structure is
    what is stored)."""
    m = sp.random(*shape, density=density, format=fmt, random_state=rng, dtype=np.float64)
    if np.dtype(dtype) == bool:
        m.data = np.ones_like(m.data, dtype=bool)
    elif np.issubdtype(dtype, np.integer):
        m.data = rng.integers(1, 100, size=m.nnz).astype(dtype)
    else:
        m.data = (m.data + 0.5).astype(dtype)
    m = m.asformat(fmt)
    m.sort_indices()
    return m


@pytest.fixture
def rng():
    return np.random.default_rng(16)


def assert_same(ours, expected):
    """Equal results of the same kind: sparse (same format family, shape,
    dtype and values), np.matrix / ndarray, or a scalar."""
    if sp.issparse(expected):
        assert sp.issparse(ours), f"expected a sparse result, got {type(ours)}"
        assert ours.shape == expected.shape
        assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
        assert isinstance(ours, sp.sparray) == isinstance(expected, sp.sparray)
        np.testing.assert_array_equal(ours.toarray(), expected.toarray())
        if ours.format in ("csr", "csc"):
            ours.check_format(full_check=True)
    elif isinstance(expected, np.ndarray):
        assert type(ours) is type(expected), (type(ours), type(expected))
        assert ours.shape == expected.shape
        np.testing.assert_array_equal(ours, expected)
    else:
        assert np.ndim(ours) == 0
        assert ours == expected
        assert np.asarray(ours).dtype == np.asarray(expected).dtype
