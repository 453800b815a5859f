//! The writer's attribute operations: set (typed, raw, string, array) and
//! delete, each one atomic operation.

use super::{attribute, encode, ref_address, Backing, Writer};
use crate::error::{Error, Result};
use crate::read::{Dtype, H5Type, ObjectRef, Values};

impl<B: Backing> Writer<B> {
    /// Sets attribute `name` on the object at `path`; `shape` `None` is a
    /// null dataspace, `Some(&[])` a scalar.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::{ByteOrder, Dtype, Values};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_group("/X")?;
    /// let i8 = Dtype::Int { size: 8, signed: true, order: ByteOrder::Little };
    /// w.set_attr("/X", "shape", &i8, Some(&[2]), &Values::Int(vec![6, 3]))?;
    /// let f = w.reader()?;
    /// let attr = f.group("/X")?.attribute("shape")?.expect("just set");
    /// assert_eq!(attr.values()?, Values::Int(vec![6, 3]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_attr(
        &mut self,
        path: &str,
        name: &str,
        dtype: &Dtype,
        shape: Option<&[u64]>,
        values: &Values,
    ) -> Result<()> {
        let limits = self.limits.clone();
        let count = match shape {
            None => 0,
            Some(s) => crate::read::hyperslab::element_count(s, name)? as usize,
        };
        self.make_private(path)?;
        self.run(|view, tx, sb| {
            let addr = Self::resolve(view, &limits, sb, path)?;
            let datatype = encode::datatype_for(dtype)?;
            let mut refs = |r: &ObjectRef| ref_address(view, &limits, sb, r);
            let raw = encode::encode_values(tx, dtype, values, count, &mut refs)?;
            attribute::set(view, tx, addr, name, &datatype, shape, &raw)
        })
    }

    /// Sets attribute `name` from raw element bytes in `dtype`'s stored
    /// byte order (exact copies: fixed-length strings keep every byte,
    /// floats every bit). Not for variable-length strings, whose bytes are
    /// references into another file's global heap.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::{CharSet, Dtype, StringPadding, Values};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// let s3 = Dtype::FixedString { size: 3, padding: StringPadding::NullPadded, charset: CharSet::Ascii };
    /// w.set_attr_raw("/", "code", &s3, Some(&[]), b"csr")?;   // numpy's b'csr' (|S3)
    /// let f = w.reader()?;
    /// let attr = f.root()?.attribute("code")?.expect("just set");
    /// assert_eq!(attr.values()?, Values::Str(vec!["csr".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_attr_raw(
        &mut self,
        path: &str,
        name: &str,
        dtype: &Dtype,
        shape: Option<&[u64]>,
        raw: &[u8],
    ) -> Result<()> {
        if matches!(dtype, Dtype::VarString { .. }) {
            return Err(Error::invalid(format!(
                "attribute {name:?}: variable-length strings cannot be written from raw bytes"
            )));
        }
        let count = match shape {
            None => 0,
            Some(s) => crate::read::hyperslab::element_count(s, name)?,
        };
        if count.checked_mul(dtype.size() as u64) != Some(raw.len() as u64) {
            return Err(Error::invalid(format!(
                "attribute {name:?}: {} bytes do not hold {count} elements of {}",
                raw.len(),
                dtype.numpy_str()
            )));
        }
        self.run_at(path, |view, tx, _sb, addr| {
            let datatype = encode::datatype_for(dtype)?;
            attribute::set(view, tx, addr, name, &datatype, shape, raw)
        })
    }

    /// Sets a scalar variable-length UTF-8 string attribute, as h5py does for
    /// `attrs[name] = "text"`.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::Values;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.set_attr_str("/", "encoding-type", "anndata")?;
    /// let f = w.reader()?;
    /// let attr = f.root()?.attribute("encoding-type")?.expect("just set");
    /// assert_eq!(attr.values()?, Values::Str(vec!["anndata".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_attr_str(&mut self, path: &str, name: &str, value: &str) -> Result<()> {
        self.set_attr(
            path,
            name,
            &Dtype::VarString {
                charset: crate::read::CharSet::Utf8,
            },
            Some(&[]),
            &Values::Str(vec![value.to_string()]),
        )
    }

    /// Sets a 1-D attribute of a Rust number type, as h5py does for
    /// `attrs[name] = np.array([...])`.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::Values;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.set_attr_array("/", "h5sparse_shape", &[6i64, 3])?;
    /// let f = w.reader()?;
    /// let attr = f.root()?.attribute("h5sparse_shape")?.expect("just set");
    /// assert_eq!((attr.shape(), attr.values()?), (Some(&[2][..]), Values::Int(vec![6, 3])));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_attr_array<T: H5Type>(
        &mut self,
        path: &str,
        name: &str,
        values: &[T],
    ) -> Result<()> {
        let dtype = T::dtype();
        let limits = self.limits.clone();
        let raw = bytemuck::cast_slice::<T, u8>(values).to_vec();
        self.make_private(path)?;
        self.run(|view, tx, sb| {
            let addr = Self::resolve(view, &limits, sb, path)?;
            let datatype = encode::datatype_for(&dtype)?;
            attribute::set(
                view,
                tx,
                addr,
                name,
                &datatype,
                Some(&[values.len() as u64]),
                &raw,
            )
        })
    }

    /// Deletes attribute `name` of the object at `path`.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.set_attr_str("/", "note", "draft")?;
    /// w.delete_attr("/", "note")?;
    /// assert!(w.reader()?.root()?.attribute("note")?.is_none());
    /// assert!(w.delete_attr("/", "note").is_err());        // nothing left to delete
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn delete_attr(&mut self, path: &str, name: &str) -> Result<()> {
        self.run_at(path, |view, tx, _sb, addr| {
            attribute::delete(view, tx, addr, name)
        })
    }
}
