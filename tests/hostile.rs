//! Hostile input: truncated and bit-flipped fixtures must give errors (or
//! garbage values), never a panic, a hang or an unbounded allocation.
//!
//! For every HDF5 file in `fixtures/` this opens, with [`Limits::strict`],
//! deterministic mutations of its bytes and walks everything the way
//! `h5sparse dump --json` does:
//!
//! * truncations at every 1/64 of the file, at every length up to 4 KiB, and
//!   at the 64 bytes after each superblock and object-header signature;
//! * bit flips (and a few whole-byte stores of 0x00/0xff) at offsets chosen by
//!   a fixed-seed LCG, half of them near a metadata signature.
//!
//! Each case runs on a worker thread watched by the test thread; a case that
//! takes longer than [`CASE_TIME_LIMIT`] is reported as a hang. Set
//! `H5SPARSE_HOSTILE_FLIPS` to change the number of bit flips per fixture
//! (default [`DEFAULT_FLIPS`]).

use std::panic;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use h5sparse::{File, Limits};

/// Bit flips per fixture unless `H5SPARSE_HOSTILE_FLIPS` says otherwise.
const DEFAULT_FLIPS: usize = 1500;
/// A single case taking longer than this counts as a hang.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(2);

/// Signatures of HDF5 metadata structures; mutations cluster around them.
const SIGNATURES: &[&[u8]] = &[
    b"\x89HDF\r\n\x1a\n",
    b"OHDR",
    b"OCHK",
    b"TREE",
    b"HEAP",
    b"SNOD",
    b"GCOL",
    b"FRHP",
    b"FHDB",
    b"FHIB",
    b"BTHD",
    b"BTIN",
    b"BTLF",
    b"FAHD",
    b"FADB",
    b"EAHD",
    b"EAIB",
    b"EASB",
    b"EADB",
];

/// One way of damaging a file.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    /// Keep only the first `n` bytes.
    Truncate(usize),
    /// XOR the byte at `offset` with `mask`.
    Flip { offset: usize, mask: u8 },
    /// Overwrite the byte at `offset`.
    Store { offset: usize, value: u8 },
}

impl Mutation {
    fn apply(self, original: &[u8]) -> Vec<u8> {
        match self {
            Mutation::Truncate(n) => original[..n.min(original.len())].to_vec(),
            Mutation::Flip { offset, mask } => {
                let mut b = original.to_vec();
                if let Some(x) = b.get_mut(offset) {
                    *x ^= mask;
                }
                b
            }
            Mutation::Store { offset, value } => {
                let mut b = original.to_vec();
                if let Some(x) = b.get_mut(offset) {
                    *x = value;
                }
                b
            }
        }
    }
}

/// Numerical Recipes' 64-bit LCG; the high bits are used.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Offsets where a metadata signature starts.
fn signature_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    for sig in SIGNATURES {
        let mut start = 0;
        while let Some(i) = bytes[start..].windows(sig.len()).position(|w| w == *sig) {
            found.push(start + i);
            start += i + 1;
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// The deterministic mutations of one fixture.
fn mutations(name: &str, bytes: &[u8], flips: usize) -> Vec<Mutation> {
    let len = bytes.len();
    let mut truncations: Vec<usize> = (0..64).map(|k| len * k / 64).collect();
    truncations.extend(0..len.min(4096));
    let signatures = signature_offsets(bytes);
    for &s in &signatures {
        truncations.extend((s..s + 64).filter(|&n| n < len));
    }
    truncations.sort_unstable();
    truncations.dedup();
    let mut out: Vec<Mutation> = truncations.into_iter().map(Mutation::Truncate).collect();

    // Seed from the name so each fixture gets its own, stable sequence.
    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Lcg(seed);
    for i in 0..flips {
        let offset = if i % 2 == 0 && !signatures.is_empty() {
            let s = signatures[rng.below(signatures.len())];
            (s + rng.below(256)).min(len.saturating_sub(1))
        } else {
            rng.below(len)
        };
        out.push(if i % 16 == 15 {
            Mutation::Store {
                offset,
                value: if rng.next().is_multiple_of(2) {
                    0
                } else {
                    0xff
                },
            }
        } else {
            Mutation::Flip {
                offset,
                mask: 1 << rng.below(8),
            }
        });
    }
    out
}

/// Opens and walks one damaged file; the result is ignored, only panics and
/// time matter.
fn walk(bytes: Vec<u8>) {
    if let Ok(file) = File::from_bytes_with_limits(bytes, Limits::strict()) {
        let _ = h5sparse::dump::dump_json(&file);
    }
}

/// Every HDF5 file under `fixtures/`.
fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("h5" | "h5ad" | "hdf5")
            )
        })
        .collect();
    files.sort();
    files
}

/// What went wrong in one case.
struct Failure {
    fixture: String,
    mutation: Mutation,
    what: String,
}

/// What a worker is running (case index) and since when.
type RunningSlot = Mutex<Option<(usize, Instant)>>;

/// Runs `cases` of one fixture on worker threads under a watchdog. Returns
/// the failures (panics and hangs).
fn run_cases(fixture: &str, original: Arc<Vec<u8>>, cases: Vec<Mutation>) -> Vec<Failure> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let cases = Arc::new(cases);
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // Per worker: the case it is running and since when.
    let running: Arc<Vec<RunningSlot>> = Arc::new((0..workers).map(|_| Mutex::new(None)).collect());
    let (tx, rx) = mpsc::channel::<Failure>();
    let mut handles = Vec::new();
    for w in 0..workers {
        let (cases, next, stop, running, original, tx) = (
            cases.clone(),
            next.clone(),
            stop.clone(),
            running.clone(),
            original.clone(),
            tx.clone(),
        );
        let fixture = fixture.to_string();
        handles.push(std::thread::spawn(move || loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&mutation) = cases.get(i) else {
                return;
            };
            let bytes = mutation.apply(&original);
            if let Ok(mut slot) = running[w].lock() {
                *slot = Some((i, Instant::now()));
            }
            let result = panic::catch_unwind(move || walk(bytes));
            if let Ok(mut slot) = running[w].lock() {
                *slot = None;
            }
            if let Err(payload) = result {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".to_string());
                let _ = tx.send(Failure {
                    fixture: fixture.clone(),
                    mutation,
                    what: format!("panic: {what}"),
                });
            }
        }));
    }
    drop(tx);
    let mut failures = Vec::new();
    // Watchdog: poll until every worker is done or one case overruns.
    loop {
        while let Ok(f) = rx.try_recv() {
            failures.push(f);
        }
        if handles.iter().all(|h| h.is_finished()) {
            break;
        }
        let mut hung = None;
        for slot in running.iter() {
            if let Ok(slot) = slot.lock() {
                if let Some((i, since)) = *slot {
                    if since.elapsed() > CASE_TIME_LIMIT {
                        hung = Some((i, since.elapsed()));
                    }
                }
            }
        }
        if let Some((i, took)) = hung {
            stop.store(true, Ordering::Relaxed);
            failures.push(Failure {
                fixture: fixture.to_string(),
                mutation: cases[i],
                what: format!("still running after {took:?} (hang?)"),
            });
            // The stuck thread is left behind; the process ends with the test.
            return failures;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for h in handles {
        let _ = h.join();
    }
    while let Ok(f) = rx.try_recv() {
        failures.push(f);
    }
    failures
}

#[test]
fn mutated_fixtures_never_panic_or_hang() {
    let files = fixture_files();
    if files.is_empty() {
        eprintln!("no fixtures/ yet: nothing to mutate");
        return;
    }
    let flips = std::env::var("H5SPARSE_HOSTILE_FLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_FLIPS);
    // Panics are caught and reported below; keep the default hook quiet.
    panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut failures = Vec::new();
    let mut total = 0usize;
    for path in &files {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let bytes = std::fs::read(path).expect("fixture readable");
        let cases = mutations(&name, &bytes, flips);
        total += cases.len();
        let t = Instant::now();
        let n = cases.len();
        failures.extend(run_cases(&name, Arc::new(bytes), cases));
        eprintln!("hostile: {name}: {n} mutations in {:.2?}", t.elapsed());
    }
    let _ = panic::take_hook();
    eprintln!(
        "hostile: {total} mutations of {} fixtures in {:.2?}",
        files.len(),
        start.elapsed()
    );
    let report: Vec<String> = failures
        .iter()
        .take(50)
        .map(|f| format!("{}: {:?}: {}", f.fixture, f.mutation, f.what))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing mutations (first 50):\n{}",
        failures.len(),
        report.join("\n")
    );
}

/// Arbitrary bytes, including a valid signature followed by garbage, never
/// panic either.
#[test]
fn garbage_after_a_signature_is_an_error() {
    let mut rng = Lcg(42);
    for len in [0usize, 1, 7, 8, 9, 16, 48, 96, 512, 2048] {
        for round in 0..32 {
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if round % 2 == 0 && len >= 8 {
                bytes[..8].copy_from_slice(b"\x89HDF\r\n\x1a\n");
            }
            let result = panic::catch_unwind(|| walk(bytes));
            assert!(
                result.is_ok(),
                "panic on {len} random bytes (round {round})"
            );
        }
    }
}

/// A small file made by h5py 3.16 (`libver='latest'`), zlib-compressed:
///
/// ```python
/// g = f.create_group('g'); g['loop'] = g; g['up'] = f       # hard-link cycles
/// h = f
/// for i in range(40): h = h.create_group('d')               # 40 levels deep
/// h['top'] = f
/// a = f.create_group('w'); cur = a
/// for i in range(24):                                       # 2**24 paths
///     n = f.create_group('w%d' % i); cur['a'] = n; cur['b'] = n; cur = n
/// ```
const CYCLIC_H5_ZLIB_HEX: &str = concat!(
    "78daddda7b4c53571c07f05f5b2acf0222283010614830b8490b85b2382408b518228fc2ba8c284c3bd808080c1dc8dc",
    "783810e736191834113611cc604b6006928531226ca061b8f98619348ec16c4a6c74231899c6aef7d003bddd3f9c937b",
    "b764e79f7bbef7feee3d9fdef43edb23aa38a5c4c1db41646707b819cdcd317821879ae7070c868f24a9e2528550ea20",
    "0401c06a31d880c8b444e8c62c1ff55aa8dbe96d5e2109b86ecaaaf31e66c2c29846abb6005be102a6894d5e414161b7",
    "794d64159a3a2b24cc32e1fe42fcb1208488d02c7af1d172084ecc30026dafc0bc9e8abbbda0f02ede4340d82ce49ef0",
    "d4bf218b80709e0742a56ff1150242ac887b42537d630e016198074240dafe9f08082a1bee09c9072f1c21208cf24018",
    "91fd614b40d821e69ef0ddb1e83102c2551e08d989b51a0242da0aee0949bbb74f1110c67920d8c70fce10105eb3e59e",
    "d06033134c40b8c30341af8826b94c65d9714f78cef9d00d02c2140f84b1ba870e04846c7b1e8e881e859280a0e78120",
    "d3ff3c4740c873e09ed03f1a7b9480f080074255ffb95f08086f3b724f1812c4911c11733c101aed868e13104a9db827",
    "3c99718921203ce181509c90d84340785fc23d2125b7be92802070e69ed03ba43b4640f88007c226db99df0808b62edc",
    "13d61c753110103ee4817072705b030141e2ca3da17cd8b58e8050c703a120baed2c0161d54aee091df9773612101a79",
    "20ec94c97309085e6edc13748af2760242130f8403a77f0d2220f8ade29eb0d2b3bd8880708607c280449d4d4058efce",
    "3d2135a3554e4068e781e03ab8a1958010e2c13de1bde21f44cb21383304d1be82a5978b4aae08a30f9d762d7f2fbc2e",
    "5dbdb09a39efc61914f48489fbb79673765c7c2d8c2d3d56169c61133121e3f0fc351a42e41a3601670ac2d4b4cd200d",
    "416f45d0d313a20adf3c43fa184a216ef4648b71a6105fcc73fd46a956c7c321f38f03824ad33d07f36ebcd7beed0017",
    "5895171b8b3305b6c89879fd5fd8bd377dd8629c29c435b762b4ca545532306f9284e00afff831a7d29cf1fe07a1d514",
    "bfb459e68836166b2efcc4b1ce34750cc2f33edb62188f4d53c58198a9631e64b5c137bdf11878942f5bfa7a956a5315",
    "54b2b6b5345d1a2f194a4d63e02579e6ef22fe38781a68507c1e9b96a804f1861fe3c51065aa76868eaf8a25e08bba6f",
    "9cb8ec022f980a9d60c7cb7daeb007cd2dccbeee06f9a6b912784b757a2d64a16ef5ed8a2de08f6a6b342762601baa75",
    "92faa8d1695d026e29757b611698b9c28fcf1640199afb74e3475510826aa5329f535084baf7065e6a82c3a8e0ca83fa",
    "168842ddbdcd7fb6413a2ab871adff0be8431b2b13dfed8071d46de8eefc1e04a8a06b3a7f085c50f76e52c608fc8e0a",
    "d4929397408d3696ae9eb90c1ec83bd2fe6c1a46504166b9bb0e3a5141fbb0a70e8ea3ee2799157a68415d5dfef664f8",
    "3f359a83f1555ff6c18833c5c1985c11708e8630614598a0270436a7e7d01076ad651370a6200c5d2cbb474398b4224c",
    "d213e6e45d633404ad1f9b803305417ef5d1300d416745d0d113b68a22cb6808b9ebd8049c290809309045433058110c",
    "f484537e738f690885fe6c02ce1484b28cea1a1ac2ac1561969e1073fb2f250de19d003601670a42f5d79a201ac2bc15",
    "619e9e702949bb8f8670f0793601670ac2fdc7f55d3404a315c1484fd0a4282fd010aa02d9049c2908a0f976330d41bc",
    "9e4dc09982f0aca8b58086506b45a8a527f40fbdeb4e42e0e17f553d9a57dc95aab8d8c5ff70314de4f16982e9a3e574",
    "2fde920bb41182c57e49a707ee0b4b42f1fb0526487b2c820c3f6a33214c6f11c2f1f32413e4f8798d0911f851880991",
    "f8568c098a098b10856f4f04202a91864e5a2629be68a324d359a6307c294329dc6099e4f8048f52c4ac658ac4a73d94",
    "14f396290a9f0c98240b355a26293e445092e16f2b4a618b5f9cffbafd0d9adc2d48",
);

fn cyclic_file_bytes() -> Vec<u8> {
    use std::io::Read;
    let hex = CYCLIC_H5_ZLIB_HEX.as_bytes();
    let compressed: Vec<u8> = hex
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("ascii hex");
            u8::from_str_radix(s, 16).expect("hex digit pair")
        })
        .collect();
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .read_to_end(&mut bytes)
        .expect("embedded file decompresses");
    bytes
}

/// Runs `f` on a thread and fails if it takes longer than `limit`.
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => panic!("{what}: still running after {limit:?}"),
    }
}

#[test]
fn cycles_deep_nesting_and_path_explosions_terminate() {
    let bytes = cyclic_file_bytes();
    for (label, limits) in [("strict", Limits::strict()), ("default", Limits::default())] {
        let bytes = bytes.clone();
        let json = within(Duration::from_secs(10), label, move || {
            let file = File::from_bytes_with_limits(bytes, limits).expect("opens");
            h5sparse::dump::dump_json(&file)
        });
        let doc: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let objects = &doc["objects"];
        assert_eq!(objects["/g/loop"]["kind"], "group", "{label}");
        assert!(
            objects.get("/g/loop/loop").is_none(),
            "{label}: descended into a cycle"
        );
        assert!(objects.get("/g/up").is_some(), "{label}");
        // The 2**24 paths through the diamond are cut off by the path budget,
        // reported as a top-level error.
        assert!(doc.get("error").is_some(), "{label}: budget not reported");
    }
}

#[test]
fn truncations_of_the_cyclic_file_never_panic() {
    let bytes = cyclic_file_bytes();
    panic::set_hook(Box::new(|_| {}));
    let cases: Vec<Mutation> = (0..bytes.len())
        .step_by(7)
        .map(Mutation::Truncate)
        .collect();
    let failures = run_cases("cyclic.h5", Arc::new(bytes), cases);
    let _ = panic::take_hook();
    let report: Vec<String> = failures
        .iter()
        .take(20)
        .map(|f| format!("{}: {:?}: {}", f.fixture, f.mutation, f.what))
        .collect();
    assert!(failures.is_empty(), "{}", report.join("\n"));
}
