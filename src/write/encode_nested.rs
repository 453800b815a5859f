//! Encoding structured values ([`Values::Nested`]: compound records,
//! arrays, vlen sequences, opaque bytes, complex numbers, references) into
//! stored element bytes.
//!
//! Variable-length payloads (strings, sequences, region selections) become
//! global heap objects: they are collected while the elements are encoded,
//! written in collections of up to 4096 objects, and the heap IDs are then
//! patched into the elements. Object references are written as the address
//! the file being written has for the referenced path.

use crate::error::{Error, Result};
use crate::format::selection::Selection;
use crate::format::Address;
use crate::read::{ByteOrder, Dtype, ObjectRef, StringPadding, Value};

use super::encode::{f64_to_f16, OBJECTS_PER_COLLECTION};
use super::tx::Tx;

/// Finds the address, in the file being written, of the object a
/// reference names.
pub(crate) type RefResolver<'r> = dyn FnMut(&ObjectRef) -> Result<u64> + 'r;

/// A heap ID to patch into the element bytes once its collection is
/// written: where, which object, and whether a length precedes the ID.
struct Patch {
    at: usize,
    object: usize,
    /// `Some(n)`: a vlen element (`n` = 4-byte length, then the ID);
    /// `None`: a region reference (the ID alone).
    length: Option<u32>,
}

struct Encoder<'a, 'r> {
    sizes_offset: usize,
    heap: Vec<Vec<u8>>,
    patches: Vec<Patch>,
    refs: &'a mut RefResolver<'r>,
}

/// Encodes `values` as elements of `dtype`.
pub(crate) fn encode_nested(
    tx: &mut Tx<'_>,
    dtype: &Dtype,
    values: &[Value],
    refs: &mut RefResolver<'_>,
) -> Result<Vec<u8>> {
    let size = dtype.size();
    let total = size
        .checked_mul(values.len())
        .ok_or_else(|| Error::invalid("values too large"))?;
    let mut out = crate::buf::try_with_capacity::<u8>(total, "encoded values")?;
    out.resize(total, 0);
    let mut enc = Encoder {
        sizes_offset: usize::from(tx.sizes.offset),
        heap: Vec::new(),
        patches: Vec::new(),
        refs,
    };
    for (i, v) in values.iter().enumerate() {
        enc.put(dtype, v, &mut out, i * size)?;
    }
    let Encoder { heap, patches, .. } = enc;
    let mut ids: Vec<(Address, u32)> = Vec::with_capacity(heap.len());
    for group in heap.chunks(OBJECTS_PER_COLLECTION) {
        let objects: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
        let addr = tx.put(crate::format::global_heap::encode_collection(&objects)?)?;
        ids.extend((0..group.len()).map(|k| (addr, k as u32 + 1)));
    }
    let width = usize::from(tx.sizes.offset);
    for p in patches {
        let (addr, index) = ids[p.object];
        let mut at = p.at;
        if let Some(n) = p.length {
            out[at..at + 4].copy_from_slice(&n.to_le_bytes());
            at += 4;
        }
        out[at..at + width].copy_from_slice(&addr.0.to_le_bytes()[..width]);
        out[at + width..at + width + 4].copy_from_slice(&index.to_le_bytes());
    }
    Ok(out)
}

fn mismatch(dtype: &Dtype, v: &Value) -> Error {
    Error::invalid(format!(
        "a {} value cannot be stored as {}",
        kind_of(v),
        dtype.numpy_str()
    ))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "signed integer",
        Value::UInt(_) => "unsigned integer",
        Value::Float(_) => "float",
        Value::Bool(_) => "bool",
        Value::Str(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Complex(..) => "complex",
        Value::List(_) => "list",
        Value::Record(_) => "record",
        Value::ObjectRef(_) => "object reference",
        Value::RegionRef(_) => "region reference",
    }
}

fn put_uint(out: &mut [u8], at: usize, v: u64, size: usize, order: ByteOrder) {
    let le = v.to_le_bytes();
    let dst = &mut out[at..at + size];
    dst.copy_from_slice(&le[..size]);
    if order == ByteOrder::Big {
        dst.reverse();
    }
}

fn int_fits(v: i128, size: usize, signed: bool) -> bool {
    let bits = 8 * size as u32;
    if signed {
        v >= -(1i128 << (bits - 1)) && v < (1i128 << (bits - 1))
    } else {
        v >= 0 && v < (1i128 << bits)
    }
}

impl Encoder<'_, '_> {
    fn put(&mut self, dtype: &Dtype, v: &Value, out: &mut [u8], at: usize) -> Result<()> {
        match (dtype, v) {
            (
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
                },
                Value::Int(_) | Value::UInt(_),
            ) => {
                let x = match v {
                    Value::Int(x) => i128::from(*x),
                    Value::UInt(x) => i128::from(*x),
                    _ => 0,
                };
                let size = usize::from(*size);
                if !int_fits(x, size, *signed) {
                    return Err(Error::invalid(format!(
                        "value {x} does not fit {}",
                        dtype.numpy_str()
                    )));
                }
                put_uint(out, at, x as u64, size, *order);
            }
            (Dtype::Bitfield { size, order }, Value::UInt(x)) => {
                put_uint(out, at, *x, usize::from(*size), *order)
            }
            (Dtype::Float { size, order }, Value::Float(x)) => {
                put_uint(out, at, float_bits(*x, *size), usize::from(*size), *order)
            }
            (Dtype::Bool, Value::Bool(b)) => out[at] = u8::from(*b),
            (Dtype::FixedString { size, padding, .. }, Value::Str(s)) => {
                let b = s.as_bytes();
                if b.len() > *size {
                    return Err(Error::invalid(format!(
                        "string of {} bytes does not fit a {size}-byte fixed string",
                        b.len()
                    )));
                }
                out[at..at + b.len()].copy_from_slice(b);
                if *padding == StringPadding::SpacePadded {
                    out[at + b.len()..at + size].fill(b' ');
                }
            }
            (Dtype::VarString { .. }, Value::Str(s)) => {
                let n = u32::try_from(s.len())
                    .map_err(|_| Error::invalid("string longer than 4 GiB"))?;
                self.heap_object(s.as_bytes().to_vec(), at, Some(n));
            }
            (Dtype::Opaque { size, .. }, Value::Bytes(b)) if b.len() == *size => {
                out[at..at + size].copy_from_slice(b)
            }
            (Dtype::Complex { size, order }, Value::Complex(re, im)) => {
                let half = size / 2;
                let h = usize::from(half);
                put_uint(out, at, float_bits(*re, half), h, *order);
                put_uint(out, at + h, float_bits(*im, half), h, *order);
            }
            (Dtype::Compound { fields, .. }, Value::Record(values)) => {
                for f in fields {
                    let v = values
                        .iter()
                        .find(|(n, _)| *n == f.name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| {
                            Error::invalid(format!("record without field {:?}", f.name))
                        })?;
                    self.put(&f.dtype, v, out, at + f.offset)?;
                }
            }
            (Dtype::Array { dims, base }, Value::List(_)) => {
                let mut flat = Vec::new();
                flatten(v, dims.len(), &mut flat)?;
                let expected = dims.iter().product::<u64>();
                if flat.len() as u64 != expected {
                    return Err(Error::invalid(format!(
                        "array value of {} entries for a {dims:?} array",
                        flat.len()
                    )));
                }
                let each = base.size();
                for (k, x) in flat.into_iter().enumerate() {
                    self.put(base, x, out, at + k * each)?;
                }
            }
            (Dtype::VarSequence { base }, Value::List(items)) => {
                if base.needs_file() {
                    return Err(Error::unsupported(format!(
                        "writing variable-length sequences of {}",
                        base.numpy_str()
                    )));
                }
                let each = base.size();
                let mut payload = vec![0u8; each * items.len()];
                for (k, x) in items.iter().enumerate() {
                    self.put(base, x, &mut payload, k * each)?;
                }
                let n = u32::try_from(items.len())
                    .map_err(|_| Error::invalid("sequence longer than 2^32"))?;
                if n > 0 {
                    self.heap_object(payload, at, Some(n));
                }
            }
            (Dtype::ObjectRef, Value::ObjectRef(None))
            | (Dtype::RegionRef, Value::RegionRef(None)) => {}
            (Dtype::ObjectRef, Value::ObjectRef(Some(r))) => {
                let addr = (self.refs)(r)?;
                out[at..at + 8].copy_from_slice(&addr.to_le_bytes());
            }
            (Dtype::RegionRef, Value::RegionRef(Some(r))) => {
                let addr = (self.refs)(&r.dataset)?;
                let mut payload = addr.to_le_bytes()[..self.sizes_offset].to_vec();
                payload.extend(encode_selection(&r.selection)?);
                self.heap_object(payload, at, None);
            }
            _ => return Err(mismatch(dtype, v)),
        }
        Ok(())
    }

    fn heap_object(&mut self, bytes: Vec<u8>, at: usize, length: Option<u32>) {
        self.patches.push(Patch {
            at,
            object: self.heap.len(),
            length,
        });
        self.heap.push(bytes);
    }
}

fn float_bits(x: f64, size: u8) -> u64 {
    match size {
        2 => u64::from(f64_to_f16(x)),
        4 => u64::from((x as f32).to_bits()),
        _ => x.to_bits(),
    }
}

/// The entries of a nested list `depth` levels deep, in C order.
fn flatten<'v>(v: &'v Value, depth: usize, out: &mut Vec<&'v Value>) -> Result<()> {
    if depth == 0 {
        out.push(v);
        return Ok(());
    }
    match v {
        Value::List(items) => {
            for x in items {
                flatten(x, depth - 1, out)?;
            }
            Ok(())
        }
        _ => Err(Error::invalid(
            "array value nested less deeply than its shape",
        )),
    }
}

/// A selection in libhdf5's version 1 encodings (32-bit coordinates),
/// which every libhdf5 since 1.8 reads.
fn encode_selection(s: &Selection) -> Result<Vec<u8>> {
    let mut b = Vec::new();
    let u32s =
        |b: &mut Vec<u8>, v: &[u32]| v.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
    let coord = |x: u64| {
        u32::try_from(x)
            .map_err(|_| Error::unsupported("writing region references with coordinates past 2^32"))
    };
    match s {
        Selection::None => u32s(&mut b, &[0, 1, 0, 0]),
        Selection::All => u32s(&mut b, &[3, 1, 0, 0]),
        Selection::Points(points) => {
            let rank = points.first().map_or(0, Vec::len);
            let len = 8 + 4 * rank * points.len();
            u32s(
                &mut b,
                &[1, 1, 0, len as u32, rank as u32, points.len() as u32],
            );
            for p in points {
                for &x in p {
                    u32s(&mut b, &[coord(x)?]);
                }
            }
        }
        Selection::Blocks(blocks) => {
            let rank = blocks.first().map_or(0, |(s, _)| s.len());
            let len = 8 + 8 * rank * blocks.len();
            u32s(
                &mut b,
                &[2, 1, 0, len as u32, rank as u32, blocks.len() as u32],
            );
            for (start, end) in blocks {
                for &x in start.iter().chain(end) {
                    u32s(&mut b, &[coord(x)?]);
                }
            }
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sizes;

    #[test]
    fn selections_round_trip_through_the_parser() {
        for s in [
            Selection::All,
            Selection::None,
            Selection::Points(vec![vec![4, 5], vec![0, 0]]),
            Selection::Blocks(vec![(vec![1, 2], vec![2, 4]), (vec![0, 0], vec![0, 1])]),
        ] {
            let b = encode_selection(&s).unwrap();
            assert_eq!(Selection::parse(&b, 0, Sizes::DEFAULT).unwrap(), s);
        }
    }
}
