//! Dev check against files written by real libhdf5 (h5py). Ignored by
//! default: run with
//! `H5SPARSE_DEV_FILES=/tmp/headers cargo test --lib real_files -- --ignored --nocapture`.
//!
//! The directory holds `*.h5` files and, beside each, `<file>.objects`
//! listing `path<TAB>address<TAB>num_attrs<TAB>kind` for every object (made
//! with `h5py.h5o.get_info(obj.id).addr`). Every object header is parsed,
//! and every message in it is parsed with its message parser; a second test
//! truncates and bit-flips every message and re-parses it (no panics).
//!
//! The files used while writing these parsers came from h5py 3.16 / HDF5
//! 2.0: `libver` earliest, v108, v110 and latest, each with and without
//! `track_order=True`; a 512- and a 1024-byte user block; attributes of
//! every int/float width and byte order, fixed and vlen strings, bool,
//! enum, compound, 2-D, scalar and `h5py.Empty`; compact (low-level
//! `set_layout(COMPACT)`), contiguous and chunked datasets with gzip,
//! shuffle, fletcher32 and lzf, single-chunk, fixed-array, extensible-array
//! and v2 B-tree indexes; committed datatypes used by attributes; and
//! headers grown by adding/deleting attributes until they need
//! continuation blocks (v1 and OCHK).

use super::*;
use crate::format::object_header::{kind, ObjectHeader};
use crate::format::superblock::Superblock;
use crate::format::{Address, FileView};
use crate::limits::Limits;

fn describe(view: &FileView<'_>, oh: &ObjectHeader<'_>) -> (usize, bool) {
    let sizes = view.sizes;
    let mut attrs = 0;
    let mut dense = false;
    for m in &oh.messages {
        let (d, at) = (m.data, m.at);
        if m.is_shared() {
            let r = shared::parse(d, at, sizes).expect("shared message pointer");
            println!("    type {:#06x} SHARED -> {r:?}", m.kind);
            continue;
        }
        let text = match m.kind {
            kind::DATASPACE => format!("{:?}", Dataspace::parse(d, at, sizes).unwrap()),
            kind::DATATYPE => {
                let (dt, n) = Datatype::parse(d, at, sizes).unwrap();
                assert!(n <= d.len());
                format!("v{} {} {dt:?}", d[0] >> 4, dt.class_name())
            }
            kind::FILL_VALUE_OLD => format!("{:?}", FillValue::parse_old(d, at).unwrap()),
            kind::FILL_VALUE => format!("{:?}", FillValue::parse(d, at).unwrap()),
            kind::LAYOUT => format!("v{} {:?}", d[0], Layout::parse(d, at, sizes).unwrap()),
            kind::FILTER_PIPELINE => {
                format!("v{} {:?}", d[0], filter_pipeline::parse(d, at).unwrap())
            }
            kind::ATTRIBUTE => {
                attrs += 1;
                let limits = Limits::default();
                let mut r = attribute::CommittedResolver {
                    view,
                    limits: &limits,
                };
                let a = AttributeMessage::parse_with(d, at, sizes, &mut r).unwrap();
                format!(
                    "v{} {:?}{} {} {:?} {:?} {} bytes",
                    d[0],
                    a.name,
                    if a.datatype_shared {
                        " (shared type)"
                    } else {
                        ""
                    },
                    a.datatype.class_name(),
                    a.dataspace.kind,
                    a.dataspace.dims,
                    a.data.len()
                )
            }
            kind::LINK => format!("{:?}", LinkMessage::parse(d, at, sizes).unwrap()),
            kind::LINK_INFO => format!("{:?}", LinkInfo::parse(d, at, sizes).unwrap()),
            kind::GROUP_INFO => format!("{:?}", GroupInfo::parse(d, at, sizes).unwrap()),
            kind::ATTRIBUTE_INFO => {
                let a = AttributeInfo::parse(d, at, sizes).unwrap();
                dense |= !a.fractal_heap.is_undefined();
                format!("{a:?}")
            }
            kind::SYMBOL_TABLE => {
                format!("{:?}", SymbolTableMessage::parse(d, at, sizes).unwrap())
            }
            kind::SHARED_MESSAGE_TABLE => format!(
                "{:?}",
                sohm::SharedMessageTableMessage::parse(d, at, sizes).unwrap()
            ),
            _ => format!("{} bytes", d.len()),
        };
        let order = m
            .creation_index
            .map(|c| format!(" #{c}"))
            .unwrap_or_default();
        println!("    type {:#06x}{order} @{:#x}: {text}", m.kind, m.at);
    }
    (attrs, dense)
}

#[test]
#[ignore]
fn walk_real_files() {
    let dir = std::env::var("H5SPARSE_DEV_FILES").unwrap_or_else(|_| "/tmp/headers".into());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no directory {dir}; skipping");
        return;
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "h5"))
        .collect();
    paths.sort();
    let limits = Limits::default();
    let mut objects = 0;
    for p in paths {
        let bytes = std::fs::read(&p).unwrap();
        let sb = Superblock::find(&bytes).unwrap();
        println!(
            "== {} superblock v{} at {} base {} root {:?} ext {:?} scratch {:?}",
            p.display(),
            sb.version,
            sb.superblock_address,
            sb.base_address,
            sb.root_object_header,
            sb.extension,
            sb.root_symbol_table
        );
        let view = FileView::new(&bytes, sb.sizes, sb.base_address);
        if !sb.extension.is_undefined() {
            let oh = ObjectHeader::parse(&view, sb.extension, &limits).unwrap();
            println!("  superblock extension v{}", oh.version);
            describe(&view, &oh);
        }
        let listing = std::fs::read_to_string(format!("{}.objects", p.display())).unwrap();
        for line in listing.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let addr = Address(f[1].parse().unwrap());
            let num_attrs: usize = f[2].parse().unwrap();
            let oh = ObjectHeader::parse(&view, addr, &limits)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", p.display(), f[0]));
            println!(
                "  {} ({}) OH v{} at {:?}, {} chunks, {} messages, crt order tracked {} indexed {}",
                f[0],
                f[3],
                oh.version,
                addr,
                oh.chunks.len(),
                oh.messages.len(),
                oh.attribute_creation_order_tracked,
                oh.attribute_creation_order_indexed
            );
            let (attrs, dense) = describe(&view, &oh);
            if !dense {
                assert_eq!(attrs, num_attrs, "{}: {}", p.display(), f[0]);
            }
            objects += 1;
        }
    }
    println!("{objects} object headers parsed");
}

/// Runs every message parser over `d`; only panics matter here.
fn parse_any(kind_: u16, d: &[u8], sizes: crate::format::Sizes) {
    let _ = shared::parse(d, 0, sizes);
    match kind_ {
        kind::DATASPACE => drop(Dataspace::parse(d, 0, sizes)),
        kind::DATATYPE => drop(Datatype::parse(d, 0, sizes)),
        kind::FILL_VALUE_OLD => drop(FillValue::parse_old(d, 0)),
        kind::FILL_VALUE => drop(FillValue::parse(d, 0)),
        kind::LAYOUT => drop(Layout::parse(d, 0, sizes)),
        kind::FILTER_PIPELINE => drop(filter_pipeline::parse(d, 0)),
        kind::ATTRIBUTE => drop(AttributeMessage::parse(d, 0, sizes)),
        kind::LINK => drop(LinkMessage::parse(d, 0, sizes)),
        kind::LINK_INFO => drop(LinkInfo::parse(d, 0, sizes)),
        kind::GROUP_INFO => drop(GroupInfo::parse(d, 0, sizes)),
        kind::ATTRIBUTE_INFO => drop(AttributeInfo::parse(d, 0, sizes)),
        kind::SYMBOL_TABLE => drop(SymbolTableMessage::parse(d, 0, sizes)),
        _ => {}
    }
}

/// Truncates and bit-flips every message of every object of the dev files
/// and re-parses it: no parser may panic.
#[test]
#[ignore]
fn mutated_real_messages_do_not_panic() {
    let dir = std::env::var("H5SPARSE_DEV_FILES").unwrap_or_else(|_| "/tmp/headers".into());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no directory {dir}; skipping");
        return;
    };
    let mut runs = 0u64;
    for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.extension().is_none_or(|e| e != "h5") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let sb = Superblock::find(&bytes).unwrap();
        let view = FileView::new(&bytes, sb.sizes, sb.base_address);
        let listing = std::fs::read_to_string(format!("{}.objects", p.display())).unwrap();
        for line in listing.lines() {
            let addr = Address(line.split('\t').nth(1).unwrap().parse().unwrap());
            let oh = ObjectHeader::parse(&view, addr, &Limits::default()).unwrap();
            for m in &oh.messages {
                for n in 0..m.data.len() {
                    parse_any(m.kind, &m.data[..n], sb.sizes);
                    runs += 1;
                }
                let mut d = m.data.to_vec();
                for i in 0..d.len() {
                    for bit in [0x01u8, 0x10, 0x80] {
                        d[i] ^= bit;
                        parse_any(m.kind, &d, sb.sizes);
                        d[i] ^= bit;
                        runs += 1;
                    }
                }
            }
            // Corrupt the header bytes themselves (v1 headers have no
            // checksum, so the structure parser is exercised).
            let start = view.abs_u64(addr) as usize;
            let end = (start + 64).min(bytes.len());
            let mut copy = bytes.clone();
            for i in start..end {
                copy[i] ^= 0xff;
                let v = FileView::new(&copy, view.sizes, view.base);
                let _ = ObjectHeader::parse(&v, addr, &Limits::strict());
                copy[i] ^= 0xff;
                runs += 1;
            }
        }
    }
    println!("{runs} mutated parses without a panic");
}
