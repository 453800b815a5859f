//! Independent work spread over the machine's cores with scoped standard
//! threads (no runtime, no dependency). Where threads are unavailable
//! (`wasm32-unknown-unknown` reports no parallelism) everything runs on the
//! calling thread.

use crate::error::{Error, Result};

/// Threads worth starting: the available parallelism, at least 1.
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

thread_local! {
    /// Whether this thread is one of the workers started here.
    static WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is a worker of [`map`], [`pipeline`] or
/// [`each`]: work it would spread further stays on it instead (the cores
/// are already busy).
// Used by the positional-read source, which wasm32 does not build.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn in_worker() -> bool {
    WORKER.with(|w| w.get())
}

/// Marks the calling thread as a worker, then runs `f`.
fn as_worker<R>(f: impl FnOnce() -> R) -> R {
    WORKER.with(|w| w.set(true));
    f()
}

/// `work` applied to every job, on up to `threads` threads at once (the
/// calling thread and the others started), each taking the next job not
/// taken from a shared queue, so a thread slowed by a busy core (or a slow
/// request) takes fewer. The first error stops the others at their next
/// job and is returned. A thread that cannot be started leaves its share
/// to the others.
// Used by the positional-read and HTTP sources, which wasm32 does not use.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn each<J: Send>(
    threads: usize,
    jobs: Vec<J>,
    work: impl Fn(J) -> Result<()> + Sync,
) -> Result<()> {
    let threads = threads.min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().try_for_each(work);
    }
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let failed: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let worker = || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some(job) = next else { break };
            if let Err(e) = work(job) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            let started = std::thread::Builder::new().spawn_scoped(s, || as_worker(worker));
            if started.is_err() {
                break;
            }
        }
        worker();
    });
    match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
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
            .map(|share| {
                s.spawn(move || as_worker(|| share.into_iter().map(f).collect::<Result<Vec<R>>>()))
            })
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

/// Runs `produce` on a thread of its own and hands what it makes to
/// `consume` on the calling thread, so item N + 1 is made while item N is
/// consumed (reading the next block while the last is written). At most
/// two items exist at once: the one being consumed and the next, made and
/// waiting. A consumed item goes back to `produce` (its argument), which
/// may refill it rather than allocate a new one. `produce` returns `None`
/// when it is done; the first error, on either side, ends both and is
/// returned. Without threads (`wasm32-unknown-unknown`, one core) the two
/// take turns on the calling thread.
pub(crate) fn pipeline<T: Send>(
    mut produce: impl FnMut(Option<T>) -> Option<Result<T>> + Send,
    mut consume: impl FnMut(&mut T) -> Result<()>,
) -> Result<()> {
    if workers() <= 1 {
        let mut spent = None;
        while let Some(item) = produce(spent.take()) {
            let mut item = item?;
            consume(&mut item)?;
            spent = Some(item);
        }
        return Ok(());
    }
    std::thread::scope(|s| {
        // A rendezvous channel: the producer's next item waits in its own
        // hands, not in a queue. Consumed items go back through the other.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T>>(0);
        let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<T>(1);
        let producer = s.spawn(move || {
            as_worker(|| {
                while let Some(item) = produce(back_rx.try_recv().ok()) {
                    let failed = item.is_err();
                    if tx.send(item).is_err() || failed {
                        break;
                    }
                }
            })
        });
        let mut outcome = Ok(());
        while let Ok(item) = rx.recv() {
            match item.and_then(|mut item| consume(&mut item).map(|()| item)) {
                Ok(item) => {
                    // Returned before the next is received: the producer
                    // finds it when it starts the one after.
                    let _ = back_tx.try_send(item);
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        // A consumer's error stops the producer at its next send.
        drop(rx);
        if producer.join().is_err() && outcome.is_ok() {
            outcome = Err(Error::invalid("a worker thread panicked"));
        }
        outcome
    })
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

    #[test]
    fn each_runs_every_job_once_and_stops_at_the_first_error() {
        use std::sync::atomic::{AtomicU64, Ordering};
        for threads in [1, 2, 8] {
            let sum = AtomicU64::new(0);
            each(threads, (1..=1000u64).collect(), |x| {
                sum.fetch_add(x, Ordering::Relaxed);
                Ok(())
            })
            .unwrap();
            assert_eq!(sum.into_inner(), 500_500);
            let done = AtomicU64::new(0);
            let err = each(threads, (0..1000u64).collect(), |x| {
                done.fetch_add(1, Ordering::Relaxed);
                match x {
                    10 => Err(Error::invalid("job 10 failed")),
                    _ => Ok(()),
                }
            });
            assert_eq!(
                err.unwrap_err().to_string(),
                Error::invalid("job 10 failed").to_string()
            );
            // The others stop at their next job: far fewer than all ran.
            assert!(done.into_inner() < 1000);
        }
    }

    #[test]
    fn pipeline_consumes_every_item_in_order_and_stops_on_either_sides_error() {
        let mut next = 0u64;
        let mut got = Vec::new();
        let mut recycled = 0;
        pipeline(
            |spent: Option<u64>| {
                recycled += usize::from(spent.is_some());
                next += 1;
                (next <= 100).then_some(Ok(next))
            },
            |x| {
                got.push(*x);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got, (1..=100).collect::<Vec<_>>());
        // Consumed items come back: item k is returned before item k + 1
        // is received, so the producer's call for item k + 2 finds it,
        // unless the call for k + 1 took it or a returned item was already
        // waiting; of calls 2 and 3, 4 and 5, ..., 100 and 101 (the last,
        // ending) at least one refills.
        if workers() > 1 {
            assert!(recycled >= 50, "{recycled} items refilled");
        }

        // The producer's error arrives after the items before it.
        let mut next = 0u64;
        let mut got = Vec::new();
        let err = pipeline(
            |_| {
                next += 1;
                Some(if next == 5 {
                    Err(Error::invalid("bad block"))
                } else {
                    Ok(next)
                })
            },
            |x| {
                got.push(*x);
                Ok(())
            },
        );
        assert!(err.unwrap_err().to_string().contains("bad block"));
        assert_eq!(got, vec![1, 2, 3, 4]);

        // The consumer's error stops an endless producer.
        let mut made = 0u64;
        let err = pipeline(
            |_| {
                made += 1;
                Some(Ok(made))
            },
            |x| {
                if *x == 3 {
                    Err(Error::invalid("disk full"))
                } else {
                    Ok(())
                }
            },
        );
        assert!(err.unwrap_err().to_string().contains("disk full"));
    }
}
