//! Dev check against files written by real libhdf5 (h5py). Ignored by
//! default: run with
//! `H5SPARSE_DEV_FILES=/tmp/headers cargo test --lib real_files -- --ignored --nocapture`.
//!
//! The directory holds `*.h5` files and, beside each, `<file>.objects`
//! listing `path<TAB>address<TAB>num_attrs<TAB>kind` for every object (made
//! with `h5py.h5o.get_info(obj.id)`). Every object header is parsed, and
//! every message in it is parsed with its message parser.

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
        let view = FileView {
            bytes: &bytes,
            sizes: sb.sizes,
            base: sb.base_address,
        };
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
