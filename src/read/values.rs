//! Decoded values of any supported dtype, for generic tools (dump, ls).

pub use crate::format::selection::Selection;

/// The decoded elements of a dataset or attribute, in C order.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Signed integers (and enums over signed integers).
    Int(Vec<i64>),
    /// Unsigned integers (and enums over unsigned integers).
    UInt(Vec<u64>),
    /// Floats, widened exactly to f64.
    Float(Vec<f64>),
    /// h5py bools.
    Bool(Vec<bool>),
    /// Strings, decoded as UTF-8 (invalid bytes replaced) with fixed-length
    /// padding removed.
    Str(Vec<String>),
    /// Elements of a structured type (compound, array, vlen sequence,
    /// opaque, complex, reference), one [`Value`] each.
    Nested(Vec<Value>),
}

/// One decoded element of a structured type.
///
/// ```
/// use h5sparse::read::Value;
/// let v = Value::Record(vec![("x".into(), Value::Float(0.5)), ("n".into(), Value::Int(3))]);
/// assert_eq!(v.field("n"), Some(&Value::Int(3)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A signed integer (or an enum over one).
    Int(i64),
    /// An unsigned integer, bitfield, or enum over one.
    UInt(u64),
    /// A float, widened exactly to f64.
    Float(f64),
    /// An h5py bool.
    Bool(bool),
    /// A string (fixed padding removed; invalid UTF-8 replaced).
    Str(String),
    /// Opaque bytes.
    Bytes(Vec<u8>),
    /// A complex number: real and imaginary parts.
    Complex(f64, f64),
    /// An array element (nested one level per dimension) or a vlen sequence.
    List(Vec<Value>),
    /// A compound record: fields in the datatype's order.
    Record(Vec<(String, Value)>),
    /// An object reference; `None` is the null reference.
    ObjectRef(Option<ObjectRef>),
    /// A dataset region reference; `None` is the null reference.
    RegionRef(Option<RegionRef>),
}

impl Value {
    /// The field `name` of a record.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Where an object reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The object header's address.
    pub address: u64,
    /// The first path that leads there by hard links, in the order libhdf5
    /// visits them (what h5py's `f[ref].name` gives); `None` when no link
    /// in the file leads there.
    pub path: Option<String>,
}

/// A dataset and a selection of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRef {
    /// The dataset.
    pub dataset: ObjectRef,
    /// The selected elements.
    pub selection: Selection,
}

impl Values {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::UInt(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::Nested(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
