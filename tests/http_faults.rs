//! The HTTP source against a misbehaving server of our own
//! (tests/support/fault_server.rs, on loopback): dropped connections, short
//! and chunked bodies, error statuses, stalls, wrong ranges, changed files,
//! multi-range answers of every shape. A retry or a clear error, never wrong
//! data or a hang.

#[path = "support/fault_server.rs"]
mod fault_server;
#[path = "support/http_bytes.rs"]
mod http_bytes;

use std::io::ErrorKind;
use std::ops::Range;
use std::time::{Duration, Instant};

use fault_server::{FaultServer, Step};
use h5sparse::io::http::{HttpOptions, HttpSource};
use h5sparse::io::source::ReadAt;
use h5sparse::Error;
use http_bytes::{io_kind, pattern, quick};

/// A fault server over `data` with `script`, and a source opened through
/// it (the first step of the script answers the probe).
fn faulty(
    data: &[u8],
    script: Vec<Step>,
    opts: HttpOptions,
) -> (FaultServer, Result<HttpSource, Error>) {
    let server = FaultServer::start(data.to_vec(), script);
    let source = HttpSource::open_with(&server.url("file.h5"), opts.probe_bytes(1000));
    (server, source)
}

#[test]
fn merged_requests_pass_over_gaps_in_every_framing() {
    let data = pattern(300 << 10, 5);
    // Short ranges about 4 KB apart: one merged request (multi-range off),
    // whose bytes between the ranges are passed over.
    let ranges: Vec<Range<u64>> = (0..25u64)
        .map(|i| 100_000 + i * 4000..100_000 + i * 4000 + 20 + i)
        .collect();
    let want = |r: &Range<u64>| &data[r.start as usize..r.end as usize];
    for step in [
        Step::Serve,
        Step::Chunked(7),
        Step::Chunked(1000),
        Step::ShortBody,
    ] {
        let opts = quick().multi_range(false);
        let (server, s) = faulty(&data, vec![Step::Serve, step.clone()], opts);
        let s = s.unwrap();
        let got = s.read_ranges(&ranges).unwrap();
        for (r, g) in ranges.iter().zip(&got) {
            assert_eq!(&g[..], want(r), "{step:?} {r:?}");
        }
        // Straight into buffers, asked for in any order.
        let mut bufs: Vec<Vec<u8>> = ranges
            .iter()
            .rev()
            .map(|r| vec![0u8; (r.end - r.start) as usize])
            .collect();
        let mut reads: Vec<(u64, &mut [u8])> = ranges
            .iter()
            .rev()
            .zip(bufs.iter_mut())
            .map(|(r, b)| (r.start, b.as_mut_slice()))
            .collect();
        s.read_at_many(&mut reads).unwrap();
        for (r, b) in ranges.iter().rev().zip(&bufs) {
            assert_eq!(&b[..], want(r), "{step:?} {r:?}");
        }
        // The probe, one request per read, and the retry of a short body.
        let retried = usize::from(step == Step::ShortBody);
        assert_eq!(server.seen().len(), 3 + retried, "{step:?}");
    }
}

#[test]
fn faults_that_a_retry_recovers_from() {
    let data = pattern(300 << 10, 3);
    let want = 100_000..150_000u64;
    let slice = &data[want.start as usize..want.end as usize];
    for (step, retries) in [
        // Closed without an answer: like a kept-alive connection the server
        // closed, tried again at once on a new one, not counted as a retry.
        (Step::Drop, 0),
        (Step::ShortBody, 1),
        (Step::Status(500), 1),
        (Step::Status(503), 1),
        (Step::Status(429), 1),
        (Step::Stall(Duration::from_secs(2)), 1),
        (Step::StallBody(Duration::from_secs(2)), 1),
    ] {
        let t = Instant::now();
        let (server, s) = faulty(&data, vec![Step::Serve, step.clone()], quick());
        let s = s.unwrap();
        assert_eq!(s.read_vec(want.clone()).unwrap(), slice, "{step:?}");
        assert_eq!(s.stats().retries, retries, "{step:?}");
        assert_eq!(server.seen().len(), 3, "{step:?}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{step:?}: {:?}",
            t.elapsed()
        );
    }
    // Two 500s, then an answer: 2 retries.
    let (_server, s) = faulty(
        &data,
        vec![Step::Serve, Step::Status(500), Step::Status(502)],
        quick(),
    );
    let s = s.unwrap();
    assert_eq!(s.read_vec(want.clone()).unwrap(), slice);
    assert_eq!(s.stats().retries, 2);
    // Chunked bodies in odd pieces.
    let (_server, s) = faulty(
        &data,
        vec![Step::Chunked(7), Step::Chunked(1000), Step::Chunked(3)],
        quick(),
    );
    let s = s.unwrap();
    assert_eq!(s.read_vec(want.clone()).unwrap(), slice);
    assert_eq!(s.read_vec(5..995).unwrap(), data[5..995]);
    assert_eq!(s.read_vec(2000..2100).unwrap(), data[2000..2100]);
    // The server closes a kept-alive connection: a new one, not a retry.
    let (server, s) = faulty(&data, vec![Step::ServeThenClose], quick());
    let s = s.unwrap();
    assert_eq!(s.read_vec(want.clone()).unwrap(), slice);
    assert_eq!((s.stats().retries, s.stats().connections_opened), (0, 2));
    assert_eq!(server.connections(), 2);
    // A redirect at the probe.
    let (server, s) = faulty(&data, vec![Step::Redirect("/moved.h5".into())], quick());
    let s = s.unwrap();
    assert_eq!(s.read_vec(want).unwrap(), slice);
    assert!(s.url().ends_with("/moved.h5"));
    assert_eq!(server.seen().last().unwrap().path, "/moved.h5");
}

/// Multi-range requests against a server that answers them badly: a
/// `200`, a single range or a refusal turn them off (the ranges come the
/// ordinary way); parts in any order or joined are placed by their
/// offsets; a short body is retried; a wrong part or a malformed body is an
/// error naming the URL and the ranges.
#[test]
fn multi_range_faults() {
    let data = pattern(300 << 10, 5);
    let ranges: Vec<Range<u64>> = (0..60u64)
        .map(|i| 20_000 + i * 4000..20_020 + i * 4000)
        .collect();
    let read = |script: Vec<Step>, opts: HttpOptions| {
        let (server, s) = faulty(&data, [vec![Step::Serve], script].concat(), opts);
        let s = s.unwrap();
        let got = s.read_ranges(&ranges);
        if let Ok(got) = &got {
            for (r, g) in ranges.iter().zip(got) {
                assert_eq!(g[..], data[r.start as usize..r.end as usize], "{r:?}");
            }
        }
        let asked: Vec<String> = server.seen()[1..]
            .iter()
            .map(|x| x.range.clone().unwrap_or_default())
            .collect();
        (s, got.map(drop), asked, server)
    };
    let commas = |asked: &[String]| asked.iter().map(|a| a.contains(',')).collect::<Vec<_>>();
    for step in [Step::Serve, Step::Shuffled] {
        let (s, got, asked, _server) = read(vec![step.clone()], quick());
        got.unwrap();
        assert_eq!(commas(&asked), [true], "{step:?}");
        assert!(s.multi_range_active() && s.multi_range_refused().is_none());
    }
    // Answers that are not multipart: the ranges again as one merged
    // request, and no multi-range request after that.
    for (step, why) in [
        (Step::IgnoreRange, "200 OK"),
        (Step::FirstRangeOnly, "a single range"),
        (Step::Status(400), "400"),
    ] {
        let (s, got, asked, _server) = read(vec![step.clone()], quick());
        got.unwrap();
        assert_eq!(commas(&asked), [true, false], "{step:?}");
        let refused = s.multi_range_refused().unwrap_or_default();
        assert!(refused.contains(why), "{step:?}: {refused}");
        assert!(!s.multi_range_active());
        s.read_ranges(&ranges[..10]).unwrap();
    }
    // Off by option: never asked.
    let (_, got, asked, _server) = read(vec![], quick().multi_range(false));
    got.unwrap();
    assert_eq!(commas(&asked), [false]);
    // A short body is tried again.
    let (s, got, asked, _server) = read(vec![Step::ShortBody], quick());
    got.unwrap();
    assert_eq!((commas(&asked), s.stats().retries), (vec![true, true], 1));
    // Errors, not wrong data.
    for (script, kind, words) in [
        (
            vec![Step::ShortBody, Step::ShortBody],
            ErrorKind::UnexpectedEof,
            &["body bytes still to come", "gave up after 2 attempts"][..],
        ),
        (
            vec![Step::WrongRange],
            ErrorKind::InvalidData,
            &["bytes 20001-20020", "where asked ranges do"][..],
        ),
        (
            vec![Step::BadBoundary],
            ErrorKind::InvalidData,
            &["malformed multipart/byteranges", "--another-boundary--"][..],
        ),
    ] {
        let (_, got, _, _server) = read(script.clone(), quick().retries(1));
        let err = got.unwrap_err();
        let msg = err.to_string();
        assert_eq!(io_kind(&err), Some(kind), "{script:?}: {msg}");
        for w in words
            .iter()
            .chain(&["/file.h5", "60 ranges within bytes 20000-256019"])
        {
            assert!(msg.contains(w), "{script:?}: {msg:?} lacks {w:?}");
        }
    }
}

#[test]
fn faults_that_give_a_clear_error() {
    let data = pattern(300 << 10, 4);
    let check =
        |script: Vec<Step>, opts: HttpOptions, kind: ErrorKind, words: &[&str], requests: usize| {
            let t = Instant::now();
            let (server, s) = faulty(&data, script.clone(), opts);
            let err = s.unwrap().read_vec(100_000..100_500).unwrap_err();
            let msg = err.to_string();
            assert_eq!(io_kind(&err), Some(kind), "{script:?}: {msg}");
            for w in words {
                assert!(msg.contains(w), "{script:?}: {msg:?} lacks {w:?}");
            }
            assert!(
                msg.contains("bytes=100000-100499") && msg.contains("/file.h5"),
                "{msg}"
            );
            assert_eq!(server.seen().len(), requests, "{script:?}");
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "{script:?}: {:?}",
                t.elapsed()
            );
        };
    // Not retried: the answer would be the same.
    check(
        vec![Step::Serve, Step::Status(416)],
        quick(),
        ErrorKind::InvalidInput,
        &["416"],
        2,
    );
    check(
        vec![Step::Serve, Step::Status(403)],
        quick(),
        ErrorKind::PermissionDenied,
        &["403"],
        2,
    );
    check(
        vec![Step::Serve, Step::IgnoreRange],
        quick(),
        ErrorKind::Unsupported,
        &["200 OK", "ignored the Range"],
        2,
    );
    check(
        vec![Step::Serve, Step::WrongRange],
        quick(),
        ErrorKind::InvalidData,
        &["server sent 100001-100500"],
        2,
    );
    check(
        vec![Step::Serve, Step::OtherEtag],
        quick(),
        ErrorKind::InvalidData,
        &["changed", "ETag"],
        2,
    );
    check(
        vec![Step::Serve, Step::OtherLength],
        quick(),
        ErrorKind::InvalidData,
        &["changed size"],
        2,
    );
    // Retried, then given up.
    let fives = vec![
        Step::Serve,
        Step::Status(503),
        Step::Status(503),
        Step::Status(503),
    ];
    check(
        fives,
        quick().retries(2),
        ErrorKind::Other,
        &["503", "gave up after 3 attempts"],
        4,
    );
    let stalls = vec![
        Step::Serve,
        Step::Stall(Duration::from_secs(2)),
        Step::Stall(Duration::from_secs(2)),
    ];
    let opts = quick().retries(1).io_timeout(Duration::from_millis(300));
    check(
        stalls,
        opts,
        ErrorKind::TimedOut,
        &["no data from the server", "2 attempts"],
        3,
    );
    let short = vec![Step::Serve, Step::ShortBody, Step::ShortBody];
    check(
        short,
        quick().retries(1),
        ErrorKind::UnexpectedEof,
        &["after 250 of 500 body bytes"],
        3,
    );
    // A whole-request deadline bounds a server that trickles (here: stalls
    // mid-body) even when each read is within the I/O timeout.
    let trickle = vec![Step::Serve, Step::StallBody(Duration::from_secs(3))];
    let opts = quick()
        .retries(0)
        .io_timeout(Duration::from_secs(30))
        .request_timeout(Duration::from_millis(400));
    check(trickle, opts, ErrorKind::TimedOut, &[], 2);
    // At open: ranges ignored for a file larger than the probe.
    let (_server, s) = faulty(&data, vec![Step::IgnoreRange], quick());
    let err = s.unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::Unsupported), "{err}");
    assert!(err.to_string().contains("307200 bytes"), "{err}");
}
