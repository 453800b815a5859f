#!/usr/bin/env python3
"""The conformance oracle: prints the `h5sparse dump --json` document for an HDF5 file,
computed with h5py (libhdf5) only.

    h5json.py FILE                      print the dump JSON of FILE
    h5json.py --compare FILE EXPECTED   exit 1 with the paths of the first differences
                                        when FILE's dump is not EXPECTED (a JSON file)
    h5json.py --diff EXPECTED ACTUAL    the same comparison between two JSON files (e.g.
                                        `h5sparse dump --json` output against a fixture's)

The schema is in fixtures/README.md ("The dump --json schema"). In short: walk from `/`, links in byte-wise name order, never following
soft or external links, not descending into a group already on the ancestor chain; every
path reached is a key of "objects"; groups that are sparse matrices are listed in "sparse".

Values are decoded from the stored bytes where h5py would convert them: fixed-length
strings are read with the file's own type as the memory type, so the padding rules below
apply to the raw bytes, not to what libhdf5's string conversion would make of them.

Compound, complex, array, enum, opaque, bitfield, object/region reference and vlen
sequence types are described with the extra keys of the schema ("fields", "subshape",
"enum", "base"); the time class (and new-style H5R_REF references, integers/floats of
other sizes) get dtype "unsupported-<class>" and "error" in place of the values; so do
datasets whose filter pipeline holds a filter other than deflate, shuffle, fletcher32, lzf.
"""

import json
import math
import sys

import h5py
import numpy as np
from h5py import h5d, h5r, h5s, h5t

# Filters the Rust reader decodes. Anything else makes a dataset's values an "error".
READABLE_FILTERS = {1, 2, 3, 32000}
FILTER_NAMES = {
    1: "deflate",
    2: "shuffle",
    3: "fletcher32",
    4: "szip",
    5: "nbit",
    6: "scaleoffset",
    32000: "lzf",
}

UNSUPPORTED_CLASSES = {
    h5t.COMPOUND: "compound",
    h5t.ARRAY: "array",
    h5t.OPAQUE: "opaque",
    h5t.REFERENCE: "reference",
    h5t.VLEN: "vlen-sequence",
    h5t.BITFIELD: "bitfield",
    h5t.TIME: "time",
}


class Unsupported(Exception):
    """A type or filter the schema reports as "error"."""


# --- datatypes -------------------------------------------------------------------------


def _order_char(size, order):
    if size == 1:
        return "|"
    return "<" if order == h5t.ORDER_LE else ">"


def _int_str(tid):
    size = tid.get_size()
    signed = tid.get_sign() != h5t.SGN_NONE
    return f"{_order_char(size, tid.get_order())}{'i' if signed else 'u'}{size}"


def _is_bool_enum(tid):
    base = tid.get_super()
    if base.get_size() != 1 or tid.get_nmembers() != 2:
        return False
    members = {tid.get_member_name(i): tid.get_member_value(i) for i in range(2)}
    return members == {b"FALSE": 0, b"TRUE": 1}


def _scalar_type(tid):
    """(D string, kind) for the classes the schema describes with a string alone."""
    cls = tid.get_class()
    if cls == h5t.INTEGER:
        if tid.get_size() in (1, 2, 4, 8):
            return _int_str(tid), "int"
        return "unsupported-integer", "unsupported"
    if cls == h5t.FLOAT:
        size = tid.get_size()
        if size in (2, 4, 8):
            return f"{_order_char(size, tid.get_order())}f{size}", "float"
        return "unsupported-float", "unsupported"
    if cls == h5t.ENUM:
        base = tid.get_super()
        if base.get_size() not in (1, 2, 4, 8):
            return "unsupported-enum", "unsupported"
        if _is_bool_enum(tid):
            return "|b1", "bool"
        return _int_str(base), "enum"
    if cls == h5t.STRING:
        if tid.is_variable_str():
            return "vlen-str", "vstr"
        return f"|S{tid.get_size()}", "fstr"
    if cls == h5t.BITFIELD:
        # A bitfield is described (and read) as the unsigned integer of its size.
        size = tid.get_size()
        if size in (1, 2, 4, 8):
            return f"{_order_char(size, tid.get_order())}u{size}", "bitfield"
        return "unsupported-bitfield", "unsupported"
    if cls == h5t.OPAQUE:
        return f"|V{tid.get_size()}", "opaque"
    if cls == h5t.REFERENCE:
        if tid.equal(h5t.STD_REF_OBJ):
            return "ref", "ref"
        if tid.equal(h5t.STD_REF_DSETREG):
            return "regionref", "regionref"
        return "unsupported-reference", "unsupported"  # HDF5 1.12+ H5R_REF
    return f"unsupported-{UNSUPPORTED_CLASSES.get(cls, f'class{cls}')}", "unsupported"


def _complex_str(tid):
    """numpy's complex str when tid is h5py's complex compound, else None: exactly two
    members named r and i (h5py's default names), the same IEEE float of 4 or 8 bytes
    (same byte order), r at offset 0 and i right after it, nothing else in the type.
    (h5py itself checks only names and member types.)"""
    if tid.get_nmembers() != 2:
        return None
    if [tid.get_member_name(i) for i in range(2)] != [b"r", b"i"]:
        return None
    r, i = tid.get_member_type(0), tid.get_member_type(1)
    if r.get_class() != h5t.FLOAT or i.get_class() != h5t.FLOAT:
        return None
    n = r.get_size()
    if n not in (4, 8) or not r.equal(i):
        return None
    if tid.get_member_offset(0) != 0 or tid.get_member_offset(1) != n or tid.get_size() != 2 * n:
        return None
    return f"{_order_char(n, r.get_order())}c{2 * n}"


def type_desc(tid):
    """(desc, kind) for an HDF5 datatype. desc is the dict of schema keys describing it:
    {"dtype": D} plus, where needed, "fields" (compound), "subshape" (array), "enum"
    (non-bool enum), "base" (vlen sequence of a type that itself needs extra keys).
    kind is one of int, float, bool, enum, fstr, vstr, bitfield, opaque, ref, regionref,
    complex, compound, array, vlen, unsupported (a type containing an unsupported one)."""
    cls = tid.get_class()
    if cls == h5t.COMPOUND:
        cstr = _complex_str(tid)
        if cstr is not None:
            return {"dtype": cstr}, "complex"
        fields = []
        kind = "compound"
        for i in range(tid.get_nmembers()):
            mdesc, mkind = type_desc(tid.get_member_type(i))
            if mkind == "unsupported":
                kind = "unsupported"
            name = tid.get_member_name(i).decode("utf-8", "replace")
            fields.append({"name": name, "offset": int(tid.get_member_offset(i)), **mdesc})
        return {"dtype": "compound", "fields": fields}, kind
    if cls == h5t.ARRAY:
        bdesc, bkind = type_desc(tid.get_super())
        desc = dict(bdesc)
        # An array of arrays is one array of the concatenated dims (same bytes, same
        # nesting of the values).
        desc["subshape"] = [int(d) for d in tid.get_array_dims()] + bdesc.get("subshape", [])
        return desc, "unsupported" if bkind == "unsupported" else "array"
    if cls == h5t.VLEN:
        bdesc, bkind = type_desc(tid.get_super())
        desc = {"dtype": "vlen-" + bdesc["dtype"]}
        if len(bdesc) > 1:
            desc["base"] = bdesc
        return desc, "unsupported" if bkind == "unsupported" else "vlen"
    dstr, kind = _scalar_type(tid)
    desc = {"dtype": dstr}
    if kind == "enum":
        desc["enum"] = {
            tid.get_member_name(i).decode("utf-8", "replace"): int(tid.get_member_value(i))
            for i in range(tid.get_nmembers())
        }
    return desc, kind


def describe_type(tid):
    """(D string, kind) for an HDF5 datatype (see type_desc)."""
    desc, kind = type_desc(tid)
    return desc["dtype"], kind


# --- values ----------------------------------------------------------------------------


def _json_number(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    f = float(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def _decode_vlen(s):
    if s is None:
        return ""
    if isinstance(s, str):
        # h5py decodes vlen attribute strings with surrogateescape; undo it, then
        # decode the stored bytes the schema's way.
        s = s.encode("utf-8", "surrogateescape")
    return bytes(s).decode("utf-8", "replace")


def _unpad(raw, pad):
    if pad == h5t.STR_NULLTERM:
        raw = raw.split(b"\0", 1)[0]
    elif pad == h5t.STR_NULLPAD:
        raw = raw.rstrip(b"\0")
    else:  # space-padded
        raw = raw.rstrip(b" \0")
    return raw.decode("utf-8", "replace")


def _tolist(arr, conv):
    def walk(x):
        if isinstance(x, list):
            return [walk(v) for v in x]
        return conv(x)

    if arr.ndim == 0:
        return conv(arr[()])
    return walk(arr.tolist())


def _fixed_strings(raw, pad):
    """raw: numpy array of dtype |Sn read with the file's own type."""
    n = raw.dtype.itemsize
    flat = raw.reshape(-1).view(np.uint8).reshape(-1, n) if raw.size else None
    out = [] if flat is None else [_unpad(bytes(row), pad) for row in flat]
    if raw.ndim == 0:
        return out[0]
    return np.array(out, dtype=object).reshape(raw.shape).tolist() if out else _empty(raw.shape)


def _empty(shape):
    # Nested lists for a shape containing a zero.
    return np.zeros(shape).tolist()


# Kinds read with _read_typed (the classes the reader once reported as unsupported).
TYPED_KINDS = {"bitfield", "opaque", "ref", "regionref", "complex", "compound", "array", "vlen"}


def _needs_library_conversion(tid):
    """True when tid holds a vlen (sequence or string) or a reference anywhere: their
    stored bytes are heap ids / addresses, so h5py must convert them. Other types are
    read with the file's own type as the memory type (no conversion at all)."""
    cls = tid.get_class()
    if cls in (h5t.VLEN, h5t.REFERENCE):
        return True
    if cls == h5t.STRING:
        return tid.is_variable_str()
    if cls == h5t.COMPOUND:
        return any(_needs_library_conversion(tid.get_member_type(i))
                   for i in range(tid.get_nmembers()))
    if cls == h5t.ARRAY:
        return _needs_library_conversion(tid.get_super())
    return False


def _nest(a, conv):
    """Nested lists of conv(element) for an ndarray (a bare value when 0-d)."""
    if a.ndim == 0:
        return conv(a[()])
    if a.ndim == 1:  # elements as numpy gives them (an object array's element is the object)
        return [conv(a[i]) for i in range(a.shape[0])]
    return [_nest(a[i], conv) for i in range(a.shape[0])]


def _selection(space):
    """The selection of a region reference's dataspace, as libhdf5 reports it."""
    sel = space.get_select_type()
    if sel == h5s.SEL_ALL:
        return {"all": True}
    if sel == h5s.SEL_NONE:
        return {"none": True}
    if sel == h5s.SEL_POINTS:
        pts = np.asarray(space.get_select_elem_pointlist())
        return {"points": [[int(c) for c in p] for p in pts.reshape(-1, space.get_simple_extent_ndims())]}
    if sel == h5s.SEL_HYPERSLABS:
        blocks = np.asarray(space.get_select_hyper_blocklist())
        rank = space.get_simple_extent_ndims()
        return {"blocks": [[[int(c) for c in b[0]], [int(c) for c in b[1]]]
                           for b in blocks.reshape(-1, 2, rank)]}
    raise Unsupported(f"selection type {sel}")


def value_converter(tid, f):
    """A function turning one element, as h5py/numpy gives it, into its JSON value.
    f is the open File (references are resolved through it)."""
    cls = tid.get_class()
    if cls == h5t.COMPOUND:
        if _complex_str(tid) is not None:
            return lambda x: [_json_number(x.real), _json_number(x.imag)]
        names = [tid.get_member_name(i).decode("utf-8", "replace")
                 for i in range(tid.get_nmembers())]
        convs = [value_converter(tid.get_member_type(i), f) for i in range(len(names))]

        def compound(x):
            return {n: c(x[i]) for i, (n, c) in enumerate(zip(names, convs))}

        return compound
    if cls == h5t.ARRAY:
        bconv = value_converter(_array_base(tid), f)  # numpy folds nested subarrays
        return lambda x: _nest(np.asarray(x), bconv)
    if cls == h5t.VLEN:
        bconv = value_converter(tid.get_super(), f)
        return lambda x: [bconv(x[i]) for i in range(len(x))]
    dstr, kind = _scalar_type(tid)
    if kind in ("int", "bitfield", "enum"):
        return int
    if kind == "float":
        return _json_number
    if kind == "bool":
        return bool
    if kind == "fstr":
        pad = tid.get_strpad()
        return lambda x: _unpad(bytes(x), pad)
    if kind == "vstr":
        return _decode_vlen
    if kind == "opaque":
        return lambda x: np.asarray(x).tobytes().hex()
    if kind == "ref":
        return lambda x: {"object_reference": f[x].name} if x else None

    if kind == "regionref":
        def region(x):
            if not x:
                return None
            return {"region_reference": f[x].name,
                    "selection": _selection(h5r.get_region(x, f.id))}

        return region
    raise Unsupported(f"unsupported datatype {dstr}")


def _read_typed(read, np_dtype, tid, shape, f):
    """Values of a dataset/attribute of a TYPED_KINDS type. read(arr, mtype) fills arr."""
    arr = np.zeros(shape, dtype=np_dtype)
    if arr.size:
        read(arr, tid if not _needs_library_conversion(tid) else None)
    if tid.get_class() == h5t.ARRAY:
        # numpy folds the array type's dims into the array's shape: walk shape + subshape.
        return _nest(arr, value_converter(_array_base(tid), f))
    return _nest(arr, value_converter(tid, f))


def _array_base(tid):
    """The element type under an array type (and any arrays nested in it)."""
    base = tid.get_super()
    while base.get_class() == h5t.ARRAY:
        base = base.get_super()
    return base


def dataset_values(dset, kind, tid, shape):
    if kind == "unsupported":
        raise Unsupported("unsupported datatype")
    if kind in TYPED_KINDS:
        def read(arr, mtype):
            dset.id.read(h5s.ALL, h5s.ALL, arr, mtype=mtype)

        return _read_typed(read, dset.dtype, tid, shape, dset.file)
    if kind == "fstr":
        raw = np.empty(shape, dtype=f"S{tid.get_size()}")
        if raw.size:
            dset.id.read(h5s.ALL, h5s.ALL, raw, mtype=tid)
        return _fixed_strings(raw, tid.get_strpad())
    arr = dset[()]
    if kind == "vstr":
        arr = np.asarray(arr, dtype=object)
        return _tolist(arr, _decode_vlen) if arr.size or arr.ndim == 0 else _empty(shape)
    arr = np.asarray(arr)
    return _tolist(arr, _json_number)


def attribute_values(obj, name, kind, tid, shape):
    if kind == "unsupported":
        raise Unsupported("unsupported datatype")
    if kind in TYPED_KINDS:
        aid = h5py.h5a.open(obj.id, name.encode("utf-8", "surrogateescape"))

        def read(arr, mtype):
            aid.read(arr, mtype=mtype)

        return _read_typed(read, aid.dtype, tid, shape, obj.file)
    if kind == "fstr":
        aid = h5py.h5a.open(obj.id, name.encode("utf-8"))
        raw = np.empty(shape, dtype=f"S{tid.get_size()}")
        if raw.size:
            aid.read(raw, mtype=tid)
        return _fixed_strings(raw, tid.get_strpad())
    val = obj.attrs[name]
    if kind == "vstr":
        arr = np.asarray(val, dtype=object)
        return _tolist(arr, _decode_vlen) if arr.size or arr.ndim == 0 else _empty(shape)
    arr = np.asarray(val)
    return _tolist(arr, _json_number)


# --- dataspaces, attributes, datasets ----------------------------------------------------


def space_shapes(space):
    """(shape, maxshape): lists, [] for scalar, None for a null dataspace."""
    kind = space.get_simple_extent_type()
    if kind == h5s.NULL:
        return None, None
    if kind == h5s.SCALAR:
        return [], []
    dims = [int(d) for d in space.get_simple_extent_dims()]
    maxdims = [
        None if d == h5s.UNLIMITED else int(d) for d in space.get_simple_extent_dims(True)
    ]
    return dims, maxdims


def attributes(obj):
    out = {}
    names = sorted(obj.attrs.keys(), key=lambda n: n.encode("utf-8", "surrogateescape"))
    for name in names:
        aid = h5py.h5a.open(obj.id, name.encode("utf-8", "surrogateescape"))
        tid = aid.get_type()
        desc, kind = type_desc(tid)
        shape, _ = space_shapes(aid.get_space())
        entry = {**desc, "shape": shape}
        if kind == "unsupported":
            entry["error"] = "unsupported datatype"
        elif shape is None:
            entry["value"] = None
        else:
            try:
                entry["value"] = attribute_values(obj, name, kind, tid, shape)
            except Exception as e:  # noqa: BLE001 - any read failure is reported, not fatal
                entry["error"] = str(e) or type(e).__name__
        out[name] = entry
    return out


def dataset_obj(dset):
    tid = dset.id.get_type()
    desc, kind = type_desc(tid)
    shape, maxshape = space_shapes(dset.id.get_space())
    dcpl = dset.id.get_create_plist()
    layout_code = dcpl.get_layout()
    layout = {
        h5d.COMPACT: "compact",
        h5d.CONTIGUOUS: "contiguous",
        h5d.CHUNKED: "chunked",
    }.get(layout_code, f"layout{layout_code}")
    chunks = [int(c) for c in dcpl.get_chunk()] if layout_code == h5d.CHUNKED else None
    filters = []
    for i in range(dcpl.get_nfilters()):
        code, _flags, cd_values, name = dcpl.get_filter(i)
        stored = name.decode("utf-8", "replace") if name else ""
        filters.append(
            {
                "id": int(code),
                "name": FILTER_NAMES.get(code, stored or "unknown"),
                "cd_values": [int(v) for v in cd_values],
            }
        )
    obj = {
        "kind": "dataset",
        **desc,
        "shape": shape,
        "maxshape": maxshape,
        "layout": layout,
        "chunks": chunks,
        "filters": filters,
    }
    if kind == "unsupported":
        obj["error"] = "unsupported datatype"
    elif shape is None:
        obj["values"] = None
    elif any(f["id"] not in READABLE_FILTERS for f in filters):
        bad = next(f for f in filters if f["id"] not in READABLE_FILTERS)
        obj["error"] = f"unsupported filter {bad['id']} ({bad['name']})"
    else:
        try:
            obj["values"] = dataset_values(dset, kind, tid, shape)
        except Exception as e:  # noqa: BLE001
            obj["error"] = str(e) or type(e).__name__
    obj["attributes"] = attributes(dset)
    return obj


# --- groups, sparse detection ------------------------------------------------------------


def sorted_names(group):
    return sorted(group.keys(), key=lambda n: n.encode("utf-8", "surrogateescape"))


def _attr_str(group, name):
    if name not in group.attrs:
        return None
    try:
        v = group.attrs[name]
    except Exception:  # noqa: BLE001
        return None
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, bytes):
        return v.rstrip(b"\0 ").decode("utf-8", "replace")
    if isinstance(v, str):
        return v
    return None


def _member_dataset(group, name):
    link = group.get(name, getlink=True)
    if link is None or isinstance(link, h5py.ExternalLink):
        return None
    try:
        obj = group.get(name)
    except Exception:  # noqa: BLE001 - dangling soft link
        return None
    return obj if isinstance(obj, h5py.Dataset) else None


def _int_list(v):
    arr = np.asarray(v)
    if arr.dtype.kind not in "iu" or arr.shape != (2,):
        return None
    return [int(x) for x in arr.tolist()]


def sparse_info(group):
    members = [_member_dataset(group, n) for n in ("data", "indices", "indptr")]
    if any(m is None for m in members):
        return None
    data, indices, indptr = members
    found = None
    fmt = _attr_str(group, "h5sparse_format")
    if fmt in ("csr", "csc") and "h5sparse_shape" in group.attrs:
        shape = _int_list(group.attrs["h5sparse_shape"])
        if shape is not None:
            found = ("h5sparse", fmt, shape)
    if found is None:
        enc = _attr_str(group, "encoding-type")
        if enc in ("csr_matrix", "csc_matrix") and "shape" in group.attrs:
            shape = _int_list(group.attrs["shape"])
            if shape is not None:
                found = ("anndata", enc[:3], shape)
    if found is None:
        shape_ds = _member_dataset(group, "shape")
        if shape_ds is not None and shape_ds.shape == (2,) and shape_ds.dtype.kind in "iu":
            found = ("10x", "csc", [int(x) for x in shape_ds[()].tolist()])
    if found is None:
        return None
    convention, fmt, shape = found
    dstrs = [describe_type(m.id.get_type())[0] for m in members]
    return {
        "convention": convention,
        "format": fmt,
        "shape": shape,
        "nnz_stored": int(data.shape[0]) if data.shape else 0,
        "data_dtype": dstrs[0],
        "indices_dtype": dstrs[1],
        "indptr_dtype": dstrs[2],
    }


def object_address(obj):
    return h5py.h5o.get_info(obj.id).addr


def group_obj(group):
    return {"kind": "group", "links": sorted_names(group), "attributes": attributes(group)}


def walk(group, path, ancestors, objects, sparse):
    info = sparse_info(group)
    if info is not None:
        sparse[path] = info
    for name in sorted_names(group):
        child_path = ("/" if path == "/" else path + "/") + name
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.SoftLink):
            objects[child_path] = {"kind": "soft_link", "target": link.path}
            continue
        if isinstance(link, h5py.ExternalLink):
            objects[child_path] = {
                "kind": "external_link",
                "file": link.filename,
                "target": link.path,
            }
            continue
        obj = group[name]
        if isinstance(obj, h5py.Group):
            objects[child_path] = group_obj(obj)
            addr = object_address(obj)
            if addr not in ancestors:
                walk(obj, child_path, ancestors + [addr], objects, sparse)
        elif isinstance(obj, h5py.Dataset):
            objects[child_path] = dataset_obj(obj)
        else:
            objects[child_path] = {"kind": "datatype"}


def dump(path):
    with h5py.File(path, "r") as f:
        version = f.id.get_create_plist().get_version()[0]
        objects = {"/": group_obj(f)}
        sparse = {}
        walk(f, "/", [object_address(f)], objects, sparse)
    return {"superblock_version": int(version), "objects": objects, "sparse": sparse}


# --- output and comparison ---------------------------------------------------------------


def to_json(doc, indent=0):
    """Pretty JSON with dicts one key a line and lists of scalars on one line."""
    pad = " " * indent
    if isinstance(doc, dict):
        if not doc:
            return "{}"
        items = [
            f'{pad} {json.dumps(k, ensure_ascii=False)}: {to_json(v, indent + 1)}'
            for k, v in doc.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(doc, list):
        if any(isinstance(v, (dict, list)) for v in doc):
            if all(isinstance(v, list) for v in doc) and all(
                not any(isinstance(x, (dict, list)) for x in v) for v in doc
            ):
                rows = [f"{pad} {to_json(v, indent + 1)}" for v in doc]
                return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
            return (
                "[\n"
                + ",\n".join(f"{pad} {to_json(v, indent + 1)}" for v in doc)
                + "\n"
                + pad
                + "]"
            )
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False, allow_nan=False) for v in doc) + "]"
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def _kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return type(v).__name__


def differences(expected, actual, where="$", out=None, limit=20):
    """Paths where the two parsed JSON documents differ (number kinds matter;
    an "error" only has to be present on both sides, whatever it says, as the
    conformance tests compare it)."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if _kind(expected) != _kind(actual):
        out.append(f"{where}: expected {_kind(expected)} {_short(expected)}, got {_kind(actual)} {_short(actual)}")
    elif isinstance(expected, dict):
        for k in expected:
            if k not in actual:
                out.append(f"{where}[{json.dumps(k)}]: missing (expected {_short(expected[k])})")
            elif k == "error" and isinstance(expected[k], str) and isinstance(actual[k], str):
                pass  # an "error" must be present; its wording is the reader's own
            else:
                differences(expected[k], actual[k], f"{where}[{json.dumps(k)}]", out, limit)
        for k in actual:
            if k not in expected:
                out.append(f"{where}[{json.dumps(k)}]: unexpected {_short(actual[k])}")
    elif isinstance(expected, list):
        if len(expected) != len(actual):
            out.append(f"{where}: expected {len(expected)} elements, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            differences(e, a, f"{where}[{i}]", out, limit)
    elif expected != actual:
        out.append(f"{where}: expected {_short(expected)}, got {_short(actual)}")
    return out[:limit]


def _short(v, n=120):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[: n - 3] + "..."


def main(argv):
    if len(argv) == 2 and argv[1] not in ("-h", "--help"):
        sys.stdout.write(to_json(dump(argv[1])) + "\n")
        return 0
    if len(argv) == 4 and argv[1] == "--compare":
        actual = json.loads(to_json(dump(argv[2])))
        with open(argv[3], encoding="utf-8") as fh:
            expected = json.load(fh)
        diffs = differences(expected, actual)
        if diffs:
            print(f"{argv[2]}: dump differs from {argv[3]}:", file=sys.stderr)
            for d in diffs:
                print("  " + d, file=sys.stderr)
            return 1
        return 0
    if len(argv) == 4 and argv[1] == "--diff":
        with open(argv[2], encoding="utf-8") as fh:
            expected = json.load(fh)
        with open(argv[3], encoding="utf-8") as fh:
            actual = json.load(fh)
        diffs = differences(expected, actual)
        if diffs:
            print(f"{argv[3]} differs from {argv[2]}:", file=sys.stderr)
            for d in diffs:
                print("  " + d, file=sys.stderr)
            return 1
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
