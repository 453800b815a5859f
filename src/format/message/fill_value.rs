//! Fill value messages: the new one (type 0x0005, spec IV.A.2.f, versions
//! 1 to 3) and the old one (type 0x0004, spec IV.A.2.e).

use super::check_version;
use crate::error::{Error, Result};
use crate::format::{Cursor, Sizes};

/// A parsed fill value message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillValue {
    /// A fill value is defined: either the library default (zeros, `value`
    /// is `None`) or user-defined (`value` holds its bytes). False means
    /// "undefined": unwritten elements have no meaningful value.
    pub defined: bool,
    /// The user-defined fill value bytes, in the dataset's datatype.
    pub value: Option<Vec<u8>>,
    /// Space allocation time: 1 early, 2 late, 3 incremental.
    pub alloc_time: u8,
    /// Fill value write time: 0 on allocation, 1 never, 2 if set by user.
    pub write_time: u8,
}

fn read_value(c: &mut Cursor<'_>) -> Result<Option<Vec<u8>>> {
    let size = c.u32("fill value size")?;
    let n = usize::try_from(size).map_err(|_| c.error("fill value size overflows"))?;
    if n > c.remaining() {
        return Err(c.error(format!(
            "fill value: size {size} but only {} bytes remain",
            c.remaining()
        )));
    }
    let bytes = c.read_bytes(n, "fill value")?;
    Ok(if n == 0 { None } else { Some(bytes.to_vec()) })
}

impl FillValue {
    // Layout: Fill Value Message - Versions 1 & 2:
    //   Version (1) | Space Allocation Time (1) | Fill Value Write Time (1)
    //   | Fill Value Defined (1)
    //   Size (4, v1 always; v2 only if defined) | Fill Value (Size bytes)
    // Layout: Fill Value Message - Version 3:
    //   Version (1) | Flags (1: bits 0-1 allocation time, 2-3 write time,
    //   4 undefined, 5 defined)
    //   Size (4, if flags bit 5) | Fill Value (Size bytes)
    /// Parses a fill value message (type 0x0005).
    pub fn parse(data: &[u8], at: u64) -> Result<FillValue> {
        let mut c = Cursor::new(data, at, Sizes::DEFAULT);
        let version = c.u8("fill value version")?;
        check_version("fill value message", at, version, &[1, 2, 3])?;
        if version < 3 {
            let alloc_time = c.u8("space allocation time")?;
            let write_time = c.u8("fill value write time")?;
            let defined = c.u8("fill value defined")? != 0;
            let value = if version == 1 || defined {
                // v1 always stores the size field; v1 files may end right
                // after the defined byte when nothing is stored.
                if version == 1 && c.remaining() == 0 {
                    None
                } else {
                    read_value(&mut c)?
                }
            } else {
                None
            };
            Ok(FillValue {
                defined: defined || value.is_some(),
                value,
                alloc_time,
                write_time,
            })
        } else {
            let flags = c.u8("fill value flags")?;
            if flags & 0xc0 != 0 {
                return Err(Error::format(
                    at.saturating_add(1),
                    format!("fill value flags: reserved bits 6-7 set ({flags:#04x})"),
                ));
            }
            let undefined = flags & 0x10 != 0;
            let user = flags & 0x20 != 0;
            if undefined && user {
                return Err(Error::format(
                    at.saturating_add(1),
                    "fill value flags: both 'undefined' and 'defined' are set",
                ));
            }
            let value = if user { read_value(&mut c)? } else { None };
            Ok(FillValue {
                defined: !undefined,
                value,
                alloc_time: flags & 0x03,
                write_time: (flags >> 2) & 0x03,
            })
        }
    }

    // Layout: Fill Value Message (Old): Size (4) | Fill Value (Size bytes)
    /// Parses an old fill value message (type 0x0004).
    pub fn parse_old(data: &[u8], at: u64) -> Result<FillValue> {
        let mut c = Cursor::new(data, at, Sizes::DEFAULT);
        let value = read_value(&mut c)?;
        Ok(FillValue {
            defined: true,
            value,
            alloc_time: 2,
            write_time: 2,
        })
    }
}

impl FillValue {
    /// What h5py's datasets get by default: allocation late (2, chunked
    /// and contiguous), fill value written "if set by user" (2), the
    /// library default (zeros).
    pub fn h5py_default() -> FillValue {
        FillValue {
            defined: true,
            value: None,
            alloc_time: 2,
            write_time: 2,
        }
    }

    /// Encodes the fill value message (type 0x0005).
    ///
    /// * Versions 1 and 2 (h5py earliest writes 2): allocation time, write
    ///   time, "defined" byte; version 2 stores the size (0 for the library
    ///   default) and value only when defined, version 1 always.
    /// * Version 3: one flags byte (allocation time, write time, bit 4
    ///   undefined, bit 5 user value stored) and the size and value when
    ///   user-defined.
    pub fn encode(&self, version: u8) -> Result<Vec<u8>> {
        if self.alloc_time > 3 || self.write_time > 2 {
            return Err(Error::invalid(format!(
                "fill value: allocation time {} / write time {} out of range",
                self.alloc_time, self.write_time
            )));
        }
        if !self.defined && self.value.is_some() {
            return Err(Error::invalid(
                "fill value: a value is given but the fill value is marked undefined",
            ));
        }
        let value = self.value.as_deref().unwrap_or(&[]);
        let size = u32::try_from(value.len())
            .map_err(|_| Error::invalid("fill value larger than 4 GiB"))?;
        let mut b = Vec::with_capacity(8 + value.len());
        match version {
            1 | 2 => {
                b.extend_from_slice(&[
                    version,
                    self.alloc_time,
                    self.write_time,
                    u8::from(self.defined),
                ]);
                if version == 1 || self.defined {
                    b.extend_from_slice(&size.to_le_bytes());
                    b.extend_from_slice(value);
                }
            }
            3 => {
                let mut flags = self.alloc_time | (self.write_time << 2);
                if !self.defined {
                    flags |= 0x10;
                }
                if self.value.is_some() {
                    flags |= 0x20;
                }
                b.extend_from_slice(&[3, flags]);
                if self.value.is_some() {
                    b.extend_from_slice(&size.to_le_bytes());
                    b.extend_from_slice(value);
                }
            }
            v => {
                return Err(Error::invalid(format!(
                    "fill value message version {v} (1 to 3)"
                )))
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_forms() {
        // default (h5py): alloc late, write if set
        let f = FillValue::parse(&[3, 0x0a], 0).unwrap();
        assert!(f.defined);
        assert_eq!(f.value, None);
        assert_eq!((f.alloc_time, f.write_time), (2, 2));
        // user defined 7i32
        let mut d = vec![3, 0x2a, 4, 0, 0, 0];
        d.extend_from_slice(&7i32.to_le_bytes());
        let f = FillValue::parse(&d, 0).unwrap();
        assert_eq!(f.value, Some(7i32.to_le_bytes().to_vec()));
        // undefined
        let f = FillValue::parse(&[3, 0x12], 0).unwrap();
        assert!(!f.defined);
        assert!(FillValue::parse(&[3, 0x32], 0).is_err());
        assert!(FillValue::parse(&[3, 0x20, 9, 0, 0, 0, 1], 0).is_err());
    }

    #[test]
    fn encode_round_trips() {
        // h5py earliest default: 02 02 02 01 00000000
        assert_eq!(
            FillValue::h5py_default().encode(2).unwrap(),
            [2, 2, 2, 1, 0, 0, 0, 0]
        );
        // h5py latest default: 03 0a
        assert_eq!(FillValue::h5py_default().encode(3).unwrap(), [3, 0x0a]);
        let cases = [
            FillValue::h5py_default(),
            FillValue {
                defined: true,
                value: Some(42i64.to_le_bytes().to_vec()),
                alloc_time: 1,
                write_time: 0,
            },
            FillValue {
                defined: false,
                value: None,
                alloc_time: 3,
                write_time: 1,
            },
        ];
        for f in &cases {
            for v in 1..=3u8 {
                let b = f.encode(v).unwrap();
                let got = FillValue::parse(&b, 0).unwrap();
                if v == 1 && !f.defined {
                    // v1 cannot say "undefined" apart from "no value".
                    assert_eq!(got.value, None);
                    continue;
                }
                assert_eq!(&got, f, "v{v}");
            }
        }
        let bad = FillValue {
            defined: false,
            value: Some(vec![1]),
            alloc_time: 2,
            write_time: 2,
        };
        assert!(bad.encode(3).is_err());
    }

    #[test]
    fn v1_v2_and_old() {
        let f = FillValue::parse(&[2, 2, 2, 0], 0).unwrap();
        assert!(!f.defined);
        let f = FillValue::parse(&[2, 2, 0, 1, 1, 0, 0, 0, 9], 0).unwrap();
        assert_eq!(f.value, Some(vec![9]));
        let f = FillValue::parse(&[1, 1, 0, 1, 0, 0, 0, 0], 0).unwrap();
        assert!(f.defined);
        let f = FillValue::parse_old(&[2, 0, 0, 0, 1, 2], 0).unwrap();
        assert_eq!(f.value, Some(vec![1, 2]));
        assert!(FillValue::parse_old(&[9, 0, 0, 0], 0).is_err());
        assert!(FillValue::parse(&[4], 0).is_err());
        assert!(FillValue::parse(&[], 0).is_err());
    }
}
