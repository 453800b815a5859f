//! End-to-end proof of the encoders: a complete libver-"earliest" file (what
//! h5py writes by default) assembled by hand from `h5sparse::format`'s
//! encoders alone, then opened by our reader, by h5py (libhdf5 2.0) and by
//! `h5dump` (Debian's libhdf5 1.10).
//!
//! The assembler below documents how the pieces fit:
//!
//! ```text
//! 0x000  superblock v0          root symbol table entry -> root header,
//!                               scratch pad (root B-tree, root heap)
//!        root object header v1  [symbol table message]
//!        root B-tree (group)    1 child: the SNOD; keys "" | "g"
//!        root local heap        header, then its data segment:
//!                               "" | "data" | "g" | free block
//!        /data object header v1 dataspace, datatype, fill value, layout
//!                               (contiguous), attributes h5sparse_format
//!                               (vlen UTF-8 scalar) and h5sparse_shape
//!                               (int64[2]); NIL-filled to 256 bytes
//!        /g object header v1    [symbol table message] (empty group)
//!        /g B-tree              no children, one key ""
//!        /g local heap          "" | free block
//!        root SNOD              "data" -> /data, "g" -> /g (cache type 1)
//!        /data raw data         5 x int64
//!        global heap collection object 1 = "csr"  (4096 bytes)
//! EOF
//! ```
//!
//! The h5py and h5dump checks run when their programs are present
//! (`H5SPARSE_PYTHON`, default `/work/scratch-venv/bin/python`, with h5py;
//! `h5dump` on the PATH) and are skipped with a message otherwise.

use std::borrow::Cow;
use std::process::Command;

use h5sparse::format::btree_v1::{encode_group_node, node_size_group};
use h5sparse::format::global_heap::{encode_collection, encode_vlen_ref, VlenRef};
use h5sparse::format::local_heap::{encode_local_heap, LocalHeapBuilder, LOCAL_HEAP_HEADER_LEN};
use h5sparse::format::message::{
    AttributeMessage, Dataspace, DataspaceKind, Datatype, FillValue, Layout, SymbolTableMessage,
};
use h5sparse::format::object_header::{encode_v1, kind, NewMessage, MESSAGE_FLAG_CONSTANT};
use h5sparse::format::superblock::Superblock;
use h5sparse::format::symbol_table::{encode_snod, snod_size, SymbolTableEntry, CACHE_GROUP};
use h5sparse::format::{Address, Sizes};
use h5sparse::{File, Values};

/// Group leaf node K, group internal node K, indexed storage K: libhdf5's
/// defaults.
const LEAF_K: u16 = 4;
const INTERNAL_K: u16 = 16;

/// A bump allocator over the file being assembled.
struct Alloc(u64);

impl Alloc {
    fn take(&mut self, len: usize) -> Address {
        let at = self.0;
        self.0 += len as u64;
        Address(at)
    }
}

/// Places `bytes` at `at` in `file`.
fn put(file: &mut Vec<u8>, at: Address, bytes: &[u8]) {
    let start = at.0 as usize;
    if file.len() < start + bytes.len() {
        file.resize(start + bytes.len(), 0);
    }
    file[start..start + bytes.len()].copy_from_slice(bytes);
}

/// A group's symbol table: its object header, B-tree and heap encoded.
struct GroupParts {
    header: Vec<u8>,
    btree: Vec<u8>,
    heap_header: Vec<u8>,
    heap_data: Vec<u8>,
}

fn group_header(btree: Address, heap: Address) -> Vec<u8> {
    let stab = SymbolTableMessage {
        btree,
        local_heap: heap,
    }
    .encode()
    .unwrap();
    // libhdf5 sizes a group's header for its one message (24 bytes).
    encode_v1(&[NewMessage::owned(kind::SYMBOL_TABLE, 0, stab)], 0).unwrap()
}

/// The /data object header's messages, as h5py writes them for
/// `f.create_dataset('data', data=np.arange(5))` plus the two attributes.
fn dataset_header(data_at: Address, gcol: Address) -> Vec<u8> {
    let space = Dataspace {
        kind: DataspaceKind::Simple,
        dims: vec![5],
        max_dims: Some(vec![5]),
    };
    let dtype = Datatype::int(8, true);
    let layout = Layout::Contiguous {
        address: data_at,
        size: 40,
    };
    let format_ref = encode_vlen_ref(&VlenRef {
        length: 3,
        collection: gcol,
        index: 1,
    });
    let scalar = Dataspace {
        kind: DataspaceKind::Scalar,
        dims: vec![],
        max_dims: None,
    };
    let format_attr = AttributeMessage::encode(
        "h5sparse_format",
        &Datatype::vlen_utf8(),
        &scalar,
        &format_ref,
        1,
    )
    .unwrap();
    let shape: Vec<u8> = [4i64, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
    let shape_space = Dataspace {
        kind: DataspaceKind::Simple,
        dims: vec![2],
        max_dims: Some(vec![2]),
    };
    let shape_attr =
        AttributeMessage::encode("h5sparse_shape", &dtype, &shape_space, &shape, 1).unwrap();
    let messages = [
        NewMessage::owned(kind::DATASPACE, 0, space.encode(1).unwrap()),
        NewMessage::owned(
            kind::DATATYPE,
            MESSAGE_FLAG_CONSTANT,
            dtype.encode(1).unwrap(),
        ),
        NewMessage::owned(
            kind::FILL_VALUE,
            MESSAGE_FLAG_CONSTANT,
            FillValue::h5py_default().encode(2).unwrap(),
        ),
        NewMessage::owned(kind::LAYOUT, 0, layout.encode(3, Sizes::DEFAULT).unwrap()),
        NewMessage {
            kind: kind::ATTRIBUTE,
            flags: 0,
            data: Cow::Owned(format_attr),
        },
        NewMessage::owned(kind::ATTRIBUTE, 0, shape_attr),
    ];
    // libhdf5 gives a dataset header at least 256 bytes of messages.
    encode_v1(&messages, 256).unwrap()
}

/// Assembles the whole file.
fn assemble() -> Vec<u8> {
    let sizes = Sizes::DEFAULT;
    let mut alloc = Alloc(0);
    let sb_at = alloc.take(Superblock::encoded_len(0));
    // Sizes first (they do not depend on addresses), then addresses.
    let group_header_len = group_header(Address(0), Address(0)).len();
    let dataset_header_len = dataset_header(Address(0), Address(0)).len();
    let btree_len = node_size_group(INTERNAL_K, sizes);

    let root_at = alloc.take(group_header_len);
    let root_btree_at = alloc.take(btree_len);
    let mut root_names = LocalHeapBuilder::new();
    let data_name = root_names.add(b"data");
    let g_name = root_names.add(b"g");
    let root_heap_data = root_names.build();
    let root_heap_at = alloc.take(LOCAL_HEAP_HEADER_LEN);
    let root_heap_data_at = alloc.take(root_heap_data.len());
    let data_header_at = alloc.take(dataset_header_len);
    let g_at = alloc.take(group_header_len);
    let g_btree_at = alloc.take(btree_len);
    let g_names = LocalHeapBuilder::new();
    let g_heap_data = g_names.build();
    let g_heap_at = alloc.take(LOCAL_HEAP_HEADER_LEN);
    let g_heap_data_at = alloc.take(g_heap_data.len());
    let snod_at = alloc.take(snod_size(LEAF_K));
    let raw_at = alloc.take(40);
    let gcol = encode_collection(&[b"csr"]).unwrap();
    let gcol_at = alloc.take(gcol.len());
    let eof = alloc.0;

    let root = GroupParts {
        header: group_header(root_btree_at, root_heap_at),
        // One child, the SNOD; key 0 is "" and key 1 the SNOD's last name.
        btree: encode_group_node(
            0,
            Address::UNDEFINED,
            Address::UNDEFINED,
            &[0, g_name],
            &[snod_at],
            INTERNAL_K,
        )
        .unwrap(),
        heap_header: encode_local_heap(
            root_heap_at,
            root_heap_data_at,
            &root_heap_data,
            root_names.free_offset(),
        ),
        heap_data: root_heap_data,
    };
    let g = GroupParts {
        header: group_header(g_btree_at, g_heap_at),
        // An empty group: a root node with no children and one key.
        btree: encode_group_node(
            0,
            Address::UNDEFINED,
            Address::UNDEFINED,
            &[0],
            &[],
            INTERNAL_K,
        )
        .unwrap(),
        heap_header: encode_local_heap(
            g_heap_at,
            g_heap_data_at,
            &g_heap_data,
            g_names.free_offset(),
        ),
        heap_data: g_heap_data,
    };
    let snod = encode_snod(
        &[
            SymbolTableEntry::hard(data_name, data_header_at),
            SymbolTableEntry {
                link_name_offset: g_name,
                object_header: g_at,
                cache_type: CACHE_GROUP,
                cached_btree: Some(g_btree_at),
                cached_heap: Some(g_heap_at),
                soft_link_offset: None,
            },
        ],
        LEAF_K,
    )
    .unwrap();
    let raw: Vec<u8> = (0i64..5).flat_map(|v| v.to_le_bytes()).collect();
    let superblock = Superblock {
        version: 0,
        sizes,
        superblock_address: 0,
        base_address: 0,
        eof_address: eof,
        root_object_header: root_at,
        root_symbol_table: Some((root_btree_at, root_heap_at)),
        extension: Address::UNDEFINED,
        group_leaf_k: LEAF_K,
        group_internal_k: INTERNAL_K,
        indexed_storage_k: 32,
    };

    let mut file = Vec::new();
    put(&mut file, sb_at, &superblock.encode().unwrap());
    for (parts, at, btree_at, heap_at, heap_data_at) in [
        (
            &root,
            root_at,
            root_btree_at,
            root_heap_at,
            root_heap_data_at,
        ),
        (&g, g_at, g_btree_at, g_heap_at, g_heap_data_at),
    ] {
        put(&mut file, at, &parts.header);
        put(&mut file, btree_at, &parts.btree);
        put(&mut file, heap_at, &parts.heap_header);
        put(&mut file, heap_data_at, &parts.heap_data);
    }
    put(&mut file, data_header_at, &dataset_header(raw_at, gcol_at));
    put(&mut file, snod_at, &snod);
    put(&mut file, raw_at, &raw);
    put(&mut file, gcol_at, &gcol);
    assert_eq!(file.len() as u64, eof);
    file
}

fn write_tmp(bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("h5sparse-encoders");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("earliest_by_hand.h5");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn hand_assembled_earliest_file_reads_back() {
    let bytes = assemble();
    let path = write_tmp(&bytes);

    // (a) Our reader.
    let f = File::from_bytes(bytes).unwrap();
    assert_eq!(f.superblock_version(), 0);
    let root = f.root().unwrap();
    let names: Vec<String> = root.links().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["data", "g"]);
    let d = f.dataset("/data").unwrap();
    assert_eq!(d.shape(), Some(&[5u64][..]));
    assert_eq!(d.read::<i64>().unwrap(), vec![0, 1, 2, 3, 4]);
    let fmt = d.attribute("h5sparse_format").unwrap().unwrap();
    assert_eq!(fmt.values().unwrap(), Values::Str(vec!["csr".into()]));
    assert_eq!(fmt.shape(), Some(&[][..]));
    let shape = d.attribute("h5sparse_shape").unwrap().unwrap();
    assert_eq!(shape.values().unwrap(), Values::Int(vec![4, 3]));
    assert!(f.group("/g").unwrap().links().unwrap().is_empty());

    // (b) h5py (libhdf5 2.0).
    let python =
        std::env::var("H5SPARSE_PYTHON").unwrap_or_else(|_| "/work/scratch-venv/bin/python".into());
    let script = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'r') as f:
    assert list(f.keys()) == ['data', 'g'], list(f.keys())
    d = f['data']
    assert d.dtype == np.dtype('<i8') and d.shape == (5,) and d.maxshape == (5,)
    assert d[()].tolist() == [0, 1, 2, 3, 4]
    assert d.attrs['h5sparse_format'] == 'csr', d.attrs['h5sparse_format']
    assert h5py.check_string_dtype(d.attrs.get_id('h5sparse_format').dtype).encoding == 'utf-8'
    assert d.attrs['h5sparse_shape'].tolist() == [4, 3]
    assert d.attrs['h5sparse_shape'].dtype == np.dtype('<i8')
    assert isinstance(f['g'], h5py.Group) and len(f['g']) == 0
    assert d.fillvalue == 0
print('h5py ok', h5py.version.hdf5_version)
"#;
    match Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "h5py failed on {path:?}:\n{text}");
            println!("{}", text.trim());
        }
        Err(e) => println!("skipping the h5py check ({python}: {e})"),
    }

    // (c) h5dump (Debian's libhdf5 1.10).
    match Command::new("h5dump").arg(&path).output() {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "h5dump failed on {path:?}:\n{text}");
            for want in [
                "DATASET \"data\"",
                "H5T_STD_I64LE",
                "(0): 0, 1, 2, 3, 4",
                "ATTRIBUTE \"h5sparse_format\"",
                "CSET H5T_CSET_UTF8",
                "\"csr\"",
                "ATTRIBUTE \"h5sparse_shape\"",
                "(0): 4, 3",
                "GROUP \"g\"",
            ] {
                assert!(text.contains(want), "h5dump output lacks {want:?}:\n{text}");
            }
            assert!(!text.contains("h5dump error"), "{text}");
            println!("h5dump ok");
        }
        Err(e) => println!("skipping the h5dump check (h5dump: {e})"),
    }
}
