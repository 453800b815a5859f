use std::io;
use std::sync::Arc;

use super::*;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn fill_exact_loops_over_short_reads_and_interruptions() {
    let data = pattern(1000);
    let mut calls = 0;
    let mut buf = vec![0u8; 300];
    fill_exact(&|| "test".into(), 123, &mut buf, |at, part| {
        calls += 1;
        if calls % 3 == 0 {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let n = part.len().min(7);
        part[..n].copy_from_slice(&data[at as usize..at as usize + n]);
        Ok(n)
    })
    .unwrap();
    assert_eq!(buf, data[123..423]);
    // 300 bytes in pieces of 7 take 43 reads, plus one interruption per two.
    assert_eq!(calls, 43 + 21);
}

#[test]
fn fill_exact_reports_where_the_source_ended() {
    let mut buf = vec![0u8; 20];
    let err = fill_exact(&|| "some/file.h5".into(), 100, &mut buf, |at, part| {
        Ok(if at < 110 { part.len().min(4) } else { 0 })
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("some/file.h5")
            && msg.contains("20 bytes at offset 100")
            && msg.contains("offset 112"),
        "{msg}"
    );
    assert!(matches!(err, Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof));
    let err = fill_exact(&|| "f".into(), 0, &mut buf, |_, _| {
        Err(io::Error::from(io::ErrorKind::PermissionDenied))
    })
    .unwrap_err();
    assert!(matches!(err, Error::Io(e) if e.kind() == io::ErrorKind::PermissionDenied));
}

#[test]
fn bytes_sources_agree_and_refuse_ranges_past_the_end() {
    let data = pattern(500);
    let arc: Arc<[u8]> = data.clone().into();
    let boxed: Box<[u8]> = data.clone().into();
    let sources: Vec<Box<dyn ReadAt>> = vec![
        Box::new(data.clone()),
        Box::new(arc),
        Box::new(boxed),
        Box::new(Piecewise::new(data.clone(), 7)),
        Box::new(Counting::new(data.clone())),
        Box::new(CachedSource::with_options(
            data.clone(),
            CacheOptions::default().block_size(64),
        )),
    ];
    for s in &sources {
        assert_eq!(s.len(), 500);
        assert_eq!(
            s.read_vec(17..411).unwrap(),
            data[17..411],
            "{}",
            s.describe()
        );
        assert_eq!(s.read_vec(500..500).unwrap(), b"");
        let got = s.read_ranges(&[480..500, 0..3, 5..5, 2..9]).unwrap();
        assert_eq!(
            got,
            vec![
                data[480..500].to_vec(),
                data[..3].to_vec(),
                vec![],
                data[2..9].to_vec()
            ]
        );
        for (offset, n) in [(499u64, 2usize), (500, 1), (u64::MAX, 1), (u64::MAX - 1, 8)] {
            let err = s.read_at(offset, &mut vec![0; n]).unwrap_err();
            assert!(
                matches!(&err, Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
                "{err}"
            );
            assert!(
                err.to_string().contains("past the end (500 bytes)"),
                "{err}"
            );
        }
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = s.read_ranges(&[0..1, 10..5]);
        assert!(matches!(backwards, Err(Error::InvalidArgument(_))));
        assert!(s.read_ranges(&[0..10, 490..501]).is_err());
    }
}

#[test]
fn piecewise_reads_in_pieces_and_never_lends() {
    let data = pattern(100);
    let p = Piecewise::new(&data, 7);
    assert!(p.as_bytes().is_none());
    assert_eq!(p.read_vec(0..100).unwrap(), data);
    assert_eq!(p.pieces(), 15);
    // An error of the inner source comes through as it was.
    let short = Piecewise::new(&data[..50], 7);
    short.read_at(45, &mut [0u8; 4]).unwrap();
    assert!(short.read_at(48, &mut [0u8; 4]).is_err());
}

#[test]
fn cache_counts_hits_misses_and_merged_fetches() {
    let data = pattern(10_000);
    let src = Counting::new(&data);
    let opts = CacheOptions::default().block_size(100).gap_blocks(0);
    let cache = CachedSource::with_options(&src, opts);
    // Blocks 1 and 2: one fetch of 200 bytes.
    assert_eq!(cache.read_vec(150..250).unwrap(), data[150..250]);
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses, s.source_calls, s.fetched_bytes),
        (0, 2, 1, 200)
    );
    // Blocks 0..=3: 1 and 2 cached, 0 and 3 fetched as two ranges in one call.
    assert_eq!(cache.read_vec(50..350).unwrap(), data[50..350]);
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses, s.source_calls, s.fetched_ranges),
        (2, 4, 2, 3)
    );
    assert_eq!(src.stats().range_calls, 1);
    // With gap_blocks 2, blocks 5 and 8 around cached 6 and 7: one range.
    let cache2 = CachedSource::with_options(&data, opts.gap_blocks(2));
    cache2.read_vec(650..750).unwrap();
    assert_eq!(cache2.read_vec(550..850).unwrap(), data[550..850]);
    let s = cache2.stats();
    assert_eq!(
        (s.source_calls, s.fetched_ranges, s.fetched_bytes),
        (2, 2, 200 + 400)
    );
    // The last block is short.
    assert_eq!(cache.read_vec(9_950..10_000).unwrap(), data[9_950..]);
    assert_eq!(cache.stats().resident_bytes, 500);
}

#[test]
fn cache_bypasses_large_reads_and_stays_within_capacity() {
    let data = pattern(100_000);
    let cache = CachedSource::with_options(
        &data,
        CacheOptions::default()
            .block_size(1000)
            .capacity(5000)
            .bypass_at(3000),
    );
    for start in (0..90_000).step_by(1700) {
        assert_eq!(
            cache.read_vec(start..start + 2500).unwrap(),
            data[start as usize..start as usize + 2500]
        );
        let s = cache.stats();
        assert!(s.resident_bytes <= 5000 && s.resident_blocks <= 5, "{s:?}");
    }
    let before = cache.stats();
    assert!(
        before.evictions > 0 && before.peak_resident_bytes == 5000,
        "{before:?}"
    );
    assert_eq!(cache.read_vec(0..3000).unwrap(), data[..3000]);
    let s = cache.stats();
    assert_eq!((s.bypass_reads, s.bypass_bytes), (1, 3000));
    assert_eq!(s.resident_blocks, before.resident_blocks);
    // Least recently used goes first: touch block 0, fill 5 others.
    cache.clear();
    cache.read_vec(0..10).unwrap();
    for b in 1..5u64 {
        cache.read_vec(b * 1000..b * 1000 + 10).unwrap();
    }
    cache.read_vec(0..10).unwrap();
    cache.read_vec(5000..5010).unwrap();
    cache.reset_stats();
    cache.read_vec(0..10).unwrap();
    cache.read_vec(1000..1010).unwrap();
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses),
        (1, 1),
        "block 1 was evicted, block 0 kept"
    );
    // Nothing is kept when a block exceeds the capacity.
    let tiny = CachedSource::with_options(
        &data,
        CacheOptions::default().block_size(1000).capacity(999),
    );
    assert_eq!(tiny.read_vec(10..20).unwrap(), data[10..20]);
    assert_eq!(tiny.stats().resident_bytes, 0);
}

#[test]
fn cache_prefetch_and_concurrent_readers() {
    let data = pattern(1 << 20);
    let src = Counting::new(&data);
    let cache = CachedSource::with_options(&src, CacheOptions::default().block_size(4096));
    cache.prefetch(0..100_000).unwrap();
    assert_eq!(src.stats().reads, 1);
    assert_eq!(cache.read_vec(5000..90_000).unwrap(), data[5000..90_000]);
    assert_eq!(src.stats().reads, 1);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (cache, data) = (&cache, &data);
            s.spawn(move || {
                for i in 0..200u64 {
                    let start = (i * 7919 + t * 104_729) % (1 << 20);
                    let end = (start + 3000).min(1 << 20);
                    assert_eq!(
                        cache.read_vec(start..end).unwrap(),
                        data[start as usize..end as usize]
                    );
                }
            });
        }
    });
}
