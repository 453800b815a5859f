"""String-array attributes, read and written, against h5py (libhdf5):
variable-length UTF-8 (lists of str, ``U`` and object arrays; anndata's
``column-order``) and fixed-length (numpy ``S``), 1-D, 2-D, empty."""

import h5py
import numpy as np
import pytest

import h5sparse_rs as h5s
from conftest import FIXTURES

VALUES = {
    "list": ["x", "yé", ""],
    "unicode_2d": np.array([["a", "bc"], ["d", "ü"]]),
    "object": np.array(["p", "qq"], dtype=object),
    "fixed": np.array([b"ab", b"c"]),
    "fixed_2d": np.array([[b"a", b"bcd"], [b"", b"e"]]),
    "fixed_scalar": np.bytes_(b"csr"),
    "empty": np.array([], dtype=object),
    "scalar": "one",
}


def h5py_set(attrs, k, v):
    """What h5py stores for ``v``: it takes no numpy ``U`` arrays (we store
    them as variable-length UTF-8, as h5py does a list of str)."""
    if isinstance(v, np.ndarray) and v.dtype.kind in "UO":
        attrs.create(k, data=v.astype(object), dtype=h5py.string_dtype())
    else:
        attrs[k] = v


def assert_attr_equal(ours, theirs):
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours, theirs)
        assert ours.tolist() == theirs.tolist()
    else:
        assert ours == theirs


def h5py_attrs(path):
    with h5py.File(path) as f:
        return {k: f.attrs[k] for k in f.attrs}


def test_string_attrs_written_by_h5py_read_as_h5py_does(tmp_path):
    path = tmp_path / "h5py.h5"
    with h5py.File(path, "w") as f:
        for k, v in VALUES.items():
            h5py_set(f.attrs, k, v)
    expected = h5py_attrs(path)
    with h5s.File(path) as f:
        assert sorted(f.attrs) == sorted(expected)
        for k, v in expected.items():
            assert_attr_equal(f.attrs[k], v)


def test_string_attrs_written_here_read_by_h5py_as_its_own(tmp_path):
    ours, theirs = tmp_path / "ours.h5", tmp_path / "theirs.h5"
    with h5s.File(ours, "w") as f, h5py.File(theirs, "w") as g:
        f.create_group("grp")
        g.create_group("grp")
        for k, v in VALUES.items():
            f["grp"].attrs[k] = v
            h5py_set(g["grp"].attrs, k, v)
    with h5py.File(ours) as f, h5py.File(theirs) as g:
        for k in VALUES:
            assert_attr_equal(f["grp"].attrs[k], g["grp"].attrs[k])
            # The same HDF5 type: variable-length UTF-8, or fixed-length ASCII of one size.
            a, b = f["grp"].attrs.get_id(k).get_type(), g["grp"].attrs.get_id(k).get_type()
            assert a.get_class() == b.get_class() == h5py.h5t.STRING
            assert a.is_variable_str() == b.is_variable_str()
            if not b.is_variable_str():
                assert (a.get_size(), a.get_strpad()) == (b.get_size(), b.get_strpad())
    with h5s.File(ours) as f, h5py.File(theirs) as g:  # we read back what we wrote
        for k in VALUES:
            assert_attr_equal(f["grp"].attrs[k], g["grp"].attrs[k])


def test_replacing_a_string_array_attribute(tmp_path):
    path = tmp_path / "replace.h5"
    with h5s.File(path, "w") as f:
        f.attrs["names"] = ["a", "b"]
        f.attrs["names"] = ["c", "d", "e"]
    with h5py.File(path) as g:
        assert g.attrs["names"].tolist() == ["c", "d", "e"]


def test_h5ad_string_array_attrs_read_as_h5py():
    """anndata's ``column-order`` and the rest, on every .h5ad fixture."""
    seen = 0
    for path in sorted(FIXTURES.glob("*.h5ad")):
        with h5py.File(path) as g, h5s.File(path) as f:
            def visit(name, obj):
                nonlocal seen
                for k in obj.attrs:
                    theirs = obj.attrs[k]
                    if isinstance(theirs, np.ndarray) and theirs.dtype.kind in "OS":
                        assert_attr_equal((f[name] if name else f).attrs[k], theirs)
                        seen += 1

            visit("", g)
            g.visititems(visit)
    assert seen > 10, f"only {seen} string-array attributes in the fixtures"
