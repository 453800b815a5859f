//! Selections along one axis, with numpy's semantics.

use crate::error::{Error, Result};

/// What to take along one axis of a sparse matrix.
///
/// ```
/// use h5sparse::sparse::Sel;
/// assert_eq!(Sel::parse("1:3")?.resolve(4)?, vec![1, 2]);
/// assert_eq!(Sel::parse("::-1")?.resolve(3)?, vec![2, 1, 0]);
/// assert_eq!(Sel::parse("-1,0,0")?.resolve(3)?, vec![2, 0, 0]);
/// assert_eq!(Sel::Mask(vec![true, false, true]).resolve(3)?, vec![0, 2]);
/// assert!(Sel::Index(3).resolve(3).is_err());
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sel {
    /// Everything (`:`).
    All,
    /// `start:stop:step`; `None` bounds default as in Python.
    Slice {
        /// First index (negative counts from the end).
        start: Option<i64>,
        /// One past the last (negative counts from the end).
        stop: Option<i64>,
        /// Step, non-zero, may be negative.
        step: i64,
    },
    /// A list of indices: any order, repeats allowed, negative from the end.
    Indices(Vec<i64>),
    /// A boolean mask as long as the axis.
    Mask(Vec<bool>),
    /// One index (the axis keeps length 1 in the result).
    Index(i64),
}

impl Sel {
    /// `start..stop` with step 1.
    ///
    /// ```
    /// use h5sparse::sparse::Sel;
    /// assert_eq!(Sel::range(1, 3), Sel::from(1..3));
    /// assert_eq!(Sel::range(-2, 10).resolve(4)?, vec![2, 3]);  // as Python's a[-2:10]
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn range(start: i64, stop: i64) -> Sel {
        Sel::Slice {
            start: Some(start),
            stop: Some(stop),
            step: 1,
        }
    }

    /// Parses `START:STOP[:STEP]` (parts may be empty, negatives allowed) or
    /// `i,j,k`.
    ///
    /// ```
    /// use h5sparse::sparse::Sel;
    /// assert_eq!(Sel::parse("1:5:2")?, Sel::Slice { start: Some(1), stop: Some(5), step: 2 });
    /// assert_eq!(Sel::parse(":")?.resolve(2)?, vec![0, 1]);
    /// assert_eq!(Sel::parse("3, 1, 3")?, Sel::Indices(vec![3, 1, 3]));
    /// assert!(Sel::parse("::0").is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Sel> {
        let s = s.trim();
        let num = |p: &str| -> Result<Option<i64>> {
            let p = p.trim();
            if p.is_empty() {
                return Ok(None);
            }
            p.parse::<i64>()
                .map(Some)
                .map_err(|_| Error::invalid(format!("selection {s:?}: {p:?} is not an integer")))
        };
        if s.contains(':') {
            let parts: Vec<&str> = s.split(':').collect();
            if parts.len() > 3 {
                return Err(Error::invalid(format!("selection {s:?}: too many ':'")));
            }
            let step = match parts.get(2) {
                Some(p) => num(p)?.unwrap_or(1),
                None => 1,
            };
            if step == 0 {
                return Err(Error::invalid(format!(
                    "selection {s:?}: slice step cannot be zero"
                )));
            }
            return Ok(Sel::Slice {
                start: num(parts[0])?,
                stop: num(parts[1])?,
                step,
            });
        }
        if s.is_empty() {
            return Err(Error::invalid("empty selection"));
        }
        let idx = s
            .split(',')
            .map(|p| num(p)?.ok_or_else(|| Error::invalid(format!("selection {s:?}: empty index"))))
            .collect::<Result<Vec<i64>>>()?;
        Ok(Sel::Indices(idx))
    }

    /// True for [`Sel::All`] and forward slices covering the whole axis of
    /// length `n`: selections that need no filtering.
    ///
    /// ```
    /// use h5sparse::sparse::Sel;
    /// assert!(Sel::parse(":")?.is_everything(5));
    /// assert!(Sel::range(0, 9).is_everything(5));
    /// assert!(!Sel::range(1, 5).is_everything(5));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn is_everything(&self, n: u64) -> bool {
        match self {
            Sel::All => true,
            Sel::Slice {
                start,
                stop,
                step: 1,
            } => start.unwrap_or(0) == 0 && stop.is_none_or(|s| s >= n as i64),
            _ => false,
        }
    }

    /// The selected indices in output order, for an axis of length `n`.
    ///
    /// ```
    /// use h5sparse::sparse::Sel;
    /// assert_eq!(Sel::parse("::2")?.resolve(5)?, vec![0, 2, 4]);
    /// assert_eq!(Sel::Indices(vec![-1, 0]).resolve(5)?, vec![4, 0]);
    /// assert!(Sel::Mask(vec![true]).resolve(5).is_err());     // a mask must cover the axis
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn resolve(&self, n: u64) -> Result<Vec<u64>> {
        let n_i = i64::try_from(n).map_err(|_| Error::invalid("axis longer than 2^63"))?;
        let wrap = |i: i64| -> Result<u64> {
            let j = if i < 0 { i + n_i } else { i };
            if j < 0 || j >= n_i {
                return Err(Error::invalid(format!(
                    "index {i} is out of range for an axis of length {n}"
                )));
            }
            Ok(j as u64)
        };
        // Every index, allocated fallibly: an axis length comes from a file.
        let sized = |len: u64| -> Result<Vec<u64>> {
            let len = usize::try_from(len).map_err(|_| Error::OutOfMemory {
                what: "selected indices",
                bytes: len.saturating_mul(8),
            })?;
            crate::buf::try_with_capacity(len, "selected indices")
        };
        match self {
            Sel::All => {
                let mut out = sized(n)?;
                out.extend(0..n);
                Ok(out)
            }
            Sel::Index(i) => Ok(vec![wrap(*i)?]),
            Sel::Indices(v) => v.iter().map(|&i| wrap(i)).collect(),
            Sel::Mask(m) => {
                if m.len() as u64 != n {
                    return Err(Error::invalid(format!(
                        "boolean mask has length {}, the axis has {n}",
                        m.len()
                    )));
                }
                Ok(m.iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| i as u64)
                    .collect())
            }
            Sel::Slice { start, stop, step } => {
                let (a, b, st) = adjust(*start, *stop, *step, n_i)?;
                let count = if st > 0 && b > a {
                    ((b - a) as u64).div_ceil(st as u64)
                } else if st < 0 && a > b {
                    ((a - b) as u64).div_ceil(st.unsigned_abs())
                } else {
                    0
                };
                let mut out = sized(count)?;
                let mut i = a;
                while (st > 0 && i < b) || (st < 0 && i > b) {
                    out.push(i as u64);
                    i += st;
                }
                Ok(out)
            }
        }
    }
}

/// Python's `slice.indices(n)`: clamped start, stop and the step.
fn adjust(start: Option<i64>, stop: Option<i64>, step: i64, n: i64) -> Result<(i64, i64, i64)> {
    if step == 0 {
        return Err(Error::invalid("slice step cannot be zero"));
    }
    let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
    let fix = |v: Option<i64>, default: i64| -> i64 {
        match v {
            None => default,
            Some(v) if v < 0 => {
                let w = v + n;
                if step > 0 {
                    clamp(w, 0, n)
                } else {
                    clamp(w, -1, n - 1)
                }
            }
            Some(v) => {
                if step > 0 {
                    clamp(v, 0, n)
                } else {
                    clamp(v, -1, n - 1)
                }
            }
        }
    };
    if step > 0 {
        Ok((fix(start, 0), fix(stop, n), step))
    } else {
        Ok((fix(start, n - 1), fix(stop, -1), step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(start: Option<i64>, stop: Option<i64>, step: i64, n: u64) -> Vec<u64> {
        Sel::Slice { start, stop, step }.resolve(n).unwrap()
    }

    #[test]
    fn slices_follow_python() {
        // Values checked against list(range(n))[start:stop:step] in CPython.
        assert_eq!(py(None, None, 1, 5), vec![0, 1, 2, 3, 4]);
        assert_eq!(py(Some(-2), None, 1, 5), vec![3, 4]);
        assert_eq!(py(None, Some(-1), 2, 5), vec![0, 2]);
        assert_eq!(py(None, None, -2, 5), vec![4, 2, 0]);
        assert_eq!(py(Some(3), Some(0), -1, 5), vec![3, 2, 1]);
        assert_eq!(py(Some(10), None, -1, 5), vec![4, 3, 2, 1, 0]);
        assert_eq!(py(Some(-10), Some(2), 1, 5), vec![0, 1]);
        assert_eq!(py(Some(4), Some(2), 1, 5), Vec::<u64>::new());
        assert_eq!(py(None, Some(-10), -1, 5), vec![4, 3, 2, 1, 0]);
        assert_eq!(py(Some(1), Some(1), 1, 0), Vec::<u64>::new());
    }

    #[test]
    fn parse_forms() {
        assert_eq!(
            Sel::parse("::").unwrap(),
            Sel::Slice {
                start: None,
                stop: None,
                step: 1
            }
        );
        assert_eq!(
            Sel::parse("2:-1").unwrap(),
            Sel::Slice {
                start: Some(2),
                stop: Some(-1),
                step: 1
            }
        );
        assert_eq!(Sel::parse("3").unwrap(), Sel::Indices(vec![3]));
        assert!(Sel::parse("1:2:0").is_err());
        assert!(Sel::parse("a,b").is_err());
        assert!(Sel::parse("").is_err());
    }

    #[test]
    fn bad_lists_and_masks() {
        assert!(Sel::Indices(vec![0, 5]).resolve(5).is_err());
        assert_eq!(Sel::Indices(vec![-5]).resolve(5).unwrap(), vec![0]);
        assert!(Sel::Mask(vec![true]).resolve(2).is_err());
    }
}
