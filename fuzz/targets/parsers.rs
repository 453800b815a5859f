//! One target per metadata parser entry point.
//!
//! Header layout (see [`Input`]): `sizes (1) | address (8) | [target's
//! extra fields] | file bytes`; addresses count from the start of the file
//! bytes (base address 0).

use h5sparse::format::btree_v2::{
    AttrNameRecord, AttrOrderRecord, BTreeV2, HugeObjectRecord, LinkNameRecord, LinkOrderRecord,
};
use h5sparse::format::fractal_heap::FractalHeap;
use h5sparse::format::global_heap::{read_vlen, GlobalHeapCollection};
use h5sparse::format::local_heap::LocalHeap;
use h5sparse::format::message::{
    filter_pipeline, shared, sohm, AttributeInfo, AttributeMessage, Dataspace, Datatype, FillValue,
    GroupInfo, Layout, LinkInfo, LinkMessage, SymbolTableMessage,
};
use h5sparse::format::object_header::{kind, ObjectHeader};
use h5sparse::format::superblock::Superblock;
use h5sparse::format::{btree_v1, symbol_table, Sizes};

use super::input::{limits, Input};

/// The file bytes → [`Superblock::find`] (signature search, every version).
pub fn superblock(data: &[u8]) {
    if let Ok(sb) = Superblock::find(data) {
        // A found superblock's own position must be inside the input.
        assert!(
            sb.superblock_address < data.len() as u64,
            "superblock found at {} in {} bytes",
            sb.superblock_address,
            data.len()
        );
    }
}

/// Parses one message's data with the parser its type names.
pub fn parse_message(kind_id: u16, data: &[u8], at: u64, sizes: Sizes) {
    match kind_id {
        kind::DATASPACE => {
            if let Ok(ds) = Dataspace::parse(data, at, sizes) {
                let _ = ds.element_count();
            }
        }
        kind::DATATYPE => {
            let _ = Datatype::parse(data, at, sizes);
        }
        kind::FILL_VALUE_OLD => {
            let _ = FillValue::parse_old(data, at);
        }
        kind::FILL_VALUE => {
            let _ = FillValue::parse(data, at);
        }
        kind::LINK => {
            let _ = LinkMessage::parse(data, at, sizes);
        }
        kind::LINK_INFO => {
            let _ = LinkInfo::parse(data, at, sizes);
        }
        kind::LAYOUT => {
            let _ = Layout::parse(data, at, sizes);
        }
        kind::GROUP_INFO => {
            let _ = GroupInfo::parse(data, at, sizes);
        }
        kind::FILTER_PIPELINE => {
            let _ = filter_pipeline::parse(data, at);
        }
        kind::ATTRIBUTE => {
            let _ = AttributeMessage::parse(data, at, sizes);
        }
        kind::ATTRIBUTE_INFO => {
            let _ = AttributeInfo::parse(data, at, sizes);
        }
        kind::SYMBOL_TABLE => {
            let _ = SymbolTableMessage::parse(data, at, sizes);
        }
        kind::SHARED_MESSAGE_TABLE => {
            let _ = sohm::SharedMessageTableMessage::parse(data, at, sizes);
        }
        _ => {}
    }
}

/// `sizes | address | file` → [`ObjectHeader::parse`] (v1 or v2, following
/// continuation blocks), then every message through its parser (shared
/// messages through the shared-message pointer parser).
pub fn object_header(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let addr = input.address();
    let view = input.view(sizes);
    let limits = limits();
    let Ok(hdr) = ObjectHeader::parse(&view, addr, &limits) else {
        return;
    };
    assert!(
        hdr.messages.len() <= limits.max_messages as usize,
        "{} messages, more than the limit",
        hdr.messages.len()
    );
    for m in &hdr.messages {
        if m.is_shared() {
            let _ = shared::parse(m.data, m.at, sizes);
        } else {
            parse_message(m.kind, m.data, m.at, sizes);
        }
    }
}

/// `sizes | address | file` → the group B-tree (v1, node type 0) at
/// `address`: every symbol table node it leads to, read.
pub fn btree_v1(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let addr = input.address();
    let view = input.view(sizes);
    let limits = limits();
    if let Ok(snods) = btree_v1::group_snod_addresses(&view, addr, &limits) {
        for snod in snods.into_iter().take(256) {
            let _ = symbol_table::read_symbol_table_node(&view, snod, &limits);
        }
    }
}

/// Parses a v2 B-tree record by its type; returns the fractal heap ID it
/// holds, if any.
fn parse_record(record_type: u8, record: &[u8], at: u64, sizes: Sizes) -> Option<Vec<u8>> {
    match record_type {
        1..=4 => {
            let _ = HugeObjectRecord::parse(record, record_type, sizes, at);
            None
        }
        5 => LinkNameRecord::parse(record, at).ok().map(|r| r.heap_id),
        6 => LinkOrderRecord::parse(record, at).ok().map(|r| r.heap_id),
        8 => AttrNameRecord::parse(record, at).ok().map(|r| r.heap_id),
        9 => AttrOrderRecord::parse(record, at).ok().map(|r| r.heap_id),
        _ => None,
    }
}

/// `sizes | address | file` → [`BTreeV2::open`] and a traversal of every
/// record, each parsed by the tree's record type.
pub fn btree_v2(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let addr = input.address();
    let view = input.view(sizes);
    let limits = limits();
    let Ok(tree) = BTreeV2::open(&view, addr, &limits) else {
        return;
    };
    let rtype = tree.record_type;
    let mut n = 0u64;
    let result = tree.for_each_record(&mut |at, rec| {
        n += 1;
        let _ = parse_record(rtype, rec, at, sizes);
        Ok(())
    });
    if result.is_ok() {
        assert!(
            n <= view.len(),
            "{n} records from a {}-byte file",
            view.len() as usize
        );
    }
}

/// `sizes | heap address | v2 B-tree address | file` → [`FractalHeap::open`],
/// then every heap ID the B-tree's records hold (link or attribute name and
/// creation-order indexes) through [`FractalHeap::get`].
pub fn fractal_heap(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let heap_addr = input.address();
    let tree_addr = input.address();
    let view = input.view(sizes);
    let limits = limits();
    let Ok(heap) = FractalHeap::open(&view, heap_addr, &limits) else {
        return;
    };
    // Heap IDs a hostile file could not produce from a tree still must not
    // panic.
    let _ = heap.get(&[]);
    let _ = heap.get(&[0x00, 0, 0, 0, 0, 0, 0, 0]);
    let Ok(tree) = BTreeV2::open(&view, tree_addr, &limits) else {
        return;
    };
    let rtype = tree.record_type;
    let mut ids = Vec::new();
    let _ = tree.for_each_record(&mut |at, rec| {
        if ids.len() < 1024 {
            ids.extend(parse_record(rtype, rec, at, sizes));
        }
        Ok(())
    });
    for id in ids {
        if let Ok(obj) = heap.get(&id) {
            assert!(
                obj.len() as u64 <= limits.max_alloc.max(view.len()),
                "heap object of {} bytes",
                obj.len()
            );
        }
    }
}

/// `sizes | address | file` → [`GlobalHeapCollection::parse`], every object
/// index (and a few past the end), and [`read_vlen`] of references to them.
pub fn global_heap(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let addr = input.address();
    let view = input.view(sizes);
    let limits = limits();
    if let Ok(col) = GlobalHeapCollection::parse(&view, addr, &limits) {
        let n = col.len().min(4096) as u32;
        for i in 0..n.saturating_add(2) {
            if let Ok(obj) = col.object(i) {
                assert!(
                    obj.len() <= view.len() as usize,
                    "object longer than the file"
                );
            }
        }
    }
    // A vlen element: length (4) | collection address (offset) | index (4).
    for index in [0u32, 1, 2] {
        let mut element = vec![1, 0, 0, 0];
        let a = addr.0.to_le_bytes();
        element.extend_from_slice(&a[..usize::from(sizes.offset)]);
        element.extend_from_slice(&index.to_le_bytes());
        let _ = read_vlen(&view, &element, &limits);
    }
}

/// `sizes | local heap address | v1 B-tree address | file` → the old-style
/// group they describe: [`LocalHeap::parse`], then
/// [`symbol_table::read_group`] (B-tree, symbol table nodes, names and soft
/// link values from the heap).
pub fn symbol_table(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let heap_addr = input.address();
    let tree_addr = input.address();
    let view = input.view(sizes);
    let limits = limits();
    if let Ok(heap) = LocalHeap::parse(&view, heap_addr) {
        for off in [0u64, 1, 8, heap.data().len() as u64] {
            let _ = heap.string_at(off);
        }
    }
    if let Ok(links) = symbol_table::read_group(&view, tree_addr, heap_addr, &limits) {
        assert!(
            links.len() <= view.len() as usize,
            "{} links from a {}-byte file",
            links.len(),
            view.len() as usize
        );
    }
}
