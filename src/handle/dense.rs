//! [`DatasetHandle`]: a dense dataset, read and written with methods.

use std::fmt;

use super::pinned::{Cached, Opens};
use super::H5File;
use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype, File, H5Type, Values};

impl Opens for Dataset<'static> {
    type At<'f> = Dataset<'f>;
    fn open<'f>(file: &'f File, path: &str) -> Result<Dataset<'f>> {
        file.dataset(path)
    }
}

/// A dataset of an [`H5File`]: h5py's `f['Y']`. Reads return `Vec`s or
/// ndarrays; writes are each atomic, and the handle stays valid across them.
///
/// ```
/// use h5sparse::{write::DatasetOptions, H5File};
/// let f = H5File::in_memory()?;
/// let y = f.create_dataset("Y", &[2, 3], &[0i64, 1, 0, 0, 0, 2], &DatasetOptions::growable())?;
/// assert_eq!(y.to_string(), "<HDF5 dataset \"Y\": shape (2, 3), type \"<i8\">");
/// y.write_slab(&[1, 0], &[1, 1], &[7i64])?;                  // f['Y'][1, 0] = 7
/// y.append(&[3i64, 4, 0])?;                                  // one more row
/// assert_eq!(y.read_2d::<i64>()?, ndarray::arr2(&[[0, 1, 0], [7, 0, 2], [3, 4, 0]]));
/// assert_eq!(y.read_slab::<i64>(&[2, 0], &[1, 2])?, vec![3, 4]);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub struct DatasetHandle {
    file: H5File,
    cached: Cached<Dataset<'static>>,
}

impl fmt::Debug for DatasetHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatasetHandle")
            .field("file", &self.file)
            .field("path", &self.cached.path())
            .finish()
    }
}

/// h5py's repr: `<HDF5 dataset "Y": shape (4, 3), type "<i8">`.
impl fmt::Display for DatasetHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let described = self.with(|d| {
            let shape = match d.shape() {
                None => "None".to_string(),
                Some([n]) => format!("({n},)"),
                Some(dims) => format!(
                    "({})",
                    dims.iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Ok((shape, d.dtype().numpy_str()))
        });
        let name = self.path().rsplit('/').next().unwrap_or("");
        match described {
            Ok((shape, dtype)) => {
                write!(
                    f,
                    "<HDF5 dataset \"{name}\": shape {shape}, type \"{dtype}\">"
                )
            }
            Err(e) => write!(f, "<HDF5 dataset {}: {e}>", self.path()),
        }
    }
}

impl DatasetHandle {
    pub(super) fn open(file: H5File, path: String) -> Result<DatasetHandle> {
        let h = DatasetHandle {
            file,
            cached: Cached::new(path),
        };
        h.with(|_| Ok(()))?;
        Ok(h)
    }

    fn with<R>(&self, op: impl FnOnce(&Dataset<'_>) -> Result<R>) -> Result<R> {
        self.cached.with(&self.file, op)
    }

    /// The dataset's absolute path.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.dataset("Y")?.path(), "/Y");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn path(&self) -> &str {
        self.cached.path()
    }

    /// The file this dataset lives in.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let y = f.dataset("Y")?;
    /// assert_eq!(y.file().path(), f.path());                  // the same open file
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn file(&self) -> &H5File {
        &self.file
    }

    /// The shape (empty for a scalar; an error for a null dataspace, which
    /// has none).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.dataset("Y")?.shape()?, vec![4, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn shape(&self) -> Result<Vec<u64>> {
        self.with(|d| {
            d.shape()
                .map(<[u64]>::to_vec)
                .ok_or_else(|| Error::invalid(format!("{}: null dataspace, no shape", d.path())))
        })
    }

    /// The element type.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.dataset("Y")?.dtype()?.numpy_str(), "<i8");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dtype(&self) -> Result<Dtype> {
        self.with(|d| Ok(d.dtype().clone()))
    }

    /// Number of elements.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.dataset("Y")?.len()?, 12);                  // 4 x 3
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn len(&self) -> Result<u64> {
        self.with(|d| Ok(d.len()))
    }

    /// Whether the dataset has no elements.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let y = f.create_dataset("Y", &[0, 3], &[] as &[f32], &Default::default())?;
    /// assert!(y.is_empty()?);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Every element as `T`, in C order (h5py's `f['Y'][()]`).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let y = f.dataset("Y")?;
    /// assert_eq!(y.read::<i64>()?, vec![0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 4, 0]);
    /// assert!(y.read::<f64>().is_err());                       // stored as int64
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read<T: H5Type>(&self) -> Result<Vec<T>> {
        self.with(|d| d.read())
    }

    /// Every element decoded generically (strings, bools, any number type).
    ///
    /// ```
    /// use h5sparse::{H5Bool, Values};
    /// let f = h5sparse::H5File::in_memory()?;
    /// let flags = f.create_dataset("flags", &[3], &[H5Bool(1), H5Bool(0), H5Bool(1)], &Default::default())?;
    /// assert_eq!(flags.values()?, Values::Bool(vec![true, false, true]));   // h5py's bool
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let y = h5sparse::H5File::open(path)?.dataset("Y")?;
    /// assert_eq!(y.values()?, Values::Int(vec![0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 4, 0]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn values(&self) -> Result<Values> {
        self.with(|d| d.values())
    }

    /// Elements `start..start+count` of a 1-D dataset, touching only the
    /// chunks they lie in.
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let data: Vec<u32> = (0..1000).collect();
    /// let x = f.create_dataset("x", &[1000], &data, &DatasetOptions::default().chunks(&[100]))?;
    /// assert_eq!(x.read_range::<u32>(498, 4)?, vec![498, 499, 500, 501]);   // 2 of 10 chunks
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_range<T: H5Type>(&self, start: u64, count: u64) -> Result<Vec<T>> {
        self.with(|d| d.read_range(start, count))
    }

    /// The N-D hyperslab `start`/`count`, in C order.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let y = f.dataset("Y")?;
    /// assert_eq!(y.read_slab::<i64>(&[1, 1], &[3, 2])?, vec![0, 2, 0, 0, 4, 0]);   // Y[1:4, 1:3]
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_slab<T: H5Type>(&self, start: &[u64], count: &[u64]) -> Result<Vec<T>> {
        self.with(|d| d.read_slab(start, count))
    }

    /// The whole dataset as an N-D array of its shape.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let y = f.dataset("Y")?.read_array::<i64>()?;
    /// assert_eq!(y.shape(), &[4, 3]);
    /// assert_eq!(y[[3, 1]], 4);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_array<T: H5Type>(&self) -> Result<ndarray::ArrayD<T>> {
        self.with(|d| {
            let shape: Vec<usize> = d
                .shape()
                .unwrap_or(&[])
                .iter()
                .map(|&n| usize::try_from(n))
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| Error::invalid(format!("{}: shape too large", d.path())))?;
            ndarray::ArrayD::from_shape_vec(shape, d.read()?)
                .map_err(|e| Error::invalid(format!("{}: {e}", d.path())))
        })
    }

    /// The whole dataset as a 2-D array (an error unless it has 2
    /// dimensions).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let y = f.dataset("Y")?.read_2d::<i64>()?;
    /// assert_eq!(y.row(3).to_vec(), vec![3, 4, 0]);
    /// assert!(f.dataset("X/data")?.read_2d::<i64>().is_err());   // 1-D
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_2d<T: H5Type>(&self) -> Result<ndarray::Array2<T>> {
        let path = self.path().to_string();
        self.read_array()?
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|_| Error::invalid(format!("{path} is not 2-dimensional")))
    }

    /// Writes `data` (C order) into the hyperslab `start`/`count`, in place.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let y = f.create_array("Y", &ndarray::Array2::<f64>::zeros((2, 3)), &Default::default())?;
    /// y.write_slab(&[0, 1], &[2, 1], &[1.5, 2.5])?;          // f['Y'][:, 1] = [1.5, 2.5]
    /// assert_eq!(y.read_2d::<f64>()?, ndarray::arr2(&[[0.0, 1.5, 0.0], [0.0, 2.5, 0.0]]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_slab<T: H5Type>(&self, start: &[u64], count: &[u64], data: &[T]) -> Result<()> {
        let path = self.path();
        self.file.write(|w| w.write_slab(path, start, count, data))
    }

    /// Appends rows along the first dimension (the dataset must be chunked
    /// and growable: created with [`DatasetOptions::growable`] or h5py's
    /// `maxshape=(None, ...)`); `data` holds whole rows.
    ///
    /// [`DatasetOptions::growable`]: crate::write::DatasetOptions::growable
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let y = f.create_dataset("Y", &[1, 2], &[1i32, 2], &DatasetOptions::growable())?;
    /// y.append(&[3i32, 4, 5, 6])?;                              // two rows
    /// assert_eq!(y.shape()?, vec![3, 2]);
    /// assert!(y.append(&[7i32]).is_err());                     // not a whole row
    /// let fixed = f.create_dataset("Z", &[2], &[1i32, 2], &DatasetOptions::default())?;
    /// assert!(fixed.append(&[3i32]).is_err());                 // contiguous: cannot grow
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append<T: H5Type>(&self, data: &[T]) -> Result<()> {
        let path = self.path();
        self.file.write(|w| w.append(path, data))
    }

    /// Changes the shape within the maximum shape (h5py's `resize`).
    ///
    /// ```
    /// use h5sparse::write::DatasetOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let y = f.create_dataset("Y", &[3, 2], &[1i32, 2, 3, 4, 5, 6], &DatasetOptions::growable())?;
    /// y.resize(&[2, 2])?;                                      // f['Y'].resize((2, 2))
    /// assert_eq!(y.read::<i32>()?, vec![1, 2, 3, 4]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn resize(&self, shape: &[u64]) -> Result<()> {
        let path = self.path();
        self.file.write(|w| w.resize(path, shape))
    }
}
