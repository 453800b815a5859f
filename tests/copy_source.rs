//! `CopySource`: slices of a registered file's memory written through a
//! `FileSink` are copied file to file in the kernel (Linux
//! `copy_file_range`), with a fallback to writing the slice when the
//! kernel refuses or the file ends early. The memory given here differs
//! from the file on purpose, so the output shows which path was taken.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Arc;

use h5sparse::io::sink::{CopySource, FileSink, Placement, Sink};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "h5sparse-copy-source-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A source file of `len` bytes (a pattern) and "memory" of the same
/// length holding other bytes.
fn source(d: &std::path::Path, len: usize) -> (PathBuf, Vec<u8>, Arc<Vec<u8>>) {
    let path = d.join("in.bin");
    let on_disk: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &on_disk).unwrap();
    let memory: Arc<Vec<u8>> = Arc::new(on_disk.iter().map(|b| b ^ 0xff).collect());
    (path, on_disk, memory)
}

/// Writes `mem[from..]` at `at` of a new file with `src` registered; the
/// file's bytes from `at`.
fn write_through(
    d: &std::path::Path,
    src: CopySource,
    mem: &[u8],
    from: usize,
    at: u64,
) -> Vec<u8> {
    let out = d.join("out.bin");
    let mut sink = FileSink::create(&out).unwrap();
    sink.add_copy_source(src);
    sink.write_at(at, &mem[from..]).unwrap();
    assert_eq!(sink.len().unwrap(), at + (mem.len() - from) as u64);
    sink.sync().unwrap();
    drop(sink);
    std::fs::read(&out).unwrap()[at as usize..].to_vec()
}

#[test]
fn registered_slices_are_copied_from_the_file() {
    let d = dir("kernel");
    let (path, on_disk, mem) = source(&d, 3 << 20);
    let src = CopySource::new(File::open(&path).unwrap(), &mem[..], mem.clone());
    let got = write_through(&d, src, &mem, 4096 + 3, 12345);
    // Linux copies the file's bytes; elsewhere the slice is written.
    let expect = if cfg!(target_os = "linux") {
        &on_disk
    } else {
        &mem[..]
    };
    assert!(got == expect[4096 + 3..], "wrong bytes written");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_source_the_kernel_cannot_read_falls_back_to_writing() {
    let d = dir("fallback");
    let (path, _, mem) = source(&d, 1 << 20);
    // Open for writing only: copy_file_range refuses it (EBADF).
    let unreadable = OpenOptions::new().write(true).open(&path).unwrap();
    let src = CopySource::new(unreadable, &mem[..], mem.clone());
    let got = write_through(&d, src, &mem, 100, 0);
    assert!(
        got == mem[100..],
        "the slice itself should have been written"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_source_that_ends_early_has_the_rest_written() {
    let d = dir("short");
    let (path, on_disk, mem) = source(&d, 1 << 20);
    let src = CopySource::new(File::open(&path).unwrap(), &mem[..], mem.clone());
    // The file shrinks after registration: what it still holds is copied,
    // the rest of the slice written.
    let keep = 600_000;
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(keep as u64)
        .unwrap();
    let got = write_through(&d, src, &mem, 0, 7);
    if cfg!(target_os = "linux") {
        assert!(got[..keep] == on_disk[..keep], "the file's bytes first");
        assert!(got[keep..] == mem[keep..], "then the slice's");
    } else {
        assert!(got == mem[..]);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn slices_outside_the_source_and_small_writes_are_written() {
    let d = dir("outside");
    let (path, _, mem) = source(&d, 1 << 20);
    let src = CopySource::new(File::open(&path).unwrap(), &mem[..512 << 10], mem.clone());
    // Half the slice lies past the registered memory: all of it is written.
    let got = write_through(&d, src, &mem, 256 << 10, 0);
    assert!(got == mem[256 << 10..]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_congruent_slice_has_its_whole_blocks_copied_and_its_ends_written() {
    let d = dir("congruent");
    let (path, on_disk, mem) = source(&d, (1 << 20) + 1000);
    let src = CopySource::new(File::open(&path).unwrap(), &mem[..], mem.clone());
    // The slice starts 100 bytes into block 3 of the source and is placed
    // 100 bytes into block 5 of the output (what the writer does for
    // Sink::placement): the whole blocks between go in the kernel (shared
    // on XFS and btrfs), the partial ones at either end are written.
    let block = Placement::BLOCK as usize;
    let (from, at) = (3 * block + 100, 5 * block as u64 + 100);
    assert_eq!(
        FileSink::create(d.join("probe.bin"))
            .map(|mut s| {
                s.add_copy_source(src.clone());
                s.placement().residue(&mem[from..])
            })
            .unwrap(),
        Some(100)
    );
    let got = write_through(&d, src, &mem, from, at);
    let head = block - 100;
    let middle = (mem.len() - from - head) / block * block;
    let tail = head + middle;
    if cfg!(target_os = "linux") {
        assert!(got[..head] == mem[from..from + head], "the head is written");
        assert!(
            got[head..tail] == on_disk[from + head..from + tail],
            "the whole blocks are copied from the file"
        );
        assert!(got[tail..] == mem[from + tail..], "the tail is written");
        assert!(tail < got.len(), "the slice should end inside a block");
    } else {
        assert!(got == mem[from..]);
    }
    std::fs::remove_dir_all(&d).unwrap();
}
