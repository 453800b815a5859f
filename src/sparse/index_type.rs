//! Index datasets (`indices`, `indptr`): read as u64 or as the index
//! type a caller asks for, converting only when the stored type differs.

use std::fmt;

use sprs::SpIndex;

use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype, H5Type};

/// Reads `ranges` of an integer dataset of any width as u64, checking
/// that no value is negative.
pub(crate) fn read_ints(ds: &Dataset<'_>, runs: &[(u64, u64)]) -> Result<Vec<u64>> {
    fn widen<T: H5Type + TryInto<u64> + Copy + fmt::Display>(
        ds: &Dataset<'_>,
        runs: &[(u64, u64)],
    ) -> Result<Vec<u64>> {
        ds.read_runs::<T>(runs)?
            .into_iter()
            .map(|v| {
                v.try_into()
                    .map_err(|_| Error::invalid(format!("{}: negative value {v}", ds.path())))
            })
            .collect()
    }
    match ds.dtype() {
        Dtype::Int {
            size: 1,
            signed: true,
            ..
        } => widen::<i8>(ds, runs),
        Dtype::Int {
            size: 1,
            signed: false,
            ..
        } => widen::<u8>(ds, runs),
        Dtype::Int {
            size: 2,
            signed: true,
            ..
        } => widen::<i16>(ds, runs),
        Dtype::Int {
            size: 2,
            signed: false,
            ..
        } => widen::<u16>(ds, runs),
        Dtype::Int {
            size: 4,
            signed: true,
            ..
        } => widen::<i32>(ds, runs),
        Dtype::Int {
            size: 4,
            signed: false,
            ..
        } => widen::<u32>(ds, runs),
        Dtype::Int {
            size: 8,
            signed: true,
            ..
        } => widen::<i64>(ds, runs),
        Dtype::Int {
            size: 8,
            signed: false,
            ..
        } => widen::<u64>(ds, runs),
        other => Err(Error::unsupported(format!(
            "{}: sparse index arrays must be integers, found {}",
            ds.path(),
            other.numpy_str()
        ))),
    }
}

/// An integer type a sparse read returns its `indices` and `indptr` in: one
/// of sprs's index types. `usize` is sprs's default ([`CsMat`](sprs::CsMat)); `i32` is
/// what scipy uses and halves the memory of the indices.
///
/// A stored index dtype equal to the requested one is read without any
/// conversion; otherwise values are converted, and a value the type cannot
/// hold (negative, or too large) is an error.
///
/// ```
/// let f = h5sparse::H5File::in_memory()?;
/// let m = sprs::CsMat::new((2, 3), vec![0, 1, 3], vec![1, 0, 2], vec![1.0f32, 2.0, 3.0]);
/// let x = f.create_sparse("X", &m, &Default::default())?;  // int32 on disk
/// let wide = x.read_as::<f32, u64>(.., ..)?;               // converted
/// let narrow = x.read_as::<f32, i32>(.., ..)?;             // as stored, no conversion
/// assert_eq!(wide.indices(), &[1u64, 0, 2]);
/// assert_eq!(narrow.indices(), &[1i32, 0, 2]);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub trait IndexType: SpIndex + TryFrom<u64> + fmt::Display {
    /// Reads `runs` of the integer dataset `ds` as this type. Values are not
    /// range-checked when the stored type is this type: the caller does.
    #[doc(hidden)]
    fn gather(ds: &Dataset<'_>, runs: &[(u64, u64)]) -> Result<Vec<Self>>;

    /// [`IndexType::gather`] into `out`, reusing its allocation where the
    /// values are read as stored.
    #[doc(hidden)]
    fn gather_into(ds: &Dataset<'_>, runs: &[(u64, u64)], out: &mut Vec<Self>) -> Result<()> {
        *out = Self::gather(ds, runs)?;
        Ok(())
    }

    /// These values as int32, without a copy, when this type is int32.
    #[doc(hidden)]
    fn as_i32(_values: &[Self]) -> Option<&[i32]> {
        None
    }

    /// These values as int64, without a copy, when this type is int64.
    #[doc(hidden)]
    fn as_i64(_values: &[Self]) -> Option<&[i64]> {
        None
    }
}

fn convert<I: TryFrom<u64>>(ds: &Dataset<'_>, v: Vec<u64>) -> Result<Vec<I>> {
    v.into_iter()
        .map(|x| {
            I::try_from(x).map_err(|_| {
                Error::invalid(format!(
                    "{}: value {x} does not fit the requested {}-byte index type",
                    ds.path(),
                    std::mem::size_of::<I>()
                ))
            })
        })
        .collect()
}

impl IndexType for usize {
    fn gather(ds: &Dataset<'_>, runs: &[(u64, u64)]) -> Result<Vec<usize>> {
        let v = read_ints(ds, runs)?;
        if usize::BITS == 64 {
            // Same size: the collect reuses the allocation.
            Ok(v.into_iter().map(|x| x as usize).collect())
        } else {
            convert(ds, v)
        }
    }
}

macro_rules! index_type {
    ($($t:ty),*) => {$(
        impl IndexType for $t {
            fn gather(ds: &Dataset<'_>, runs: &[(u64, u64)]) -> Result<Vec<$t>> {
                if !<$t as H5Type>::matches(ds.dtype()) {
                    return convert(ds, read_ints(ds, runs)?);
                }
                // Read as stored; callers validate every value (a negative
                // one fails `try_index`).
                ds.read_runs::<$t>(runs)
            }

            fn gather_into(ds: &Dataset<'_>, runs: &[(u64, u64)], out: &mut Vec<$t>) -> Result<()> {
                if !<$t as H5Type>::matches(ds.dtype()) {
                    *out = convert(ds, read_ints(ds, runs)?)?;
                    return Ok(());
                }
                ds.read_runs_into::<$t>(runs, out)
            }

            fn as_i32(values: &[$t]) -> Option<&[i32]> {
                <$t as H5Type>::matches(&<i32 as H5Type>::dtype())
                    .then(|| bytemuck::try_cast_slice(values).ok())
                    .flatten()
            }

            fn as_i64(values: &[$t]) -> Option<&[i64]> {
                <$t as H5Type>::matches(&<i64 as H5Type>::dtype())
                    .then(|| bytemuck::try_cast_slice(values).ok())
                    .flatten()
            }
        }
    )*};
}
index_type!(u16, i16, u32, i32, u64, i64);
