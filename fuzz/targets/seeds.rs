//! Seed inputs for every target, built from real files (`fixtures/`).
//!
//! Parser targets get the file (user block stripped) behind a header that
//! points at one real structure of the kind they parse, so the fuzzer starts
//! from valid structures; filter targets get real stored chunks.

use std::collections::HashSet;

use h5sparse::filters::FilterSpec;
use h5sparse::format::chunk_index::ChunkIndexKind;
use h5sparse::format::message::{AttributeInfo, AttributeMessage, LinkInfo, SymbolTableMessage};
use h5sparse::format::object_header::{kind, ObjectHeader};
use h5sparse::format::{Address, FileView, Sizes};
use h5sparse::{Dataset, File, Limits, Node};

use super::chunk_index;
use super::filter::pipeline_header;
use super::input::Header;

/// Most seeds one file gives one target.
const MAX_PER_FILE: usize = 24;

/// Groups and datasets of a file, each once.
struct Objects<'f> {
    groups: Vec<Address>,
    datasets: Vec<Dataset<'f>>,
}

fn objects(file: &File) -> Objects<'_> {
    let mut out = Objects {
        groups: Vec::new(),
        datasets: Vec::new(),
    };
    let mut seen = HashSet::new();
    let Ok(root) = file.root() else { return out };
    let mut stack = vec![root];
    while let Some(g) = stack.pop() {
        if !seen.insert(g.address()) || seen.len() > 512 {
            continue;
        }
        out.groups.push(g.address());
        for link in g.links().unwrap_or_default() {
            match g.follow(&link) {
                Ok(Node::Group(c)) => stack.push(c),
                Ok(Node::Dataset(d)) if seen.insert(d.address()) => out.datasets.push(d),
                _ => {}
            }
        }
    }
    out
}

/// Relative positions of `sig` in the file.
fn signatures(bytes: &[u8], sig: &[u8; 4]) -> Vec<u64> {
    bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == sig)
        .map(|(i, _)| i as u64)
        .take(MAX_PER_FILE)
        .collect()
}

fn header_of<'a>(view: &FileView<'a>, addr: Address) -> Option<ObjectHeader<'a>> {
    ObjectHeader::parse(view, addr, &Limits::default()).ok()
}

/// (fractal heap, name index) pairs of every dense link or attribute
/// storage.
fn dense_storages(view: &FileView<'_>, objs: &Objects<'_>) -> Vec<(Address, Address)> {
    let mut out = Vec::new();
    let addrs = objs
        .groups
        .iter()
        .copied()
        .chain(objs.datasets.iter().map(|d| d.address()));
    for a in addrs {
        let Some(h) = header_of(view, a) else {
            continue;
        };
        for m in &h.messages {
            let pair =
                match m.kind {
                    kind::LINK_INFO => LinkInfo::parse(m.data, m.at, view.sizes).ok().map(|i| {
                        [
                            (i.fractal_heap, i.name_index),
                            (i.fractal_heap, i.order_index),
                        ]
                    }),
                    kind::ATTRIBUTE_INFO => AttributeInfo::parse(m.data, m.at, view.sizes)
                        .ok()
                        .map(|i| {
                            [
                                (i.fractal_heap, i.name_index),
                                (i.fractal_heap, i.order_index),
                            ]
                        }),
                    _ => None,
                };
            for (heap, tree) in pair.into_iter().flatten() {
                if !heap.is_undefined() && !tree.is_undefined() {
                    out.push((heap, tree));
                }
            }
        }
    }
    out
}

fn chunk_seeds(
    which: chunk_index::Which,
    sizes: Sizes,
    body: &[u8],
    objs: &Objects<'_>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in &objs.datasets {
        let (Some(kind), Some(shape), Some(chunks)) = (d.chunk_index(), d.shape(), d.chunks())
        else {
            continue;
        };
        let mut params = [0u8; 16];
        let (address, matches) = match (which, kind) {
            (chunk_index::Which::Single, ChunkIndexKind::SingleChunk { address, filtered }) => {
                if let Some((size, mask)) = filtered {
                    params[..8].copy_from_slice(&size.to_le_bytes());
                    params[8..12].copy_from_slice(&mask.to_le_bytes());
                }
                (*address, true)
            }
            (chunk_index::Which::Implicit, ChunkIndexKind::Implicit { address }) => {
                (*address, true)
            }
            (chunk_index::Which::FixedArray, ChunkIndexKind::FixedArray { address, page_bits }) => {
                params[0] = *page_bits;
                (*address, true)
            }
            (
                chunk_index::Which::ExtensibleArray,
                ChunkIndexKind::ExtensibleArray {
                    address,
                    max_bits,
                    index_elements,
                    min_pointers,
                    min_elements,
                    page_bits,
                },
            ) => {
                params[..5].copy_from_slice(&[
                    *max_bits,
                    *index_elements,
                    *min_pointers,
                    *min_elements,
                    *page_bits,
                ]);
                (*address, true)
            }
            (chunk_index::Which::BtreeV1, ChunkIndexKind::BtreeV1 { address }) => (*address, true),
            (
                chunk_index::Which::BtreeV2,
                ChunkIndexKind::BtreeV2 {
                    address,
                    node_size,
                    split_percent,
                    merge_percent,
                },
            ) => {
                params[..4].copy_from_slice(&node_size.to_le_bytes());
                params[4] = *split_percent;
                params[5] = *merge_percent;
                (*address, true)
            }
            _ => (Address::UNDEFINED, false),
        };
        if !matches {
            continue;
        }
        let max: Vec<u64> = d
            .maxshape()
            .unwrap_or_default()
            .iter()
            .map(|m| m.unwrap_or(u64::MAX))
            .collect();
        let max = if max.len() == shape.len() {
            max
        } else {
            shape.to_vec()
        };
        let h = chunk_index::header(
            sizes,
            address,
            shape,
            &max,
            chunks,
            d.dtype().size() as u32,
            !d.filters().is_empty(),
            params,
        );
        out.push(h.then(body));
    }
    out
}

fn filter_specs(d: &Dataset<'_>) -> Vec<FilterSpec> {
    d.filters()
        .iter()
        .map(|f| FilterSpec {
            id: f.id,
            name: None,
            flags: u16::from(f.optional),
            cd_values: f.cd_values.clone(),
        })
        .collect()
}

fn filter_seeds(target: &str, bytes: &[u8], base: u64, objs: &Objects<'_>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in &objs.datasets {
        let specs = filter_specs(d);
        if specs.is_empty() {
            continue;
        }
        let (Some(chunks), Ok(recs)) = (d.chunks(), d.chunk_records()) else {
            continue;
        };
        let es = d.dtype().size();
        let expected = chunks.iter().product::<u64>() as usize * es;
        for r in recs.iter().take(4) {
            let start = (base + r.address.0) as usize;
            let Some(raw) = bytes.get(start..start.saturating_add(r.size as usize)) else {
                continue;
            };
            let outermost = specs.last().map(|f| f.id);
            match target {
                "filter_pipeline" => out.push(
                    pipeline_header(&specs, r.filter_mask, expected as u32, es as u8).then(raw),
                ),
                "filter_deflate" if outermost == Some(1) => {
                    out.push(Header::new().u32(expected as u32 + 4).u8(6).then(raw))
                }
                "filter_lzf" if outermost == Some(32000) => {
                    out.push(Header::new().u32(expected as u32 + 4).then(raw))
                }
                "filter_fletcher32" if outermost == Some(3) => out.push(raw.to_vec()),
                "filter_shuffle" if specs.iter().any(|f| f.id == 2) => {
                    if let Ok(plain) = h5sparse::filters::decode_chunk(
                        &specs,
                        r.filter_mask,
                        raw,
                        expected,
                        es,
                        &Limits::default(),
                    ) {
                        out.push(Header::new().u8(es as u8).then(&plain));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The `datatype` target's hand-built seeds, then every datatype message of
/// the file's groups and datasets (as stored) and the datatype of every
/// compact attribute (encoded at its lowest version and at version 3),
/// each once, behind the target's sizes byte.
fn datatype_seeds(view: &FileView<'_>, objs: &Objects<'_>) -> Vec<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut out = super::datatype::built_seeds();
    let sizes = view.sizes;
    let addrs = objs
        .groups
        .iter()
        .copied()
        .chain(objs.datasets.iter().map(|d| d.address()));
    for a in addrs {
        let Some(h) = header_of(view, a) else {
            continue;
        };
        for m in &h.messages {
            if m.is_shared() {
                continue;
            }
            let mut msgs = Vec::new();
            match m.kind {
                kind::DATATYPE => msgs.push(m.data.to_vec()),
                kind::ATTRIBUTE => {
                    if let Ok(attr) = AttributeMessage::parse(m.data, m.at, sizes) {
                        let dt = &attr.datatype;
                        for v in [dt.min_version(), 3] {
                            msgs.extend(dt.encode(v).ok());
                        }
                    }
                }
                _ => {}
            }
            for msg in msgs {
                if seen.insert(msg.clone()) {
                    out.push(Header::new().sizes(sizes).then(&msg));
                }
            }
        }
    }
    out
}

/// Inputs for the structured (`Arbitrary`) targets: a few byte patterns.
fn generic() -> Vec<Vec<u8>> {
    vec![
        vec![0; 64],
        vec![0xff; 64],
        (0..=255u8).collect(),
        (0..1024u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect(),
    ]
}

/// Seed inputs for `target` from one file's bytes.
pub fn seeds(target: &str, bytes: &[u8]) -> Vec<Vec<u8>> {
    match target {
        "open_walk" | "superblock" => return vec![bytes.to_vec()],
        "sparse_select" | "writer_ops" | "roundtrip" => return generic(),
        "selection" => return super::selection::seeds(),
        _ => {}
    }
    let Ok(file) = File::from_bytes(bytes.to_vec()) else {
        return Vec::new();
    };
    let Ok(sb) = h5sparse::format::superblock::Superblock::find(bytes) else {
        return Vec::new();
    };
    let base = sb.base_address;
    let body = &bytes[base as usize..];
    let sizes = sb.sizes;
    let view = FileView::new(body, sizes, 0);
    let objs = objects(&file);
    let at = |a: Address| Header::new().sizes(sizes).u64(a.0);
    let mut out: Vec<Vec<u8>> = match target {
        "object_header" => objs
            .groups
            .iter()
            .copied()
            .chain(objs.datasets.iter().map(|d| d.address()))
            .map(|a| at(a).then(body))
            .collect(),
        "btree_v1" | "symbol_table" => {
            let mut v = Vec::new();
            for &g in &objs.groups {
                let Some(h) = header_of(&view, g) else {
                    continue;
                };
                let Some(m) = h.first(kind::SYMBOL_TABLE) else {
                    continue;
                };
                let Ok(st) = SymbolTableMessage::parse(m.data, m.at, sizes) else {
                    continue;
                };
                v.push(if target == "btree_v1" {
                    at(st.btree).then(body)
                } else {
                    at(st.local_heap).u64(st.btree.0).then(body)
                });
            }
            v
        }
        "btree_v2" => signatures(body, b"BTHD")
            .into_iter()
            .map(|p| at(Address(p)).then(body))
            .collect(),
        "global_heap" => signatures(body, b"GCOL")
            .into_iter()
            .map(|p| at(Address(p)).then(body))
            .collect(),
        "fractal_heap" => dense_storages(&view, &objs)
            .into_iter()
            .map(|(heap, tree)| at(heap).u64(tree.0).then(body))
            .collect(),
        "datatype" => datatype_seeds(&view, &objs),
        "chunk_single" => chunk_seeds(chunk_index::Which::Single, sizes, body, &objs),
        "chunk_implicit" => chunk_seeds(chunk_index::Which::Implicit, sizes, body, &objs),
        "chunk_fixed_array" => chunk_seeds(chunk_index::Which::FixedArray, sizes, body, &objs),
        "chunk_extensible_array" => {
            chunk_seeds(chunk_index::Which::ExtensibleArray, sizes, body, &objs)
        }
        "chunk_btree_v1" => chunk_seeds(chunk_index::Which::BtreeV1, sizes, body, &objs),
        "chunk_btree_v2" => chunk_seeds(chunk_index::Which::BtreeV2, sizes, body, &objs),
        t if t.starts_with("filter_") => filter_seeds(t, bytes, base, &objs),
        _ => Vec::new(),
    };
    out.truncate(MAX_PER_FILE);
    out
}
