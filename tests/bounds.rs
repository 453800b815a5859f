//! Resource bounds on hostile files: each test hand-edits the bytes of a file
//! our writer produced (or of a small fixture) into an attack and checks that
//! reading it ends quickly in an error naming the problem, within a bounded
//! amount of memory.
//!
//! * a deflate chunk that inflates far beyond its declared size (zip bomb);
//! * cyclic v1 and v2 B-trees, a fractal heap block pointing at itself, a
//!   symbol table whose B-tree points at itself;
//! * object header continuation blocks that point at themselves;
//! * soft links that form cycles, hard links that form cycles;
//! * absurd dimensions, and an element count × element size that overflows.
//!
//! Allocation is measured with a counting global allocator (peak bytes live
//! above the level at the start of a case); tests in this file run one at a
//! time so that the figures are their own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::Duration;

use h5sparse::format::checksum::metadata_checksum;
use h5sparse::format::chunk_index::ChunkIndexKind;
use h5sparse::format::message::{Dataspace, LinkInfo};
use h5sparse::format::object_header::{kind, ObjectHeader};
use h5sparse::format::superblock::Superblock;
use h5sparse::format::{Address, FileView};
use h5sparse::io::sink::MemSink;
use h5sparse::write::{CreateOptions, DatasetOptions, Format, Writer};
use h5sparse::{CharSet, Dtype, Error, File, Group, Limits, Node, StringPadding, Values};

// ---------------------------------------------------------------------------------------
// Allocation accounting
// ---------------------------------------------------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's pointer, layout and size.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tests run one at a time: the allocation figures are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, returning its result and the peak bytes allocated above the
/// level at the start.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (out, peak)
}

/// The allocation bound of the issue: max(64 MiB, 8 × the file size).
fn allocation_bound(file_len: usize) -> usize {
    (64usize << 20).max(8 * file_len)
}

/// Runs `f` on a thread; fails if it takes longer than a few seconds (the
/// files here are a few kilobytes: anything slower is a hang).
fn quickly<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let limit = Duration::from_secs(20);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

// ---------------------------------------------------------------------------------------
// Building and editing files
// ---------------------------------------------------------------------------------------

fn write(format: Format, build: impl FnOnce(&mut Writer<MemSink>)) -> Vec<u8> {
    let mut w = Writer::create_in_with(MemSink::new(), &CreateOptions { format }).unwrap();
    build(&mut w);
    w.close().unwrap().into_bytes()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn view(bytes: &[u8]) -> FileView<'_> {
    let sb = Superblock::find(bytes).unwrap();
    FileView::new(bytes, sb.sizes, sb.base_address)
}

fn header(bytes: &[u8], addr: Address) -> ObjectHeader<'_> {
    ObjectHeader::parse(&view(bytes), addr, &Limits::default()).unwrap()
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Rewrites the lookup3 checksum stored at `end` over `bytes[start..end]`.
fn reseal(bytes: &mut [u8], start: usize, end: usize) {
    let c = metadata_checksum(&bytes[start..end]);
    bytes[end..end + 4].copy_from_slice(&c.to_le_bytes());
}

/// Where the checksum of the structure starting at `start` is: the first
/// position whose stored value is the lookup3 of everything before it.
fn checksum_end(bytes: &[u8], start: usize) -> usize {
    (start + 8..=bytes.len() - 4)
        .find(|&end| {
            let stored = u32::from_le_bytes(bytes[end..end + 4].try_into().unwrap());
            stored == metadata_checksum(&bytes[start..end])
        })
        .expect("a checksum after the structure")
}

/// Walks the structure (every group's links, every object's attributes and
/// every dataset's shape and chunk index), collecting errors.
fn walk_structure(g: &Group<'_>, depth: u32, seen: &mut HashSet<u64>, errors: &mut Vec<String>) {
    if depth > 40 || !seen.insert(g.address().0) {
        return;
    }
    match g.attributes() {
        Ok(attrs) => {
            for a in attrs {
                if let Err(e) = a.values() {
                    errors.push(e.to_string());
                }
            }
        }
        Err(e) => errors.push(e.to_string()),
    }
    let links = match g.links() {
        Ok(l) => l,
        Err(e) => return errors.push(e.to_string()),
    };
    for link in links {
        match g.follow(&link) {
            Ok(Node::Group(c)) => walk_structure(&c, depth + 1, seen, errors),
            Ok(Node::Dataset(d)) => {
                let _ = d.shape();
                if let Err(e) = d.chunk_records() {
                    errors.push(e.to_string());
                }
                if let Err(e) = d
                    .attributes()
                    .and_then(|a| a.iter().try_for_each(|a| a.values().map(drop)))
                {
                    errors.push(e.to_string());
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
}

/// Opens `bytes` with default limits and walks its structure, under the
/// time and allocation bounds; returns every error met.
fn open_and_walk(what: &str, bytes: Vec<u8>) -> Vec<String> {
    let len = bytes.len();
    let (errors, peak) = quickly(what, move || {
        measured(|| match File::from_bytes(bytes) {
            Ok(f) => {
                let mut errors = Vec::new();
                match f.root() {
                    Ok(r) => walk_structure(&r, 0, &mut HashSet::new(), &mut errors),
                    Err(e) => errors.push(e.to_string()),
                }
                errors
            }
            Err(e) => vec![e.to_string()],
        })
    });
    assert!(
        peak <= allocation_bound(len),
        "{what}: opening and walking a {len}-byte file allocated {peak} bytes"
    );
    errors
}

fn assert_any(errors: &[String], needle: &str, what: &str) {
    assert!(
        errors.iter().any(|e| e.contains(needle)),
        "{what}: expected an error mentioning {needle:?}, got {errors:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Decompression
// ---------------------------------------------------------------------------------------

/// Incompressible bytes (xorshift).
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_deflate_chunk_inflating_past_its_declared_size_is_an_error() {
    let _g = serial();
    const CHUNK: usize = 32 << 10;
    let mut bytes = write(Format::Earliest, |w| {
        let opts = DatasetOptions::default().chunks(&[CHUNK as u64]).gzip(1);
        w.create_dataset("/z", &[CHUNK as u64], &noise(CHUNK), &opts)
            .unwrap();
    });
    // The stored chunk is incompressible, so ~32 KiB: room for a stream that
    // inflates to 32 MiB of zeros (deflate's best ratio is about 1:1000).
    let (addr, size) = {
        let f = File::from_bytes(bytes.clone()).unwrap();
        let d = f.dataset("/z").unwrap();
        let r = &d.chunk_records().unwrap()[0];
        (r.address.0 as usize, r.size as usize)
    };
    let bomb = h5sparse::filters::deflate::encode(&vec![0u8; 32 << 20], 9).unwrap();
    assert!(
        bomb.len() <= size,
        "bomb of {} bytes, chunk of {size}",
        bomb.len()
    );
    bytes[addr..addr + bomb.len()].copy_from_slice(&bomb);
    let len = bytes.len();
    let (result, peak) = quickly("zip bomb", move || {
        measured(|| {
            let f = File::from_bytes(bytes).unwrap();
            let d = f.dataset("/z").unwrap();
            // The whole chunk, whole and as a range (a range that ends early
            // inflates only its prefix, and that part is sound).
            (
                d.values().map(drop),
                d.read_range::<u8>(0, CHUNK as u64).map(drop),
            )
        })
    });
    for r in [result.0, result.1] {
        let e = r.expect_err("a chunk inflating past its size must be refused");
        assert!(e.to_string().contains("inflates to more than"), "{e}");
    }
    // Inflation stops at the declared chunk size: memory stays near the
    // file size, nowhere near the 32 MiB the stream holds.
    assert!(
        peak < 4 * len + (1 << 20),
        "zip bomb read allocated {peak} bytes"
    );
}

// ---------------------------------------------------------------------------------------
// Cyclic B-trees and heaps
// ---------------------------------------------------------------------------------------

/// A v1 B-tree node made an internal node whose first child is itself.
fn make_v1_node_self_referencing(bytes: &mut [u8], node: usize, key_size: usize) {
    assert_eq!(&bytes[node..node + 4], b"TREE");
    bytes[node + 5] = 1; // level 1: children are nodes, not leaves
    let child0 = node + 8 + 16 + key_size;
    put_u64(bytes, child0, node as u64);
}

#[test]
fn a_cyclic_v1_chunk_btree_is_an_error() {
    let _g = serial();
    let mut bytes = write(Format::Earliest, |w| {
        let opts = DatasetOptions::growable().chunks(&[4]);
        w.create_dataset("/c", &[12], &[1i64; 12], &opts).unwrap();
    });
    let root = {
        let f = File::from_bytes(bytes.clone()).unwrap();
        match f.dataset("/c").unwrap().chunk_index() {
            Some(ChunkIndexKind::BtreeV1 { address }) => address.0 as usize,
            other => panic!("expected a v1 B-tree, found {other:?}"),
        }
    };
    // Chunk keys of a 1-D dataset: size (4) | mask (4) | 2 offsets (8 each).
    make_v1_node_self_referencing(&mut bytes, root, 24);
    let errors = open_and_walk("cyclic v1 chunk B-tree", bytes.clone());
    assert_any(&errors, "v1 B-tree", "cyclic v1 chunk B-tree");
    let r = quickly("read", move || {
        File::from_bytes(bytes)
            .unwrap()
            .dataset("/c")
            .unwrap()
            .values()
            .map(drop)
    });
    assert!(r.is_err());
}

#[test]
fn a_symbol_table_whose_btree_points_at_itself_is_an_error() {
    let _g = serial();
    let mut bytes = write(Format::Earliest, |w| {
        for n in ["a", "b", "c"] {
            w.create_group(&format!("/{n}")).unwrap();
        }
    });
    let (btree, _heap) = Superblock::find(&bytes).unwrap().root_symbol_table.unwrap();
    // Group keys are heap offsets (8 bytes).
    make_v1_node_self_referencing(&mut bytes, btree.0 as usize, 8);
    let errors = open_and_walk("cyclic group B-tree", bytes);
    assert_any(&errors, "v1 B-tree", "cyclic group B-tree");
}

/// Addresses of every object of a file (groups and datasets, each once).
fn object_addresses(bytes: &[u8]) -> Vec<Address> {
    let f = File::from_bytes(bytes.to_vec()).unwrap();
    let mut out = Vec::new();
    let mut stack = vec![f.root().unwrap()];
    while let Some(g) = stack.pop() {
        if out.contains(&g.address()) {
            continue;
        }
        out.push(g.address());
        for link in g.links().unwrap() {
            match g.follow(&link) {
                Ok(Node::Group(c)) => stack.push(c),
                Ok(Node::Dataset(d)) => out.push(d.address()),
                _ => {}
            }
        }
    }
    out
}

/// The dense-link storage of the first group that has one.
fn dense_links(bytes: &[u8]) -> LinkInfo {
    let sizes = view(bytes).sizes;
    object_addresses(bytes)
        .into_iter()
        .find_map(|a| {
            let h = header(bytes, a);
            let m = h.first(kind::LINK_INFO)?;
            let info = LinkInfo::parse(m.data, m.at, sizes).ok()?;
            (!info.fractal_heap.is_undefined()).then_some(info)
        })
        .expect("a group with dense links")
}

#[test]
fn a_cyclic_v2_btree_is_an_error() {
    let _g = serial();
    let mut bytes = fixture("group_200_dense.h5");
    let info = dense_links(&bytes);
    let tree = h5sparse::format::btree_v2::BTreeV2::open(
        &view(&bytes),
        info.name_index,
        &Limits::default(),
    )
    .unwrap();
    assert!(
        tree.depth >= 1,
        "the name index of 200 links has internal nodes"
    );
    let node = tree.root.0 as usize;
    assert_eq!(&bytes[node..node + 4], b"BTIN");
    let end = checksum_end(&bytes, node);
    // Child pointers follow the records: the first one's address is at
    // 6 + records × record size. Point it back at the root.
    let child0 = node + 6 + usize::from(tree.root_records) * usize::from(tree.record_size);
    put_u64(&mut bytes, child0, node as u64);
    reseal(&mut bytes, node, end);
    let errors = open_and_walk("cyclic v2 B-tree", bytes);
    assert_any(&errors, "v2 B-tree", "cyclic v2 B-tree");
}

#[test]
fn a_fractal_heap_block_pointing_at_itself_is_an_error() {
    let _g = serial();
    let mut bytes = fixture("group_200_dense.h5");
    let info = dense_links(&bytes);
    let heap = h5sparse::format::fractal_heap::FractalHeap::open(
        &view(&bytes),
        info.fractal_heap,
        &Limits::default(),
    )
    .unwrap();
    assert!(heap.root_rows > 0, "200 links need a root indirect block");
    let block = heap.root_block.0 as usize;
    assert_eq!(&bytes[block..block + 4], b"FHIB");
    let end = checksum_end(&bytes, block);
    // "FHIB" | version (1) | heap header address (8) | block offset (heap
    // offset width) | child block addresses ...: point the first child at
    // the indirect block itself.
    let offset_width = usize::from(heap.max_heap_size_bits).div_ceil(8);
    put_u64(&mut bytes, block + 13 + offset_width, block as u64);
    reseal(&mut bytes, block, end);
    let errors = open_and_walk("self-referencing fractal heap block", bytes);
    assert_any(
        &errors,
        "fractal heap",
        "self-referencing fractal heap block",
    );
}

// ---------------------------------------------------------------------------------------
// Continuation blocks
// ---------------------------------------------------------------------------------------

/// Points the first continuation message of the root group's header at the
/// chunk that holds it; returns the edited bytes.
fn self_continuation(mut bytes: Vec<u8>) -> Vec<u8> {
    let sb = Superblock::find(&bytes).unwrap();
    let (slot, chunk, version, tracked) = object_addresses(&bytes)
        .into_iter()
        .find_map(|a| {
            let h = header(&bytes, a);
            let slot = *h.slots.iter().find(|s| s.kind == kind::CONTINUATION)?;
            Some((
                slot,
                h.chunk_info[slot.chunk],
                h.version,
                h.attribute_creation_order_tracked,
            ))
        })
        .expect("an object header with a continuation message");
    // Message header: v1 type (2) | size (2) | flags (1) | reserved (3);
    // v2 type (1) | size (2) | flags (1) [| creation order (2)].
    let data = slot.header_at as usize
        + match (version, tracked) {
            (1, _) => 8,
            (_, true) => 6,
            _ => 4,
        };
    let (target, len) = if version == 1 {
        (chunk.messages_abs, chunk.messages_len)
    } else {
        (chunk.abs, chunk.len)
    };
    put_u64(&mut bytes, data, target - sb.base_address);
    put_u64(&mut bytes, data + 8, len);
    if version == 2 {
        let end = (chunk.abs + chunk.len - 4) as usize;
        reseal(&mut bytes, chunk.abs as usize, end);
    }
    bytes
}

#[test]
fn a_continuation_block_pointing_at_itself_is_an_error() {
    let _g = serial();
    for name in ["continuation.h5", "continuation_v2.h5"] {
        let bytes = self_continuation(fixture(name));
        let errors = open_and_walk(name, bytes);
        assert!(!errors.is_empty(), "{name}: no error");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("continuation") || e.contains("OHDR") || e.contains("OCHK")),
            "{name}: {errors:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------

#[test]
fn soft_and_hard_link_cycles_terminate() {
    let _g = serial();
    for format in [Format::Earliest, Format::Latest] {
        let bytes = write(format, |w| {
            w.soft_link("/self", "/self").unwrap();
            w.soft_link("/a", "/b").unwrap();
            w.soft_link("/b", "/a/x").unwrap();
            w.create_group("/g").unwrap();
            // The writer adds hard links to version 1 object headers only.
            if format == Format::Earliest {
                w.hard_link("/g/up", "/").unwrap();
                w.hard_link("/g/again", "/g").unwrap();
            }
        });
        let what = format!("{format:?} link cycles");
        open_and_walk(&what, bytes.clone());
        let f = File::from_bytes(bytes).unwrap();
        for path in ["/self", "/a", "/b/c"] {
            match f.get(path) {
                Err(Error::LimitsExceeded { what, .. }) => assert!(what.contains("link hops")),
                other => panic!("{format:?} {path}: expected a link-hop limit, got {other:?}"),
            }
        }
        if format == Format::Earliest {
            // The hard-link cycle is a valid file: paths through it resolve.
            assert!(matches!(f.get("/g/up/g/again/up/g"), Ok(Node::Group(_))));
            let json = quickly("dump", move || h5sparse::dump::dump_json(&f));
            assert!(json.contains("\"/g/up\""), "{format:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Absurd dimensions and overflowing sizes
// ---------------------------------------------------------------------------------------

/// Replaces the dataspace of dataset `path` by `dims` (and `max`), in place
/// (the rank must stay the same).
fn set_dims(bytes: &mut [u8], path: &str, dims: &[u64], max: &[u64]) {
    let addr = File::from_bytes(bytes.to_vec())
        .unwrap()
        .dataset(path)
        .unwrap()
        .address();
    let (at, len, old, seal) = {
        let h = header(bytes, addr);
        let m = h.first(kind::DATASPACE).unwrap();
        // v2 headers: the chunk holding the message is checksummed.
        let seal = (h.version == 2).then(|| {
            let c = h
                .chunk_info
                .iter()
                .find(|c| c.abs <= m.at && m.at < c.abs + c.len)
                .unwrap();
            (c.abs as usize, (c.abs + c.len - 4) as usize)
        });
        let sizes = view(bytes).sizes;
        (
            m.at as usize,
            m.data.len(),
            Dataspace::parse(m.data, m.at, sizes).unwrap(),
            seal,
        )
    };
    assert_eq!(old.dims.len(), dims.len());
    // Dimension sizes are the last rank × 8 (or 2 × rank × 8) bytes of the
    // message's fixed part: find the old ones and overwrite them.
    let mut want = Vec::new();
    for d in &old.dims {
        want.extend_from_slice(&d.to_le_bytes());
    }
    let msg = &bytes[at..at + len];
    let pos = msg
        .windows(want.len())
        .position(|w| w == want)
        .expect("dimension sizes in the dataspace message");
    let mut new = Vec::new();
    for d in dims {
        new.extend_from_slice(&d.to_le_bytes());
    }
    bytes[at + pos..at + pos + new.len()].copy_from_slice(&new);
    if let Some(old_max) = &old.max_dims {
        let mut want = Vec::new();
        for d in old_max {
            want.extend_from_slice(&d.to_le_bytes());
        }
        let start = pos + new.len();
        if bytes[at + start..].starts_with(&want) {
            let mut m = Vec::new();
            for d in max {
                m.extend_from_slice(&d.to_le_bytes());
            }
            bytes[at + start..at + start + m.len()].copy_from_slice(&m);
        }
    }
    if let Some((start, end)) = seal {
        reseal(bytes, start, end);
    }
}

#[test]
fn absurd_dimensions_are_refused_before_allocating() {
    let _g = serial();
    for format in [Format::Earliest, Format::Latest] {
        let mut bytes = write(format, |w| {
            let opts = DatasetOptions::growable().chunks(&[2, 2]);
            w.create_dataset("/big", &[2, 2], &[1u8, 2, 3, 4], &opts)
                .unwrap();
            w.create_dataset("/huge", &[2, 2], &[1u8, 2, 3, 4], &opts)
                .unwrap();
        });
        // 2^40 one-byte elements (1 TiB of fill value) and 2^62 × 2^62
        // elements (the count overflows).
        set_dims(
            &mut bytes,
            "/big",
            &[1 << 20, 1 << 20],
            &[u64::MAX, u64::MAX],
        );
        set_dims(
            &mut bytes,
            "/huge",
            &[1 << 62, 1 << 62],
            &[u64::MAX, u64::MAX],
        );
        let what = format!("{format:?} absurd dimensions");
        open_and_walk(&what, bytes.clone());
        let len = bytes.len();
        let (results, peak) = quickly(&what, move || {
            measured(|| {
                let f = File::from_bytes(bytes).unwrap();
                let big = f.dataset("/big").unwrap();
                (
                    big.values().map(drop),
                    big.read_slab::<u8>(&[0, 0], &[2, 3]),
                    f.dataset("/huge").and_then(|d| d.values()).map(drop),
                )
            })
        });
        assert!(peak <= allocation_bound(len), "{what}: {peak} bytes");
        match results.0 {
            Err(Error::LimitsExceeded { .. }) => {}
            other => panic!("{what}: reading 1 TiB: {other:?}"),
        }
        // A small window of the same dataset is fine: stored chunk, then fill.
        assert_eq!(results.1.unwrap(), vec![1, 2, 0, 3, 4, 0], "{what}");
        let e = results.2.expect_err("2^124 elements");
        assert!(e.to_string().contains("overflow"), "{what}: {e}");
    }
}

#[test]
fn an_overflowing_count_times_size_is_an_error() {
    let _g = serial();
    let dtype = Dtype::FixedString {
        size: 4,
        padding: StringPadding::NullPadded,
        charset: CharSet::Ascii,
    };
    let mut bytes = write(Format::Earliest, |w| {
        let v = Values::Str(vec!["abcd".into(), "ef".into()]);
        let opts = DatasetOptions::growable().chunks(&[2]);
        w.create_dataset_values("/s", &dtype, &[2], &v, &opts)
            .unwrap();
    });
    // Element size 2^32 - 1 (the datatype's size field) × 2^40 elements.
    set_dims(&mut bytes, "/s", &[1 << 40], &[u64::MAX]);
    let addr = File::from_bytes(bytes.clone())
        .unwrap()
        .dataset("/s")
        .unwrap()
        .address();
    let at = header(&bytes, addr).first(kind::DATATYPE).unwrap().at as usize;
    bytes[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let errors = open_and_walk("count × size overflow", bytes.clone());
    let r = quickly("read", move || {
        let f = File::from_bytes(bytes).unwrap();
        let d = f.dataset("/s");
        d.and_then(|d| d.values().map(drop))
    });
    let e = r.expect_err("2^40 elements of 4 GiB");
    let text = e.to_string();
    assert!(
        text.contains("overflow")
            || matches!(e, Error::LimitsExceeded { .. })
            || text.contains("size"),
        "{text} (walk: {errors:?})"
    );
}

#[test]
fn many_references_to_one_large_string_are_refused() {
    let _g = serial();
    const N: usize = 4096;
    let dtype = Dtype::VarString {
        charset: CharSet::Utf8,
    };
    let mut strings = vec!["y".to_string(); N];
    strings[0] = "x".repeat(60_000);
    let mut bytes = write(Format::Earliest, |w| {
        let opts = DatasetOptions::default().chunks(&[N as u64]);
        w.create_dataset_values("/v", &dtype, &[N as u64], &Values::Str(strings), &opts)
            .unwrap();
    });
    // Every element becomes a copy of the first reference (length |
    // collection | index): 4096 × 60 kB of strings from a ~200 kB file.
    let at = {
        let f = File::from_bytes(bytes.clone()).unwrap();
        f.dataset("/v").unwrap().chunk_records().unwrap()[0]
            .address
            .0 as usize
    };
    let first: Vec<u8> = bytes[at..at + 16].to_vec();
    for i in 1..N {
        bytes[at + 16 * i..at + 16 * (i + 1)].copy_from_slice(&first);
    }
    let len = bytes.len();
    let (r, peak) = quickly("vlen amplification", move || {
        measured(|| {
            File::from_bytes(bytes)
                .unwrap()
                .dataset("/v")
                .unwrap()
                .values()
                .map(drop)
        })
    });
    match r {
        Err(Error::LimitsExceeded { what, .. }) => {
            assert!(what.contains("variable-length"), "{what}")
        }
        other => panic!("expected a limit on variable-length data, got {other:?}"),
    }
    assert!(peak <= allocation_bound(len), "{peak} bytes");
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

#[test]
fn opening_and_walking_every_fixture_stays_within_the_allocation_bound() {
    let _g = serial();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if matches!(p.extension().and_then(|e| e.to_str()), Some("h5" | "h5ad")) {
            let bytes = std::fs::read(&p).unwrap();
            open_and_walk(&p.display().to_string(), bytes);
            n += 1;
        }
    }
    assert!(n > 10, "only {n} fixtures");
}
