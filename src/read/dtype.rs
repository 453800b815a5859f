//! The element type of a dataset or attribute, as users see it.

pub use crate::format::types::{ByteOrder, CharSet, StringPadding};

/// The type of the elements of a dataset or attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// Two's-complement or unsigned integer of 1, 2, 4 or 8 bytes.
    Int {
        /// Size in bytes.
        size: u8,
        /// Signed?
        signed: bool,
        /// Byte order.
        order: ByteOrder,
    },
    /// IEEE binary floating point of 2, 4 or 8 bytes.
    Float {
        /// Size in bytes.
        size: u8,
        /// Byte order.
        order: ByteOrder,
    },
    /// h5py's bool: an enum over a 1-byte integer with FALSE=0, TRUE=1.
    Bool,
    /// Any other enum over an integer base type; values read as the base.
    Enum {
        /// Size of the base integer in bytes.
        size: u8,
        /// Is the base integer signed?
        signed: bool,
        /// Byte order of the base integer.
        order: ByteOrder,
        /// Member names and values.
        members: Vec<(String, i64)>,
    },
    /// Fixed-length string of `size` bytes.
    FixedString {
        /// Size in bytes.
        size: usize,
        /// Padding.
        padding: StringPadding,
        /// Character set.
        charset: CharSet,
    },
    /// Variable-length string stored in the global heap.
    VarString {
        /// Character set.
        charset: CharSet,
    },
    /// A class this crate does not read (compound, array, opaque, reference,
    /// variable-length sequence, bitfield, time, unusual float layouts).
    /// Reading values of it gives [`Error::Unsupported`](crate::Error::Unsupported).
    Unsupported {
        /// The class, named (e.g. `compound`).
        class: String,
        /// Size of one element in bytes.
        size: usize,
    },
}

impl Dtype {
    /// numpy's `dtype.str` for this type: `<i4`, `>u8`, `|i1`, `<f2`, `|b1`,
    /// `|S8`; variable-length strings are `vlen-str`.
    pub fn numpy_str(&self) -> String {
        fn order_char(size: u8, order: ByteOrder) -> char {
            if size == 1 {
                '|'
            } else if order == ByteOrder::Little {
                '<'
            } else {
                '>'
            }
        }
        match self {
            Dtype::Int {
                size,
                signed,
                order,
            }
            | Dtype::Enum {
                size,
                signed,
                order,
                ..
            } => format!(
                "{}{}{}",
                order_char(*size, *order),
                if *signed { 'i' } else { 'u' },
                size
            ),
            Dtype::Float { size, order } => format!("{}f{}", order_char(*size, *order), size),
            Dtype::Bool => "|b1".to_string(),
            Dtype::FixedString { size, .. } => format!("|S{size}"),
            Dtype::VarString { .. } => "vlen-str".to_string(),
            Dtype::Unsupported { class, .. } => format!("unsupported-{class}"),
        }
    }

    /// Size in bytes of one stored element (16 for a variable-length string
    /// reference with 8-byte offsets).
    pub fn size(&self) -> usize {
        match self {
            Dtype::Int { size, .. } | Dtype::Float { size, .. } | Dtype::Enum { size, .. } => {
                usize::from(*size)
            }
            Dtype::Bool => 1,
            Dtype::FixedString { size, .. } => *size,
            Dtype::VarString { .. } => 16,
            Dtype::Unsupported { size, .. } => *size,
        }
    }
}
