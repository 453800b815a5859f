//! The dataspace message (type 0x0001, spec IV.A.2.b): rank, current and
//! maximum dimensions.

use super::check_version;
use crate::error::{Error, Result};
use crate::format::{Cursor, Sizes};

/// Most dimensions a dataspace may have (libhdf5's `H5S_MAX_RANK`).
pub const MAX_RANK: u8 = 32;

/// What kind of dataspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataspaceKind {
    /// One element, no dimensions.
    Scalar,
    /// An array of `dims`.
    Simple,
    /// No elements at all (h5py's `Empty`).
    Null,
}

/// A parsed dataspace message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataspace {
    /// Scalar, simple or null.
    pub kind: DataspaceKind,
    /// Current dimension sizes (empty for scalar and null).
    pub dims: Vec<u64>,
    /// Maximum dimension sizes when stored; `u64::MAX` means unlimited.
    pub max_dims: Option<Vec<u64>>,
}

impl Dataspace {
    // Layout: Dataspace Message - Version 1:
    //   Version (1) | Dimensionality (1) | Flags (1) | Reserved (1)
    //   Reserved (4)
    //   Dimension #1..n Size (L each)
    //   Dimension #1..n Maximum Size (L each, optional: flags bit 0)
    //   Permutation Index #1..n (L each, optional: flags bit 1)
    // Layout: Dataspace Message - Version 2:
    //   Version (1) | Dimensionality (1) | Flags (1) | Type (1)
    //   Dimension #1..n Size (L each)
    //   Dimension #1..n Maximum Size (L each, optional: flags bit 0)
    /// Parses a dataspace message.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<Dataspace> {
        let mut c = Cursor::new(data, at, sizes);
        let version = c.u8("dataspace version")?;
        check_version("dataspace message", at, version, &[1, 2])?;
        let rank = c.u8("dataspace dimensionality")?;
        if rank > MAX_RANK {
            return Err(Error::format(
                at.saturating_add(1),
                format!("dataspace dimensionality: expected at most {MAX_RANK}, found {rank}"),
            ));
        }
        let flags = c.u8("dataspace flags")?;
        let kind = if version == 1 {
            c.skip(5, "dataspace reserved")?;
            if rank == 0 {
                DataspaceKind::Scalar
            } else {
                DataspaceKind::Simple
            }
        } else {
            match c.u8("dataspace type")? {
                0 => DataspaceKind::Scalar,
                1 => DataspaceKind::Simple,
                2 => DataspaceKind::Null,
                t => {
                    return Err(Error::format(
                        at.saturating_add(3),
                        format!("dataspace type: expected 0, 1 or 2, found {t}"),
                    ))
                }
            }
        };
        if kind != DataspaceKind::Simple && rank != 0 {
            return Err(Error::format(
                at.saturating_add(1),
                format!("dataspace: a {kind:?} dataspace with dimensionality {rank}"),
            ));
        }
        let n = usize::from(rank);
        let width = usize::from(sizes.length);
        let needed = n * width * (1 + usize::from(flags & 1 != 0));
        if needed > c.remaining() {
            return Err(c.error(format!(
                "dataspace: {rank} dimensions need {needed} bytes, {} remain",
                c.remaining()
            )));
        }
        let all_ones = if width >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        let mut dims = Vec::with_capacity(n);
        for _ in 0..n {
            dims.push(c.length("dimension size")?);
        }
        let max_dims = if flags & 1 != 0 {
            let mut m = Vec::with_capacity(n);
            for _ in 0..n {
                let v = c.length("dimension maximum size")?;
                m.push(if v == all_ones { u64::MAX } else { v });
            }
            Some(m)
        } else {
            None
        };
        // Permutation indexes (v1 flags bit 1) were never implemented by
        // libhdf5; they are only skipped.
        if version == 1 && flags & 2 != 0 {
            c.skip(n * width, "dataspace permutation index")?;
        }
        Ok(Dataspace {
            kind,
            dims,
            max_dims,
        })
    }

    /// Number of elements: 1 for scalar, 0 for null, the product of `dims`
    /// for simple (an error if it overflows `u64`).
    pub fn element_count(&self) -> Result<u64> {
        match self.kind {
            DataspaceKind::Scalar => Ok(1),
            DataspaceKind::Null => Ok(0),
            DataspaceKind::Simple => self.dims.iter().try_fold(1u64, |acc, &d| {
                acc.checked_mul(d).ok_or_else(|| {
                    Error::unsupported(format!(
                        "dataspace with dimensions {:?}: element count overflows 64 bits",
                        self.dims
                    ))
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_simple_with_max_and_permutation() {
        let mut d = vec![1, 2, 3, 0, 0, 0, 0, 0];
        for v in [3u64, 4, u64::MAX, 4] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(&[0; 16]);
        let ds = Dataspace::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Simple);
        assert_eq!(ds.dims, vec![3, 4]);
        assert_eq!(ds.max_dims, Some(vec![u64::MAX, 4]));
        assert_eq!(ds.element_count().unwrap(), 12);
    }

    #[test]
    fn v1_scalar_and_v2_kinds() {
        let ds = Dataspace::parse(&[1, 0, 0, 0, 0, 0, 0, 0], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Scalar);
        let ds = Dataspace::parse(&[2, 0, 0, 0], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Scalar);
        assert_eq!(ds.element_count().unwrap(), 1);
        let ds = Dataspace::parse(&[2, 0, 0, 2], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Null);
        assert_eq!(ds.element_count().unwrap(), 0);
        let sizes = Sizes {
            offset: 4,
            length: 4,
        };
        let mut d = vec![2, 1, 1, 1];
        d.extend_from_slice(&5u32.to_le_bytes());
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        let ds = Dataspace::parse(&d, 0, sizes).unwrap();
        assert_eq!(ds.dims, vec![5]);
        assert_eq!(ds.max_dims, Some(vec![u64::MAX]));
    }

    #[test]
    fn bad_input() {
        assert!(Dataspace::parse(&[3, 0, 0, 0], 0, Sizes::DEFAULT).is_err());
        assert!(Dataspace::parse(&[2, 33, 0, 1], 0, Sizes::DEFAULT).is_err());
        assert!(Dataspace::parse(&[2, 1, 0, 0], 0, Sizes::DEFAULT).is_err());
        assert!(Dataspace::parse(&[2, 2, 0, 1, 0], 0, Sizes::DEFAULT).is_err());
        let mut d = vec![2, 2, 0, 1];
        d.extend_from_slice(&u64::MAX.to_le_bytes());
        d.extend_from_slice(&3u64.to_le_bytes());
        let ds = Dataspace::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert!(ds.element_count().is_err());
    }
}
