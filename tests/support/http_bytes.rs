//! Helpers of the HTTP source tests (tests/source.rs, tests/http_faults.rs):
//! file contents, error kinds, fast-failing options.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::time::Duration;

use h5sparse::io::http::HttpOptions;
use h5sparse::Error;

/// Bytes that differ at every offset within a period of 251 * 256.
pub fn pattern(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

/// The kind of an I/O error, `None` for other errors.
pub fn io_kind(e: &Error) -> Option<ErrorKind> {
    match e {
        Error::Io(io) => Some(io.kind()),
        _ => None,
    }
}

/// Fast-failing options for tests: short pauses and timeouts.
pub fn quick() -> HttpOptions {
    HttpOptions::default()
        .backoff(Duration::from_millis(10))
        .io_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_secs(2))
}
