//! Range planning for remote sources: which requests serve a set of byte
//! ranges.

use std::ops::Range;

/// The ranges to fetch for `ranges`: sorted, with overlapping ones and those
/// at most `gap` bytes apart merged (the gap is fetched and dropped: cheaper
/// than another round trip). Each of `ranges` lies inside exactly one of
/// them; empty ranges need none.
pub(crate) fn merge(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
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
    merged
}

/// The requests that fetch every byte of `ranges` once: [`merge`]d, and
/// anything longer than `max_part` cut into parts of at most `max_part`
/// bytes, which can be fetched concurrently.
pub(crate) fn plan(ranges: &[Range<u64>], gap: u64, max_part: u64) -> Vec<Range<u64>> {
    let max_part = max_part.max(1);
    let mut parts = Vec::new();
    for r in merge(ranges, gap) {
        let mut start = r.start;
        while start < r.end {
            let end = start.saturating_add(max_part).min(r.end);
            parts.push(start..end);
            start = end;
        }
    }
    parts
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
}
