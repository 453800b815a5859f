//! The navigable object model: [`File`], [`Group`], [`Dataset`], [`Attribute`].

mod dtype;
mod values;

pub use dtype::{ByteOrder, CharSet, Dtype, StringPadding};
pub use values::Values;

use std::borrow::Cow;

use crate::error::Result;
use crate::format::Address;
use crate::io::Storage;
use crate::limits::Limits;

/// An open HDF5 file (read-only).
///
/// ```no_run
/// let file = h5sparse::File::open("pbmc.h5ad")?;
/// let indptr = file.dataset("/X/indptr")?.read::<i64>()?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug)]
pub struct File {
    storage: Storage,
    limits: Limits,
    path: Option<std::path::PathBuf>,
}

/// What a path leads to.
#[derive(Debug)]
pub enum Node<'f> {
    /// A group.
    Group(Group<'f>),
    /// A dataset.
    Dataset(Dataset<'f>),
    /// A committed (named) datatype.
    Datatype {
        /// Its path.
        path: String,
    },
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// A hard link to an object header.
    Hard(Address),
    /// A soft link to a path in this file.
    Soft(String),
    /// An external link to a path in another file.
    External {
        /// The other file's name as stored.
        file: String,
        /// The path inside it.
        path: String,
    },
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Name of the member.
    pub name: String,
    /// Where it points.
    pub target: LinkTarget,
    /// Creation order, when the group tracks it.
    pub creation_order: Option<u64>,
}

/// A group.
#[derive(Debug, Clone)]
pub struct Group<'f> {
    file: &'f File,
    path: String,
    address: Address,
}

/// A dataset.
#[derive(Debug, Clone)]
pub struct Dataset<'f> {
    file: &'f File,
    path: String,
    address: Address,
}

/// An attribute of a group or dataset.
#[derive(Debug, Clone)]
pub struct Attribute<'f> {
    file: &'f File,
    name: String,
    dtype: Dtype,
    shape: Option<Vec<u64>>,
    raw: Cow<'f, [u8]>,
}

/// Storage layout of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutKind {
    /// Data inside the object header.
    Compact,
    /// One contiguous block.
    Contiguous,
    /// Fixed-size chunks located through a chunk index.
    Chunked,
}

/// A filter in a dataset's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterInfo {
    /// Filter id (1 deflate, 2 shuffle, 3 fletcher32, 32000 lzf, ...).
    pub id: u16,
    /// Canonical name for well-known ids, else the name stored in the file.
    pub name: String,
    /// Client data values as stored.
    pub cd_values: Vec<u32>,
    /// May the filter be skipped when it fails?
    pub optional: bool,
}

/// A Rust number type that datasets can be read into.
pub trait H5Type: bytemuck::Pod + Send + Sync {
    /// True when the stored `dtype` holds exactly this type (any byte order).
    fn matches(dtype: &Dtype) -> bool;
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl H5Type for $t {
            fn matches(dtype: &Dtype) -> bool {
                matches!(dtype, Dtype::Int { size, signed, .. }
                    if usize::from(*size) == std::mem::size_of::<$t>() && *signed == (<$t>::MIN != 0))
            }
        }
    )*};
}
impl_int!(i8, u8, i16, u16, i32, u32, i64, u64);

impl H5Type for f32 {
    fn matches(dtype: &Dtype) -> bool {
        matches!(dtype, Dtype::Float { size: 4, .. })
    }
}

impl H5Type for f64 {
    fn matches(dtype: &Dtype) -> bool {
        matches!(dtype, Dtype::Float { size: 8, .. })
    }
}

#[allow(unused_variables)]
impl File {
    /// Opens `path` read-only through a memory map.
    #[cfg(feature = "mmap")]
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<File> {
        todo!()
    }

    /// Opens `path` with custom limits.
    #[cfg(feature = "mmap")]
    pub fn open_with_limits(path: impl AsRef<std::path::Path>, limits: Limits) -> Result<File> {
        todo!()
    }

    /// Reads a file already in memory (no mmap; works on wasm).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<File> {
        todo!()
    }

    /// [`File::from_bytes`] with custom limits.
    pub fn from_bytes_with_limits(bytes: Vec<u8>, limits: Limits) -> Result<File> {
        todo!()
    }

    /// Superblock version (0..=3).
    pub fn superblock_version(&self) -> u8 {
        todo!()
    }

    /// The root group `/`.
    pub fn root(&self) -> Result<Group<'_>> {
        todo!()
    }

    /// The object at an absolute path, following soft links and external
    /// links whose file sits beside this one.
    pub fn get(&self, path: &str) -> Result<Node<'_>> {
        todo!()
    }

    /// The group at `path`.
    pub fn group(&self, path: &str) -> Result<Group<'_>> {
        todo!()
    }

    /// The dataset at `path`.
    pub fn dataset(&self, path: &str) -> Result<Dataset<'_>> {
        todo!()
    }

    /// The limits this file was opened with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[allow(unused_variables)]
impl<'f> Group<'f> {
    /// Absolute path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Members in name order (byte-wise).
    pub fn links(&self) -> Result<Vec<Link>> {
        todo!()
    }

    /// Members in creation order when tracked, else name order.
    pub fn links_in_creation_order(&self) -> Result<Vec<Link>> {
        todo!()
    }

    /// The member `name` (or a relative path), following soft links and
    /// resolvable external links.
    pub fn get(&self, name: &str) -> Result<Node<'f>> {
        todo!()
    }

    /// All attributes, in name order.
    pub fn attributes(&self) -> Result<Vec<Attribute<'f>>> {
        todo!()
    }

    /// The attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Result<Option<Attribute<'f>>> {
        todo!()
    }
}

#[allow(unused_variables)]
impl<'f> Dataset<'f> {
    /// Absolute path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Element type.
    pub fn dtype(&self) -> &Dtype {
        todo!()
    }

    /// Current dimensions; `None` for a null dataspace, empty for a scalar.
    pub fn shape(&self) -> Option<&[u64]> {
        todo!()
    }

    /// Maximum dimensions, `None` entries unlimited; `None` for a null dataspace.
    pub fn maxshape(&self) -> Option<Vec<Option<u64>>> {
        todo!()
    }

    /// Storage layout.
    pub fn layout(&self) -> LayoutKind {
        todo!()
    }

    /// Chunk shape, for chunked datasets.
    pub fn chunks(&self) -> Option<&[u64]> {
        todo!()
    }

    /// The filter pipeline, in application order.
    pub fn filters(&self) -> &[FilterInfo] {
        todo!()
    }

    /// All attributes, in name order.
    pub fn attributes(&self) -> Result<Vec<Attribute<'f>>> {
        todo!()
    }

    /// The attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Result<Option<Attribute<'f>>> {
        todo!()
    }

    /// Every element, decoded generically.
    pub fn values(&self) -> Result<Values> {
        todo!()
    }

    /// Every element as `T` (which must match the stored type; byte order is
    /// converted).
    pub fn read<T: H5Type>(&self) -> Result<Vec<T>> {
        todo!()
    }

    /// Elements `start..start+count` of a 1-D dataset.
    pub fn read_range<T: H5Type>(&self, start: u64, count: u64) -> Result<Vec<T>> {
        todo!()
    }

    /// An N-D hyperslab `start`/`count`, in C order.
    pub fn read_slab<T: H5Type>(&self, start: &[u64], count: &[u64]) -> Result<Vec<T>> {
        todo!()
    }

    /// Elements `start..start+count` of a 1-D dataset, borrowed from the file
    /// when contiguous, unfiltered, aligned and native-endian; copied otherwise.
    pub fn read_range_cow<T: H5Type>(&self, start: u64, count: u64) -> Result<Cow<'f, [T]>> {
        todo!()
    }
}

#[allow(unused_variables)]
impl<'f> Attribute<'f> {
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Element type.
    pub fn dtype(&self) -> &Dtype {
        &self.dtype
    }

    /// Dimensions; `None` for a null dataspace, empty for a scalar.
    pub fn shape(&self) -> Option<&[u64]> {
        self.shape.as_deref()
    }

    /// The values, decoded.
    pub fn values(&self) -> Result<Values> {
        todo!()
    }
}
