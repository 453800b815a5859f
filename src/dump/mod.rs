//! The conformance dump: every reachable object of a file as one JSON
//! document (`h5sparse dump --json`).
//!
//! The schema is the project's conformance contract (`DUMP-SCHEMA.md`); the
//! Python oracle `scripts/h5json.py` prints the same document from h5py, and
//! `tests/conformance.rs` compares the two as parsed JSON. In short:
//!
//! ```text
//! {"superblock_version": n,
//!  "objects": {PATH: {"kind": "group", "links": [..], "attributes": {..}}
//!                  | {"kind": "dataset", "dtype": "<i4", "shape": [..], "maxshape": [..],
//!                     "layout": "chunked", "chunks": [..], "filters": [..],
//!                     "values": .., "attributes": {..}}
//!                  | {"kind": "soft_link", "target": ".."}
//!                  | {"kind": "external_link", "file": "..", "target": ".."}
//!                  | {"kind": "datatype"}},
//!  "sparse": {GROUP_PATH: {"convention": .., "format": .., "shape": [r, c], ..}}}
//! ```
//!
//! The walk never aborts: an object whose values (or attributes, or members)
//! cannot be read carries an `"error"` key with the message instead. Groups
//! already on the current ancestor chain (hard-link cycles) are listed but not
//! descended into, descent stops at [`Limits::max_depth`](crate::Limits), and
//! at most [`MAX_DUMP_OBJECTS`] paths are listed, so a hostile file cannot
//! make the dump run forever.

use std::collections::HashMap;
use std::rc::Rc;

use crate::format::Address;
use crate::read::{
    Attribute, Dataset, Dtype, File, FilterInfo, Group, LayoutKind, Link, LinkTarget, Node, Values,
};
use crate::sparse::{self, SparseInfo};

pub(crate) mod json;
mod types;

use json::JsonWriter;
pub use types::{api_fields, api_size};
use types::{write_type, write_value};

/// Most paths one dump lists before it stops with a top-level `"error"`
/// (a small file whose groups hard-link each other many times over can
/// otherwise reach exponentially many paths without a cycle).
pub const MAX_DUMP_OBJECTS: usize = 1 << 18;

/// The whole file as the conformance JSON document (compact, one line).
///
/// ```no_run
/// let file = h5sparse::File::open("pbmc.h5ad")?;
/// println!("{}", h5sparse::dump::dump_json(&file));
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn dump_json(file: &File) -> String {
    let mut w = JsonWriter::default();
    write_document(file, &mut w, Streaming::DEFAULT);
    w.finish()
}

/// [`dump_json`] written to `out` as it is produced, in bounded memory:
/// large datasets' values are read and written block by block rather than
/// materialised whole. The text is the same as [`dump_json`]'s.
///
/// ```no_run
/// let file = h5sparse::File::open("pbmc.h5ad")?;
/// let mut out = std::io::stdout().lock();
/// h5sparse::dump::write_json(&file, &mut out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_json(file: &File, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut w = JsonWriter::to_sink(out);
    write_document(file, &mut w, Streaming::DEFAULT);
    w.flush()
}

/// Writes the whole document through `w`.
fn write_document(file: &File, w: &mut JsonWriter<'_>, streaming: Streaming) {
    let mut dump = Dump {
        w,
        streaming,
        sparse: Vec::new(),
        objects: 0,
        budget_exhausted: false,
        depth_exceeded: false,
        max_depth: file.limits().max_depth,
        groups: HashMap::new(),
        datasets: HashMap::new(),
    };
    dump.w.begin_object();
    dump.w.key("superblock_version");
    dump.w.uint(u64::from(file.superblock_version()));
    dump.w.key("objects");
    dump.w.begin_object();
    let mut errors = Vec::new();
    match file.root() {
        Ok(root) => {
            let mut ancestors = Vec::new();
            let address = root.address();
            dump.group(&root, Some(address), "/", &mut ancestors, 0);
        }
        Err(e) => errors.push(format!("root group: {e}")),
    }
    dump.w.end_object();
    dump.w.key("sparse");
    dump.w.begin_object();
    let sparse = std::mem::take(&mut dump.sparse);
    for (path, info) in &sparse {
        dump.w.key(path);
        write_sparse(dump.w, info);
    }
    dump.w.end_object();
    if dump.budget_exhausted {
        errors.push(format!(
            "dump stopped after {MAX_DUMP_OBJECTS} paths (hard links reach too many)"
        ));
    }
    if dump.depth_exceeded {
        errors.push(format!(
            "groups nested deeper than {} were not descended into",
            dump.max_depth
        ));
    }
    if !errors.is_empty() {
        dump.w.key("error");
        dump.w.string(&errors.join("; "));
    }
    dump.w.end_object();
}

/// A group's OBJ as JSON text, its members and what [`sparse::detect`]
/// says, kept per address so that groups reached again cost little.
#[derive(Clone)]
struct GroupSummary {
    json: Rc<str>,
    links: Option<Rc<[Link]>>,
    sparse: Option<SparseInfo>,
}

/// Datasets whose JSON is at most this long are kept for repeated visits.
const DATASET_CACHE_MAX_LEN: usize = 1 << 16;

/// State of one dump walk.
struct Dump<'f, 'w, 's> {
    w: &'w mut JsonWriter<'s>,
    streaming: Streaming,
    sparse: Vec<(String, SparseInfo)>,
    objects: usize,
    budget_exhausted: bool,
    depth_exceeded: bool,
    max_depth: u32,
    groups: HashMap<Address, (GroupSummary, Group<'f>)>,
    datasets: HashMap<Address, Rc<str>>,
}

impl<'f> Dump<'f, '_, '_> {
    /// Counts one more listed path; false once the budget is spent.
    fn admit(&mut self) -> bool {
        if self.objects >= MAX_DUMP_OBJECTS {
            self.budget_exhausted = true;
            return false;
        }
        self.objects += 1;
        true
    }

    /// The summary of `group` (at `address`, when known), cached.
    fn summary(&mut self, group: &Group<'f>, address: Option<Address>) -> GroupSummary {
        if let Some((cached, _)) = address.and_then(|a| self.groups.get(&a)) {
            return cached.clone();
        }
        let mut w = JsonWriter::default();
        let links = write_group(&mut w, group);
        let summary = GroupSummary {
            json: w.finish().into(),
            links: links.map(Rc::from),
            sparse: sparse::detect(group).ok().flatten(),
        };
        if let Some(a) = address {
            self.groups.insert(a, (summary.clone(), group.clone()));
        }
        summary
    }

    /// Lists `group` at `path` and, unless that would loop or go too deep,
    /// everything below it.
    fn group(
        &mut self,
        group: &Group<'f>,
        address: Option<Address>,
        path: &str,
        ancestors: &mut Vec<Address>,
        depth: u32,
    ) {
        if !self.admit() {
            return;
        }
        let summary = self.summary(group, address);
        self.w.key(path);
        self.w.raw(&summary.json);
        if address.is_some_and(|a| ancestors.contains(&a)) {
            // A hard-link cycle: listed, not descended into (nor checked for
            // a sparse matrix: that happens where the walk enters a group).
            return;
        }
        if let Some(info) = summary.sparse {
            self.sparse.push((path.to_string(), info));
        }
        let Some(links) = summary.links else { return };
        if depth >= self.max_depth {
            self.depth_exceeded = true;
            return;
        }
        if let Some(a) = address {
            ancestors.push(a);
        }
        for link in links.iter() {
            if self.budget_exhausted {
                break;
            }
            let child_path = join(path, &link.name);
            self.link(group, link, &child_path, ancestors, depth);
        }
        if address.is_some() {
            ancestors.pop();
        }
    }

    /// Lists what `link` (a member of `parent`) points to.
    fn link(
        &mut self,
        parent: &Group<'f>,
        link: &Link,
        path: &str,
        ancestors: &mut Vec<Address>,
        depth: u32,
    ) {
        let address = match &link.target {
            LinkTarget::Hard(address) => *address,
            LinkTarget::Soft(target) => {
                if self.admit() {
                    self.w.key(path);
                    self.w.begin_object();
                    self.w.key("kind");
                    self.w.string("soft_link");
                    self.w.key("target");
                    self.w.string(target);
                    self.w.end_object();
                }
                return;
            }
            LinkTarget::External { file, path: target } => {
                if self.admit() {
                    self.w.key(path);
                    self.w.begin_object();
                    self.w.key("kind");
                    self.w.string("external_link");
                    self.w.key("file");
                    self.w.string(file);
                    self.w.key("target");
                    self.w.string(target);
                    self.w.end_object();
                }
                return;
            }
        };
        if let Some(json) = self.datasets.get(&address).cloned() {
            if self.admit() {
                self.w.key(path);
                self.w.raw(&json);
            }
            return;
        }
        if let Some((_, child)) = self.groups.get(&address) {
            // Reached before: no need to resolve the link again.
            let child = child.clone();
            self.group(
                &child,
                Some(address),
                path,
                ancestors,
                depth.saturating_add(1),
            );
            return;
        }
        match parent.follow(link) {
            Ok(Node::Group(child)) => {
                self.group(
                    &child,
                    Some(address),
                    path,
                    ancestors,
                    depth.saturating_add(1),
                );
            }
            Ok(Node::Dataset(dataset)) => {
                if self.admit() {
                    // Written straight to the output (a large dataset is
                    // streamed); kept for repeated visits when it stayed in
                    // the buffer and is small.
                    self.w.key(path);
                    let (start, flushed) = (self.w.out.len(), self.w.flushed);
                    write_dataset(self.w, &dataset, self.streaming);
                    let kept = (self.w.flushed == flushed)
                        .then(|| self.w.out.get(start..))
                        .flatten()
                        .filter(|json| json.len() <= DATASET_CACHE_MAX_LEN);
                    if let Some(json) = kept {
                        let json: Rc<str> = json.into();
                        self.datasets.insert(address, json);
                    }
                }
            }
            Ok(Node::Datatype { .. }) => {
                if self.admit() {
                    self.w.key(path);
                    self.w.begin_object();
                    self.w.key("kind");
                    self.w.string("datatype");
                    self.w.end_object();
                }
            }
            Err(e) => {
                if self.admit() {
                    self.w.key(path);
                    self.w.begin_object();
                    self.w.key("kind");
                    self.w.string("unknown");
                    self.w.key("error");
                    self.w.string(&e.to_string());
                    self.w.end_object();
                }
            }
        }
    }
}

/// `parent/name`, with a single slash after the root.
fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Writes a group's OBJ; returns its members when they could be read.
fn write_group(w: &mut JsonWriter<'_>, group: &Group<'_>) -> Option<Vec<Link>> {
    w.begin_object();
    w.key("kind");
    w.string("group");
    let links = group.links();
    w.key("links");
    w.begin_array();
    if let Ok(links) = &links {
        for link in links {
            w.string(&link.name);
        }
    }
    w.end_array();
    let attrs = group.attributes();
    write_attributes(w, &attrs);
    let mut errors = Vec::new();
    if let Err(e) = &links {
        errors.push(format!("links: {e}"));
    }
    if let Err(e) = &attrs {
        errors.push(format!("attributes: {e}"));
    }
    if !errors.is_empty() {
        w.key("error");
        w.string(&errors.join("; "));
    }
    w.end_object();
    links.ok()
}

/// Writes a dataset's OBJ.
fn write_dataset(w: &mut JsonWriter<'_>, dataset: &Dataset<'_>, streaming: Streaming) {
    w.begin_object();
    w.key("kind");
    w.string("dataset");
    write_type(w, dataset.dtype());
    let shape = dataset.shape();
    w.key("shape");
    write_shape(w, shape);
    w.key("maxshape");
    match dataset.maxshape() {
        None => w.null(),
        Some(max) => {
            w.begin_array();
            for m in max {
                match m {
                    Some(n) => w.uint(n),
                    None => w.null(),
                }
            }
            w.end_array();
        }
    }
    w.key("layout");
    w.string(match dataset.layout() {
        LayoutKind::Compact => "compact",
        LayoutKind::Contiguous => "contiguous",
        LayoutKind::Chunked => "chunked",
    });
    w.key("chunks");
    write_shape(w, dataset.chunks());
    w.key("filters");
    write_filters(w, dataset.filters());
    match shape {
        _ if matches!(dataset.dtype(), Dtype::Unsupported { .. }) => {
            write_unsupported(w, dataset.dtype(), dataset.values().err());
        }
        None => {
            w.key("values");
            w.null();
        }
        Some(shape) if raw_len(dataset, shape) > streaming.above => {
            stream_values(w, dataset, shape, streaming.block);
        }
        Some(shape) => match dataset.values() {
            Ok(values) => write_values(w, "values", shape, &values),
            Err(e) => {
                w.key("error");
                w.string(&e.to_string());
            }
        },
    }
    let attrs = dataset.attributes();
    write_attributes(w, &attrs);
    if let Err(e) = &attrs {
        w.key("attributes_error");
        w.string(&e.to_string());
    }
    w.end_object();
}

/// Which datasets' values are read and written block by block
/// ([`stream_values`]) rather than whole.
#[derive(Clone, Copy)]
struct Streaming {
    /// Datasets whose raw values are larger than this many bytes.
    above: u64,
    /// Elements per block.
    block: u64,
}

impl Streaming {
    const DEFAULT: Streaming = Streaming {
        above: 4 << 20,
        block: 1 << 18,
    };
}

/// The raw size of a dataset's values (saturating).
fn raw_len(dataset: &Dataset<'_>, shape: &[u64]) -> u64 {
    shape
        .iter()
        .fold(dataset.dtype().size() as u64, |a, &d| a.saturating_mul(d))
}

/// Writes `"values": [...]` block by block ([`Dataset::values_in_blocks`]),
/// nested as [`write_values`] does. A block that cannot be read ends the
/// values: the open lists are closed and an `"error"` follows, naming the
/// element where reading stopped.
fn stream_values(w: &mut JsonWriter<'_>, dataset: &Dataset<'_>, shape: &[u64], block: u64) {
    let mut blocks = dataset.values_in_blocks(block);
    // The first block is read before anything is written, so a dataset
    // that cannot be read at all gets the same `"error"` as a small one.
    let first = match blocks.next() {
        Some(Ok(values)) => values,
        Some(Err(e)) => {
            w.key("error");
            w.string(&e.to_string());
            return;
        }
        None => Values::Int(Vec::new()),
    };
    w.key("values");
    let mut nest = Nesting::open(w, shape);
    let mut failure = None;
    let mut written = 0u64;
    for values in std::iter::once(Ok(first)).chain(blocks) {
        match values {
            Ok(values) => {
                for i in 0..values.len() {
                    write_element(w, &values, i);
                    written += 1;
                    nest.after_element(w);
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    nest.close(w);
    if let Some(e) = failure {
        w.key("error");
        w.string(&format!("values stop after element {written}: {e}"));
    }
}

/// The brackets of a C-order nested list written one element at a time.
struct Nesting {
    /// Elements spanned by one list at each depth, outermost first: the
    /// product of the dimensions from that depth on.
    spans: Vec<u64>,
    /// Elements written.
    written: u64,
    /// Lists currently open.
    open: usize,
}

impl Nesting {
    /// Opens the lists before the first element of `shape` (rank at least
    /// 1, no zero dimension).
    fn open(w: &mut JsonWriter<'_>, shape: &[u64]) -> Nesting {
        let mut spans = vec![1u64; shape.len()];
        let mut span = 1u64;
        for k in (0..shape.len()).rev() {
            span = span.saturating_mul(shape[k]);
            spans[k] = span;
        }
        for _ in &spans {
            w.begin_array();
        }
        Nesting {
            open: spans.len(),
            spans,
            written: 0,
        }
    }

    /// After one element: closes the lists it completes and, unless it was
    /// the last, opens as many for the next element.
    fn after_element(&mut self, w: &mut JsonWriter<'_>) {
        self.written += 1;
        let completed = self
            .spans
            .iter()
            .rev()
            .take_while(|&&s| self.written.is_multiple_of(s))
            .count();
        for _ in 0..completed {
            w.end_array();
        }
        self.open -= completed.min(self.open);
        if self.open > 0 {
            for _ in 0..completed {
                w.begin_array();
            }
            self.open += completed;
        }
    }

    /// Closes the lists still open (all when every element was written).
    fn close(&mut self, w: &mut JsonWriter<'_>) {
        for _ in 0..self.open {
            w.end_array();
        }
        self.open = 0;
    }
}

/// Writes the filter pipeline as `[{"id":..,"name":..,"cd_values":[..]}]`.
/// `"error"`: why values of an unsupported datatype are not given (the
/// read's error, else the type).
fn write_unsupported(w: &mut JsonWriter<'_>, dtype: &Dtype, err: Option<crate::error::Error>) {
    let e = err.map_or_else(
        || format!("unsupported datatype {}", dtype.numpy_str()),
        |e| e.to_string(),
    );
    w.key("error");
    w.string(&e);
}

fn write_filters(w: &mut JsonWriter<'_>, filters: &[FilterInfo]) {
    w.begin_array();
    for filter in filters {
        w.begin_object();
        w.key("id");
        w.uint(u64::from(filter.id));
        w.key("name");
        w.string(&filter.name);
        w.key("cd_values");
        w.begin_array();
        for &v in &filter.cd_values {
            w.uint(u64::from(v));
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();
}

/// Writes `"attributes": {NAME: {"dtype", "shape", "value" | "error"}}`.
fn write_attributes(w: &mut JsonWriter<'_>, attrs: &crate::Result<Vec<Attribute<'_>>>) {
    w.key("attributes");
    w.begin_object();
    if let Ok(attrs) = attrs {
        for attr in attrs {
            w.key(attr.name());
            w.begin_object();
            write_type(w, attr.dtype());
            w.key("shape");
            write_shape(w, attr.shape());
            match attr.shape() {
                _ if matches!(attr.dtype(), Dtype::Unsupported { .. }) => {
                    // Reported even for a null dataspace, as the oracle does.
                    write_unsupported(w, attr.dtype(), attr.values().err());
                }
                None => {
                    w.key("value");
                    w.null();
                }
                Some(shape) => match attr.values() {
                    Ok(values) => write_values(w, "value", shape, &values),
                    Err(e) => {
                        w.key("error");
                        w.string(&e.to_string());
                    }
                },
            }
            w.end_object();
        }
    }
    w.end_object();
}

/// A list of dimensions, or `null`.
pub(super) fn write_shape(w: &mut JsonWriter<'_>, shape: Option<&[u64]>) {
    match shape {
        None => w.null(),
        Some(dims) => {
            w.begin_array();
            for &d in dims {
                w.uint(d);
            }
            w.end_array();
        }
    }
}

/// Writes `key: V` (nested lists in C order, a bare value for a scalar), or
/// `"error"` when the number of values does not match the shape.
fn write_values(w: &mut JsonWriter<'_>, key: &str, shape: &[u64], values: &Values) {
    let expected = shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .and_then(|n| usize::try_from(n).ok());
    if expected != Some(values.len()) {
        w.key("error");
        w.string(&format!(
            "{} values decoded for shape {shape:?}",
            values.len()
        ));
        return;
    }
    w.key(key);
    let mut next = 0usize;
    write_nested(w, shape, values, &mut next);
}

/// Writes the elements for dimensions `shape` starting at element `*next`.
fn write_nested(w: &mut JsonWriter<'_>, shape: &[u64], values: &Values, next: &mut usize) {
    match shape.split_first() {
        None => {
            write_element(w, values, *next);
            *next += 1;
        }
        Some((&n, rest)) => {
            w.begin_array();
            for _ in 0..n {
                write_nested(w, rest, values, next);
            }
            w.end_array();
        }
    }
}

/// Writes element `i` of `values` (the caller checked the length).
fn write_element(w: &mut JsonWriter<'_>, values: &Values, i: usize) {
    match values {
        Values::Int(v) => match v.get(i) {
            Some(&x) => w.int(x),
            None => w.null(),
        },
        Values::UInt(v) => match v.get(i) {
            Some(&x) => w.uint(x),
            None => w.null(),
        },
        Values::Float(v) => match v.get(i) {
            Some(&x) => w.float(x),
            None => w.null(),
        },
        Values::Bool(v) => match v.get(i) {
            Some(&x) => w.bool(x),
            None => w.null(),
        },
        Values::Str(v) => match v.get(i) {
            Some(x) => w.string(x),
            None => w.null(),
        },
        Values::Nested(v) => match v.get(i) {
            Some(x) => write_value(w, x),
            None => w.null(),
        },
    }
}

/// Writes a SPARSE entry.
fn write_sparse(w: &mut JsonWriter<'_>, info: &SparseInfo) {
    w.begin_object();
    w.key("convention");
    w.string(info.convention.as_str());
    w.key("format");
    w.string(info.format.as_str());
    w.key("shape");
    write_shape(w, Some(&info.shape));
    w.key("nnz_stored");
    w.uint(info.nnz_stored);
    w.key("data_dtype");
    w.string(&info.data_dtype.numpy_str());
    w.key("indices_dtype");
    w.string(&info.indices_dtype.numpy_str());
    w.key("indptr_dtype");
    w.string(&info.indptr_dtype.numpy_str());
    w.end_object();
}

#[cfg(test)]
mod tests;
