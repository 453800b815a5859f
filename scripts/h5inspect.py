#!/usr/bin/env python3
"""Prints how an HDF5 file is laid out on disk, object by object, to confirm that the
fixtures exercise the structures they claim to (chunk index type, paged fixed arrays,
multi-level B-trees, dense groups and attributes, continuation blocks, message versions).

    h5inspect.py FILE

h5py finds the objects and their header addresses; this script then decodes the few
on-disk structures it reports (superblock, object header prefixes and messages, layout,
symbol table and link/attribute info messages, B-tree, fixed/extensible array and
fractal heap headers) straight from the bytes, following the HDF5 File Format
Specification 4.0. It is a test aid: it trusts its input and does not validate it.
"""

import struct
import sys

import h5py

class Reader:
    def __init__(self, data):
        self.data = data
        sig = b"\x89HDF\r\n\x1a\n"
        self.sb_at = 0
        while self.data[self.sb_at:self.sb_at + 8] != sig:
            self.sb_at = 512 if self.sb_at == 0 else self.sb_at * 2
            if self.sb_at > len(self.data):
                raise ValueError("no superblock signature")
        v = self.data[self.sb_at + 8]
        self.sb_version = v
        if v in (0, 1):
            self.so, self.sl = self.data[self.sb_at + 13], self.data[self.sb_at + 14]
            at = self.sb_at + 24 + (4 if v == 1 else 0)
        else:
            self.so, self.sl = self.data[self.sb_at + 9], self.data[self.sb_at + 10]
            at = self.sb_at + 12
        self.base = self.uint(at, self.so)

    def uint(self, at, n):
        return int.from_bytes(self.data[at:at + n], "little")

    def abs(self, a):
        return self.base + a


# --- object headers ----------------------------------------------------------------------


def header_messages(r, addr):
    """(header version, number of continuation blocks, [(type, body bytes)])."""
    at = r.abs(addr)
    msgs = []
    conts = 0
    if r.data[at:at + 4] == b"OHDR":
        version = r.data[at + 4]
        flags = r.data[at + 5]
        p = at + 6
        if flags & 0x20:
            p += 16
        if flags & 0x10:
            p += 4
        width = 1 << (flags & 3)
        size = r.uint(p, width)
        p += width
        # Chunk #0's size excludes its checksum; a continuation block's length
        # covers its "OCHK" signature and checksum.
        blocks = [(p, p + size)]
        while blocks:
            q, end = blocks.pop(0)
            while q + 4 <= end:
                mtype = r.data[q]
                msize = r.uint(q + 1, 2)
                q += 4 + (2 if flags & 0x04 else 0)
                msgs.append((mtype, r.data[q:q + msize]))
                if mtype == 0x10:
                    conts += 1
                    c = r.abs(r.uint(q, r.so))
                    blocks.append((c + 4, c + r.uint(q + r.so, r.sl) - 4))
                q += msize
        return version, conts, msgs
    version = r.data[at]
    nmsgs = r.uint(at + 2, 2)
    size = r.uint(at + 8, 4)
    blocks = [(at + 16, size)]
    while blocks and len(msgs) < nmsgs:
        q, size = blocks.pop(0)
        end = q + size
        while q + 8 <= end and len(msgs) < nmsgs:
            mtype = r.uint(q, 2)
            msize = r.uint(q + 2, 2)
            body = r.data[q + 8:q + 8 + msize]
            msgs.append((mtype, body))
            if mtype == 0x10:
                conts += 1
                blocks.append((r.abs(r.uint(q + 8, r.so)), r.uint(q + 8 + r.so, r.sl)))
            q += 8 + msize
    return version, conts, msgs


# --- structures --------------------------------------------------------------------------


def btree_v1(r, a):
    at = r.abs(a)
    assert r.data[at:at + 4] == b"TREE", "not a v1 B-tree node"
    return {"node_type": r.data[at + 4], "root_level": r.data[at + 5],
            "root_entries": r.uint(at + 6, 2)}


def btree_v2(r, a):
    at = r.abs(a)
    assert r.data[at:at + 4] == b"BTHD", "not a v2 B-tree header"
    p = at + 6
    node_size = r.uint(p, 4)
    depth = r.uint(p + 6, 2)
    p += 10
    p += r.so + 2
    return {"type": r.data[at + 5], "node_size": node_size, "depth": depth,
            "records": r.uint(p, r.sl)}


def fixed_array(r, a):
    at = r.abs(a)
    assert r.data[at:at + 4] == b"FAHD", "not a fixed array header"
    page_bits = r.data[at + 7]
    entries = r.uint(at + 8, r.sl)
    return {"entry_size": r.data[at + 6], "page_bits": page_bits, "entries": entries,
            "paged": entries > (1 << page_bits)}


def extensible_array(r, a):
    at = r.abs(a)
    assert r.data[at:at + 4] == b"EAHD", "not an extensible array header"
    p = at + 12
    vals = [r.uint(p + i * r.sl, r.sl) for i in range(6)]
    return {"secondary_blocks": vals[0], "data_blocks": vals[2], "max_index_set": vals[4],
            "elements_realized": vals[5]}


def fractal_heap(r, a):
    at = r.abs(a)
    assert r.data[at:at + 4] == b"FRHP", "not a fractal heap header"
    p = at + 4 + 1 + 2 + 2 + 1 + 4  # sig, version, heap id len, filter len, flags, max managed
    p += r.sl + r.so + r.sl + r.so + r.sl + r.sl + r.sl  # next huge id .. alloc iterator
    managed = r.uint(p, r.sl)
    huge = r.uint(p + 2 * r.sl, r.sl)
    tiny = r.uint(p + 4 * r.sl, r.sl)
    return {"managed": managed, "huge": huge, "tiny": tiny}


INDEX_NAMES = {1: "single chunk", 2: "implicit", 3: "fixed array", 4: "extensible array",
               5: "v2 B-tree"}


def layout(r, body):
    version = body[0]
    cls = body[1]
    out = {"layout_version": version, "class": ["compact", "contiguous", "chunked", "virtual"][cls]}
    if cls != 2:
        return out
    if version == 3:
        a = int.from_bytes(body[3:3 + r.so], "little")
        out["index"] = "v1 B-tree"
        if a == (1 << (8 * r.so)) - 1:
            out["address"] = "undefined"
        else:
            out.update(btree_v1(r, a))
        return out
    flags = body[2]
    ndims = body[3]
    enc = body[4]
    p = 5 + ndims * enc
    itype = body[p]
    p += 1
    out["index"] = INDEX_NAMES.get(itype, f"type {itype}")
    if itype == 1:
        if flags & 2:
            p += r.sl + 4
        out["filtered_single"] = bool(flags & 2)
    elif itype == 3:
        p += 1
    elif itype == 4:
        p += 5
    elif itype == 5:
        p += 6
    a = int.from_bytes(body[p:p + r.so], "little")
    if a != (1 << (8 * r.so)) - 1:
        if itype == 3:
            out.update(fixed_array(r, a))
        elif itype == 4:
            out.update(extensible_array(r, a))
        elif itype == 5:
            out.update(btree_v2(r, a))
    else:
        out["address"] = "undefined"
    return out


def info_message(r, body, kind):
    flags = body[1]
    p = 2 + ((8 if kind == "link" else 2) if flags & 1 else 0)
    heap = int.from_bytes(body[p:p + r.so], "little")
    name_bt = int.from_bytes(body[p + r.so:p + 2 * r.so], "little")
    if heap == (1 << (8 * r.so)) - 1:
        return {f"{kind}_storage": "compact (info message, no heap)"}
    return {f"{kind}_storage": "dense", f"{kind}_heap": fractal_heap(r, heap),
            f"{kind}_name_btree": btree_v2(r, name_bt),
            f"{kind}_creation_order_tracked": bool(flags & 1)}


def describe(r, addr):
    version, conts, msgs = header_messages(r, addr)
    out = {"header": f"v{version}", "continuations": conts}
    types = [t for t, _ in msgs]
    for t, body in msgs:
        if t == 0x08:
            out.update(layout(r, body))
        elif t == 0x03:
            out["datatype_version"] = body[0] >> 4
            out["datatype_class"] = body[0] & 0x0F
        elif t == 0x0B:
            out["pipeline_version"] = body[0]
        elif t == 0x11:
            bt = int.from_bytes(body[0:r.so], "little")
            out["group_storage"] = "symbol table"
            out["symbol_table_btree"] = btree_v1(r, bt)
        elif t == 0x02:
            out.update(info_message(r, body, "link"))
        elif t == 0x15:
            out.update(info_message(r, body, "attribute"))
    if 0x06 in types:
        out["link_messages"] = types.count(0x06)
    if 0x0C in types:
        out["attribute_messages"] = types.count(0x0C)
    if 0x00 in types:
        out["nil_messages"] = types.count(0x00)
    return out


def main(path):
    with open(path, "rb") as fh:
        r = Reader(fh.read())
    print(f"{path}: superblock v{r.sb_version} at {r.sb_at}, base {r.base}")
    seen = {}
    with h5py.File(path, "r") as f:
        items = [("/", f)]

        def visit(name, obj):
            items.append(("/" + name, obj))

        f.visititems(visit)
        for name, obj in items:
            addr = h5py.h5o.get_info(obj.id).addr
            if addr in seen:
                print(f"{name}: same object as {seen[addr]}")
                continue
            seen[addr] = name
            d = describe(r, addr)
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in d.items()))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        main(p)
