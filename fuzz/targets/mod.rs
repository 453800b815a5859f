//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries
//! (`fuzz/fuzz_targets/<name>.rs`, built by nightly `cargo fuzz`) and by
//! plain `cargo test` (`tests/fuzz_regressions.rs` replays every file under
//! `fuzz/regressions/<name>/`; `examples/fuzz_seeds.rs` writes seed corpora).
//!
//! Each target is a plain `fn(&[u8])`: errors from the library are expected
//! and ignored; a panic, a hang or a huge allocation is a finding, and the
//! structured targets panic when a result disagrees with their model.
//!
//! Parser targets take a small header before the file bytes (see
//! [`input::Input`]) so that a mutated input stays pointed at the structure
//! under test; [`seeds`] builds such inputs from real files.
#![allow(dead_code)]

pub mod chunk_index;
pub mod datatype;
pub mod filter;
pub mod input;
pub mod open_walk;
pub mod parsers;
pub mod roundtrip;
pub mod seeds;
pub mod selection;
pub mod sparse_select;
pub mod writer_ops;

/// A fuzz target: its name (the cargo-fuzz binary and the directory under
/// `fuzz/regressions/`) and its body.
pub struct Target {
    /// Binary and directory name.
    pub name: &'static str,
    /// The body: arbitrary bytes in, panic on a finding.
    pub run: fn(&[u8]),
}

/// Every target, in the order `scripts/test` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "open_walk",
        run: open_walk::run,
    },
    Target {
        name: "superblock",
        run: parsers::superblock,
    },
    Target {
        name: "object_header",
        run: parsers::object_header,
    },
    Target {
        name: "btree_v1",
        run: parsers::btree_v1,
    },
    Target {
        name: "btree_v2",
        run: parsers::btree_v2,
    },
    Target {
        name: "fractal_heap",
        run: parsers::fractal_heap,
    },
    Target {
        name: "global_heap",
        run: parsers::global_heap,
    },
    Target {
        name: "symbol_table",
        run: parsers::symbol_table,
    },
    Target {
        name: "datatype",
        run: datatype::run,
    },
    Target {
        name: "selection",
        run: selection::run,
    },
    Target {
        name: "chunk_single",
        run: chunk_index::single,
    },
    Target {
        name: "chunk_implicit",
        run: chunk_index::implicit,
    },
    Target {
        name: "chunk_fixed_array",
        run: chunk_index::fixed_array,
    },
    Target {
        name: "chunk_extensible_array",
        run: chunk_index::extensible_array,
    },
    Target {
        name: "chunk_btree_v1",
        run: chunk_index::btree_v1,
    },
    Target {
        name: "chunk_btree_v2",
        run: chunk_index::btree_v2,
    },
    Target {
        name: "filter_deflate",
        run: filter::deflate,
    },
    Target {
        name: "filter_shuffle",
        run: filter::shuffle,
    },
    Target {
        name: "filter_fletcher32",
        run: filter::fletcher32,
    },
    Target {
        name: "filter_lzf",
        run: filter::lzf,
    },
    Target {
        name: "filter_pipeline",
        run: filter::pipeline,
    },
    Target {
        name: "sparse_select",
        run: sparse_select::run,
    },
    Target {
        name: "writer_ops",
        run: writer_ops::run,
    },
    Target {
        name: "roundtrip",
        run: roundtrip::run,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
