//! The random-access sources (`h5sparse::io::source`, `h5sparse::io::http`):
//! every source returns the file's bytes for any range; the HTTP source
//! against a real nginx on loopback (requests and bytes counted from its
//! access log); the block cache. The HTTP source against a misbehaving
//! server of our own is tests/http_faults.rs.

#[path = "support/http_bytes.rs"]
mod http_bytes;
#[path = "support/nginx.rs"]
mod nginx;

use std::io::ErrorKind;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use h5sparse::io::http::{HttpOptions, HttpSource};
use h5sparse::io::source::{
    CacheOptions, CachedSource, Counting, FileSource, MmapSource, Piecewise, ReadAt,
};
use http_bytes::{io_kind, pattern, quick};
use nginx::Nginx;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const BIG: usize = 12 << 20;

/// The directory nginx serves: a 12 MiB generated file `big.bin`, a 300 KiB
/// `mid.bin`, and copies of every fixture.
fn www() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/source-tests/www");
        std::fs::create_dir_all(&dir).unwrap();
        // Written under a temporary name and renamed: a server of another
        // test process may be reading the previous copy.
        let put = |name: &str, bytes: &[u8]| {
            let tmp = dir.join(format!(".{name}.{}", std::process::id()));
            std::fs::write(&tmp, bytes).unwrap();
            std::fs::rename(&tmp, dir.join(name)).unwrap();
        };
        put("big.bin", &pattern(BIG, 1));
        put("mid.bin", &pattern(300 << 10, 2));
        for f in fixtures() {
            put(
                f.file_name().unwrap().to_str().unwrap(),
                &std::fs::read(&f).unwrap(),
            );
        }
        dir
    })
}

/// Every HDF5 fixture.
fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("h5" | "h5ad")))
        .collect();
    v.sort();
    assert!(v.len() > 30, "fixtures missing");
    v
}

fn start_nginx(name: &str) -> Nginx {
    Nginx::start(name, www()).unwrap_or_else(|e| panic!("{e}"))
}

/// Random ranges of a `len`-byte file, some reaching past its end.
fn ranges(len: u64) -> impl Strategy<Value = Vec<(u64, usize)>> {
    proptest::collection::vec((0..len + 10, 0usize..20_000), 1..8)
}

/// Checks every source against `expected` on random ranges: the same bytes,
/// or every source refusing a range that ends past the end.
fn check_sources(expected: &[u8], sources: &[(&str, &dyn ReadAt)], cases: u32) {
    let len = expected.len() as u64;
    let mut runner = TestRunner::new(Config::with_cases(cases));
    runner
        .run(&ranges(len), |picks| {
            let wanted: Vec<Range<u64>> = picks
                .iter()
                .map(|&(o, n)| o..o + n as u64)
                .filter(|r| r.end <= len)
                .collect();
            for (name, s) in sources {
                prop_assert_eq!(s.len(), len, "{}", name);
                for &(offset, n) in &picks {
                    let mut buf = vec![0u8; n];
                    match s.read_at(offset, &mut buf) {
                        Ok(()) => prop_assert!(
                            buf[..] == expected[offset as usize..offset as usize + n],
                            "{}: bytes differ at {}+{}",
                            name,
                            offset,
                            n
                        ),
                        Err(e) => {
                            prop_assert!(offset + n as u64 > len, "{}: {}", name, e);
                            prop_assert_eq!(io_kind(&e), Some(ErrorKind::UnexpectedEof));
                        }
                    }
                }
                let got = s
                    .read_ranges(&wanted)
                    .map_err(|e| TestCaseError::fail(format!("{name}: read_ranges: {e}")))?;
                for (r, g) in wanted.iter().zip(&got) {
                    prop_assert!(
                        g[..] == expected[r.start as usize..r.end as usize],
                        "{}: read_ranges differs for {:?}",
                        name,
                        r
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_source_reads_the_files_bytes() {
    let server = start_nginx("every-source");
    for name in ["mid.bin", "anndata_full.h5ad", "seed.h5"] {
        let path = www().join(name);
        let expected = std::fs::read(&path).unwrap();
        let arc: Arc<[u8]> = expected.clone().into();
        let file = FileSource::open(&path).unwrap();
        let map = MmapSource::open(&path).unwrap();
        let pieces = Piecewise::new(FileSource::open(&path).unwrap(), 7);
        let cached_pieces = CachedSource::with_options(
            Piecewise::new(FileSource::open(&path).unwrap(), 7),
            CacheOptions::default()
                .block_size(4096)
                .capacity(64 << 10)
                .bypass_at(16 << 10),
        );
        let opts = quick().probe_bytes(1000).max_part(5000).merge_gap(100);
        let http = HttpSource::open_with(&server.url(name), opts.clone()).unwrap();
        let cached_http =
            CachedSource::new(HttpSource::open_with(&server.url(name), opts).unwrap());
        let counting = Counting::new(&expected);
        let sources: Vec<(&str, &dyn ReadAt)> = vec![
            ("Vec", &expected),
            ("Arc<[u8]>", &arc),
            ("FileSource", &file),
            ("MmapSource", &map),
            ("Piecewise(7)", &pieces),
            ("Cached(Piecewise(7))", &cached_pieces),
            ("HttpSource", &http),
            ("Cached(HttpSource)", &cached_http),
            ("Counting", &counting),
        ];
        check_sources(&expected, &sources, 24);
        // The cache never held more than its capacity.
        let s = cached_pieces.stats();
        assert!(s.peak_resident_bytes <= 64 << 10, "{s:?}");
        assert!(s.hits > 0 && s.misses > 0, "{s:?}");
        if expected.len() > 16 << 10 {
            assert!(s.bypass_reads > 0, "{s:?}");
        }
    }
}

/// Many reads at once and single large reads, which a `FileSource` spreads
/// over threads in pieces: the file's bytes wherever the pieces fall, the
/// same through `read_at`, `read_at_many` and `read_ranges`, and an error
/// (never stale or zero bytes) for a range past the end or a file that
/// shrank while open.
#[test]
fn file_source_reads_many_ranges_and_large_ones_concurrently() {
    let path = www().join("big.bin");
    let expected = std::fs::read(&path).unwrap();
    let file = FileSource::open(&path).unwrap();
    let len = expected.len() as u64;
    let mut runner = TestRunner::new(Config::with_cases(12));
    let picks = proptest::collection::vec((0..len, 0u64..70_000), 1..400);
    runner
        .run(
            &(picks, 0..len, 0u64..(6 << 20)),
            |(picks, big_at, big_n)| {
                let mut wanted: Vec<Range<u64>> =
                    picks.iter().map(|&(o, n)| o..(o + n).min(len)).collect();
                wanted.push(big_at..(big_at + big_n).min(len));
                let got = file
                    .read_ranges(&wanted)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut bufs: Vec<Vec<u8>> = wanted
                    .iter()
                    .map(|r| vec![0u8; (r.end - r.start) as usize])
                    .collect();
                let mut reads: Vec<(u64, &mut [u8])> = wanted
                    .iter()
                    .zip(bufs.iter_mut())
                    .map(|(r, b)| (r.start, b.as_mut_slice()))
                    .collect();
                file.read_at_many(&mut reads)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                for ((r, g), b) in wanted.iter().zip(&got).zip(&bufs) {
                    let want = &expected[r.start as usize..r.end as usize];
                    prop_assert!(g[..] == *want, "read_ranges differs for {:?}", r);
                    prop_assert!(b[..] == *want, "read_at_many differs for {:?}", r);
                }
                let r = wanted.last().unwrap();
                let mut one = vec![0u8; (r.end - r.start) as usize];
                file.read_at(r.start, &mut one)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(one[..] == expected[r.start as usize..r.end as usize]);
                Ok(())
            },
        )
        .unwrap();
    let mut whole = vec![0u8; expected.len()];
    file.read_at(0, &mut whole).unwrap();
    assert!(whole == expected);

    // One range past the end among many: refused before anything is read.
    let mut past: Vec<Range<u64>> = (0..200).map(|i| i * 50_000..i * 50_000 + 4000).collect();
    past.push(len - 10..len + 1);
    let err = file.read_ranges(&past).unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::UnexpectedEof), "{err}");
    assert!(err.to_string().contains("big.bin"), "{err}");

    // A copy truncated to half after it was opened: the pieces past the new
    // end fail, and the call fails with them.
    let copy = www().join(format!(".shrinking.{}", std::process::id()));
    std::fs::write(&copy, &expected).unwrap();
    let shrinking = FileSource::open(&copy).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let mut whole = vec![0u8; expected.len()];
    let err = shrinking.read_at(0, &mut whole).unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::UnexpectedEof), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    let tail: Vec<Range<u64>> = (0..64)
        .map(|i| i * (len / 64)..(i + 1) * (len / 64))
        .collect();
    let err = shrinking.read_ranges(&tail).unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::UnexpectedEof), "{err}");
    std::fs::remove_file(&copy).unwrap();
}

/// A dataset read through positional reads (`File::open_source` with a
/// `FileSource`, no map) gathers thousands of runs in one batch of reads
/// spread over threads: every run holds the values written, in the order
/// asked, contiguous or chunked.
#[test]
fn positional_reads_gather_many_runs_of_written_values() {
    use h5sparse::write::{DatasetOptions, Writer};
    let n = 700_000u64;
    let values: Vec<i64> = (0..n as i64).map(|v| v * 7 - 3).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/source-tests");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, opts) in [
        ("contiguous", DatasetOptions::default()),
        ("chunked", DatasetOptions::growable().chunks(&[10_000])),
    ] {
        let path = dir.join(format!("gather-{name}.{}.h5", std::process::id()));
        let mut w = Writer::create(&path).unwrap();
        w.create_dataset("/d", &[n], &values, &opts).unwrap();
        w.close().unwrap();
        let file = h5sparse::File::open_source(Box::new(FileSource::open(&path).unwrap())).unwrap();
        assert!(file.bytes().is_none(), "read range by range, not mapped");
        let d = file.dataset("/d").unwrap();
        let mut seed = 99u64;
        let mut runs: Vec<(u64, u64)> = (0..3000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = 1 + (seed >> 50) % 400;
                ((seed >> 20) % (n - len), len)
            })
            .collect();
        runs.push((1000, 300_000));
        let got = d.read_runs::<i64>(&runs).unwrap();
        let want: Vec<i64> = runs
            .iter()
            .flat_map(|&(s, c)| values[s as usize..(s + c) as usize].iter().copied())
            .collect();
        assert!(got == want, "{name}: runs read through pread differ");
        assert_eq!(d.read_runs::<i64>(&[(0, n)]).unwrap(), values, "{name}");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn nginx_serves_every_fixture_identically() {
    let server = start_nginx("fixtures");
    let mut requests = 0;
    for f in fixtures() {
        let name = f.file_name().unwrap().to_str().unwrap();
        let expected = std::fs::read(&f).unwrap();
        let s = HttpSource::open_with(&server.url(name), quick().probe_bytes(2048)).unwrap();
        assert_eq!(s.len(), expected.len() as u64, "{name}");
        assert_eq!(s.read_vec(0..s.len()).unwrap(), expected, "{name}");
        let n = expected.len() as u64;
        let parts = [n / 2..n, 0..n / 3, n / 5..n / 4, n - 1..n];
        let got = s.read_ranges(&parts).unwrap();
        for (r, g) in parts.iter().zip(got) {
            assert_eq!(
                g,
                expected[r.start as usize..r.end as usize],
                "{name} {r:?}"
            );
        }
        assert!(s.describe().ends_with(name));
        // The probe, the whole file past it, the ranges past it merged.
        assert_eq!(s.stats().requests, 3, "{name}");
        requests += s.stats().requests;
    }
    // Every request was a range request, answered 206.
    let log = server.wait_log(requests as usize);
    assert_eq!(log.len() as u64, requests);
    assert!(
        log.iter()
            .all(|a| a.status == 206 && a.range.starts_with("bytes=")),
        "{log:?}"
    );
}

/// The access log's requests and body bytes since the last look, once the
/// `source` has sent all its requests since then (`seen` of them before).
fn counts(server: &Nginx, source: &HttpSource, seen: &mut u64) -> (usize, u64, Vec<String>) {
    let sent = source.stats().requests;
    let log = server.wait_log((sent - *seen) as usize);
    *seen = sent;
    server.clear_log();
    let bytes = log.iter().map(|a| a.bytes).sum();
    (log.len(), bytes, log.into_iter().map(|a| a.range).collect())
}

#[test]
fn nginx_request_and_byte_counts() {
    let server = start_nginx("counts");
    let expected = pattern(BIG, 1);
    let opts = HttpOptions::default().max_part(4 << 20);
    let s = HttpSource::open_with(&server.url("big.bin"), opts).unwrap();
    let seen = &mut 0;
    // Opening: one request, the probe's 64 KiB.
    assert_eq!(
        counts(&server, &s, seen),
        (1, 65536, vec!["bytes=0-65535".to_string()])
    );
    assert_eq!(s.len(), BIG as u64);
    // Inside the probe's bytes: no request.
    assert_eq!(s.read_vec(100..5000).unwrap(), expected[100..5000]);
    assert_eq!(counts(&server, &s, seen).0, 0);
    // One range: one request of exactly its bytes.
    assert_eq!(
        s.read_vec(1 << 20..(1 << 20) + 100).unwrap(),
        expected[1 << 20..(1 << 20) + 100]
    );
    assert_eq!(
        counts(&server, &s, seen),
        (1, 100, vec!["bytes=1048576-1048675".to_string()])
    );
    // Neighbours merged (gap 90 bytes), the far one alone; each byte once.
    let m = 2 << 20;
    let parts = [
        m..m + 10,
        m + 100..m + 200,
        5 << 20..(5 << 20) + 50,
        m + 5..m + 20,
    ];
    let got = s.read_ranges(&parts).unwrap();
    for (r, g) in parts.iter().zip(&got) {
        assert_eq!(g[..], expected[r.start as usize..r.end as usize]);
    }
    let (n, bytes, mut ranges) = counts(&server, &s, seen);
    ranges.sort();
    assert_eq!((n, bytes), (2, 200 + 50));
    assert_eq!(ranges, ["bytes=2097152-2097351", "bytes=5242880-5242929"]);
    // The whole file past the probe: parts of 4 MiB, fetched concurrently.
    assert_eq!(s.read_vec(0..BIG as u64).unwrap(), expected);
    let (n, bytes, _) = counts(&server, &s, seen);
    assert_eq!((n, bytes), (3, BIG as u64 - 65536));
    // The source's counters agree with the server's log.
    let st = s.stats();
    assert_eq!(st.requests, 1 + 1 + 2 + 3);
    assert_eq!(st.bytes_received, BIG as u64 + 100 + 250);
    assert_eq!(st.retries, 0);
    assert!(st.connections_opened <= 4, "{st:?}");
    assert!(st.connections_reused >= 3, "{st:?}");
}

#[test]
fn nginx_behind_the_cache_fetches_each_block_once() {
    let server = start_nginx("cache");
    let expected = pattern(BIG, 1);
    let s = HttpSource::open_with(
        &server.url("big.bin"),
        HttpOptions::default().probe_bytes(1),
    )
    .unwrap();
    let cache = CachedSource::new(&s);
    let seen = &mut 0;
    counts(&server, &s, seen);
    // Metadata-like reads: small, scattered, repeated.
    let reads: Vec<(u64, usize)> = vec![
        (70_000, 100),
        (80_000, 16),
        (200_000, 300),
        (205_000, 8),
        (70_050, 40),
        (131_000, 1000),    // blocks 1 and 2: block 1 cached, 2 missing
        (4 << 20, 2 << 20), // bulk: bypasses the cache
        (200_100, 10),
    ];
    for &(o, n) in &reads {
        assert_eq!(
            cache.read_vec(o..o + n as u64).unwrap(),
            expected[o as usize..o as usize + n]
        );
    }
    let st = cache.stats();
    assert_eq!((st.misses, st.bypass_reads), (3, 1), "{st:?}");
    let (n, bytes, _) = counts(&server, &s, seen);
    assert_eq!(n as u64, st.fetched_ranges);
    assert_eq!(bytes, 3 * 65536 + (2 << 20));
    // Many threads reading at once through one cache and one source.
    std::thread::scope(|sc| {
        for t in 0..8u64 {
            let (cache, expected) = (&cache, &expected);
            sc.spawn(move || {
                for i in 0..40u64 {
                    let o = (i * 1_048_573 + t * 7919) % (BIG as u64 - 70_000);
                    let n = 1 + (i * 977 % 60_000);
                    assert_eq!(
                        cache.read_vec(o..o + n).unwrap(),
                        expected[o as usize..(o + n) as usize]
                    );
                }
            });
        }
    });
    assert!(s.stats().connections_opened <= 16, "{:?}", s.stats());
}

#[test]
fn nginx_redirects_missing_files_and_servers_without_ranges() {
    let server = start_nginx("errors");
    let expected = pattern(BIG, 1);
    // A redirect is followed once; later requests go where it led.
    let s = HttpSource::open_with(&server.url("redirect/big.bin"), quick()).unwrap();
    assert_eq!(s.stats().redirects, 1);
    assert!(
        s.url().ends_with(&format!(":{}/big.bin", server.port)),
        "{}",
        s.url()
    );
    assert_eq!(
        s.read_vec(3 << 20..(3 << 20) + 10).unwrap(),
        expected[3 << 20..(3 << 20) + 10]
    );
    let log = server.wait_log(3);
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[0].request.contains("/redirect/big.bin") && log[0].status == 302);
    assert!(log[2].request.contains("GET /big.bin") && log[2].status == 206);
    // A missing file.
    let err = HttpSource::open_with(&server.url("missing.h5"), quick()).unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::NotFound));
    let msg = err.to_string();
    assert!(
        msg.contains("/missing.h5") && msg.contains("404") && msg.contains("bytes=0-65535"),
        "{msg}"
    );
    // Range requests off: a small file is read whole, a large one refused.
    let seed = std::fs::read(www().join("seed.h5")).unwrap();
    let small = HttpSource::open_with(&server.url("norange/seed.h5"), quick()).unwrap();
    assert_eq!(small.read_vec(0..small.len()).unwrap(), seed);
    assert_eq!(small.stats().requests, 1);
    let err = HttpSource::open_with(&server.url("norange/big.bin"), quick()).unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::Unsupported));
    let msg = err.to_string();
    assert!(
        msg.contains("200 OK") && msg.contains("does not support range requests"),
        "{msg}"
    );
    // A redirect loop ends.
    let err = HttpSource::open_with(&server.url("loop"), quick()).unwrap_err();
    assert!(err.to_string().contains("more than 8 redirects"), "{err}");
    // Nothing listens: a clear error after the retries, quickly.
    let port = server.port;
    drop(server);
    let t = Instant::now();
    let err = HttpSource::open_with(&format!("http://127.0.0.1:{port}/x"), quick().retries(2))
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(
        err.to_string().contains("cannot connect") && err.to_string().contains("3 attempts"),
        "{err}"
    );
}

/// Many small ranges far apart (what `X[:, 100:200]` asks of `data`):
/// multi-range requests fetch about their bytes, in the few requests their
/// `Range` headers need, where merged requests fetch nearly everything.
#[test]
fn nginx_multi_range_requests_fetch_only_the_ranges() {
    let server = start_nginx("multi-range");
    let expected = pattern(BIG, 1);
    // 2500 ranges of 20-400 bytes, 4000 apart; one inside another, two
    // touching; asked out of order.
    let mut ranges: Vec<Range<u64>> = (0..2500u64)
        .map(|i| {
            let at = 100_000 + i * 4000;
            at..at + 20 + (i * 37) % 381
        })
        .collect();
    ranges.push(100_005..100_010);
    ranges.push(ranges[7].end..ranges[7].end + 30);
    ranges.reverse();
    let data: u64 = ranges.iter().map(|r| r.end - r.start).sum();
    let mut results = Vec::new();
    for multi in [true, false] {
        let opts = HttpOptions::default().multi_range(multi);
        let s = HttpSource::open_with(&server.url("big.bin"), opts).unwrap();
        let seen = &mut 0;
        counts(&server, &s, seen);
        let got = s.read_ranges(&ranges).unwrap();
        for (r, g) in ranges.iter().zip(&got) {
            assert!(
                g[..] == expected[r.start as usize..r.end as usize],
                "multi-range {multi}: bytes differ for {r:?}"
            );
        }
        let (n, bytes, asked) = counts(&server, &s, seen);
        assert_eq!(s.multi_range_refused(), None);
        assert!(
            asked
                .iter()
                .all(|a| a.contains(',') == multi && a.len() <= 7000),
            "multi-range {multi}: {:?}",
            asked.iter().map(|a| a.len()).collect::<Vec<_>>()
        );
        results.push((n, bytes, s.stats().bytes_received - 65536));
    }
    let (multi, merged) = (results[0], results[1]);
    // About 16 characters a range: 2500 need at least 6 headers of 7000
    // bytes; a few more to run several at once.
    assert!((6..=16).contains(&multi.0), "{multi:?}");
    // The data, plus each part's boundary and headers (about 100 bytes).
    assert!(multi.1 >= data && multi.1 < data + 2502 * 130, "{multi:?}");
    assert_eq!(multi.2, data - 5 /* the range inside another */);
    assert!(merged.1 > 9_000_000 && merged.0 <= 4, "{merged:?}");
}

#[cfg(feature = "object-store")]
#[test]
fn object_stores_read_the_files_bytes() {
    use h5sparse::io::source::object_store::{
        local::LocalFileSystem, memory::InMemory, path::Path as Key, ObjectStoreExt,
    };
    use h5sparse::io::source::ObjectStoreSource;

    let expected = std::fs::read(www().join("mid.bin")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let memory = Arc::new(InMemory::new());
    runtime
        .block_on(memory.put(&Key::from("dir/mid.bin"), expected.clone().into()))
        .unwrap();
    let in_memory = ObjectStoreSource::new(memory.clone(), Key::from("dir/mid.bin")).unwrap();
    let local_store = Arc::new(LocalFileSystem::new_with_prefix(www()).unwrap());
    let local = ObjectStoreSource::new(local_store, Key::from("mid.bin")).unwrap();
    let url = format!("file://{}", www().join("mid.bin").display());
    let from_url = ObjectStoreSource::from_url(&url).unwrap();
    let cached = CachedSource::new(ObjectStoreSource::from_url(&url).unwrap());
    let sources: Vec<(&str, &dyn ReadAt)> = vec![
        ("InMemory", &in_memory),
        ("LocalFileSystem", &local),
        ("file:// URL", &from_url),
        ("Cached(file:// URL)", &cached),
    ];
    check_sources(&expected, &sources, 24);
    assert!(
        from_url.describe().contains("mid.bin"),
        "{}",
        from_url.describe()
    );
    // Called from inside a tokio runtime, where blocking on another is not
    // allowed: the read runs on a helper thread.
    let inside = runtime.block_on(async { in_memory.read_vec(1000..1010).unwrap() });
    assert_eq!(inside, expected[1000..1010]);
    // A missing object.
    let err = ObjectStoreSource::new(memory, Key::from("nope.h5")).unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::NotFound), "{err}");
    assert!(err.to_string().contains("nope.h5"), "{err}");
    // A cloud store this build lacks is named.
    #[cfg(not(feature = "s3"))]
    {
        let err =
            ObjectStoreSource::from_url("s3://bucket/key.h5ad?X-Amz-Signature=secret").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("not enabled") && !msg.contains("secret"),
            "{msg}"
        );
    }
}

/// A certificate authority and a server certificate for 127.0.0.1 made
/// with the openssl tool: (CA certificate as DER, server certificate files).
#[cfg(feature = "tls")]
fn test_certificates(dir: &Path) -> (Vec<u8>, nginx::Tls) {
    use std::process::Command;
    std::fs::create_dir_all(dir).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("openssl (run scripts/setup-system): {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=h5sparse test CA",
    ];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    ca.extend([
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&ca);
    let mut csr = vec![
        "req",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ];
    csr.extend(ec);
    run(&csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    run(&["x509", "-in", "ca.pem", "-outform", "der", "-out", "ca.der"]);
    let ca_der = std::fs::read(dir.join("ca.der")).unwrap();
    (
        ca_der,
        nginx::Tls {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        },
    )
}

#[cfg(feature = "tls")]
#[test]
fn https_through_nginx_with_a_private_certificate_authority() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/source-tests/tls-{}", std::process::id()));
    let (ca, tls) = test_certificates(&dir);
    let server = Nginx::start_with("tls", www(), Some(&tls)).unwrap_or_else(|e| panic!("{e}"));
    let expected = pattern(BIG, 1);
    let url = server.url("big.bin");
    assert!(url.starts_with("https://"));
    let s = HttpSource::open_with(&url, quick().root_certificate(ca).max_part(1 << 20)).unwrap();
    assert_eq!(s.len(), BIG as u64);
    let parts = [
        5..10,
        3 << 20..(3 << 20) + 2_500_000,
        (BIG - 7) as u64..BIG as u64,
    ];
    for (r, got) in parts.iter().zip(s.read_ranges(&parts).unwrap()) {
        assert_eq!(got, expected[r.start as usize..r.end as usize]);
    }
    // Without the private root the server is not trusted: an error, no retry.
    let err = HttpSource::open_with(&url, quick()).unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
