//! Range planning for remote sources: which requests serve a set of byte
//! ranges, and the ranges cut back out of what the requests returned.

use std::ops::Range;

use crate::error::{Error, Result};

/// The requests that fetch every byte of `ranges` once: the ranges sorted,
/// overlapping ones and those at most `gap` bytes apart merged (the gap is
/// fetched and dropped: cheaper than another round trip), and anything longer
/// than `max_part` cut into parts of at most `max_part` bytes, which can be
/// fetched concurrently. Empty ranges need no request.
pub(crate) fn plan(ranges: &[Range<u64>], gap: u64, max_part: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.end > r.start).cloned().collect();
    sorted.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => {
                last.end = last.end.max(r.end);
            }
            _ => merged.push(r),
        }
    }
    let max_part = max_part.max(1);
    let mut parts = Vec::with_capacity(merged.len());
    for r in merged {
        let mut start = r.start;
        while start < r.end {
            let end = start.saturating_add(max_part).min(r.end);
            parts.push(start..end);
            start = end;
        }
    }
    parts
}

/// The bytes of each of `ranges`, copied out of `data`, the bytes of the
/// sorted, disjoint `parts` that [`plan`] made for them.
pub(crate) fn assemble(
    ranges: &[Range<u64>],
    parts: &[Range<u64>],
    data: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>> {
    let mut out = crate::buf::try_with_capacity(ranges.len(), "ranges read")?;
    for r in ranges {
        let n = usize::try_from(r.end.saturating_sub(r.start))
            .map_err(|_| Error::invalid("byte range too large for this platform"))?;
        let mut v = crate::buf::try_with_capacity(n, "ranges read")?;
        let mut at = r.start;
        let mut i = parts.partition_point(|p| p.end <= r.start);
        while at < r.end {
            let (Some(p), Some(bytes)) = (parts.get(i), data.get(i)) else {
                break;
            };
            if p.start > at {
                break;
            }
            let from = (at - p.start) as usize;
            let to = (r.end.min(p.end) - p.start) as usize;
            let Some(piece) = bytes.get(from..to) else {
                break;
            };
            v.extend_from_slice(piece);
            at = r.end.min(p.end);
            i += 1;
        }
        if at < r.end {
            // Cannot happen for parts made by `plan`; an error, not wrong data.
            return Err(Error::Io(std::io::Error::other(format!(
                "range planning: bytes {at}..{} of range {}..{} were not fetched",
                r.end, r.start, r.end
            ))));
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_overlapping_and_near_ranges_and_splits_long_ones() {
        let ranges = [100..110, 0..10, 5..20, 30..40, 1000..1300];
        assert_eq!(
            plan(&ranges, 10, 1 << 20),
            vec![0..40, 100..110, 1000..1300]
        );
        assert_eq!(
            plan(&ranges, 0, 1 << 20),
            vec![0..20, 30..40, 100..110, 1000..1300]
        );
        assert_eq!(
            plan(&ranges, 0, 128),
            vec![0..20, 30..40, 100..110, 1000..1128, 1128..1256, 1256..1300]
        );
        assert_eq!(plan(&[5..5, 7..7], 0, 10), Vec::<Range<u64>>::new());
    }

    #[test]
    fn assemble_cuts_each_range_out_of_the_parts() {
        let source: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
        let ranges = [1200..1290, 0..10, 5..20, 30..40, 1000..1300, 7..7];
        for (gap, max_part) in [(0, 1 << 20), (10, 1 << 20), (0, 7), (100, 33)] {
            let parts = plan(&ranges, gap, max_part);
            let data: Vec<Vec<u8>> = parts
                .iter()
                .map(|p| source[p.start as usize..p.end as usize].to_vec())
                .collect();
            let got = assemble(&ranges, &parts, &data).unwrap();
            for (r, g) in ranges.iter().zip(&got) {
                assert_eq!(g[..], source[r.start as usize..r.end as usize]);
            }
        }
        // A part missing is an error, never short data.
        let parts = plan(&ranges, 0, 1 << 20);
        let data: Vec<Vec<u8>> = parts.iter().map(|_| Vec::new()).collect();
        assert!(assemble(&ranges, &parts, &data).is_err());
    }
}
