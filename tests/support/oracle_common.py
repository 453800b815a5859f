"""What the anndata oracles (concat_oracle.py, subset_oracle.py) share:
comparing what anndata reads from h5sparse's file with what anndata itself
made, element by element, and the round trip through write_h5ad that the
expected object takes.
"""
import os
import warnings

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp


def same(got, want, at, sort=False, loose=False):
    """`got` (h5sparse's file, as anndata reads it) equals `want`.

    sort: compare sparse matrices with each row's entries sorted (where the
    order anndata leaves them in is arbitrary). loose: cast `want`'s sparse
    values to `got`'s dtype first (values compared, not dtypes).
    """
    if sp.issparse(got) or sp.issparse(want):
        assert sp.issparse(got) and sp.issparse(want), f"{at}: {type(got)} vs {type(want)}"
        assert got.format == want.format, f"{at}: format {got.format} vs {want.format}"
        assert got.shape == want.shape, f"{at}: shape {got.shape} vs {want.shape}"
        if loose:
            want = want.astype(got.dtype)
        assert got.dtype == want.dtype, f"{at}: dtype {got.dtype} vs {want.dtype}"
        if sort:
            got, want = got.sorted_indices(), want.sorted_indices()
        # scipy's structure itself: entry order within rows, explicit zeros.
        np.testing.assert_array_equal(got.indptr, want.indptr, err_msg=f"{at}/indptr")
        np.testing.assert_array_equal(got.indices, want.indices, err_msg=f"{at}/indices")
        np.testing.assert_array_equal(got.data, want.data, err_msg=f"{at}/data")
    elif isinstance(got, pd.DataFrame) or isinstance(want, pd.DataFrame):
        assert isinstance(got, pd.DataFrame) and isinstance(want, pd.DataFrame), \
            f"{at}: {type(got)} vs {type(want)}"
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=at)
    elif hasattr(want, "keys") or hasattr(got, "keys"):
        # dicts, and anndata's layers/obsm/... mappings
        assert hasattr(got, "keys") and hasattr(want, "keys"), \
            f"{at}: {type(got)} vs {type(want)}"
        assert sorted(got.keys()) == sorted(want.keys()), \
            f"{at}: keys {sorted(got.keys())} vs {sorted(want.keys())}"
        for k in want.keys():
            same(got[k], want[k], f"{at}/{k}", sort=sort, loose=loose)
    elif got is None or want is None:
        assert got is None and want is None, f"{at}: {type(got)} vs {type(want)}"
    elif isinstance(got, np.ndarray) or isinstance(want, np.ndarray):
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape, f"{at}: shape {got.shape} vs {want.shape}"
        assert got.dtype == want.dtype, f"{at}: dtype {got.dtype} vs {want.dtype}"
        np.testing.assert_array_equal(got, want, err_msg=at)
    else:
        assert type(got) is type(want) or (np.isscalar(got) and np.isscalar(want)), \
            f"{at}: {type(got)} vs {type(want)}"
        assert got == want, f"{at}: {got!r} vs {want!r}"


def written_and_read_back(adata, directory):
    """`adata` as anndata writes it (write_h5ad turns repeated strings into
    categoricals; nullable strings as anndata 0.11+ writes them) and reads
    it back; the file is `directory`/expected.h5ad."""
    path = os.path.join(directory, "expected.h5ad")
    anndata.settings.allow_write_nullable_strings = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata.write_h5ad(path)
        return anndata.read_h5ad(path), path


def read_without_warnings(path, allowed):
    """anndata.read_h5ad(path), failing on any warning but those whose
    message matches the regular expression `allowed`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=allowed)
        return anndata.read_h5ad(path)

