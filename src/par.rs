//! Independent work spread over the machine's cores with scoped standard
//! threads (no runtime, no dependency). Where threads are unavailable
//! (`wasm32-unknown-unknown` reports no parallelism) everything runs on the
//! calling thread.

use crate::error::{Error, Result};

/// Threads worth starting: the available parallelism, at least 1.
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `f` applied to every item, in order, on up to [`workers`] threads, each
/// taking a contiguous share. The first error (in item order) is returned.
pub(crate) fn map<T: Send, R: Send>(
    items: Vec<T>,
    f: impl Fn(T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = workers().min(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut shares: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut it = items.into_iter();
    loop {
        let share: Vec<T> = it.by_ref().take(per).collect();
        if share.is_empty() {
            break;
        }
        shares.push(share);
    }
    let f = &f;
    let results: Vec<Result<Vec<R>>> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| s.spawn(move || share.into_iter().map(f).collect::<Result<Vec<R>>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::invalid("a worker thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_item_order_and_errors_come_through() {
        let got = map((0..1000u64).collect(), |x| Ok(x * 2)).unwrap();
        assert_eq!(got, (0..1000u64).map(|x| x * 2).collect::<Vec<_>>());
        let err = map((0..100u64).collect(), |x| {
            if x == 77 {
                Err(Error::invalid("bad item"))
            } else {
                Ok(x)
            }
        });
        assert!(err.is_err());
        assert!(map(Vec::<u8>::new(), Ok).unwrap().is_empty());
    }
}
