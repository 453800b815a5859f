//! cargo-fuzz binary for the `global_heap` target; the body is shared with
//! `tests/fuzz_regressions.rs` (see `fuzz/targets/mod.rs`).
#![no_main]

#[path = "../targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::parsers::global_heap(data));
