//! cargo-fuzz binary for the `datatype` target; the body is shared with
//! `tests/fuzz_regressions.rs` (see `fuzz/targets/mod.rs`).
#![no_main]

#[path = "../targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::datatype::run(data));
