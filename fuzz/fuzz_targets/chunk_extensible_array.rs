//! cargo-fuzz binary for the `chunk_extensible_array` target; the body is shared with
//! `tests/fuzz_regressions.rs` (see `fuzz/targets/mod.rs`).
#![no_main]

#[path = "../targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::chunk_index::extensible_array(data));
