use super::*;
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("h5sparse-sink-{}-{name}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The reference model: a file is a `Vec<u8>`.
#[derive(Debug, Default, Clone)]
struct Model(Vec<u8>);

impl Model {
    fn write(&mut self, pos: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = pos as usize + data.len();
        if end > self.0.len() {
            self.0.resize(end, 0);
        }
        self.0[pos as usize..end].copy_from_slice(data);
    }
    fn read(&self, pos: u64, n: usize) -> Option<Vec<u8>> {
        let end = pos as usize + n;
        (end <= self.0.len()).then(|| self.0[pos as usize..end].to_vec())
    }
    fn set_len(&mut self, len: u64) {
        self.0.resize(len as usize, 0);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Write(u64, Vec<u8>),
    Read(u64, usize),
    SetLen(u64),
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Mostly writes, often sequential-looking small ones, sometimes big.
        6 => (0u64..3000, prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(p, d)| Op::Write(p, d)),
        1 => (0u64..3000, 1usize..3000).prop_map(|(p, n)| Op::Write(p, vec![0xAB; n])),
        3 => (0u64..3500, 0usize..400).prop_map(|(p, n)| Op::Read(p, n)),
        1 => (0u64..3500).prop_map(Op::SetLen),
        1 => Just(Op::Sync),
    ]
}

/// Sequential runs: each write continues the previous one (or patches back).
fn sequential_ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((1usize..200, 0u8..8), 1..60).prop_map(|steps| {
        let mut pos = 0u64;
        let mut ops = Vec::new();
        for (i, (n, kind)) in steps.into_iter().enumerate() {
            let data = vec![i as u8; n];
            match kind {
                0 => ops.push(Op::Write(pos / 2, data)), // patch earlier bytes
                1 => ops.push(Op::Read(pos / 3, n.min(pos as usize / 2))),
                _ => {
                    ops.push(Op::Write(pos, data));
                    pos += n as u64;
                }
            }
        }
        ops
    })
}

/// Runs `ops` on `sink` and the model, comparing every answer.
fn check_against_model(sink: &mut dyn Sink, model: &mut Model, ops: &[Op]) {
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Write(p, d) => {
                sink.write_at(*p, d).unwrap();
                model.write(*p, d);
            }
            Op::Read(p, n) => {
                let mut buf = vec![0x55; *n];
                let got = sink.read_at(*p, &mut buf);
                match model.read(*p, *n) {
                    Some(want) => {
                        got.unwrap();
                        assert_eq!(buf, want, "op {i}: read {n} at {p}");
                    }
                    None => {
                        let e = got.unwrap_err();
                        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "op {i}");
                    }
                }
            }
            Op::SetLen(l) => {
                sink.set_len(*l).unwrap();
                model.set_len(*l);
            }
            Op::Sync => sink.sync().unwrap(),
        }
        assert_eq!(sink.len().unwrap(), model.0.len() as u64, "op {i}: len");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn file_sink_matches_model(
        ops in prop::collection::vec(op(), 1..80),
        capacity in prop::sample::select(vec![0usize, 1, 7, 64, 512, 4096]),
        via_drop in any::<bool>(),
    ) {
        let dir = TempDir::new("model");
        let path = dir.file("f.bin");
        let mut sink = FileSink::create_with_locking(&path, FileLocking::Disabled).unwrap();
        sink.set_buffer_capacity(capacity).unwrap();
        let mut model = Model::default();
        check_against_model(&mut sink, &mut model, &ops);
        // Whatever is still buffered reaches the file on drop / into_file.
        if via_drop {
            drop(sink);
        } else {
            drop(sink.into_file().unwrap());
        }
        prop_assert_eq!(std::fs::read(&path).unwrap(), model.0);
    }

    #[test]
    fn file_sink_sequential_runs_match_model(
        ops in sequential_ops(),
        capacity in prop::sample::select(vec![1usize, 16, 100, 1000]),
    ) {
        let dir = TempDir::new("seq");
        let path = dir.file("f.bin");
        let mut sink = FileSink::create_with_locking(&path, FileLocking::Disabled).unwrap();
        sink.set_buffer_capacity(capacity).unwrap();
        let mut model = Model::default();
        check_against_model(&mut sink, &mut model, &ops);
        sink.sync().unwrap();
        prop_assert_eq!(std::fs::read(&path).unwrap(), model.0);
    }

    #[test]
    fn mem_sink_matches_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut sink = MemSink::new();
        let mut model = Model::default();
        check_against_model(&mut sink, &mut model, &ops);
        prop_assert_eq!(sink.bytes, model.0);
    }

    /// The crashed process sees every write; the disk only the first `n`.
    #[test]
    fn fault_sink_view_and_disk(
        ops in prop::collection::vec(op(), 1..60),
        n in 0u64..40,
    ) {
        let mut sink = FaultSink::new(MemSink::new(), n);
        let mut view = Model::default();
        check_against_model(&mut sink, &mut view, &ops);

        let mut disk = Model::default();
        let mut writes = 0u64;
        let mut crashed = false;
        for op in &ops {
            match op {
                Op::Write(p, d) => {
                    if writes < n {
                        disk.write(*p, d);
                    } else {
                        crashed = true;
                    }
                    writes += 1;
                }
                Op::SetLen(l) => {
                    if writes < n {
                        disk.set_len(*l);
                    } else {
                        crashed = true;
                    }
                }
                Op::Read(..) | Op::Sync => {}
            }
        }
        prop_assert_eq!(sink.writes(), writes);
        prop_assert_eq!(sink.crashed(), crashed);
        prop_assert_eq!(sink.into_inner().bytes, disk.0);
    }
}

#[test]
fn small_sequential_writes_are_coalesced_until_sync() {
    let dir = TempDir::new("coalesce");
    let path = dir.file("f.bin");
    let mut sink = FileSink::create_with_locking(&path, FileLocking::Disabled).unwrap();
    for i in 0..100u8 {
        sink.write_at(u64::from(i) * 10, &[i; 10]).unwrap();
    }
    // Nothing has reached the file yet, but the sink reads its own writes.
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(sink.len().unwrap(), 1000);
    let mut buf = [0u8; 12];
    sink.read_at(495, &mut buf).unwrap();
    assert_eq!(buf, [49, 49, 49, 49, 49, 50, 50, 50, 50, 50, 50, 50]);
    // A patch inside the buffered range stays buffered.
    sink.write_at(5, b"xy").unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    sink.sync().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 1000);
    assert_eq!(&bytes[..10], &[0, 0, 0, 0, 0, b'x', b'y', 0, 0, 0]);
    assert_eq!(&bytes[990..], &[99; 10]);
}

#[test]
fn non_sequential_write_flushes_the_buffer_first() {
    let dir = TempDir::new("flush");
    let path = dir.file("f.bin");
    let mut sink = FileSink::create_with_locking(&path, FileLocking::Disabled).unwrap();
    sink.write_at(0, &[1; 100]).unwrap();
    sink.write_at(1000, &[2; 10]).unwrap(); // elsewhere: the first range goes out
    assert_eq!(std::fs::read(&path).unwrap(), vec![1; 100]);
    // The gap between the file's end and the buffered range reads as zeros.
    let mut buf = [9u8; 15];
    sink.read_at(995, &mut buf).unwrap();
    assert_eq!(&buf[..5], &[0; 5]);
    assert_eq!(&buf[5..15], &[2; 10]);
    assert!(sink.read_at(1001, &mut buf).is_err());
    // A write as large as the buffer goes straight to the file.
    sink.set_buffer_capacity(64).unwrap();
    sink.write_at(2000, &[3; 64]).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 2064);
}

#[test]
fn open_rw_sees_existing_bytes_and_extends() {
    let dir = TempDir::new("open");
    let path = dir.file("f.bin");
    std::fs::write(&path, b"hello world").unwrap();
    let mut sink = FileSink::open_rw_with_locking(&path, FileLocking::Disabled).unwrap();
    assert_eq!(sink.len().unwrap(), 11);
    let mut buf = [0u8; 5];
    sink.read_at(6, &mut buf).unwrap();
    assert_eq!(&buf, b"world");
    sink.write_at(11, b"!").unwrap();
    sink.write_at(0, b"H").unwrap();
    drop(sink);
    assert_eq!(std::fs::read(&path).unwrap(), b"Hello world!");
}

#[test]
fn missing_file_error_names_the_path() {
    let dir = TempDir::new("missing");
    let path = dir.file("nope.h5");
    let e = FileSink::open_rw(&path).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert!(e.to_string().contains("nope.h5"), "{e}");
}

#[test]
fn positions_that_overflow_are_invalid_input() {
    let mut mem = MemSink::new();
    let e = mem.write_at(u64::MAX, &[1, 2]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    let mut buf = [0u8; 2];
    assert_eq!(
        mem.read_at(u64::MAX, &mut buf).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    let dir = TempDir::new("overflow");
    let mut sink = FileSink::create_with_locking(dir.file("f"), FileLocking::Disabled).unwrap();
    assert_eq!(
        sink.write_at(u64::MAX - 1, &[1, 2, 3]).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    let mut fault = FaultSink::new(MemSink::new(), 0);
    assert_eq!(
        fault.write_at(u64::MAX, &[1, 2]).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
}

/// A lock released a moment after a writer asks for it (as when a child
/// process spawned by another thread held a copy of the descriptor until its
/// exec) is taken, not refused.
#[test]
fn a_lock_released_within_the_retry_window_is_taken() {
    let dir = TempDir::new("lock-retry");
    let path = dir.file("f.h5");
    let first = FileSink::create_with_locking(&path, FileLocking::Required).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        drop(first);
    });
    tx.send(()).unwrap();
    let second = FileSink::open_rw_with_locking(&path, FileLocking::Required);
    holder.join().unwrap();
    assert!(second.is_ok(), "{:?}", second.err());
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let dir = TempDir::new("lock");
    let path = dir.file("f.h5");
    let mut first = FileSink::create_with_locking(&path, FileLocking::Required).unwrap();
    first.write_at(0, b"first writer's bytes").unwrap();
    first.sync().unwrap();

    // flock locks belong to the open file description, so a second open in
    // this same process is refused just like another process would be.
    let e = FileSink::open_rw_with_locking(&path, FileLocking::Required).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    let msg = e.to_string();
    assert!(msg.contains("f.h5"), "{msg}");
    assert!(msg.contains("already open for writing"), "{msg}");
    // Best effort still refuses a lock that is held.
    let e = FileSink::open_rw_with_locking(&path, FileLocking::BestEffort).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

    // A refused create must not truncate the first writer's file.
    let e = FileSink::create_with_locking(&path, FileLocking::Required).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(std::fs::read(&path).unwrap(), b"first writer's bytes");

    // Without locking, nothing stops a second handle.
    drop(FileSink::open_rw_with_locking(&path, FileLocking::Disabled).unwrap());

    // into_file keeps the lock; closing the file releases it.
    let file = first.into_file().unwrap();
    assert!(FileSink::open_rw_with_locking(&path, FileLocking::Required).is_err());
    drop(file);
    let second = FileSink::open_rw_with_locking(&path, FileLocking::Required).unwrap();
    assert_eq!(second.len().unwrap(), 20);
}

#[test]
fn locking_policy_follows_hdf5_use_file_locking() {
    assert_eq!(FileLocking::from_setting(None), FileLocking::BestEffort);
    assert_eq!(
        FileLocking::from_setting(Some("FALSE")),
        FileLocking::Disabled
    );
    assert_eq!(FileLocking::from_setting(Some("0")), FileLocking::Disabled);
    assert_eq!(
        FileLocking::from_setting(Some("TRUE")),
        FileLocking::Required
    );
    assert_eq!(FileLocking::from_setting(Some("1")), FileLocking::Required);
    assert_eq!(
        FileLocking::from_setting(Some("BEST_EFFORT")),
        FileLocking::BestEffort
    );
}

#[test]
fn mem_sink_extends_with_zeros_and_refuses_reads_past_the_end() {
    let mut sink = MemSink::from_bytes(vec![1, 2, 3]);
    sink.write_at(5, &[9]).unwrap();
    assert_eq!(sink.bytes, [1, 2, 3, 0, 0, 9]);
    let mut buf = [0u8; 2];
    let e = sink.read_at(5, &mut buf).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    sink.set_len(2).unwrap();
    assert!(!sink.is_empty().unwrap());
    sink.write_at(10, &[]).unwrap(); // empty writes do not extend
    assert_eq!(sink.into_bytes(), [1, 2]);
}

#[test]
fn fault_sink_drops_every_write_after_the_nth() {
    let mut sink = FaultSink::new(CountingSink::new(MemSink::new()), 2);
    sink.write_at(0, b"aaaa").unwrap();
    sink.sync().unwrap();
    sink.write_at(4, b"bbbb").unwrap();
    assert!(!sink.crashed());
    sink.sync().unwrap(); // past the crash point: does nothing
    sink.write_at(0, b"XX").unwrap();
    assert!(sink.crashed());
    sink.write_at(8, b"cccc").unwrap();
    sink.set_len(10).unwrap();
    sink.sync().unwrap();
    assert_eq!(sink.writes(), 4);

    // The process's view holds everything it wrote.
    assert_eq!(sink.len().unwrap(), 10);
    let mut view = [0u8; 10];
    sink.read_at(0, &mut view).unwrap();
    assert_eq!(&view, b"XXaabbbbcc");
    let mut past = [0u8; 1];
    assert!(sink.read_at(10, &mut past).is_err());

    // The disk holds the first two writes only.
    let inner = sink.into_inner();
    assert_eq!(inner.writes(), 2);
    assert_eq!(inner.syncs(), 1);
    assert_eq!(inner.set_lens(), 0);
    assert_eq!(inner.into_inner().bytes, b"aaaabbbb");
}

#[test]
fn fault_sink_with_zero_drops_everything_and_truncation_reads_as_zeros() {
    let mut sink = FaultSink::new(MemSink::from_bytes(vec![7; 8]), 0);
    sink.set_len(2).unwrap();
    assert!(sink.crashed());
    sink.write_at(4, &[1]).unwrap();
    let mut view = [9u8; 5];
    sink.read_at(0, &mut view).unwrap();
    assert_eq!(view, [7, 7, 0, 0, 1]);
    assert_eq!(sink.into_inner().bytes, vec![7; 8]);
}

#[test]
fn counting_sink_counts_calls_and_bytes() {
    let mut sink = CountingSink::new(MemSink::new());
    sink.write_at(0, &[1; 10]).unwrap();
    sink.write_at(10, &[2; 5]).unwrap();
    let mut buf = [0u8; 4];
    sink.read_at(2, &mut buf).unwrap();
    sink.sync().unwrap();
    sink.set_len(3).unwrap();
    assert_eq!(
        (
            sink.writes(),
            sink.bytes_written(),
            sink.reads(),
            sink.bytes_read(),
            sink.syncs(),
            sink.set_lens()
        ),
        (2, 15, 1, 4, 1, 1)
    );
    assert_eq!(sink.inner().bytes, [1, 1, 1]);
}

#[test]
fn sinks_work_through_references_and_boxes() {
    fn write_hello(mut sink: impl Sink) {
        sink.write_at(0, b"hello").unwrap();
    }
    let mut mem = MemSink::new();
    write_hello(&mut mem);
    let mut boxed: Box<dyn Sink> = Box::new(mem);
    write_hello(&mut boxed);
    assert_eq!(boxed.len().unwrap(), 5);
}
