//! Decoding raw element bytes into [`Values`] and typed vectors.

use std::collections::HashMap;

use super::{ByteOrder, Dtype, StringPadding, Values};
use crate::buf::{try_string_lossy, try_with_capacity};
use crate::error::{Error, Result};
use crate::format::global_heap::GlobalHeapCollection;
use crate::format::{Address, Cursor, FileView};
use crate::limits::Limits;

/// Reads a `size`-byte integer in `order` as u64 (zero-extended).
pub(crate) fn uint_of(bytes: &[u8], order: ByteOrder) -> u64 {
    let mut w = [0u8; 8];
    match order {
        ByteOrder::Little => w[..bytes.len()].copy_from_slice(bytes),
        ByteOrder::Big => {
            for (i, b) in bytes.iter().rev().enumerate() {
                w[i] = *b;
            }
        }
    }
    u64::from_le_bytes(w)
}

/// Sign-extends a `size`-byte value.
fn sign_extend(v: u64, size: usize) -> i64 {
    if size >= 8 {
        return v as i64;
    }
    let shift = 64 - 8 * size as u32;
    ((v << shift) as i64) >> shift
}

/// Reads an integer element of `size` bytes as i64 (for enum values).
pub(crate) fn int_value(bytes: &[u8], signed: bool, order: ByteOrder) -> i64 {
    let v = uint_of(bytes, order);
    if signed {
        sign_extend(v, bytes.len())
    } else {
        v as i64
    }
}

/// IEEE binary16 to f64, exactly.
pub(crate) fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = (bits >> 10) & 0x1f;
    let frac = f64::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        0x1f if frac == 0.0 => sign * f64::INFINITY,
        0x1f => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(i32::from(e) - 15),
    }
}

/// Removes fixed-length string padding as the padding type says.
pub(crate) fn strip_padding(raw: &[u8], padding: StringPadding) -> &[u8] {
    match padding {
        StringPadding::NullTerminated => match raw.iter().position(|&b| b == 0) {
            Some(n) => &raw[..n],
            None => raw,
        },
        StringPadding::NullPadded => {
            let end = raw.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            &raw[..end]
        }
        StringPadding::SpacePadded => {
            let end = raw
                .iter()
                .rposition(|&b| b != 0 && b != b' ')
                .map_or(0, |p| p + 1);
            &raw[..end]
        }
    }
}

/// Resolves variable-length string references through the global heap,
/// caching collections for the duration of one decode.
pub(crate) struct VlenResolver<'a, 'v> {
    view: &'v FileView<'a>,
    limits: &'v Limits,
    collections: HashMap<Address, GlobalHeapCollection<'a>>,
}

impl<'a, 'v> VlenResolver<'a, 'v> {
    pub(crate) fn new(view: &'v FileView<'a>, limits: &'v Limits) -> Self {
        VlenResolver {
            view,
            limits,
            collections: HashMap::new(),
        }
    }

    /// The bytes a vlen element (length, collection address, index) refers to.
    pub(crate) fn resolve(&mut self, element: &[u8], at: u64) -> Result<&'a [u8]> {
        let mut c = Cursor::new(element, at, self.view.sizes);
        let len = c.u32("variable-length string length")?;
        let collection = c.address("global heap collection address")?;
        let index = c.u32("global heap object index")?;
        if len == 0 || collection.is_undefined() || collection.0 == 0 && index == 0 {
            return Ok(&[]);
        }
        if !self.collections.contains_key(&collection) {
            let coll = GlobalHeapCollection::parse(self.view, collection, self.limits)?;
            self.collections.insert(collection, coll);
        }
        let coll = &self.collections[&collection];
        let obj = coll.object(index)?;
        // The stored length counts bytes for strings; never trust it past the object.
        Ok(&obj[..obj.len().min(len as usize)])
    }

    /// A vlen sequence element: its element count and the whole heap object
    /// (empty for a null or empty sequence).
    pub(crate) fn sequence(&mut self, element: &[u8], at: u64) -> Result<(u32, &'a [u8])> {
        let mut c = Cursor::new(element, at, self.view.sizes);
        let count = c.u32("variable-length sequence length")?;
        let collection = c.address("global heap collection address")?;
        let index = c.u32("global heap object index")?;
        if count == 0 || collection.is_undefined() || collection.0 == 0 {
            return Ok((0, &[]));
        }
        Ok((count, self.object(collection, index)?))
    }

    /// Object `index` of the global heap collection at `collection`.
    pub(crate) fn object(&mut self, collection: Address, index: u32) -> Result<&'a [u8]> {
        if !self.collections.contains_key(&collection) {
            let coll = GlobalHeapCollection::parse(self.view, collection, self.limits)?;
            self.collections.insert(collection, coll);
        }
        self.collections[&collection].object(index)
    }
}

/// Variable-length data decoded by one read may reach this many times the
/// file's size ([`VLEN_MIN_BOUND`] at least); more means references share
/// heap objects to amplify a small file.
const VLEN_FILE_MULTIPLE: usize = 8;
/// Floor of the variable-length bound, for small files.
const VLEN_MIN_BOUND: u64 = 32 << 20;

/// The bytes of `n` decoded values of `dtype`: the decoded vector is one
/// allocation of a wider element type (a byte becomes an i64 or a String),
/// checked against the limits as well as the raw bytes.
pub(crate) fn decoded_len(dtype: &Dtype, n: u64) -> u64 {
    let per_value = match dtype {
        Dtype::Bool => 1,
        Dtype::FixedString { .. } | Dtype::VarString { .. } => std::mem::size_of::<String>(),
        d if d.is_structured() => std::mem::size_of::<super::Value>(),
        _ => 8,
    };
    n.saturating_mul(per_value as u64)
}

/// Decodes `count` elements of `dtype` from `raw` (element bytes, C order).
///
/// `at` is an address used in error messages for vlen references.
pub(crate) fn decode_values(
    view: &FileView<'_>,
    limits: &Limits,
    dtype: &Dtype,
    raw: &[u8],
    at: u64,
) -> Result<Values> {
    let size = dtype.size();
    if size == 0 {
        return Err(Error::format(at, "datatype has size 0"));
    }
    let chunks = raw.chunks_exact(size);
    limits.check_alloc(
        "decoded values",
        decoded_len(dtype, (raw.len() / size) as u64),
    )?;
    let n = raw.len() / size;
    // Each vector is reserved fallibly, then filled without growing.
    fn fill<T>(n: usize, items: impl Iterator<Item = T>) -> Result<Vec<T>> {
        let mut v = try_with_capacity(n, "decoded values")?;
        v.extend(items);
        Ok(v)
    }
    Ok(match dtype {
        Dtype::Int {
            size: _,
            signed: true,
            order,
        }
        | Dtype::Enum {
            signed: true,
            order,
            ..
        } => Values::Int(fill(n, chunks.map(|b| int_value(b, true, *order)))?),
        Dtype::Int {
            signed: false,
            order,
            ..
        }
        | Dtype::Enum {
            signed: false,
            order,
            ..
        }
        | Dtype::Bitfield { order, .. } => {
            Values::UInt(fill(n, chunks.map(|b| uint_of(b, *order)))?)
        }
        Dtype::Float { size, order } => {
            let order = *order;
            Values::Float(match size {
                2 => fill(n, chunks.map(|b| f16_to_f64(uint_of(b, order) as u16)))?,
                4 => fill(
                    n,
                    chunks.map(|b| f64::from(f32::from_bits(uint_of(b, order) as u32))),
                )?,
                _ => fill(n, chunks.map(|b| f64::from_bits(uint_of(b, order))))?,
            })
        }
        Dtype::Bool => Values::Bool(fill(n, chunks.map(|b| b[0] != 0))?),
        Dtype::FixedString { padding, .. } => {
            let mut out = try_with_capacity(n, "decoded values")?;
            for b in chunks {
                out.push(try_string_lossy(
                    strip_padding(b, *padding),
                    "fixed-length string",
                )?);
            }
            Values::Str(out)
        }
        Dtype::VarString { .. } => {
            let mut resolver = VlenResolver::new(view, limits);
            let mut out = try_with_capacity(n, "decoded values")?;
            // Many references may name one large heap object: bound the
            // total, by `max_alloc` and by a multiple of the file size (a
            // file whose strings are all distinct needs less than its size).
            let file_bound = (VLEN_FILE_MULTIPLE as u64)
                .saturating_mul(view.len())
                .max(VLEN_MIN_BOUND);
            let mut total = 0u64;
            for (i, b) in chunks.enumerate() {
                let s = resolver.resolve(b, at.saturating_add((i * size) as u64))?;
                total = total.saturating_add(s.len() as u64);
                limits.check_alloc("variable-length strings of one read", total)?;
                if total > file_bound {
                    return Err(Error::LimitsExceeded {
                        what:
                            "variable-length strings of one read (more than 8 times the file size)",
                        requested: total,
                        limit: file_bound,
                    });
                }
                out.push(try_string_lossy(s, "variable-length string")?);
            }
            Values::Str(out)
        }
        Dtype::Unsupported { class, .. } => {
            return Err(Error::unsupported(format!("datatype class {class}")))
        }
        // Structured types decode through `File::decode` (structured.rs),
        // which can resolve references.
        other => {
            return Err(Error::unsupported(format!(
                "{} values without their file",
                other.numpy_str()
            )))
        }
    })
}

/// Converts raw element bytes in place from `order` to native order.
pub(crate) fn to_native(bytes: &mut [u8], elem: usize, order: ByteOrder) {
    if order != ByteOrder::NATIVE && elem > 1 {
        for e in bytes.chunks_exact_mut(elem) {
            e.reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert_eq!(f16_to_f64(0x7bff), 65504.0);
        assert!(f16_to_f64(0x7e00).is_nan());
        assert_eq!(f16_to_f64(0xfc00), f64::NEG_INFINITY);
    }

    #[test]
    fn ints_both_orders() {
        assert_eq!(int_value(&[0xff, 0xfe], true, ByteOrder::Big), -2);
        assert_eq!(int_value(&[0xfe, 0xff], true, ByteOrder::Little), -2);
        assert_eq!(uint_of(&[0x01, 0x02], ByteOrder::Big), 0x0102);
    }

    #[test]
    fn padding() {
        assert_eq!(
            strip_padding(b"ab\0cd", StringPadding::NullTerminated),
            b"ab"
        );
        assert_eq!(strip_padding(b"ab\0\0", StringPadding::NullPadded), b"ab");
        assert_eq!(strip_padding(b"ab  ", StringPadding::SpacePadded), b"ab");
    }
}
