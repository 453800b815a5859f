//! The navigable object model: [`File`], [`Group`], [`Dataset`], [`Attribute`].

mod ahead;
mod blocks;
mod borrow;
mod dataset;
mod decode;
mod dtype;
mod fields;
mod file;
pub(crate) mod group;
pub(crate) mod hyperslab;
mod runs;
mod structured;
mod values;

pub use crate::format::types::{Link, LinkTarget};
pub use dtype::{ByteOrder, CharSet, Dtype, Field, StringPadding};
pub(crate) use file::join_path;
pub(crate) use group::links_at;
pub(crate) use runs::Consecutive;
pub use values::{ObjectRef, RegionRef, Selection, Value, Values};

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use crate::format::superblock::Superblock;
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
pub struct File {
    storage: Storage,
    limits: Limits,
    path: Option<std::path::PathBuf>,
    superblock: Superblock,
    /// Files opened to resolve external links; boxed so their addresses stay
    /// put while the vector grows, and never removed before `self` drops.
    externals: Mutex<Vec<(std::path::PathBuf, Box<File>)>>,
    /// Object header address → first hard-link path, built on the first
    /// object reference resolved.
    object_paths: std::sync::OnceLock<std::collections::HashMap<u64, String>>,
    /// Set by [`File::set_streaming`]: reads release the mapped pages they
    /// copied from.
    streaming: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("len", &self.storage.len())
            .field("superblock_version", &self.superblock.version)
            .finish()
    }
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
    info: Arc<dataset::DatasetInfo<'f>>,
}

/// An attribute of a group or dataset.
#[derive(Debug, Clone)]
pub struct Attribute<'f> {
    file: &'f File,
    name: String,
    dtype: Dtype,
    shape: Option<Vec<u64>>,
    raw: Cow<'f, [u8]>,
    /// Absolute address of the attribute's data, for errors.
    at: u64,
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
pub trait H5Type: bytemuck::Pod + Default + Send + Sync {
    /// True when the stored `dtype` holds exactly this type (any byte order).
    fn matches(dtype: &Dtype) -> bool;
    /// This type as stored natively (the dtype a writer uses for it).
    fn dtype() -> Dtype;
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl H5Type for $t {
            fn matches(dtype: &Dtype) -> bool {
                matches!(dtype, Dtype::Int { size, signed, .. }
                    if usize::from(*size) == std::mem::size_of::<$t>() && *signed == (<$t>::MIN != 0))
            }
            fn dtype() -> Dtype {
                Dtype::Int { size: std::mem::size_of::<$t>() as u8, signed: <$t>::MIN != 0, order: ByteOrder::NATIVE }
            }
        }
    )*};
}
impl_int!(i8, u8, i16, u16, i32, u32, i64, u64);

impl H5Type for f32 {
    fn matches(dtype: &Dtype) -> bool {
        matches!(dtype, Dtype::Float { size: 4, .. })
    }
    fn dtype() -> Dtype {
        Dtype::Float {
            size: 4,
            order: ByteOrder::NATIVE,
        }
    }
}

impl H5Type for f64 {
    fn matches(dtype: &Dtype) -> bool {
        matches!(dtype, Dtype::Float { size: 8, .. })
    }
    fn dtype() -> Dtype {
        Dtype::Float {
            size: 8,
            order: ByteOrder::NATIVE,
        }
    }
}

/// h5py's bool (an 8-bit enum `FALSE = 0, TRUE = 1`) as a plain byte, so
/// that bool datasets and sparse matrices read and write like numbers.
///
/// ```
/// use h5sparse::H5Bool;
/// let v = [H5Bool::from(true), H5Bool::from(false)];
/// assert_eq!(v.map(bool::from), [true, false]);
/// ```
#[repr(transparent)]
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
pub struct H5Bool(pub u8);

impl From<bool> for H5Bool {
    fn from(b: bool) -> H5Bool {
        H5Bool(u8::from(b))
    }
}

impl From<H5Bool> for bool {
    /// Any non-zero byte is true.
    fn from(b: H5Bool) -> bool {
        b.0 != 0
    }
}

impl std::fmt::Display for H5Bool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", bool::from(*self))
    }
}

impl H5Type for H5Bool {
    fn matches(dtype: &Dtype) -> bool {
        matches!(dtype, Dtype::Bool)
    }
    fn dtype() -> Dtype {
        Dtype::Bool
    }
}

/// An IEEE binary16 float (numpy's `float16`), stored as its bits: read
/// `<f2`/`>f2` data as `F16` and widen it with [`F16::to_f64`] (exactly).
///
/// ```
/// let half = h5sparse::F16(0x3c00);
/// assert_eq!(half.to_f64(), 1.0);
/// ```
#[repr(transparent)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
pub struct F16(pub u16);

impl F16 {
    /// The value, widened exactly to f64.
    pub fn to_f64(self) -> f64 {
        decode::f16_to_f64(self.0)
    }
}

impl H5Type for F16 {
    fn matches(dtype: &Dtype) -> bool {
        matches!(dtype, Dtype::Float { size: 2, .. })
    }
    fn dtype() -> Dtype {
        Dtype::Float {
            size: 2,
            order: ByteOrder::NATIVE,
        }
    }
}

#[cfg(test)]
#[allow(unused_imports)] // used by the writer's tests
pub(crate) use decode::f16_to_f64 as decode_f16_for_tests;
