//! Chunk indexes of files written by real libhdf5 (h5py 3.16, HDF5 2.0,
//! `libver='latest'`), compared with libhdf5's own `H5Dchunk_iter` view.
//! Ignored by default; to run:
//!
//! ```text
//! /work/scratch-venv/bin/python src/format/chunk_index/gen_index.py /tmp/chunks/index.h5
//! H5SPARSE_CHUNK_FILE=/tmp/chunks/index.h5 cargo test --lib chunk_index::real_files -- --ignored
//! ```
//!
//! The script writes datasets for every index type (single chunk filtered
//! and not, implicit, fixed array unpaged/paged/sparse/filtered with
//! maxshape larger than shape, extensible array 1-D/2-D/3-D with the
//! unlimited dimension in the middle, paged and sparse, filtered, and a
//! chunk written with its filter skipped) and `<file>.json` with, per
//! dataset, the object header address, shape, maxshape, chunk shape, item
//! size and `[offset, filter_mask, byte_offset, size, raw hex]` of every
//! chunk, plus the decoded bytes of whole chunks, which the test checks by
//! running the filter pipeline (see the script for what is omitted when).

use super::*;
use crate::format::message::filter_pipeline;
use crate::format::message::layout::Layout;
use crate::format::object_header::{kind, ObjectHeader};
use crate::format::superblock::Superblock;
use crate::format::Address;
use serde_json::Value;

#[test]
#[ignore = "needs an h5py-made file; see module docs"]
fn h5py_chunk_indexes_match_libhdf5() {
    let path =
        std::env::var("H5SPARSE_CHUNK_FILE").unwrap_or_else(|_| "/tmp/chunks/index.h5".into());
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("skipping: {path}: {e}");
            return;
        }
    };
    let json: Value =
        serde_json::from_slice(&std::fs::read(format!("{path}.json")).unwrap()).unwrap();
    let sb = Superblock::find(&bytes).unwrap();
    let view = FileView::new(&bytes, sb.sizes, sb.base_address);
    let limits = Limits::default();
    let u = |v: &Value| v.as_u64().unwrap();
    for (name, d) in json.as_object().unwrap() {
        let oh = ObjectHeader::parse(&view, Address(u(&d["ohdr"])), &limits).unwrap();
        let m = oh.first(kind::LAYOUT).unwrap();
        let Layout::Chunked {
            chunk_dims, index, ..
        } = Layout::parse(m.data, m.at, view.sizes).unwrap()
        else {
            panic!("{name}: not chunked");
        };
        let dims: Vec<u64> = d["shape"].as_array().unwrap().iter().map(u).collect();
        let max_dims: Vec<u64> = d["maxshape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v.as_i64()
                    .map_or(u64::MAX, |i| if i < 0 { u64::MAX } else { i as u64 })
            })
            .collect();
        let geom = ChunkGeometry {
            dims: &dims,
            max_dims: &max_dims,
            chunk_dims: &chunk_dims,
            element_size: u(&d["itemsize"]) as u32,
            filtered: d["filtered"].as_bool().unwrap(),
        };
        let got = records(&view, &index, &geom, &limits)
            .unwrap_or_else(|e| panic!("{name} ({index:?}): {e}"));
        let mut want: Vec<&Value> = d["chunks_info"].as_array().unwrap().iter().collect();
        want.sort_by_key(|c| c[0].as_array().unwrap().iter().map(u).collect::<Vec<u64>>());
        assert_eq!(got.len(), want.len(), "{name}: number of chunks");
        let mut decoded_chunks = 0;
        for (g, w) in got.iter().zip(want) {
            let offset: Vec<u64> = w[0].as_array().unwrap().iter().map(u).collect();
            assert_eq!(g.offset, offset, "{name}");
            assert_eq!(g.filter_mask, u(&w[1]) as u32, "{name} {offset:?} mask");
            assert_eq!(g.size, u(&w[3]), "{name} {offset:?} size");
            if let Some(a) = w[2].as_u64() {
                assert_eq!(g.address, Address(a - sb.base_address), "{name} {offset:?}");
            }
            if let Some(hex) = w.get(4).and_then(Value::as_str) {
                let stored = view.slice(g.address, g.size, "chunk").unwrap();
                let hexed: String = stored.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(hexed, hex, "{name} {offset:?} bytes");
                // Whole chunks: run the filter pipeline and compare with
                // what h5py read.
                if let Some(decoded) = w.get(5).and_then(Value::as_str) {
                    let pipeline = match oh.first(kind::FILTER_PIPELINE) {
                        Some(m) => filter_pipeline::parse(m.data, m.at).unwrap(),
                        None => Vec::new(),
                    };
                    let chunk_len = chunk_bytes(&geom, 0).unwrap() as usize;
                    let out = crate::filters::decode_chunk(
                        &pipeline,
                        g.filter_mask,
                        stored,
                        chunk_len,
                        geom.element_size as usize,
                        &limits,
                    )
                    .unwrap_or_else(|e| panic!("{name} {offset:?}: {e}"));
                    let hexed: String = out.iter().map(|b| format!("{b:02x}")).collect();
                    assert_eq!(hexed, decoded, "{name} {offset:?} decoded");
                    decoded_chunks += 1;
                }
            }
        }
        eprintln!(
            "{name}: {} chunks match, {decoded_chunks} decoded ({index:?})",
            got.len()
        );
    }
}
