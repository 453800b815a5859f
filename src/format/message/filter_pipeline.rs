//! The filter pipeline message (type 0x000B, spec IV.A.2.l), versions 1 and 2.

use super::{check_version, pad8};
use crate::error::{Error, Result};
use crate::filters::FilterSpec;
use crate::format::{Cursor, Sizes};

/// Most filters a pipeline may hold (libhdf5's `H5Z_MAX_NFILTERS`).
pub const MAX_FILTERS: u8 = 32;

// Layout: Filter Pipeline Message - Version 1:
//   Version (1) | Number of Filters (1) | Reserved (6)
//   per filter: Filter Identification Value (2) | Name Length (2)
//     | Flags (2) | Number Client Data Values (2)
//     | Name (Name Length bytes: NUL-terminated, padded to 8)
//     | Client Data (4 each) | Padding (4, if the count is odd)
// Layout: Filter Pipeline Message - Version 2:
//   Version (1) | Number of Filters (1)
//   per filter: Filter Identification Value (2)
//     | Name Length (2, only for ids >= 256) | Flags (2)
//     | Number Client Data Values (2) | Name (only for ids >= 256, not
//     padded) | Client Data (4 each)
/// Parses a filter pipeline message into its filters, in pipeline order.
pub fn parse(data: &[u8], at: u64) -> Result<Vec<FilterSpec>> {
    let mut c = Cursor::new(data, at, Sizes::DEFAULT);
    let version = c.u8("filter pipeline version")?;
    check_version("filter pipeline message", at, version, &[1, 2])?;
    let n = c.u8("number of filters")?;
    if n > MAX_FILTERS {
        return Err(Error::format(
            at.saturating_add(1),
            format!("filter pipeline: expected at most {MAX_FILTERS} filters, found {n}"),
        ));
    }
    if version == 1 {
        c.skip(6, "filter pipeline reserved")?;
    }
    let mut filters = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let id = c.u16("filter identification value")?;
        let name_len = if version == 1 || id >= 256 {
            c.u16("filter name length")?
        } else {
            0
        };
        let flags = c.u16("filter flags")?;
        let ncd = c.u16("number of client data values")?;
        let name = if name_len > 0 {
            let raw = c.read_bytes(usize::from(name_len), "filter name")?;
            if version == 1 {
                let padded = pad8(usize::from(name_len)).unwrap_or(usize::MAX);
                c.skip(padded - usize::from(name_len), "filter name padding")?;
            }
            // The name is informational only: decode it leniently.
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            Some(String::from_utf8_lossy(&raw[..end]).into_owned()).filter(|s| !s.is_empty())
        } else {
            None
        };
        let count = usize::from(ncd);
        if count * 4 > c.remaining() {
            return Err(c.error(format!(
                "filter {id}: {ncd} client data values need {} bytes, {} remain",
                count * 4,
                c.remaining()
            )));
        }
        let mut cd_values = Vec::with_capacity(count);
        for _ in 0..count {
            cd_values.push(c.u32("filter client data value")?);
        }
        if version == 1 && count % 2 == 1 {
            c.skip(4, "filter client data padding")?;
        }
        filters.push(FilterSpec {
            id,
            name,
            flags,
            cd_values,
        });
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_deflate_and_shuffle() {
        let mut d = vec![1, 2, 0, 0, 0, 0, 0, 0];
        // shuffle, name "shuffle\0" (8), flags 1, 1 cd value + padding
        d.extend_from_slice(&2u16.to_le_bytes());
        d.extend_from_slice(&8u16.to_le_bytes());
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(b"shuffle\0");
        d.extend_from_slice(&8u32.to_le_bytes());
        d.extend_from_slice(&[0; 4]);
        // deflate, name "deflate\0", flags 0, 1 cd value
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&8u16.to_le_bytes());
        d.extend_from_slice(&0u16.to_le_bytes());
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(b"deflate\0");
        d.extend_from_slice(&4u32.to_le_bytes());
        d.extend_from_slice(&[0; 4]);
        let f = parse(&d, 0).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].id, 2);
        assert_eq!(f[0].name.as_deref(), Some("shuffle"));
        assert_eq!(f[0].flags, 1);
        assert_eq!(f[0].cd_values, vec![8]);
        assert_eq!(f[1].id, 1);
        assert_eq!(f[1].cd_values, vec![4]);
    }

    #[test]
    fn v2_names_only_for_large_ids() {
        let mut d = vec![2, 2];
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&0u16.to_le_bytes());
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&6u32.to_le_bytes());
        d.extend_from_slice(&32000u16.to_le_bytes());
        d.extend_from_slice(&4u16.to_le_bytes());
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&0u16.to_le_bytes());
        d.extend_from_slice(b"lzf\0");
        let f = parse(&d, 0).unwrap();
        assert_eq!(f[0].id, 1);
        assert_eq!(f[0].name, None);
        assert_eq!(f[0].cd_values, vec![6]);
        assert_eq!(f[1].id, 32000);
        assert_eq!(f[1].name.as_deref(), Some("lzf"));
        for n in 0..d.len() {
            assert!(parse(&d[..n], 0).is_err(), "len {n}");
        }
        assert!(parse(&[2, 33], 0).is_err());
        assert!(parse(&[3, 0], 0).is_err());
    }
}
