//! The element type of a dataset or attribute, as users see it.

pub use crate::format::types::{ByteOrder, CharSet, StringPadding};

use super::decode::int_value;
use crate::format::message::datatype::{Datatype, ReferenceKind};

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
    /// A record of named fields at byte offsets (numpy's structured dtype).
    Compound {
        /// Size of one record in bytes, padding included.
        size: usize,
        /// The fields, in the order the datatype lists them.
        fields: Vec<Field>,
    },
    /// A fixed-size array of `base` in every element (numpy's subarray
    /// dtype, `('pos', '<f4', (3,))`).
    Array {
        /// The element's shape.
        dims: Vec<u64>,
        /// The type of each entry.
        base: Box<Dtype>,
    },
    /// A variable-length sequence of `base` (`h5py.vlen_dtype`).
    VarSequence {
        /// The type of each entry.
        base: Box<Dtype>,
    },
    /// Opaque bytes with a tag (numpy's `|V<n>`).
    Opaque {
        /// Size in bytes.
        size: usize,
        /// The tag.
        tag: String,
    },
    /// A bitfield, read as an unsigned integer.
    Bitfield {
        /// Size in bytes.
        size: u8,
        /// Byte order.
        order: ByteOrder,
    },
    /// A complex number: HDF5 2.0's complex class, or h5py's compound of two
    /// equal floats `r` and `i`.
    Complex {
        /// Size in bytes (8 or 16).
        size: u8,
        /// Byte order of both parts.
        order: ByteOrder,
    },
    /// An object reference (`h5py.ref_dtype`): an object header address.
    ObjectRef,
    /// A dataset region reference (`h5py.regionref_dtype`).
    RegionRef,
    /// A class this crate does not read (time, the HDF5 1.12+ revised
    /// references, unusual float layouts), named. Reading values of it
    /// gives [`Error::Unsupported`](crate::Error::Unsupported).
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
            Dtype::Compound { .. } => "compound".to_string(),
            Dtype::Array { base, .. } => base.numpy_str(),
            Dtype::VarSequence { base } => format!("vlen-{}", base.numpy_str()),
            Dtype::Opaque { size, .. } => format!("|V{size}"),
            Dtype::Bitfield { size, order } => format!("{}u{}", order_char(*size, *order), size),
            Dtype::Complex { size, order } => format!("{}c{}", order_char(*size, *order), size),
            Dtype::ObjectRef => "ref".to_string(),
            Dtype::RegionRef => "regionref".to_string(),
            Dtype::Unsupported { class, .. } => format!("unsupported-{class}"),
        }
    }

    /// Whether reading this type needs anything besides the element bytes
    /// (the global heap for vlen data, the file's objects for references).
    pub fn needs_file(&self) -> bool {
        match self {
            Dtype::VarString { .. }
            | Dtype::VarSequence { .. }
            | Dtype::ObjectRef
            | Dtype::RegionRef => true,
            Dtype::Compound { fields, .. } => fields.iter().any(|f| f.dtype.needs_file()),
            Dtype::Array { base, .. } => base.needs_file(),
            _ => false,
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
            Dtype::VarString { .. } | Dtype::VarSequence { .. } => 16,
            Dtype::Compound { size, .. } | Dtype::Opaque { size, .. } => *size,
            Dtype::Array { dims, base } => dims
                .iter()
                .try_fold(base.size(), |n, &d| n.checked_mul(usize::try_from(d).ok()?))
                .unwrap_or(usize::MAX),
            Dtype::Bitfield { size, .. } | Dtype::Complex { size, .. } => usize::from(*size),
            Dtype::ObjectRef => 8,
            Dtype::RegionRef => 12,
            Dtype::Unsupported { size, .. } => *size,
        }
    }
}

/// One field of a [`Dtype::Compound`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its byte offset inside the record.
    pub offset: usize,
    /// Its type.
    pub dtype: Dtype,
}

/// Converts a parsed datatype to the user-facing [`Dtype`].
pub(crate) fn dtype_from(dt: &Datatype) -> Dtype {
    match dt {
        Datatype::FixedPoint {
            size,
            order,
            signed,
        } if matches!(size, 1 | 2 | 4 | 8) => Dtype::Int {
            size: *size as u8,
            signed: *signed,
            order: *order,
        },
        Datatype::FloatingPoint {
            size,
            order,
            sign_location,
            exponent_location,
            exponent_size,
            mantissa_location,
            mantissa_size,
            ..
        } => {
            let ieee = match size {
                2 => (15, 10, 5, 0, 10),
                4 => (31, 23, 8, 0, 23),
                8 => (63, 52, 11, 0, 52),
                _ => (0, 0, 0, 1, 0),
            };
            if (
                *sign_location,
                *exponent_location,
                *exponent_size,
                *mantissa_location,
                *mantissa_size,
            ) == ieee
            {
                Dtype::Float {
                    size: *size as u8,
                    order: *order,
                }
            } else {
                Dtype::Unsupported {
                    class: format!("non-IEEE {size}-byte float"),
                    size: *size as usize,
                }
            }
        }
        Datatype::String {
            size,
            padding,
            charset,
        } => Dtype::FixedString {
            size: *size as usize,
            padding: *padding,
            charset: *charset,
        },
        Datatype::VarString { charset, size, .. } if *size == 16 || *size > 0 => {
            Dtype::VarString { charset: *charset }
        }
        Datatype::Enum {
            base,
            names,
            values,
        } => match base.as_ref() {
            Datatype::FixedPoint {
                size,
                order,
                signed,
            } if matches!(size, 1 | 2 | 4 | 8) => {
                let members: Vec<(String, i64)> = names
                    .iter()
                    .zip(values)
                    .map(|(n, v)| (n.clone(), int_value(v, *signed, *order)))
                    .collect();
                let is_bool = *size == 1
                    && members.len() == 2
                    && members.iter().any(|(n, v)| n == "FALSE" && *v == 0)
                    && members.iter().any(|(n, v)| n == "TRUE" && *v == 1);
                if is_bool {
                    Dtype::Bool
                } else {
                    Dtype::Enum {
                        size: *size as u8,
                        signed: *signed,
                        order: *order,
                        members,
                    }
                }
            }
            other => Dtype::Unsupported {
                class: format!("enum over {}", other.class_name()),
                size: dt.size() as usize,
            },
        },
        Datatype::Compound { size, members } => {
            let fields: Vec<Field> = members
                .iter()
                .map(|m| Field {
                    name: m.name.clone(),
                    offset: m.offset as usize,
                    dtype: dtype_from(&m.dtype),
                })
                .collect();
            h5py_complex(*size, &fields).unwrap_or(Dtype::Compound {
                size: *size as usize,
                fields,
            })
        }
        Datatype::Array { dims, base, .. } => Dtype::Array {
            dims: dims.iter().map(|&d| u64::from(d)).collect(),
            base: Box::new(dtype_from(base)),
        },
        Datatype::VarSequence { size: 16, base } => Dtype::VarSequence {
            base: Box::new(dtype_from(base)),
        },
        Datatype::Opaque { size, tag } => Dtype::Opaque {
            size: *size as usize,
            tag: tag.clone(),
        },
        Datatype::Bitfield { size, order } if matches!(size, 1 | 2 | 4 | 8) => Dtype::Bitfield {
            size: *size as u8,
            order: *order,
        },
        Datatype::Complex { size, base } => match dtype_from(base) {
            Dtype::Float { size: half, order }
                if (half == 4 || half == 8) && *size == 2 * u32::from(half) =>
            {
                Dtype::Complex {
                    size: 2 * half,
                    order,
                }
            }
            _ => Dtype::Unsupported {
                class: "complex of an unusual float".to_string(),
                size: *size as usize,
            },
        },
        Datatype::Reference {
            size: 8,
            kind: ReferenceKind::Object,
        } => Dtype::ObjectRef,
        Datatype::Reference {
            size: 12,
            kind: ReferenceKind::DatasetRegion,
        } => Dtype::RegionRef,
        Datatype::Reference { kind, size } => Dtype::Unsupported {
            class: format!("reference ({}, {size} bytes)", kind.name()),
            size: *size as usize,
        },
        other => Dtype::Unsupported {
            class: other.class_name().to_string(),
            size: other.size() as usize,
        },
    }
}

/// h5py's complex numbers: a compound of exactly two equal floats `r` and
/// `i`, packed in that order (numpy's `<c8`/`<c16`).
fn h5py_complex(size: u32, fields: &[Field]) -> Option<Dtype> {
    let [r, i] = fields else { return None };
    match (&r.dtype, &i.dtype) {
        (Dtype::Float { size: a, order: oa }, Dtype::Float { size: b, order: ob })
            if r.name == "r"
                && i.name == "i"
                && a == b
                && oa == ob
                && (*a == 4 || *a == 8)
                && r.offset == 0
                && i.offset == usize::from(*a)
                && size == 2 * u32::from(*a) =>
        {
            Some(Dtype::Complex {
                size: 2 * a,
                order: *oa,
            })
        }
        _ => None,
    }
}
