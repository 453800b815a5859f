//! The object tree: `walk` (like `h5sparse ls -r`), `list` (one group) and
//! `info` (one object's storage).

use std::collections::HashMap;

use h5sparse::format::Address;
use h5sparse::sparse::{detect, SparseInfo};
use h5sparse::{Dataset, File, Group, LayoutKind, Link, LinkTarget, Node, Result};
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::convert::{self, Obj};

/// Every object under `path`, depth first in name order; an object reached
/// again by another hard link is listed with `sameAs` and not descended.
pub(crate) fn walk(file: &File, path: &str) -> Result<Array> {
    let out = Array::new();
    let mut seen: HashMap<Address, String> = HashMap::new();
    let root = file.group(path)?;
    seen.insert(root.address(), root.path().to_string());
    // An explicit stack: a deeply nested (or hostile) file cannot overflow
    // the module's call stack.
    let mut stack: Vec<(Group<'_>, Vec<Link>)> = Vec::new();
    let mut links = root.links()?;
    links.reverse();
    stack.push((root, links));
    while let Some((group, links)) = stack.last_mut() {
        let Some(link) = links.pop() else {
            stack.pop();
            continue;
        };
        let group = group.clone();
        let (entry, child) = member(&group, &link, &mut seen);
        out.push(&entry);
        if let Some(child) = child {
            match child.links() {
                Ok(mut links) => {
                    links.reverse();
                    stack.push((child, links));
                }
                Err(e) => {
                    out.push(
                        &Obj::new()
                            .set("path", child.path())
                            .set("name", "")
                            .set("kind", "error")
                            .set("error", e.to_string())
                            .build(),
                    );
                }
            }
        }
    }
    Ok(out)
}

/// The members of the group at `path`.
pub(crate) fn list(file: &File, path: &str) -> Result<Array> {
    let group = file.group(path)?;
    let mut seen = HashMap::new();
    let out = Array::new();
    for link in group.links()? {
        out.push(&member(&group, &link, &mut seen).0);
    }
    Ok(out)
}

/// One member's entry, and the group to descend into (a group seen for the
/// first time).
fn member<'f>(
    parent: &Group<'f>,
    link: &Link,
    seen: &mut HashMap<Address, String>,
) -> (JsValue, Option<Group<'f>>) {
    let path = join(parent.path(), &link.name);
    let entry = Obj::new()
        .set("path", path.as_str())
        .set("name", link.name.as_str());
    match &link.target {
        LinkTarget::Soft(target) => {
            return (
                entry
                    .set("kind", "soft")
                    .set("target", target.as_str())
                    .build(),
                None,
            )
        }
        LinkTarget::External { file, path } => {
            let target = format!("{file}//{path}");
            return (
                entry.set("kind", "external").set("target", target).build(),
                None,
            );
        }
        LinkTarget::Hard(_) => {}
    }
    let node = match parent.follow(link) {
        Ok(node) => node,
        Err(e) => {
            return (
                entry
                    .set("kind", "error")
                    .set("error", e.to_string())
                    .build(),
                None,
            )
        }
    };
    match node {
        Node::Group(g) => {
            let entry = entry.set("kind", "group");
            if let Some(first) = seen.get(&g.address()) {
                return (entry.set("sameAs", first.as_str()).build(), None);
            }
            seen.insert(g.address(), path);
            let entry = match detect(&g) {
                Ok(Some(info)) => entry.set("sparse", sparse_info(&info)),
                Ok(None) => entry,
                Err(e) => entry.set("error", e.to_string()),
            };
            (entry.build(), Some(g))
        }
        Node::Dataset(d) => {
            let entry = entry.set("kind", "dataset");
            if let Some(first) = seen.get(&d.address()) {
                return (entry.set("sameAs", first.as_str()).build(), None);
            }
            seen.insert(d.address(), path);
            let shape = d.shape().map_or(JsValue::NULL, convert::uints);
            (
                entry
                    .set("shape", shape)
                    .set("dtype", d.dtype().numpy_str())
                    .build(),
                None,
            )
        }
        Node::Datatype { .. } => (entry.set("kind", "datatype").build(), None),
    }
}

/// `{ format, shape, nnz, convention, dtype }` of a sparse group.
pub(crate) fn sparse_info(info: &SparseInfo) -> JsValue {
    Obj::new()
        .set("format", info.format.as_str())
        .set("shape", convert::uints(&info.shape))
        .set("nnz", convert::uint(info.nnz_stored))
        .set("convention", info.convention.as_str())
        .set("dtype", info.data_dtype.numpy_str())
        .set("indicesDtype", info.indices_dtype.numpy_str())
        .set("indptrDtype", info.indptr_dtype.numpy_str())
        .build()
}

/// What the object at `path` is and how it is stored.
pub(crate) fn info(file: &File, path: &str) -> Result<JsValue> {
    Ok(match file.get(path)? {
        Node::Group(g) => {
            let sparse = detect(&g)?.map_or(JsValue::NULL, |i| sparse_info(&i));
            Obj::new()
                .set("kind", "group")
                .set("path", g.path())
                .set("members", g.links()?.len() as f64)
                .set("sparse", sparse)
                .build()
        }
        Node::Dataset(d) => dataset_info(&d),
        Node::Datatype { path } => Obj::new().set("kind", "datatype").set("path", path).build(),
    })
}

fn dataset_info(d: &Dataset<'_>) -> JsValue {
    let layout = match d.layout() {
        LayoutKind::Compact => "compact",
        LayoutKind::Contiguous => "contiguous",
        LayoutKind::Chunked => "chunked",
    };
    let maxshape: Array = d
        .maxshape()
        .unwrap_or_default()
        .iter()
        .map(|m| m.map_or(JsValue::NULL, convert::uint))
        .collect();
    let filters: Array = d
        .filters()
        .iter()
        .map(|f| {
            let cd: Vec<u64> = f.cd_values.iter().map(|&v| u64::from(v)).collect();
            Obj::new()
                .set("id", f.id)
                .set("name", f.name.as_str())
                .set("cdValues", convert::uints(&cd))
                .build()
        })
        .collect();
    // The index's kind without its addresses: `BtreeV1 { address: .. }` -> `BtreeV1`.
    let index = d.chunk_index().map_or(JsValue::NULL, |k| {
        let text = format!("{k:?}");
        let name = text.split([' ', '{', '(']).next().unwrap_or_default();
        JsValue::from_str(name)
    });
    Obj::new()
        .set("kind", "dataset")
        .set("path", d.path())
        .set("shape", d.shape().map_or(JsValue::NULL, convert::uints))
        .set("maxshape", maxshape)
        .set("dtype", d.dtype().numpy_str())
        .set("layout", layout)
        .set("chunks", d.chunks().map_or(JsValue::NULL, convert::uints))
        .set("chunkIndex", index)
        .set("filters", filters)
        .build()
}

fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}
