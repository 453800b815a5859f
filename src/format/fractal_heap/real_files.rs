//! Checks against files written by h5py 3.16 (HDF5 2.0): every parser of
//! this family (heaps, symbol tables, both B-trees) on real libhdf5 output.
//!
//! Save the script below as `gen.py`, then run:
//! ```text
//! mkdir -p /tmp/heaps && /work/scratch-venv/bin/python gen.py
//! cargo test --lib real_files -- --ignored
//! ```
//! It writes `/tmp/heaps/{earliest,latest}.h5` and what libhdf5 reports about
//! them (member names, chunk addresses/sizes/offsets from `get_chunk_info`,
//! object header addresses) to `/tmp/heaps/expected.json`. Each test passes
//! without checking anything when the files are absent.
//!
//! ```text
//! import h5py, numpy as np, json
//! out = {}
//! d = '/tmp/heaps/'
//! # 1. earliest group with 200 members + soft link, vlen strings, chunked many-chunk dataset
//! with h5py.File(d+'earliest.h5', 'w') as f:
//!     g = f.create_group('big')
//!     for i in range(200):
//!         g.create_group(f'm{i:03d}')
//!     g['soft'] = h5py.SoftLink('/big/m001')
//!     dt = h5py.string_dtype()
//!     f.attrs['vstr'] = 'hello vlen'
//!     f.create_dataset('vlen', data=np.array(['a', 'bb', '', 'ccc'*100], dtype=object), dtype=dt)
//!     ds = f.create_dataset('chunked', data=np.arange(100*60, dtype='i4').reshape(100, 60), chunks=(4, 5))
//!     ds2 = f.create_dataset('chunked_gz', data=np.arange(5000, dtype='i8'), chunks=(50,), compression='gzip', maxshape=(None,))
//! with h5py.File(d+'earliest.h5', 'r') as f:
//!     out['earliest_big_names'] = list(f['big'])
//!     for name in ['chunked', 'chunked_gz']:
//!         ds = f[name]
//!         n = ds.id.get_num_chunks()
//!         recs = []
//!         for i in range(n):
//!             ci = ds.id.get_chunk_info(i)
//!             recs.append([list(map(int, ci.chunk_offset)), int(ci.byte_offset), int(ci.size), int(ci.filter_mask)])
//!         out['earliest_'+name] = recs
//! # 2. latest: dense group, track order, dense attrs, huge attr, v2-btree chunked
//! with h5py.File(d+'latest.h5', 'w', libver='latest') as f:
//!     g = f.create_group('big')
//!     for i in range(200):
//!         g.create_group(f'm{i:03d}')
//!     g2 = f.create_group('ordered', track_order=True)
//!     for i in range(200):
//!         g2.create_group(f'z{199-i:03d}')
//!     a = f.create_group('attrs')
//!     for i in range(20):
//!         a.attrs[f'attr{i:02d}'] = np.arange(i+1)
//!     h = f.create_group('huge')
//!     h.attrs['big'] = np.arange(20000, dtype='i8')  # 160 KB
//!     h.attrs['small'] = 1
//!     ds = f.create_dataset('bt2', data=np.arange(40*30, dtype='f4').reshape(40, 30), chunks=(7, 4), maxshape=(None, None), compression='gzip')
//!     ds = f.create_dataset('bt2u', data=np.arange(40*30, dtype='f4').reshape(40, 30), chunks=(7, 4), maxshape=(None, None))
//!     f.attrs['vstr'] = 'latest vlen'
//!     big = f.create_group('huge_links')
//!     for i in range(30000):
//!         big[f'link_with_a_long_name_{i:06d}'] = h5py.SoftLink(f'/target/path/number/{i:06d}')
//! with h5py.File(d+'latest.h5', 'r') as f:
//!     out['latest_big_names'] = list(f['big'])
//!     for name in ['bt2', 'bt2u']:
//!         ds = f[name]
//!         recs = []
//!         for i in range(ds.id.get_num_chunks()):
//!             ci = ds.id.get_chunk_info(i)
//!             recs.append([list(map(int, ci.chunk_offset)), int(ci.byte_offset), int(ci.size), int(ci.filter_mask)])
//!         out['latest_'+name] = recs
//!     for p in ['big', 'ordered', 'attrs', 'huge', 'huge_links', 'bt2', 'bt2u', '/']:
//!         out['addr_'+p] = h5py.h5o.get_info(f[p].id).addr
//!     out['ordered_creation'] = [n for n in f['ordered']]
//!     out['attrs'] = {k: [int(x) for x in v] for k, v in f['attrs'].attrs.items()}
//! json.dump(out, open(d+'expected.json', 'w'))
//! print('ok')
//! ```

use super::*;
use crate::format::btree_v1::{self, BTreeV1Node};
use crate::format::btree_v2::{
    self, AttrNameRecord, AttrOrderRecord, LinkNameRecord, LinkOrderRecord,
};
use crate::format::chunk_index::{ChunkGeometry, ChunkRecord};
use crate::format::global_heap::{read_vlen, GlobalHeapCache};
use crate::format::symbol_table::{read_group, read_symbol_table_node};
use crate::format::Sizes;
use crate::read::LinkTarget;

fn load(name: &str) -> Option<(Vec<u8>, serde_json::Value)> {
    let bytes = std::fs::read(format!("/tmp/heaps/{name}")).ok()?;
    let exp = std::fs::read_to_string("/tmp/heaps/expected.json").ok()?;
    Some((bytes, serde_json::from_str(&exp).ok()?))
}

fn view(bytes: &[u8]) -> FileView<'_> {
    // Superblock v0 keeps the sizes at 13/14, v2/v3 at 9/10.
    let (o, l) = if bytes[8] == 0 {
        (bytes[13], bytes[14])
    } else {
        (bytes[9], bytes[10])
    };
    FileView::new(
        bytes,
        Sizes {
            offset: o,
            length: l,
        },
        0,
    )
}

fn le(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(w)
}

/// Every (type, body) message of the object header at `addr` (v1 or
/// v2), following continuation messages. A test-only reader.
fn messages<'a>(v: &FileView<'a>, addr: u64) -> Vec<(u16, &'a [u8])> {
    let b = v.bytes().unwrap();
    let a = addr as usize;
    let mut out = Vec::new();
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    let v2 = &b[a..a + 4] == b"OHDR";
    if v2 {
        let flags = b[a + 5];
        let mut p = a + 6;
        if flags & 0x20 != 0 {
            p += 16;
        }
        if flags & 0x10 != 0 {
            p += 4;
        }
        let w = 1usize << (flags & 3);
        let size = le(&b[p..p + w]) as usize;
        p += w;
        chunks.push((p, p + size));
        let mut i = 0;
        while i < chunks.len() {
            let (mut p, end) = chunks[i];
            while p + 4 <= end {
                let t = u16::from(b[p]);
                let sz = le(&b[p + 1..p + 3]) as usize;
                let mflags = b[p + 3];
                p += 4;
                if flags & 0x04 != 0 {
                    p += 2;
                }
                let body = &b[p..p + sz];
                if t == 0x10 {
                    let ca = le(&body[..8]) as usize;
                    let cl = le(&body[8..16]) as usize;
                    assert_eq!(&b[ca..ca + 4], b"OCHK");
                    chunks.push((ca + 4, ca + cl - 4));
                }
                let _ = mflags;
                out.push((t, body));
                p += sz;
            }
            i += 1;
        }
    } else {
        let nmsgs = le(&b[a + 2..a + 4]) as usize;
        let size = le(&b[a + 8..a + 12]) as usize;
        chunks.push((a + 16, a + 16 + size));
        let mut i = 0;
        while i < chunks.len() && out.len() < nmsgs {
            let (mut p, end) = chunks[i];
            while p + 8 <= end && out.len() < nmsgs {
                let t = le(&b[p..p + 2]) as u16;
                let sz = le(&b[p + 2..p + 4]) as usize;
                let body = &b[p + 8..p + 8 + sz];
                if t == 0x10 {
                    let ca = le(&body[..8]) as usize;
                    let cl = le(&body[8..16]) as usize;
                    chunks.push((ca, ca + cl));
                }
                out.push((t, body));
                p += 8 + sz;
            }
            i += 1;
        }
    }
    out
}

fn message<'a>(v: &FileView<'a>, addr: u64, t: u16) -> &'a [u8] {
    messages(v, addr)
        .into_iter()
        .find(|(mt, _)| *mt == t)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no message {t:#x} at {addr:#x}"))
}

fn member(links: &[crate::read::Link], name: &str) -> u64 {
    match &links.iter().find(|l| l.name == name).unwrap().target {
        LinkTarget::Hard(a) => a.0,
        t => panic!("{name}: {t:?}"),
    }
}

fn expected_chunks(exp: &serde_json::Value, key: &str) -> Vec<ChunkRecord> {
    let mut out: Vec<ChunkRecord> = exp[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| ChunkRecord {
            offset: r[0]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect(),
            address: Address(r[1].as_u64().unwrap()),
            size: r[2].as_u64().unwrap(),
            filter_mask: r[3].as_u64().unwrap() as u32,
        })
        .collect();
    out.sort_by(|a, b| a.offset.cmp(&b.offset));
    out
}

fn names(exp: &serde_json::Value, key: &str) -> Vec<String> {
    exp[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// (name, target) of an encoded link message (0x06).
fn decode_link(m: &[u8]) -> (String, String) {
    assert_eq!(m[0], 1);
    let flags = m[1];
    let mut p = 2;
    let ltype = if flags & 0x08 != 0 {
        p += 1;
        m[p - 1]
    } else {
        0
    };
    if flags & 0x04 != 0 {
        p += 8;
    }
    if flags & 0x10 != 0 {
        p += 1;
    }
    let w = 1usize << (flags & 3);
    let n = le(&m[p..p + w]) as usize;
    p += w;
    let name = String::from_utf8(m[p..p + n].to_vec()).unwrap();
    p += n;
    let target = if ltype == 1 {
        let l = le(&m[p..p + 2]) as usize;
        String::from_utf8(m[p + 2..p + 2 + l].to_vec()).unwrap()
    } else {
        format!("hard:{:#x}", le(&m[p..p + 8]))
    };
    (name, target)
}

/// (name, data) of an attribute message (0x0C), versions 1 and 3.
fn decode_attr(m: &[u8]) -> (String, &[u8]) {
    let version = m[0];
    let nlen = le(&m[2..4]) as usize;
    let tlen = le(&m[4..6]) as usize;
    let slen = le(&m[6..8]) as usize;
    let pad = |x: usize| if version == 1 { x.div_ceil(8) * 8 } else { x };
    let mut p = if version == 3 { 9 } else { 8 };
    let name = String::from_utf8(m[p..p + nlen - 1].to_vec()).unwrap();
    p += pad(nlen) + pad(tlen) + pad(slen);
    (name, &m[p..])
}

/// (fractal heap, name index, creation-order index) of a link info or
/// attribute info message.
fn info_addresses(m: &[u8], corder_width: usize) -> (Address, Address, Option<Address>) {
    let flags = m[1];
    let mut p = 2;
    if flags & 1 != 0 {
        p += corder_width;
    }
    let heap = Address(le(&m[p..p + 8]));
    let name = Address(le(&m[p + 8..p + 16]));
    let order = (flags & 2 != 0).then(|| Address(le(&m[p + 16..p + 24])));
    (heap, name, order)
}

#[test]
#[ignore = "needs /tmp/heaps files from h5py; see module docs"]
fn earliest_groups_vlen_and_chunks() {
    let Some((bytes, exp)) = load("earliest.h5") else {
        return;
    };
    let v = view(&bytes);
    let lim = Limits::default();
    // Root symbol table entry in the v0 superblock: scratch pad at 56+24.
    let root_btree = Address(le(&bytes[80..88]));
    let root_heap = Address(le(&bytes[88..96]));
    let root = read_group(&v, root_btree, root_heap, &lim).unwrap();
    let root_names: Vec<_> = root.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(root_names, ["big", "chunked", "chunked_gz", "vlen"]);

    // /big: 200 groups + 1 soft link through a two-level B-tree.
    let big = member(&root, "big");
    let stab = message(&v, big, 0x11);
    let (bt, lh) = (Address(le(&stab[..8])), Address(le(&stab[8..16])));
    let node = BTreeV1Node::parse(&v, bt, 0, 8, &lim).unwrap();
    assert_eq!(node.level, 1, "200 members need a two-level group B-tree");
    let snods = btree_v1::group_snod_addresses(&v, bt, &lim).unwrap();
    let per_node: Vec<usize> = snods
        .iter()
        .map(|&s| read_symbol_table_node(&v, s, &lim).unwrap().len())
        .collect();
    assert!(per_node.iter().all(|&n| n <= 8), "{per_node:?}");
    let links = read_group(&v, bt, lh, &lim).unwrap();
    let got: Vec<_> = links.iter().map(|l| l.name.clone()).collect();
    assert_eq!(got, names(&exp, "earliest_big_names"));
    let soft = links.iter().find(|l| l.name == "soft").unwrap();
    assert_eq!(soft.target, LinkTarget::Soft("/big/m001".into()));

    // Root vlen attribute (v1 attribute message).
    let root_oh = le(&bytes[64..72]);
    let attr = messages(&v, root_oh)
        .into_iter()
        .filter(|(t, _)| *t == 0x0c)
        .map(|(_, m)| decode_attr(m))
        .find(|(n, _)| n == "vstr")
        .unwrap();
    assert_eq!(read_vlen(&v, attr.1, &lim).unwrap(), b"hello vlen");

    // vlen dataset, contiguous layout (v3, class 1: address, size).
    let ds = member(&root, "vlen");
    let lay = message(&v, ds, 0x08);
    assert_eq!((lay[0], lay[1]), (3, 1));
    let data_addr = le(&lay[2..10]) as usize;
    let mut cache = GlobalHeapCache::new();
    let strs: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            let el = &bytes[data_addr + 16 * i..data_addr + 16 * (i + 1)];
            cache.read_vlen(&v, el, &lim).unwrap().to_vec()
        })
        .collect();
    assert_eq!(
        strs,
        [b"a".to_vec(), b"bb".to_vec(), vec![], b"ccc".repeat(100)]
    );

    // Chunked datasets: layout v3 class 2 (dimensionality, B-tree address).
    for (name, key) in [
        ("chunked", "earliest_chunked"),
        ("chunked_gz", "earliest_chunked_gz"),
    ] {
        let ds = member(&root, name);
        let lay = message(&v, ds, 0x08);
        assert_eq!((lay[0], lay[1]), (3, 2));
        let rank = usize::from(lay[2]) - 1;
        let bt = Address(le(&lay[3..11]));
        let recs = btree_v1::chunk_records(&v, bt, rank, &lim).unwrap();
        assert_eq!(recs, expected_chunks(&exp, key), "{name}");
        if name == "chunked" {
            let node = BTreeV1Node::parse(&v, bt, 1, 8 + 8 * 3, &lim).unwrap();
            assert!(node.level >= 1, "300 chunks need a multi-level tree");
        }
    }
}

/// Names (and targets) of a dense group, in the order of the given index.
fn dense_links(v: &FileView<'_>, oh: u64, by_order: bool) -> Vec<(String, String, Option<u64>)> {
    let lim = Limits::default();
    let info = message(v, oh, 0x02);
    let (heap, name_bt, order_bt) = info_addresses(info, 8);
    let heap = FractalHeap::open(v, heap, &lim).unwrap();
    let bt = if by_order { order_bt.unwrap() } else { name_bt };
    let tree = BTreeV2::open(v, bt, &lim).unwrap();
    assert_eq!(tree.record_type, if by_order { 6 } else { 5 });
    tree.records_with_addresses()
        .unwrap()
        .into_iter()
        .map(|(at, r)| {
            let (id, order) = if by_order {
                let rec = LinkOrderRecord::parse(r, at).unwrap();
                (rec.heap_id, Some(rec.creation_order))
            } else {
                let rec = LinkNameRecord::parse(r, at).unwrap();
                (rec.heap_id, None)
            };
            let msg = heap.get(&id).unwrap();
            let (n, t) = decode_link(&msg);
            (n, t, order)
        })
        .collect()
}

#[test]
#[ignore = "needs /tmp/heaps files from h5py; see module docs"]
fn latest_dense_links() {
    let Some((bytes, exp)) = load("latest.h5") else {
        return;
    };
    let v = view(&bytes);
    let addr = |k: &str| exp[format!("addr_{k}")].as_u64().unwrap();

    let mut got: Vec<_> = dense_links(&v, addr("big"), false)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    got.sort();
    assert_eq!(got, names(&exp, "latest_big_names"));

    let ordered = dense_links(&v, addr("ordered"), true);
    let got: Vec<_> = ordered.iter().map(|(n, _, _)| n.clone()).collect();
    assert_eq!(got, names(&exp, "ordered_creation"));
    let orders: Vec<_> = ordered.iter().map(|(_, _, o)| o.unwrap()).collect();
    assert_eq!(orders, (0..200).collect::<Vec<u64>>());

    // 30000 soft links: a heap with nested indirect blocks.
    let lim = Limits::default();
    let info = message(&v, addr("huge_links"), 0x02);
    let (heap_addr, _, _) = info_addresses(info, 8);
    let heap = FractalHeap::open(&v, heap_addr, &lim).unwrap();
    assert!(heap.root_rows > 0);
    let many = dense_links(&v, addr("huge_links"), false);
    assert_eq!(many.len(), 30000);
    for (n, t, _) in &many {
        let i = n.strip_prefix("link_with_a_long_name_").unwrap();
        assert_eq!(t, &format!("/target/path/number/{i}"));
    }
    let (_, name_bt, _) = info_addresses(info, 8);
    let depth = BTreeV2::open(&v, name_bt, &lim).unwrap().depth;
    assert!(
        depth >= 2,
        "30000 links need a depth-2 name index, found {depth}"
    );
    eprintln!(
        "huge_links heap: flags {:#x}, rows {}, width {}, start {}, max direct {}, managed \
         space {}",
        heap.flags,
        heap.root_rows,
        heap.table_width,
        heap.starting_block_size,
        heap.max_direct_block_size,
        heap.managed_space
    );
}

#[test]
#[ignore = "needs /tmp/heaps files from h5py; see module docs"]
fn latest_dense_and_huge_attributes_and_vlen() {
    let Some((bytes, exp)) = load("latest.h5") else {
        return;
    };
    let v = view(&bytes);
    let lim = Limits::default();
    let addr = |k: &str| exp[format!("addr_{k}")].as_u64().unwrap();

    // 20 attributes: dense storage, name index (type 8).
    let info = message(&v, addr("attrs"), 0x15);
    let (heap, name_bt, order_bt) = info_addresses(info, 2);
    let heap = FractalHeap::open(&v, heap, &lim).unwrap();
    let tree = BTreeV2::open(&v, name_bt, &lim).unwrap();
    assert_eq!(tree.record_type, 8);
    let mut got = Vec::new();
    for (at, r) in tree.records_with_addresses().unwrap() {
        let rec = AttrNameRecord::parse(r, at).unwrap();
        let msg = heap.get(&rec.heap_id).unwrap();
        let (name, data) = decode_attr(&msg);
        let n: usize = name[4..].parse().unwrap();
        let vals: Vec<u64> = data.chunks(8).take(n + 1).map(le).collect();
        assert_eq!(vals, (0..=n as u64).collect::<Vec<_>>(), "{name}");
        got.push(name);
    }
    got.sort();
    let want: Vec<String> = (0..20).map(|i| format!("attr{i:02}")).collect();
    assert_eq!(got, want);
    if let Some(ob) = order_bt {
        let t = BTreeV2::open(&v, ob, &lim).unwrap();
        assert_eq!(t.record_type, 9);
        for (at, r) in t.records_with_addresses().unwrap() {
            AttrOrderRecord::parse(r, at).unwrap();
        }
    }

    // A 160 KB attribute: a huge object in the attribute heap.
    let info = message(&v, addr("huge"), 0x15);
    let (heap, name_bt, _) = info_addresses(info, 2);
    let heap = FractalHeap::open(&v, heap, &lim).unwrap();
    let tree = BTreeV2::open(&v, name_bt, &lim).unwrap();
    let mut seen = Vec::new();
    for (at, r) in tree.records_with_addresses().unwrap() {
        let rec = AttrNameRecord::parse(r, at).unwrap();
        let msg = heap.get(&rec.heap_id).unwrap();
        let (name, data) = decode_attr(&msg);
        if name == "big" {
            assert_eq!(rec.heap_id[0] & 0x30, 0x10, "expected a huge heap ID");
            let vals: Vec<u64> = data.chunks(8).take(20000).map(le).collect();
            assert_eq!(vals, (0..20000).collect::<Vec<u64>>());
        }
        seen.push(name);
    }
    seen.sort();
    assert_eq!(seen, ["big", "small"]);

    // Root vlen attribute (v3 attribute message).
    let root_oh = le(&bytes[36..44]);
    let attr = messages(&v, root_oh)
        .into_iter()
        .filter(|(t, _)| *t == 0x0c)
        .map(|(_, m)| decode_attr(m))
        .find(|(n, _)| n == "vstr")
        .unwrap();
    assert_eq!(read_vlen(&v, attr.1, &lim).unwrap(), b"latest vlen");
}

#[test]
#[ignore = "needs /tmp/heaps files from h5py; see module docs"]
fn latest_v2_btree_chunk_index() {
    let Some((bytes, exp)) = load("latest.h5") else {
        return;
    };
    let v = view(&bytes);
    let lim = Limits::default();
    for (name, filtered) in [("bt2", true), ("bt2u", false)] {
        let oh = exp[format!("addr_{name}")].as_u64().unwrap();
        let lay = message(&v, oh, 0x08);
        // Layout v4/v5, chunked: flags, dimensionality, dim width, dims,
        // index type (5), node size (4), split, merge, address.
        assert!(lay[0] >= 4 && lay[1] == 2, "{:?}", &lay[..4]);
        let ndims = usize::from(lay[3]);
        let w = usize::from(lay[4]);
        let mut p = 5;
        let dims: Vec<u64> = (0..ndims)
            .map(|i| le(&lay[p + i * w..p + (i + 1) * w]))
            .collect();
        p += ndims * w;
        assert_eq!(lay[p], 5, "index type");
        p += 1 + 4 + 1 + 1;
        let bt = Address(le(&lay[p..p + 8]));
        let chunk_dims = &dims[..ndims - 1];
        let geom = ChunkGeometry {
            dims: &[40, 30],
            max_dims: &[u64::MAX, u64::MAX],
            chunk_dims,
            element_size: dims[ndims - 1] as u32,
            filtered,
        };
        let recs = btree_v2::chunk_records(&v, bt, &geom, &lim).unwrap();
        assert_eq!(
            recs,
            expected_chunks(&exp, &format!("latest_{name}")),
            "{name}"
        );
    }
}
