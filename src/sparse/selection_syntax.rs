//! Selections written in Rust syntax: `..`, `1..5`, `3..`, `..=4`, `[3, 1, 3]`,
//! `&mask`, `7`, each converted into a [`Sel`] by `From`.
//!
//! Integer literals need no suffix: with impls for every integer width the
//! compiler picks `i32` for `1..5`, as it does for ndarray's `s![1..5]`.
//! Unsigned values past `i64::MAX` saturate, so they read as "past the end"
//! (a slice clamps them, an index is out of range); nothing panics.
//!
//! ```
//! use h5sparse::sparse::Sel;
//! assert_eq!(Sel::from(..), Sel::All);
//! assert_eq!(Sel::from(1..5), Sel::range(1, 5));
//! assert_eq!(Sel::from(..=2).resolve(4)?, vec![0, 1, 2]);
//! assert_eq!(Sel::from([3, 1, 3]), Sel::Indices(vec![3, 1, 3]));
//! assert_eq!(Sel::from(-1).resolve(4)?, vec![3]);
//! let mask = vec![true, false, false, true];
//! assert_eq!(Sel::from(&mask).resolve(4)?, vec![0, 3]);
//! # Ok::<(), h5sparse::Error>(())
//! ```

use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

use super::Sel;

/// A position along one axis, of any integer type (negative counts from the
/// end): what [`SparseHandle::get`](crate::SparseHandle::get) takes, so both
/// `x.get(3, -1)` and `x.get(i, j)` with `usize` `i`, `j` work.
///
/// ```
/// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
/// let x = f.sparse("X")?;
/// let (i, j): (usize, usize) = (4, 1);
/// assert_eq!(x.get::<i64>(i, j)?, 36);
/// assert_eq!(x.get::<i64>(-2, 1)?, 36);                    // i32 literals, from the end
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub trait AxisIndex: Copy {
    /// The position as an i64 (saturating past `i64::MAX`, which is then
    /// out of range, never wrapped).
    ///
    /// ```
    /// use h5sparse::sparse::AxisIndex;
    /// assert_eq!(3usize.position(), 3);
    /// assert_eq!((-1i8).position(), -1);
    /// assert_eq!(u64::MAX.position(), i64::MAX);               // out of range, not wrapped
    /// ```
    fn position(self) -> i64;
}

macro_rules! axis_index {
    ($($t:ty),*) => {$(
        impl AxisIndex for $t {
            fn position(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
axis_index!(i8, u8, i16, u16, i32, u32, i64, u64, isize, usize);

fn slice(start: Option<i64>, stop: Option<i64>) -> Sel {
    Sel::Slice {
        start,
        stop,
        step: 1,
    }
}

/// `..=end` as an exclusive stop: `end + 1`, except that `..=-1` means
/// "through the last element" (stop `None`), as in Python's `a[:len(a)]`.
fn inclusive_stop(end: i64) -> Option<i64> {
    if end == -1 {
        None
    } else {
        Some(end.saturating_add(1))
    }
}

macro_rules! from_integers {
    ($($t:ty),*) => {$(
        impl From<$t> for Sel {
            fn from(i: $t) -> Sel {
                Sel::Index(i.position())
            }
        }
        impl From<Range<$t>> for Sel {
            fn from(r: Range<$t>) -> Sel {
                slice(Some(r.start.position()), Some(r.end.position()))
            }
        }
        impl From<RangeFrom<$t>> for Sel {
            fn from(r: RangeFrom<$t>) -> Sel {
                slice(Some(r.start.position()), None)
            }
        }
        impl From<RangeTo<$t>> for Sel {
            fn from(r: RangeTo<$t>) -> Sel {
                slice(None, Some(r.end.position()))
            }
        }
        impl From<RangeInclusive<$t>> for Sel {
            fn from(r: RangeInclusive<$t>) -> Sel {
                slice(Some(r.start().position()), inclusive_stop(r.end().position()))
            }
        }
        impl From<RangeToInclusive<$t>> for Sel {
            fn from(r: RangeToInclusive<$t>) -> Sel {
                slice(None, inclusive_stop(r.end.position()))
            }
        }
        impl From<&[$t]> for Sel {
            fn from(v: &[$t]) -> Sel {
                Sel::Indices(v.iter().map(|i| i.position()).collect())
            }
        }
        impl<const N: usize> From<[$t; N]> for Sel {
            fn from(v: [$t; N]) -> Sel {
                Sel::from(&v[..])
            }
        }
        impl<const N: usize> From<&[$t; N]> for Sel {
            fn from(v: &[$t; N]) -> Sel {
                Sel::from(&v[..])
            }
        }
        impl From<Vec<$t>> for Sel {
            fn from(v: Vec<$t>) -> Sel {
                Sel::from(&v[..])
            }
        }
        impl From<&Vec<$t>> for Sel {
            fn from(v: &Vec<$t>) -> Sel {
                Sel::from(&v[..])
            }
        }
    )*};
}
from_integers!(i8, u8, i16, u16, i32, u32, i64, u64, isize, usize);

impl From<RangeFull> for Sel {
    fn from(_: RangeFull) -> Sel {
        Sel::All
    }
}

impl From<&[bool]> for Sel {
    fn from(m: &[bool]) -> Sel {
        Sel::Mask(m.to_vec())
    }
}

impl<const N: usize> From<[bool; N]> for Sel {
    fn from(m: [bool; N]) -> Sel {
        Sel::Mask(m.to_vec())
    }
}

impl<const N: usize> From<&[bool; N]> for Sel {
    fn from(m: &[bool; N]) -> Sel {
        Sel::Mask(m.to_vec())
    }
}

impl From<Vec<bool>> for Sel {
    fn from(m: Vec<bool>) -> Sel {
        Sel::Mask(m)
    }
}

impl From<&Vec<bool>> for Sel {
    fn from(m: &Vec<bool>) -> Sel {
        Sel::Mask(m.clone())
    }
}

impl From<&Sel> for Sel {
    fn from(s: &Sel) -> Sel {
        s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(s: impl Into<Sel>, n: u64) -> Vec<u64> {
        s.into().resolve(n).unwrap()
    }

    #[test]
    fn rust_ranges_select_what_python_slices_do() {
        // Python: list(range(6))[1:4], [2:], [:3], [1:3+1], [:-1], [-2:]
        assert_eq!(take(1..4, 6), vec![1, 2, 3]);
        assert_eq!(take(2.., 6), vec![2, 3, 4, 5]);
        assert_eq!(take(..3, 6), vec![0, 1, 2]);
        assert_eq!(take(1..=3, 6), vec![1, 2, 3]);
        assert_eq!(take(..-1, 6), vec![0, 1, 2, 3, 4]);
        assert_eq!(take(-2.., 6), vec![4, 5]);
        assert_eq!(take(..=-1, 6), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(take(..=-2, 6), vec![0, 1, 2, 3, 4]);
        assert_eq!(take(.., 3), vec![0, 1, 2]);
        assert_eq!(take(0usize..2, 6), vec![0, 1]);
        assert_eq!(take(u64::MAX.., 6), Vec::<u64>::new());
    }

    #[test]
    fn lists_masks_and_single_indices() {
        assert_eq!(take([3, 1, 3], 4), vec![3, 1, 3]);
        assert_eq!(take(vec![-1i64, 0], 4), vec![3, 0]);
        let idx: &[usize] = &[2, 2];
        assert_eq!(take(idx, 4), vec![2, 2]);
        assert_eq!(take([true, false, true], 3), vec![0, 2]);
        let mask = vec![false, true];
        assert_eq!(take(&mask, 2), vec![1]);
        assert_eq!(take(-1, 5), vec![4]);
        assert!(Sel::from(usize::MAX).resolve(5).is_err());
        assert!(Sel::from([true]).resolve(2).is_err());
    }
}
