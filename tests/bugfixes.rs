//! One test per bug found, named after the bug.

use h5sparse::format::message::Dataspace;
use h5sparse::format::object_header::{kind, ObjectHeader};
use h5sparse::format::superblock::Superblock;
use h5sparse::format::FileView;
use h5sparse::io::sink::MemSink;
use h5sparse::write::{CreateOptions, DatasetOptions, Format, Writer};
use h5sparse::{Error, File, Limits};

/// A file (v1 object headers: no checksums) with one dataset `/d` of 8
/// bytes, written with `opts`.
fn one_dataset(opts: &DatasetOptions) -> Vec<u8> {
    let options = CreateOptions {
        format: Format::Earliest,
    };
    let mut w = Writer::create_in_with(MemSink::new(), &options).unwrap();
    w.create_dataset("/d", &[8], &[1u8, 2, 3, 4, 5, 6, 7, 8], opts)
        .unwrap();
    w.close().unwrap().into_bytes()
}

/// Rewrites the (1-D) dimension of `/d` to `n`, its maximum to unlimited.
fn set_len(bytes: &mut [u8], n: u64) {
    let addr = File::from_bytes(bytes.to_vec())
        .unwrap()
        .dataset("/d")
        .unwrap()
        .address();
    let sb = Superblock::find(bytes).unwrap();
    let view = FileView::new(bytes, sb.sizes, sb.base_address);
    let h = ObjectHeader::parse(&view, addr, &Limits::default()).unwrap();
    let m = h.first(kind::DATASPACE).unwrap();
    let space = Dataspace::parse(m.data, m.at, sb.sizes).unwrap();
    let at = m.at as usize
        + m.data
            .windows(8)
            .position(|w| w == space.dims[0].to_le_bytes())
            .unwrap();
    let has_max = space.max_dims.is_some();
    bytes[at..at + 8].copy_from_slice(&n.to_le_bytes());
    if has_max {
        bytes[at + 8..at + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    }
}

/// Issue 10: a smashed byte made a dataset declare 10 GB, and reading it
/// allocated the buffer with `vec![0; n]`, which aborts the process when the
/// system refuses (here: more than any address space, within a `max_alloc`
/// that allows anything). Now an `OutOfMemory` error names the read.
#[test]
fn a_chunked_dataset_declaring_more_than_memory_is_an_error_not_an_abort() {
    let mut bytes = one_dataset(&DatasetOptions::default().chunks(&[4]));
    set_len(&mut bytes, 1 << 62);
    let limits = Limits {
        max_alloc: u64::MAX,
        ..Limits::default()
    };
    let f = File::from_bytes_with_limits(bytes, limits).unwrap();
    let d = f.dataset("/d").unwrap();
    assert_eq!(d.shape(), Some(&[1u64 << 62][..]));
    match d.values() {
        Err(Error::OutOfMemory { what, bytes }) => {
            assert_eq!(what, "dataset read");
            assert_eq!(bytes, 1 << 62);
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    assert!(matches!(d.read::<u8>(), Err(Error::OutOfMemory { .. })));
    // The first elements still read, the rest is fill value.
    let head = d.read_range::<u8>(0, 12).unwrap();
    assert_eq!(head, [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
}

/// Issue 10: a contiguous dataset whose dimensions were damaged to need far
/// more bytes than its storage (and the file) hold allocated the whole read
/// before finding that out. Now it is a format error before any allocation.
#[test]
fn a_contiguous_dataset_larger_than_the_file_is_refused_before_allocating() {
    let mut bytes = one_dataset(&DatasetOptions::default());
    set_len(&mut bytes, 10_440_438_075);
    let limits = Limits {
        max_alloc: u64::MAX,
        ..Limits::default()
    };
    let f = File::from_bytes_with_limits(bytes, limits).unwrap();
    let d = f.dataset("/d").unwrap();
    for e in [d.values().unwrap_err(), d.read::<u8>().unwrap_err()] {
        match e {
            Error::Format { what, .. } => {
                assert!(what.contains("contiguous storage holds 8 bytes"), "{what}")
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }
    // Every read path agrees, even for elements the storage does hold.
    assert!(matches!(
        d.read_runs::<u8>(&[(0, 2), (5, 3)]),
        Err(Error::Format { .. })
    ));
    assert!(matches!(
        d.read_range::<u8>(0, 2),
        Err(Error::Format { .. })
    ));
}

/// A file whose dataset `/r` holds `n` region references to `/t`, each
/// stored as its own global heap object, every one of them then rewritten
/// (in place, same size) to a version 3 regular hyperslab of 2^20 blocks:
/// 32 bytes of selection that expand to 2^20 blocks each.
fn region_reference_bomb(n: usize) -> Vec<u8> {
    use h5sparse::format::selection::Selection;
    use h5sparse::read::{ObjectRef, RegionRef, Value};
    use h5sparse::{Dtype, Values};
    let options = CreateOptions {
        format: Format::Earliest,
    };
    let mut w = Writer::create_in_with(MemSink::new(), &options).unwrap();
    w.create_dataset("/t", &[4], &[0u8; 4], &DatasetOptions::default())
        .unwrap();
    let t = w.reader().unwrap().dataset("/t").unwrap().address();
    let one = Value::RegionRef(Some(RegionRef {
        dataset: ObjectRef {
            address: t.0,
            path: Some("/t".into()),
        },
        selection: Selection::Blocks(vec![(vec![0], vec![0])]),
    }));
    let values = Values::Nested(vec![one; n]);
    w.create_dataset_values(
        "/r",
        &Dtype::RegionRef,
        &[n as u64],
        &values,
        &DatasetOptions::default(),
    )
    .unwrap();
    let mut bytes = w.close().unwrap().into_bytes();
    // Hyperslab v1, rank 1, one block (0)..(0), as the writer stores it.
    let u32s = |v: &[u32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let stored = u32s(&[2, 1, 0, 16, 1, 1, 0, 0]);
    // Hyperslab v3, regular, 4-byte values, rank 1: start 0, stride 1,
    // count 2^20, block 1; zero-padded to the same 32 bytes.
    let mut bomb = u32s(&[2, 3]);
    bomb.extend_from_slice(&[1, 4]);
    bomb.extend_from_slice(&u32s(&[1, 0, 1, 1 << 20, 1]));
    bomb.resize(stored.len(), 0);
    let mut found = 0;
    let mut i = 0;
    while let Some(p) = bytes[i..].windows(stored.len()).position(|w| w == stored) {
        let at = i + p;
        bytes[at..at + stored.len()].copy_from_slice(&bomb);
        found += 1;
        i = at + stored.len();
    }
    assert_eq!(found, n, "region selections found in the file");
    bytes
}

/// Issue 11 (fuzzing): a region reference's serialized selection may be a
/// regular hyperslab, which expands to up to 2^20 blocks from 30 bytes; a
/// dataset of such references, each its own small heap object, expanded
/// every one without counting it against the limits (64 references, a
/// 5 kB file: gigabytes). The expanded selections of one read now count
/// against `max_alloc`.
#[test]
fn region_references_expanding_to_huge_selections_count_against_the_limits() {
    let bytes = region_reference_bomb(64);
    let limits = Limits {
        max_alloc: 64 << 20,
        ..Limits::strict()
    };
    let f = File::from_bytes_with_limits(bytes, limits).unwrap();
    let e = f.dataset("/r").unwrap().values().unwrap_err();
    assert!(matches!(e, Error::LimitsExceeded { .. }), "{e}");
}

/// Issue 11 (fuzzing, `open_walk`): `Dataset::read_field` reads records
/// block by block, each block checked against the limits, but reserved the
/// whole field (one value per record) without checking it: a chunked
/// compound dataset declaring 2^45 records (no chunk written, so all fill)
/// asked the allocator for 2^48 bytes under a 16 MiB `max_alloc`, and one
/// declaring a few million records was read past the limit. The field's
/// memory is now checked against `max_alloc` first.
#[test]
fn read_field_checks_the_whole_field_against_the_limits() {
    use h5sparse::read::{Field, Value};
    use h5sparse::{ByteOrder, Dtype, Values};
    let dtype = Dtype::Compound {
        size: 8,
        fields: vec![Field {
            name: "x".into(),
            offset: 0,
            dtype: Dtype::Float {
                size: 8,
                order: ByteOrder::Little,
            },
        }],
    };
    let options = CreateOptions {
        format: Format::Earliest,
    };
    let mut w = Writer::create_in_with(MemSink::new(), &options).unwrap();
    let records = (0..4)
        .map(|i| Value::Record(vec![("x".into(), Value::Float(f64::from(i)))]))
        .collect();
    let opts = DatasetOptions::growable().chunks(&[4]);
    w.create_dataset_values("/d", &dtype, &[4], &Values::Nested(records), &opts)
        .unwrap();
    let mut bytes = w.close().unwrap().into_bytes();
    // 2^20 records (8 MiB of field), under a 6 MiB max_alloc that every
    // block of records passes.
    set_len(&mut bytes, 1 << 20);
    let limits = Limits {
        max_alloc: 6 << 20,
        ..Limits::default()
    };
    let f = File::from_bytes_with_limits(bytes.clone(), limits).unwrap();
    let r = f.dataset("/d").unwrap().read_field::<f64>("x");
    assert!(
        matches!(r, Err(Error::LimitsExceeded { .. })),
        "{:?}",
        r.map(|v| v.len())
    );
    // 2^45 records: refused by the limits, not left to the allocator.
    set_len(&mut bytes, 1 << 45);
    let f = File::from_bytes_with_limits(bytes, Limits::strict()).unwrap();
    let r = f.dataset("/d").unwrap().read_field::<f64>("x");
    assert!(
        matches!(r, Err(Error::LimitsExceeded { .. })),
        "{:?}",
        r.map(|v| v.len())
    );
}
