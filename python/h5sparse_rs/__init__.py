"""h5sparse_rs: sparse matrices in HDF5 files, on a Rust engine without libhdf5.

The seed's API (anndata 0.5's ``anndata.h5py``) for scipy and anndata users::

    import h5sparse_rs as h5s
    with h5s.File("test.h5", "a") as f:
        f.create_dataset("X", data=scipy.sparse.csr_matrix(...))
        f["X"][:, 1:3]            # reads only what it needs: a csr_matrix
        f["X"][0, 1] = 9          # where an entry is stored
        f["X"].append(m)          # more rows

Files written by h5py, anndata (``.h5ad``), 10x Genomics and the original
h5sparse package open directly; files written here open in all of them.
Reads and writes release the GIL, so Python threads read in parallel.
"""

from ._core import AttributeManager, Dataset, File, Group, SparseDataset
from ._native import __version__

__all__ = [
    "File",
    "Group",
    "SparseDataset",
    "Dataset",
    "AttributeManager",
    "to_dask",
    "__version__",
]


def to_dask(dataset, rows_per_block=None, **kwargs):
    """A ``dask.array.Array`` of sparse row blocks; see :func:`h5sparse_rs.dask.to_dask`."""
    from .dask import to_dask as _to_dask

    return _to_dask(dataset, rows_per_block=rows_per_block, **kwargs)
