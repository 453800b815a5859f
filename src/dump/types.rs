//! The TYPE keys of the dump schema (`"dtype"` with `"fields"`, `"subshape"`,
//! `"enum"`, `"base"`) and the JSON form of structured values (records,
//! lists, complex numbers, opaque bytes, references and their selections).

use super::json::JsonWriter;
use super::write_shape;
use crate::read::{Dtype, Field, ObjectRef, Selection, Value};

/// TYPE: `"dtype": D` plus, where the class needs them, `"fields"` (compound),
/// `"subshape"` (array; nested arrays' dimensions concatenated), `"enum"`
/// (non-bool enum) and `"base"` (a vlen sequence whose base needs keys).
pub(super) fn write_type(w: &mut JsonWriter, dtype: &Dtype) {
    let mut subshape = Vec::new();
    let mut element = dtype;
    while let Dtype::Array { dims, base } = element {
        subshape.extend_from_slice(dims);
        element = base;
    }
    w.key("dtype");
    w.string(&element.numpy_str());
    match element {
        Dtype::Compound { fields, .. } => {
            w.key("fields");
            w.begin_array();
            for (f, offset) in api_fields(fields) {
                w.begin_object();
                w.key("name");
                w.string(&f.name);
                w.key("offset");
                w.uint(offset as u64);
                write_type(w, &f.dtype);
                w.end_object();
            }
            w.end_array();
        }
        Dtype::Enum { members, .. } => {
            w.key("enum");
            w.begin_object();
            for (name, v) in members {
                w.key(name);
                w.int(*v);
            }
            w.end_object();
        }
        Dtype::VarSequence { base } if has_type_keys(base) => {
            w.key("base");
            w.begin_object();
            write_type(w, base);
            w.end_object();
        }
        _ => {}
    }
    if !subshape.is_empty() {
        w.key("subshape");
        write_shape(w, Some(&subshape));
    }
}

/// A compound's fields with their offsets as libhdf5's API reports them
/// (`H5Tget_member_offset` on a dataset's type, what h5py shows): for a
/// compound holding variable-length data or references, libhdf5 hands out
/// its in-memory layout, the fields sorted by offset and each later field
/// moved by how much the earlier ones changed size (a vlen string is an
/// 8-byte pointer there, 16 bytes in the file). Otherwise the file's.
pub fn api_fields(fields: &[Field]) -> Vec<(&Field, usize)> {
    if !fields.iter().any(|f| f.dtype.needs_file()) {
        return fields.iter().map(|f| (f, f.offset)).collect();
    }
    let mut sorted: Vec<&Field> = fields.iter().collect();
    sorted.sort_by_key(|f| f.offset);
    let mut change = 0i64;
    sorted
        .into_iter()
        .map(|f| {
            let offset = (f.offset as i64 + change).max(0) as usize;
            change += api_size(&f.dtype) as i64 - f.dtype.size() as i64;
            (f, offset)
        })
        .collect()
}

/// A type's size in libhdf5's in-memory layout (see [`api_fields`]): what
/// h5ls counts as logical storage.
///
/// ```
/// use h5sparse::{CharSet, Dtype};
/// assert_eq!(h5sparse::dump::api_size(&Dtype::VarString { charset: CharSet::Utf8 }), 8);
/// ```
pub fn api_size(dtype: &Dtype) -> usize {
    match dtype {
        Dtype::VarString { .. } => 8,
        Dtype::VarSequence { .. } => 16,
        Dtype::Compound { size, fields } if fields.iter().any(|f| f.dtype.needs_file()) => {
            let grown: i64 = fields
                .iter()
                .map(|f| api_size(&f.dtype) as i64 - f.dtype.size() as i64)
                .sum();
            (*size as i64 + grown).max(0) as usize
        }
        Dtype::Array { dims, base } => dims
            .iter()
            .fold(api_size(base), |n, &d| n.saturating_mul(d as usize)),
        other => other.size(),
    }
}

/// Whether [`write_type`] writes more than `"dtype"` for `dtype`.
fn has_type_keys(dtype: &Dtype) -> bool {
    matches!(
        dtype,
        Dtype::Compound { .. } | Dtype::Enum { .. } | Dtype::Array { .. }
    ) || matches!(dtype, Dtype::VarSequence { base } if has_type_keys(base))
}

/// One structured element in the schema of fixtures/README.md: records as
/// objects, arrays and sequences as lists, complex as `[re, im]`, opaque
/// bytes as lowercase hex, references as `{"object_reference": path}` or
/// `{"region_reference": path, "selection": ...}`, null references `null`.
pub(super) fn write_value(w: &mut JsonWriter, v: &Value) {
    match v {
        Value::Int(x) => w.int(*x),
        Value::UInt(x) => w.uint(*x),
        Value::Float(x) => w.float(*x),
        Value::Bool(x) => w.bool(*x),
        Value::Str(x) => w.string(x),
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            w.string(&hex);
        }
        Value::Complex(re, im) => {
            w.begin_array();
            w.float(*re);
            w.float(*im);
            w.end_array();
        }
        Value::List(items) => {
            w.begin_array();
            for x in items {
                write_value(w, x);
            }
            w.end_array();
        }
        Value::Record(fields) => {
            w.begin_object();
            for (name, x) in fields {
                w.key(name);
                write_value(w, x);
            }
            w.end_object();
        }
        Value::ObjectRef(None) | Value::RegionRef(None) => w.null(),
        Value::ObjectRef(Some(r)) => {
            w.begin_object();
            w.key("object_reference");
            write_path(w, r);
            w.end_object();
        }
        Value::RegionRef(Some(r)) => {
            w.begin_object();
            w.key("region_reference");
            write_path(w, &r.dataset);
            w.key("selection");
            write_selection(w, &r.selection);
            w.end_object();
        }
    }
}

fn write_path(w: &mut JsonWriter, r: &ObjectRef) {
    match &r.path {
        Some(p) => w.string(p),
        None => w.null(),
    }
}

fn write_coords(w: &mut JsonWriter, c: &[u64]) {
    w.begin_array();
    for &x in c {
        w.uint(x);
    }
    w.end_array();
}

fn write_selection(w: &mut JsonWriter, s: &Selection) {
    w.begin_object();
    match s {
        Selection::All => {
            w.key("all");
            w.bool(true);
        }
        Selection::None => {
            w.key("none");
            w.bool(true);
        }
        Selection::Points(points) => {
            w.key("points");
            w.begin_array();
            for p in points {
                write_coords(w, p);
            }
            w.end_array();
        }
        Selection::Blocks(blocks) => {
            w.key("blocks");
            w.begin_array();
            for (start, end) in blocks {
                w.begin_array();
                write_coords(w, start);
                write_coords(w, end);
                w.end_array();
            }
            w.end_array();
        }
    }
    w.end_object();
}
