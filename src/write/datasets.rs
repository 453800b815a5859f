//! The writer's dataset operations: create (typed, from values, raw, null,
//! committed datatypes), write hyperslabs and points, append, resize.

use std::borrow::Cow;

use super::{
    dataset, dataset_dtype, encode, modify, ref_address, stored_bytes, Backing, DatasetOptions,
    Writer, HEADER_SLACK,
};
use crate::error::{Error, Result};
use crate::read::{Dtype, H5Type, ObjectRef, Values};

impl<B: Backing> Writer<B> {
    /// Creates a dataset of a Rust number type from `data` (C order).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/Y", &[2, 3], &[0i64, 1, 0, 0, 0, 2], &DatasetOptions::default())?;
    /// let f = w.reader()?;
    /// let y = f.dataset("/Y")?;
    /// assert_eq!((y.shape(), y.dtype().numpy_str()), (Some(&[2, 3][..]), "<i8".to_string()));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_dataset<T: H5Type>(
        &mut self,
        path: &str,
        shape: &[u64],
        data: &[T],
        opts: &DatasetOptions,
    ) -> Result<()> {
        let dtype = T::dtype();
        self.create_dataset_raw(path, &dtype, shape, bytemuck::cast_slice(data), opts)
    }

    /// Creates a dataset of any supported dtype from decoded values.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    /// use h5sparse::{CharSet, Dtype, Values};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// let names = Values::Str(vec!["CD4".into(), "MS4A1".into()]);
    /// let dtype = Dtype::VarString { charset: CharSet::Utf8 };   // h5py's str
    /// w.create_dataset_values("/names", &dtype, &[2], &names, &DatasetOptions::default())?;
    /// assert_eq!(w.reader()?.dataset("/names")?.values()?, names);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_dataset_values(
        &mut self,
        path: &str,
        dtype: &Dtype,
        shape: &[u64],
        values: &Values,
        opts: &DatasetOptions,
    ) -> Result<()> {
        let count = crate::read::hyperslab::element_count(shape, path)? as usize;
        let limits = self.limits.clone();
        self.create_linked(path, |view, tx, sb| {
            let datatype = encode::datatype_for(dtype)?;
            let mut refs = |r: &ObjectRef| ref_address(view, &limits, sb, r);
            let raw = encode::encode_values(tx, dtype, values, count, &mut refs)?;
            let oh = dataset::create(
                tx,
                &datatype,
                shape,
                Cow::Owned(raw),
                opts,
                sb.indexed_storage_k,
            )?;
            Ok((oh, None))
        })
    }

    /// Creates a dataset from raw element bytes in `dtype`'s byte order.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    /// use h5sparse::{ByteOrder, Dtype};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// let be_u16 = Dtype::Int { size: 2, signed: false, order: ByteOrder::Big };
    /// w.create_dataset_raw("/x", &be_u16, &[2], &[0, 1, 1, 0], &DatasetOptions::default())?;
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/x")?.dtype().numpy_str(), ">u2");
    /// assert_eq!(f.dataset("/x")?.read::<u16>()?, vec![1, 256]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_dataset_raw(
        &mut self,
        path: &str,
        dtype: &Dtype,
        shape: &[u64],
        raw: &[u8],
        opts: &DatasetOptions,
    ) -> Result<()> {
        let datatype = encode::datatype_for(dtype)?;
        self.create_dataset_with_datatype(path, &datatype, shape, raw, opts)
    }

    /// [`Writer::create_dataset_raw`] with an on-disk datatype as parsed
    /// (copies of types the user-facing [`Dtype`] cannot describe, such as
    /// the time class).
    pub(crate) fn create_dataset_with_datatype(
        &mut self,
        path: &str,
        datatype: &crate::format::message::datatype::Datatype,
        shape: &[u64],
        raw: &[u8],
        opts: &DatasetOptions,
    ) -> Result<()> {
        self.create_linked(path, |_, tx, sb| {
            let oh = dataset::create(
                tx,
                datatype,
                shape,
                Cow::Borrowed(raw),
                opts,
                sb.indexed_storage_k,
            )?;
            Ok((oh, None))
        })
    }

    /// Creates a dataset with a null dataspace (no elements, as h5py's
    /// `h5py.Empty(dtype)`).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::{ByteOrder, Dtype};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset_null("/empty", &Dtype::Float { size: 8, order: ByteOrder::Little })?;
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/empty")?.shape(), None);    // no dataspace extent at all
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_dataset_null(&mut self, path: &str, dtype: &Dtype) -> Result<()> {
        self.create_linked(path, |_, tx, _| {
            let datatype = encode::datatype_for(dtype)?;
            Ok((dataset::create_null(tx, &datatype)?, None))
        })
    }

    /// Creates a committed (named) datatype at `path`, as h5py's
    /// `f[path] = np.dtype(...)`: an object header holding only the
    /// datatype message.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::{ByteOrder, Dtype, Node};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.commit_datatype("/f4", &Dtype::Float { size: 4, order: ByteOrder::Little })?;
    /// let f = w.reader()?;
    /// assert!(matches!(f.get("/f4")?, Node::Datatype { .. }));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn commit_datatype(&mut self, path: &str, dtype: &Dtype) -> Result<()> {
        use crate::format::object_header::{encode_v1, kind, NewMessage};
        self.create_linked(path, |_, tx, _| {
            let datatype = encode::datatype_for(dtype)?;
            let oh = encode_v1(
                &[NewMessage {
                    kind: kind::DATATYPE,
                    flags: 1,
                    data: Cow::Owned(datatype.encode(1)?),
                }],
                HEADER_SLACK,
            )?;
            Ok((tx.put(oh)?, None))
        })
    }

    /// The stored dtype of the dataset at `path`.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/x", &[1], &[1.5f32], &DatasetOptions::default())?;
    /// assert_eq!(w.dtype_of("/x")?.numpy_str(), "<f4");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dtype_of(&mut self, path: &str) -> Result<Dtype> {
        self.run_at(path, |view, tx, _sb, addr| {
            dataset_dtype(view, tx, addr, path)
        })
    }

    /// Writes `data` into the hyperslab `start`/`count` of an existing dataset.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/Y", &[2, 3], &[0i64; 6], &DatasetOptions::default())?;
    /// w.write_slab("/Y", &[0, 1], &[2, 2], &[1i64, 2, 3, 4])?;   // Y[0:2, 1:3] = ...
    /// assert_eq!(w.reader()?.dataset("/Y")?.read::<i64>()?, vec![0, 1, 2, 0, 3, 4]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_slab<T: H5Type>(
        &mut self,
        path: &str,
        start: &[u64],
        count: &[u64],
        data: &[T],
    ) -> Result<()> {
        self.run_at(path, |view, tx, sb, addr| {
            let raw = stored_bytes(view, tx, addr, path, data)?;
            modify::write_selection(
                view,
                tx,
                addr,
                start,
                count,
                raw,
                None,
                sb.indexed_storage_k,
            )
        })
    }

    /// Appends rows (along the first dimension) to a chunked dataset with an
    /// unlimited or larger maximum shape. `data.len()` must be a whole number
    /// of rows.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/Y", &[1, 2], &[1i32, 2], &DatasetOptions::growable())?;
    /// w.append("/Y", &[3i32, 4, 5, 6])?;                   // two more rows
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/Y")?.shape(), Some(&[3, 2][..]));
    /// w.create_dataset("/fixed", &[2], &[1i32, 2], &DatasetOptions::default())?;
    /// assert!(w.append("/fixed", &[3i32]).is_err());       // contiguous: cannot grow
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append<T: H5Type>(&mut self, path: &str, data: &[T]) -> Result<()> {
        self.run_at(path, |view, tx, sb, addr| {
            let raw = stored_bytes(view, tx, addr, path, data)?;
            append_bytes(view, tx, sb, addr, path, raw, data.len() as u64)
        })
    }

    /// [`Writer::append`] from raw element bytes in the dataset's stored
    /// datatype and byte order (a whole number of rows).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/x", &[1], &[1u16], &DatasetOptions::growable())?;
    /// w.append_raw("/x", &[2, 0, 3, 0])?;                  // two little-endian u16
    /// assert_eq!(w.reader()?.dataset("/x")?.read::<u16>()?, vec![1, 2, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append_raw(&mut self, path: &str, raw: &[u8]) -> Result<()> {
        self.run_at(path, |view, tx, sb, addr| {
            let size = dataset_dtype(view, tx, addr, path)?.size() as u64;
            let len = raw.len() as u64;
            if size == 0 || !len.is_multiple_of(size) {
                return Err(Error::invalid(format!(
                    "{path}: {len} bytes are not a whole number of {size}-byte elements"
                )));
            }
            append_bytes(view, tx, sb, addr, path, Cow::Borrowed(raw), len / size)
        })
    }

    /// [`Writer::append`] from decoded values of any type the dataset holds,
    /// variable-length strings included (a whole number of rows).
    ///
    /// The old elements are not rewritten: new variable-length data goes
    /// into new global heap collections at the end of the file (up to 4096
    /// objects each, at least 4 KiB as libhdf5 sizes them), and only the new
    /// rows' heap IDs are written into the dataset's new chunks; the old
    /// collections keep every byte. Inside a transaction, like every
    /// other change, nothing shows before the commit.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    /// use h5sparse::{CharSet, Dtype, Values};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// let utf8 = Dtype::VarString { charset: CharSet::Utf8 };
    /// let names = Values::Str(vec!["AAAC-1".into(), "AAAG-1".into()]);
    /// w.create_dataset_values("/names", &utf8, &[2], &names, &DatasetOptions::growable())?;
    /// w.append_values("/names", &Values::Str(vec!["TTTC-1".into(), "".into()]))?;
    /// let names = w.reader()?.dataset("/names")?.values()?;
    /// assert_eq!(names, Values::Str(vec!["AAAC-1".into(), "AAAG-1".into(), "TTTC-1".into(), "".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append_values(&mut self, path: &str, values: &Values) -> Result<()> {
        let limits = self.limits.clone();
        self.run_at(path, |view, tx, sb, addr| {
            let dtype = dataset_dtype(view, tx, addr, path)?;
            let n = values.len();
            let mut refs = |r: &ObjectRef| ref_address(view, &limits, sb, r);
            let raw = encode::encode_values(tx, &dtype, values, n, &mut refs)?;
            append_bytes(view, tx, sb, addr, path, Cow::Owned(raw), n as u64)
        })
        .map_err(|e| e.context(path))
    }

    /// Changes the shape of a chunked dataset within its maximum shape.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/x", &[4], &[1i64, 2, 3, 4], &DatasetOptions::growable())?;
    /// w.resize("/x", &[2])?;
    /// assert_eq!(w.reader()?.dataset("/x")?.read::<i64>()?, vec![1, 2]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn resize(&mut self, path: &str, shape: &[u64]) -> Result<()> {
        self.run_at(path, |view, tx, sb, addr| {
            modify::resize(view, tx, addr, shape, sb.indexed_storage_k)
        })
    }

    /// Writes elements at many positions of a 1-D dataset as one atomic
    /// operation: `points` are (index, value); a later repeat wins.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/data", &[4], &[1.0f32, 2.0, 3.0, 4.0], &DatasetOptions::default())?;
    /// w.write_points("/data", &[(3, 40.0f32), (0, 10.0), (3, 44.0)])?;
    /// assert_eq!(w.reader()?.dataset("/data")?.read::<f32>()?, vec![10.0, 2.0, 3.0, 44.0]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_points<T: H5Type>(&mut self, path: &str, points: &[(u64, T)]) -> Result<()> {
        let values: Vec<T> = points.iter().map(|p| p.1).collect();
        self.run_at(path, |view, tx, sb, addr| {
            let raw = stored_bytes(view, tx, addr, path, &values)?;
            let size = std::mem::size_of::<T>();
            let pts: Vec<(u64, &[u8])> = points
                .iter()
                .enumerate()
                .map(|(k, p)| (p.0, &raw[k * size..(k + 1) * size]))
                .collect();
            modify::write_points(view, tx, addr, &pts, sb.indexed_storage_k)
        })
    }
}

/// Appends `n` elements (`raw`, stored byte order) along the first
/// dimension of the dataset at `addr`.
fn append_bytes<'d>(
    view: &crate::format::FileView<'_>,
    tx: &mut super::tx::Tx<'d>,
    sb: &crate::format::superblock::Superblock,
    addr: crate::format::Address,
    path: &str,
    raw: Cow<'d, [u8]>,
    n: u64,
) -> Result<()> {
    let ex = modify::Existing::read(view, tx, addr)?;
    let dims = ex.space.dims.clone();
    if dims.is_empty() {
        return Err(Error::invalid(format!(
            "{path} is a scalar; nothing to append to"
        )));
    }
    let row: u64 = dims[1..].iter().product();
    if row == 0 || !n.is_multiple_of(row) {
        return Err(Error::invalid(format!(
            "{n} values are not a whole number of rows of {row}"
        )));
    }
    let mut new_dims = dims.clone();
    new_dims[0] = dims[0]
        .checked_add(n / row)
        .ok_or_else(|| Error::invalid("dimension overflows"))?;
    let mut start = vec![0; dims.len()];
    start[0] = dims[0];
    let mut count = dims.clone();
    count[0] = n / row;
    modify::write_selection(
        view,
        tx,
        addr,
        &start,
        &count,
        raw,
        Some(new_dims),
        sb.indexed_storage_k,
    )
}
