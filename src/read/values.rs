//! Decoded values of any supported dtype, for generic tools (dump, ls).

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
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
