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

impl Dataspace {
    /// Encodes the dataspace message (8-byte lengths).
    ///
    /// * Version 1 (libver earliest): scalar or simple; a null dataspace
    ///   needs version 2 (libhdf5 uses 2 for it even in earliest files).
    /// * Version 2: scalar, simple or null.
    ///
    /// Maximum dimensions are written when `max_dims` is `Some`
    /// (`u64::MAX`, unlimited, as all ones); libhdf5 stores them for every
    /// simple dataset h5py creates.
    pub fn encode(&self, version: u8) -> Result<Vec<u8>> {
        let rank = u8::try_from(self.dims.len())
            .ok()
            .filter(|&r| r <= MAX_RANK)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "dataspace with {} dimensions (at most {MAX_RANK})",
                    self.dims.len()
                ))
            })?;
        if self.kind != DataspaceKind::Simple && rank != 0 {
            return Err(Error::invalid(format!(
                "{:?} dataspace with {rank} dimensions",
                self.kind
            )));
        }
        if let Some(m) = &self.max_dims {
            if m.len() != self.dims.len() {
                return Err(Error::invalid(format!(
                    "dataspace: {} maximum dimensions for {} dimensions",
                    m.len(),
                    self.dims.len()
                )));
            }
            if let Some(i) = (0..m.len()).find(|&i| m[i] < self.dims[i]) {
                return Err(Error::invalid(format!(
                    "dataspace: dimension {i} is {} but its maximum is {}",
                    self.dims[i], m[i]
                )));
            }
        }
        let max = self.max_dims.as_ref().filter(|_| rank > 0);
        let flags = u8::from(max.is_some());
        let mut b = Vec::with_capacity(8 + 16 * self.dims.len());
        match version {
            1 => {
                if self.kind == DataspaceKind::Null {
                    return Err(Error::invalid(
                        "a null dataspace needs dataspace message version 2",
                    ));
                }
                b.extend_from_slice(&[1, rank, flags, 0, 0, 0, 0, 0]);
            }
            2 => {
                let t = match self.kind {
                    DataspaceKind::Scalar => 0,
                    DataspaceKind::Simple => 1,
                    DataspaceKind::Null => 2,
                };
                b.extend_from_slice(&[2, rank, flags, t]);
            }
            v => {
                return Err(Error::invalid(format!(
                    "dataspace message version {v} (1 or 2)"
                )))
            }
        }
        for d in &self.dims {
            b.extend_from_slice(&d.to_le_bytes());
        }
        if let Some(m) = max {
            for d in m {
                b.extend_from_slice(&d.to_le_bytes());
            }
        }
        Ok(b)
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
    fn encode_round_trips() {
        let cases = [
            Dataspace {
                kind: DataspaceKind::Scalar,
                dims: vec![],
                max_dims: None,
            },
            Dataspace {
                kind: DataspaceKind::Simple,
                dims: vec![5],
                max_dims: Some(vec![5]),
            },
            Dataspace {
                kind: DataspaceKind::Simple,
                dims: vec![0, 3],
                max_dims: Some(vec![u64::MAX, 3]),
            },
            Dataspace {
                kind: DataspaceKind::Simple,
                dims: vec![2, 3, 4],
                max_dims: None,
            },
        ];
        for ds in &cases {
            for v in [1u8, 2] {
                let b = ds.encode(v).unwrap();
                assert_eq!(b[0], v);
                assert_eq!(&Dataspace::parse(&b, 0, Sizes::DEFAULT).unwrap(), ds);
            }
        }
        let null = Dataspace {
            kind: DataspaceKind::Null,
            dims: vec![],
            max_dims: None,
        };
        assert!(null.encode(1).is_err());
        assert_eq!(null.encode(2).unwrap(), vec![2, 0, 0, 2]);
        // h5py's 1-D int64[5]
        let mut want = vec![1, 1, 1, 0, 0, 0, 0, 0];
        want.extend_from_slice(&5u64.to_le_bytes());
        want.extend_from_slice(&5u64.to_le_bytes());
        assert_eq!(cases[1].encode(1).unwrap(), want);
        let bad = Dataspace {
            kind: DataspaceKind::Simple,
            dims: vec![5],
            max_dims: Some(vec![4]),
        };
        assert!(bad.encode(2).is_err());
    }

    proptest::proptest! {
        #[test]
        fn encode_parse_proptest(
            dims in proptest::collection::vec(0u64..1 << 40, 0..6),
            unlimited in proptest::collection::vec(proptest::bool::ANY, 6),
            with_max in proptest::bool::ANY,
            version in 1u8..=2,
        ) {
            let kind = if dims.is_empty() { DataspaceKind::Scalar } else { DataspaceKind::Simple };
            let max_dims = (with_max && !dims.is_empty()).then(|| {
                dims.iter().zip(&unlimited).map(|(&d, &u)| if u { u64::MAX } else { d }).collect()
            });
            let ds = Dataspace { kind, dims, max_dims };
            let b = ds.encode(version).unwrap();
            proptest::prop_assert_eq!(Dataspace::parse(&b, 0, Sizes::DEFAULT).unwrap(), ds);
        }
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
