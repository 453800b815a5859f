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
    let view = FileView {
        bytes,
        sizes: sb.sizes,
        base: sb.base_address,
    };
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
