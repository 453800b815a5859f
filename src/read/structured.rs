//! Decoding elements of structured types (compound, array, vlen sequence,
//! opaque, complex, references) into [`Value`] trees, and resolving object
//! references to paths.

use std::collections::{HashMap, HashSet};

use super::decode::{decode_values, f16_to_f64, int_value, strip_padding, uint_of, VlenResolver};
use super::values::{ObjectRef, RegionRef};
use super::{Dtype, File, LinkTarget, Value, Values};
use crate::error::{Error, Result};
use crate::format::object_header::kind;
use crate::format::selection::Selection;
use crate::format::{Address, Cursor};

impl Dtype {
    /// Whether values of this type decode into [`Values::Nested`].
    pub(crate) fn is_structured(&self) -> bool {
        matches!(
            self,
            Dtype::Compound { .. }
                | Dtype::Array { .. }
                | Dtype::VarSequence { .. }
                | Dtype::Opaque { .. }
                | Dtype::Complex { .. }
                | Dtype::ObjectRef
                | Dtype::RegionRef
        )
    }
}

impl File {
    /// Decodes `raw` (elements of `dtype`, C order) into values, resolving
    /// vlen data through the global heap and references through the file.
    pub(crate) fn decode(&self, dtype: &Dtype, raw: &[u8], at: u64) -> Result<Values> {
        let view = self.view();
        if !dtype.is_structured() {
            return decode_values(&view, &self.limits, dtype, raw, at);
        }
        let size = dtype.size();
        if size == 0 || size == usize::MAX {
            return Err(Error::format(at, format!("datatype of size {size}")));
        }
        let n = raw.len() / size;
        // Every element becomes at least one Value.
        self.limits.check_alloc(
            "decoded values",
            (n as u64).saturating_mul(std::mem::size_of::<Value>() as u64),
        )?;
        let mut d = Decoder {
            file: self,
            vlen: VlenResolver::new(&view, &self.limits),
            heap_bytes: 0,
            heap_bound: view.len().saturating_mul(8).max(32 << 20),
            selection_bytes: 0,
        };
        let mut out = crate::buf::try_with_capacity(n, "decoded values")?;
        for (i, b) in raw.chunks_exact(size).enumerate() {
            out.push(d.value(dtype, b, at.saturating_add((i * size) as u64), 0)?);
        }
        Ok(Values::Nested(out))
    }

    /// The first path that leads to the object header at `addr` by hard
    /// links, in the order libhdf5's `H5Ovisit` goes (depth first, each
    /// group's links in their native order), which is what h5py's
    /// `f[ref].name` reports. `None` when no link leads there.
    pub fn object_path(&self, addr: Address) -> Result<Option<String>> {
        if let Some(map) = self.object_paths.get() {
            return Ok(map.get(&addr.0).cloned());
        }
        let map = self.walk_object_paths();
        Ok(self.object_paths.get_or_init(|| map).get(&addr.0).cloned())
    }

    /// Every object reachable by hard links, with its first path.
    /// Unreadable groups are skipped: a reference elsewhere still resolves.
    fn walk_object_paths(&self) -> HashMap<u64, String> {
        let root = self.superblock.root_object_header;
        let mut paths = HashMap::new();
        paths.insert(root.0, "/".to_string());
        let mut entered = HashSet::new();
        entered.insert(root.0);
        // Frames of (links of a group, next link to visit, group path).
        let mut stack = vec![(
            self.read_links(root).unwrap_or_default(),
            0usize,
            String::new(),
        )];
        while let Some((links, next, path)) = stack.last_mut() {
            let Some(link) = links.get(*next) else {
                stack.pop();
                continue;
            };
            *next += 1;
            let LinkTarget::Hard(addr) = link.target else {
                continue;
            };
            let child = format!("{path}/{}", link.name);
            paths.entry(addr.0).or_insert_with(|| child.clone());
            if stack.len() as u32 >= self.limits.max_depth.max(64) || !entered.insert(addr.0) {
                continue;
            }
            if self.is_group(addr) {
                let links = self.read_links(addr).unwrap_or_default();
                stack.push((links, 0, child));
            }
        }
        paths
    }

    /// Whether the object header at `addr` is a group (as
    /// [`File::get`](File::get) classifies it).
    fn is_group(&self, addr: Address) -> bool {
        match self.header(addr) {
            Ok(h) => {
                let has = |k| h.first(k).is_some();
                !(has(kind::LAYOUT) || has(kind::DATASPACE) || has(kind::DATATYPE))
            }
            Err(_) => false,
        }
    }
}

/// Nesting beyond this in one value (arrays of compounds of vlen ...) is
/// refused; datatype messages are already capped at 32 levels.
const MAX_VALUE_DEPTH: u32 = 64;

struct Decoder<'f, 'v> {
    file: &'f File,
    vlen: VlenResolver<'f, 'v>,
    /// Bytes of vlen data decoded so far, and their bound (a multiple of
    /// the file size: references can share one heap object many times).
    heap_bytes: u64,
    heap_bound: u64,
    /// Memory of the region references' selections decoded so far.
    selection_bytes: u64,
}

impl Decoder<'_, '_> {
    fn value(&mut self, dt: &Dtype, b: &[u8], at: u64, depth: u32) -> Result<Value> {
        if depth > MAX_VALUE_DEPTH {
            return Err(Error::format(at, "value nested too deeply"));
        }
        if b.len() < dt.size() {
            return Err(Error::format(
                at,
                format!("element of {} bytes holds only {}", dt.size(), b.len()),
            ));
        }
        Ok(match dt {
            Dtype::Int {
                signed: true,
                order,
                size,
            }
            | Dtype::Enum {
                signed: true,
                order,
                size,
                ..
            } => Value::Int(int_value(&b[..usize::from(*size)], true, *order)),
            Dtype::Int { order, size, .. }
            | Dtype::Enum { order, size, .. }
            | Dtype::Bitfield { order, size } => {
                Value::UInt(uint_of(&b[..usize::from(*size)], *order))
            }
            Dtype::Float { size, order } => {
                Value::Float(float_of(&b[..usize::from(*size)], *order))
            }
            Dtype::Bool => Value::Bool(b[0] != 0),
            Dtype::FixedString { size, padding, .. } => Value::Str(
                String::from_utf8_lossy(strip_padding(&b[..*size], *padding)).into_owned(),
            ),
            Dtype::VarString { .. } => {
                let s = self.vlen.resolve(&b[..16], at)?;
                self.charge(s.len(), at)?;
                Value::Str(String::from_utf8_lossy(s).into_owned())
            }
            Dtype::Opaque { size, .. } => Value::Bytes(b[..*size].to_vec()),
            Dtype::Complex { size, order } => {
                let half = usize::from(*size / 2);
                Value::Complex(
                    float_of(&b[..half], *order),
                    float_of(&b[half..2 * half], *order),
                )
            }
            Dtype::Compound { fields, .. } => {
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    let end = f.offset.checked_add(f.dtype.size());
                    let Some(part) = end.and_then(|e| b.get(f.offset..e)) else {
                        return Err(Error::format(
                            at,
                            format!("compound field {:?} lies outside its record", f.name),
                        ));
                    };
                    let v = self.value(
                        &f.dtype,
                        part,
                        at.saturating_add(f.offset as u64),
                        depth + 1,
                    )?;
                    out.push((f.name.clone(), v));
                }
                Value::Record(out)
            }
            Dtype::Array { dims, base } => self.array(dims, base, b, at, depth)?,
            Dtype::VarSequence { base } => {
                let (count, obj) = self.vlen.sequence(&b[..16], at)?;
                let each = base.size();
                let need = (count as usize).checked_mul(each);
                if each == 0 || need.is_none_or(|n| n > obj.len()) {
                    return Err(Error::format(
                        at,
                        format!(
                            "vlen sequence of {count} elements of {each} bytes in a heap object of {}",
                            obj.len()
                        ),
                    ));
                }
                self.charge(need.unwrap_or(0), at)?;
                let mut out = Vec::with_capacity(count as usize);
                for e in obj.chunks_exact(each).take(count as usize) {
                    out.push(self.value(base, e, at, depth + 1)?);
                }
                Value::List(out)
            }
            Dtype::ObjectRef => {
                let addr = u64::from_le_bytes(fixed8(b));
                if addr == 0 || addr == u64::MAX {
                    Value::ObjectRef(None)
                } else {
                    Value::ObjectRef(Some(self.object(addr)?))
                }
            }
            Dtype::RegionRef => self.region(&b[..12], at)?,
            Dtype::Unsupported { class, .. } => {
                return Err(Error::unsupported(format!("datatype class {class}")))
            }
        })
    }

    /// An array element: one level of lists per dimension.
    fn array(
        &mut self,
        dims: &[u64],
        base: &Dtype,
        b: &[u8],
        at: u64,
        depth: u32,
    ) -> Result<Value> {
        let Some((&n, rest)) = dims.split_first() else {
            return self.value(base, b, at, depth + 1);
        };
        let sub = rest
            .iter()
            .try_fold(base.size(), |s, &d| s.checked_mul(usize::try_from(d).ok()?))
            .filter(|&s| s > 0 || n == 0)
            .ok_or_else(|| Error::format(at, "array element size overflows"))?;
        let n = usize::try_from(n).map_err(|_| Error::format(at, "array too large"))?;
        if n.checked_mul(sub).is_none_or(|t| t > b.len()) {
            return Err(Error::format(at, "array larger than its element"));
        }
        let mut out = crate::buf::try_with_capacity(n, "decoded values")?;
        for k in 0..n {
            let part = &b[k * sub..(k + 1) * sub];
            out.push(self.array(
                rest,
                base,
                part,
                at.saturating_add((k * sub) as u64),
                depth + 1,
            )?);
        }
        Ok(Value::List(out))
    }

    fn object(&self, addr: u64) -> Result<ObjectRef> {
        Ok(ObjectRef {
            address: addr,
            path: self.file.object_path(Address(addr))?,
        })
    }

    /// A region reference: a global heap ID whose object holds the dataset
    /// address and the serialized selection.
    fn region(&mut self, b: &[u8], at: u64) -> Result<Value> {
        let view = self.file.view();
        let mut c = Cursor::new(b, at, view.sizes);
        let collection = c.address("region reference heap collection")?;
        let index = c.u32("region reference heap index")?;
        if collection.is_undefined() || collection.0 == 0 {
            return Ok(Value::RegionRef(None));
        }
        let obj = self.vlen.object(collection, index)?;
        let mut oc = Cursor::new(obj, at, view.sizes);
        let dataset = oc.address("region reference dataset address")?;
        let rest = &obj[oc.position()..];
        // The expanded selections of one read count against max_alloc: a
        // regular hyperslab of 30 bytes can expand to 2^20 blocks, and
        // every reference can be its own small heap object.
        let left = self
            .file
            .limits
            .max_alloc
            .saturating_sub(self.selection_bytes);
        let selection = Selection::parse_within(rest, at, view.sizes, left)?;
        self.selection_bytes = self.selection_bytes.saturating_add(selection.memory_size());
        Ok(Value::RegionRef(Some(RegionRef {
            dataset: self.object(dataset.0)?,
            selection,
        })))
    }

    fn charge(&mut self, bytes: usize, at: u64) -> Result<()> {
        self.heap_bytes = self.heap_bytes.saturating_add(bytes as u64);
        self.file
            .limits
            .check_alloc("variable-length data of one read", self.heap_bytes)?;
        if self.heap_bytes > self.heap_bound {
            return Err(Error::LimitsExceeded {
                what: "variable-length data of one read (more than 8 times the file size)",
                requested: self.heap_bytes,
                limit: self.heap_bound,
            });
        }
        let _ = at;
        Ok(())
    }
}

fn fixed8(b: &[u8]) -> [u8; 8] {
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    w
}

fn float_of(b: &[u8], order: super::ByteOrder) -> f64 {
    let v = uint_of(b, order);
    match b.len() {
        2 => f16_to_f64(v as u16),
        4 => f64::from(f32::from_bits(v as u32)),
        _ => f64::from_bits(v),
    }
}

#[cfg(test)]
mod tests {
    use crate::format::message::datatype::{Datatype, ReferenceKind};
    use crate::read::dtype::dtype_from;
    use crate::read::Dtype;

    /// HDF5 1.12+ revised references (`H5R_REF`: object, region, attribute)
    /// are refused by name, never read as addresses.
    #[test]
    fn revised_references_are_refused_by_name() {
        for (k, name) in [
            (2, "H5R_OBJECT2"),
            (3, "H5R_DATASET_REGION2"),
            (4, "H5R_ATTR"),
        ] {
            let dt = dtype_from(&Datatype::Reference {
                size: 16,
                kind: ReferenceKind::Revised(k),
            });
            match dt {
                Dtype::Unsupported { class, .. } => assert!(class.contains(name), "{class}"),
                other => panic!("{other:?}"),
            }
        }
        // The old kinds with an unexpected size are refused too.
        assert!(matches!(
            dtype_from(&Datatype::Reference {
                size: 4,
                kind: ReferenceKind::Object
            }),
            Dtype::Unsupported { .. }
        ));
    }
}
