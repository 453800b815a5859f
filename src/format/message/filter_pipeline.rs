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

/// Encodes a filter pipeline message.
///
/// * Version 1 (libver earliest): reserved bytes; per filter the name
///   length (NUL included, padded to 8; 0 without a name), the name padded
///   to 8, the client data, and 4 bytes of padding after an odd count.
/// * Version 2: names only for filter ids >= 256 (NUL-terminated, not
///   padded), no padding anywhere.
///
/// Names are written as given in [`FilterSpec::name`]; libhdf5 names its
/// own filters `deflate`, `shuffle`, `fletcher32` (see [`canonical_name`]).
pub fn encode(filters: &[FilterSpec], version: u8) -> Result<Vec<u8>> {
    let n = u8::try_from(filters.len())
        .ok()
        .filter(|&n| n <= MAX_FILTERS)
        .ok_or_else(|| {
            Error::invalid(format!(
                "filter pipeline of {} filters (at most {MAX_FILTERS})",
                filters.len()
            ))
        })?;
    let mut b = Vec::with_capacity(8 + 32 * filters.len());
    match version {
        1 => {
            b.extend_from_slice(&[1, n, 0, 0, 0, 0, 0, 0]);
        }
        2 => b.extend_from_slice(&[2, n]),
        v => {
            return Err(Error::invalid(format!(
                "filter pipeline message version {v} (1 or 2)"
            )))
        }
    }
    for f in filters {
        let ncd = u16::try_from(f.cd_values.len())
            .map_err(|_| Error::invalid(format!("filter {}: too many client data values", f.id)))?;
        let name = f.name.as_deref().filter(|s| !s.is_empty());
        let with_name = name.filter(|_| version == 1 || f.id >= 256);
        let mut name_bytes = Vec::new();
        if let Some(s) = with_name {
            if s.as_bytes().contains(&0) {
                return Err(Error::invalid(format!("filter name {s:?} contains a NUL")));
            }
            name_bytes.extend_from_slice(s.as_bytes());
            name_bytes.push(0);
            if version == 1 {
                name_bytes.resize(name_bytes.len().div_ceil(8) * 8, 0);
            }
        }
        let name_len = u16::try_from(name_bytes.len())
            .map_err(|_| Error::invalid(format!("filter {}: name too long", f.id)))?;
        b.extend_from_slice(&f.id.to_le_bytes());
        if version == 1 || f.id >= 256 {
            b.extend_from_slice(&name_len.to_le_bytes());
        }
        b.extend_from_slice(&f.flags.to_le_bytes());
        b.extend_from_slice(&ncd.to_le_bytes());
        b.extend_from_slice(&name_bytes);
        for v in &f.cd_values {
            b.extend_from_slice(&v.to_le_bytes());
        }
        if version == 1 && f.cd_values.len() % 2 == 1 {
            b.extend_from_slice(&[0; 4]);
        }
    }
    Ok(b)
}

/// The name libhdf5 registers for its built-in filters (and `lzf` for
/// h5py's), which it writes into version 1 pipelines.
pub fn canonical_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "deflate",
        2 => "shuffle",
        3 => "fletcher32",
        4 => "szip",
        5 => "nbit",
        6 => "scaleoffset",
        32000 => "lzf",
        _ => return None,
    })
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
    fn encode_round_trips() {
        let filters = vec![
            FilterSpec {
                id: 2,
                name: Some("shuffle".into()),
                flags: 1,
                cd_values: vec![8],
            },
            FilterSpec {
                id: 1,
                name: Some("deflate".into()),
                flags: 1,
                cd_values: vec![4],
            },
            FilterSpec {
                id: 3,
                name: Some("fletcher32".into()),
                flags: 0,
                cd_values: vec![],
            },
            FilterSpec {
                id: 32000,
                name: Some("lzf".into()),
                flags: 1,
                cd_values: vec![4, 0, 8],
            },
        ];
        let b = encode(&filters, 1).unwrap();
        assert_eq!(parse(&b, 0).unwrap(), filters);
        let b = encode(&filters, 2).unwrap();
        let got = parse(&b, 0).unwrap();
        assert_eq!(got[3], filters[3]);
        assert_eq!(got[0].name, None);
        assert_eq!(got[1].cd_values, vec![4]);
        assert!(encode(&filters, 3).is_err());
        assert_eq!(canonical_name(3), Some("fletcher32"));
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
