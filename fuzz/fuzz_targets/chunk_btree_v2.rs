//! cargo-fuzz binary for the `chunk_btree_v2` target; the body is shared with
//! `tests/fuzz_regressions.rs` (see `fuzz/targets/mod.rs`).
#![no_main]

#[path = "../targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::chunk_index::btree_v2(data));
