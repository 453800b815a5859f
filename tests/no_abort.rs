//! No abort, on any input, under any memory limit (issue 10).
//!
//! Every fixture is damaged in many deterministic ways: bytes of its object
//! header messages (dataspace, datatype, fill value, layout, filters,
//! attributes) smashed to 0xff / 0x7f / 0x40, every dataset dimension set to
//! sizes from 10 GB to exabytes, and bytes anywhere in the file smashed. Each
//! damaged copy is given to the real CLI (`dump --json`, `ls -r -v -d` and
//! `info --json`; `.h5ad` copies also to `subset` and to `append-obs`, as the
//! source and as the target; 10x copies to `convert`) in a
//! child process under a 1 GiB address-space limit (`ulimit -v`). Every run
//! must end normally: success, or the one-line `h5sparse: error: ...` with
//! exit status 1; never a signal (an allocation failure aborts with SIGABRT),
//! never `memory allocation of N bytes failed`, never a panic.
//!
//! A run whose output passes [`OUTPUT_CAP`] is stopped there and counts as
//! fine: a dataset that legitimately reads as gigabytes of fill value is
//! streamed, and the point here is only that it does not abort.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use h5sparse::format::checksum::metadata_checksum;
use h5sparse::format::message::Dataspace;
use h5sparse::format::object_header::{kind, ObjectHeader};
use h5sparse::format::superblock::Superblock;
use h5sparse::format::{Address, FileView};
use h5sparse::{File, Limits, Node};

/// The address-space limit of each child, in KiB (`ulimit -v`).
const ADDRESS_SPACE_KIB: u64 = 1 << 20;
/// Output beyond this many bytes is not read; the child is stopped.
const OUTPUT_CAP: usize = 1 << 20;
/// Damaged copies made from one fixture, at most, of each kind.
const HEADER_SMASHES: usize = 40;
const DIMENSION_EDITS: usize = 12;
const ANYWHERE_SMASHES: usize = 8;

/// A damaged file: where it came from and what was done.
struct Case {
    what: String,
    bytes: Vec<u8>,
    /// The fixture's name (which commands apply).
    fixture: String,
}

/// A copy of the `.h5ad` fixture at `fixture` in anndata's current
/// encoding with every cell renamed: what `append-obs` appends to a damaged
/// copy of the fixture, and appends a damaged copy to.
fn partner(fixture: &Path, out: &Path) -> h5sparse::Result<()> {
    use h5sparse::anndata::{subset, AnnData, Take, WriteOptions};
    use h5sparse::write::DatasetOptions;
    let adata = AnnData::open(&h5sparse::H5File::open(fixture)?)?;
    subset(
        &adata,
        &Take::All,
        &Take::All,
        out,
        &WriteOptions::default(),
    )?;
    let names: Vec<String> = adata
        .obs_names()?
        .into_iter()
        .map(|n| n + "-partner")
        .collect();
    let f = h5sparse::H5File::open_rw(out)?;
    let index = match f.snapshot()?.group("/obs")?.attribute("_index")? {
        Some(a) => match a.values()? {
            h5sparse::Values::Str(mut v) => v.pop().unwrap_or_default(),
            _ => "_index".to_string(),
        },
        None => "_index".to_string(),
    };
    let (path, tmp) = (format!("/obs/{index}"), format!("/obs/{index}.renamed"));
    let vlen = h5sparse::Dtype::VarString {
        charset: h5sparse::CharSet::Utf8,
    };
    f.transaction(|w| {
        let n = names.len() as u64;
        let names = h5sparse::Values::Str(names);
        w.create_dataset_values(&tmp, &vlen, &[n], &names, &DatasetOptions::default())?;
        w.set_attr_str(&tmp, "encoding-type", "string-array")?;
        w.set_attr_str(&tmp, "encoding-version", "0.2.0")?;
        w.replace_member(&path, &tmp)
    })?;
    f.close()
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("h5" | "h5ad")))
        .collect();
    out.sort();
    out
}

fn view(bytes: &[u8]) -> Option<FileView<'_>> {
    let sb = Superblock::find(bytes).ok()?;
    Some(FileView::new(bytes, sb.sizes, sb.base_address))
}

/// Every group and dataset reachable from the root, by header address, and
/// whether it is a dataset.
fn objects(bytes: &[u8]) -> Vec<(Address, bool)> {
    let Ok(f) = File::from_bytes(bytes.to_vec()) else {
        return Vec::new();
    };
    let Ok(root) = f.root() else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(g) = stack.pop() {
        if !seen.insert(g.address()) {
            continue;
        }
        out.push((g.address(), false));
        for link in g.links().unwrap_or_default() {
            match g.follow(&link) {
                Ok(Node::Group(c)) => stack.push(c),
                Ok(Node::Dataset(d)) if seen.insert(d.address()) => {
                    out.push((d.address(), true));
                }
                _ => {}
            }
        }
    }
    out
}

/// A message of an object header: its bytes' range, and the checksummed
/// chunk holding it (v2 headers), as `(start, checksum position)`.
struct Located {
    kind: u16,
    at: usize,
    len: usize,
    seal: Option<(usize, usize)>,
    dataset: bool,
}

fn messages(bytes: &[u8]) -> Vec<Located> {
    let Some(v) = view(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (addr, dataset) in objects(bytes) {
        let Ok(h) = ObjectHeader::parse(&v, addr, &Limits::default()) else {
            continue;
        };
        for m in &h.messages {
            let seal = (h.version == 2)
                .then(|| {
                    h.chunk_info
                        .iter()
                        .find(|c| c.abs <= m.at && m.at < c.abs + c.len)
                        .map(|c| (c.abs as usize, (c.abs + c.len - 4) as usize))
                })
                .flatten();
            out.push(Located {
                kind: m.kind,
                at: m.at as usize,
                len: m.data.len(),
                seal,
                dataset,
            });
        }
    }
    out
}

fn reseal(bytes: &mut [u8], seal: Option<(usize, usize)>) {
    if let Some((start, end)) = seal {
        if end + 4 <= bytes.len() && start < end {
            let c = metadata_checksum(&bytes[start..end]);
            bytes[end..end + 4].copy_from_slice(&c.to_le_bytes());
        }
    }
}

/// Up to `n` items of `items`, evenly spread (deterministic).
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

/// The damaged copies of one fixture.
fn cases(name: &str, original: &[u8]) -> Vec<Case> {
    let mut out = Vec::new();
    let msgs = messages(original);
    let interesting = [
        kind::DATASPACE,
        kind::DATATYPE,
        kind::FILL_VALUE,
        kind::FILL_VALUE_OLD,
        kind::LAYOUT,
        kind::FILTER_PIPELINE,
        kind::ATTRIBUTE,
    ];
    // Single bytes of the messages that describe values, smashed.
    let mut positions = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        if interesting.contains(&m.kind) {
            for p in 0..m.len.min(64) {
                positions.push((i, m.at + p));
            }
        }
    }
    for (k, (i, p)) in spread(&positions, HEADER_SMASHES).into_iter().enumerate() {
        let value = [0xff, 0x7f, 0x40][k % 3];
        let mut bytes = original.to_vec();
        bytes[p] = value;
        reseal(&mut bytes, msgs[i].seal);
        out.push(Case {
            what: format!(
                "{name}: message {:#x} byte {p:#x} = {value:#x}",
                msgs[i].kind
            ),
            bytes,
            fixture: name.to_string(),
        });
    }
    // Dataset dimensions made huge (maximum dimensions unlimited so the
    // dataspace stays valid).
    let sizes = view(original).map(|v| v.sizes);
    let mut dims_edits = Vec::new();
    for m in msgs
        .iter()
        .filter(|m| m.kind == kind::DATASPACE && m.dataset)
    {
        let Some(sizes) = sizes else { break };
        let Ok(space) = Dataspace::parse(&original[m.at..m.at + m.len], m.at as u64, sizes) else {
            continue;
        };
        let mut want = Vec::new();
        for d in &space.dims {
            want.extend_from_slice(&d.to_le_bytes());
        }
        if want.is_empty() {
            continue;
        }
        let msg = &original[m.at..m.at + m.len];
        let Some(pos) = msg.windows(want.len()).position(|w| w == want) else {
            continue;
        };
        for axis in 0..space.dims.len() {
            for huge in [10_440_438_075u64, 1 << 31, 1 << 40, 1 << 62] {
                dims_edits.push((m.at + pos, axis, space.dims.len(), huge, m.seal));
            }
        }
    }
    for (at, axis, rank, huge, seal) in spread(&dims_edits, DIMENSION_EDITS) {
        let mut bytes = original.to_vec();
        bytes[at + 8 * axis..at + 8 * axis + 8].copy_from_slice(&huge.to_le_bytes());
        let max_at = at + 8 * rank;
        if max_at + 8 * rank <= bytes.len() {
            // Only when the maximum dimensions follow (they are the same
            // width); otherwise these bytes are the next message.
            let has_max = msgs
                .iter()
                .any(|m| m.at <= at && max_at + 8 * rank <= m.at + m.len);
            if has_max {
                bytes[max_at + 8 * axis..max_at + 8 * axis + 8]
                    .copy_from_slice(&u64::MAX.to_le_bytes());
            }
        }
        reseal(&mut bytes, seal);
        out.push(Case {
            what: format!("{name}: dimension {axis} at {at:#x} = {huge}"),
            bytes,
            fixture: name.to_string(),
        });
    }
    // Bytes anywhere, smashed with a wide value.
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ original.len() as u64;
    for _ in 0..ANYWHERE_SMASHES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let p = (x % original.len() as u64) as usize;
        let mut bytes = original.to_vec();
        let end = (p + 4).min(bytes.len());
        bytes[p..end].fill(0x7f);
        out.push(Case {
            what: format!("{name}: bytes {p:#x}.. = 0x7f7f7f7f"),
            bytes,
            fixture: name.to_string(),
        });
    }
    out
}

/// How one run ended, when it did not end well.
/// `args` name the damaged file `{}` where it goes; without one it comes
/// last.
fn run(bin: &Path, file: &Path, args: &[&str]) -> Result<(), String> {
    let placed = args.contains(&"{}");
    let args: Vec<&std::ffi::OsStr> = args
        .iter()
        .map(|a| {
            if *a == "{}" {
                file.as_os_str()
            } else {
                std::ffi::OsStr::new(a)
            }
        })
        .chain((!placed).then_some(file.as_os_str()))
        .collect();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB}; ulimit -t 30; exec \"$0\" \"$@\""
        ))
        .arg(bin)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut stderr = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.by_ref().take(1 << 20).read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0usize;
    let mut capped = false;
    loop {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                if total > OUTPUT_CAP {
                    capped = true;
                    let _ = child.kill();
                    break;
                }
            }
        }
    }
    drop(stdout);
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    let stderr = err_thread.join().unwrap_or_default();
    if capped {
        return Ok(());
    }
    if stderr.contains("memory allocation of") {
        return Err(format!("allocation abort: {}", stderr.trim()));
    }
    match status.code() {
        None => Err(format!("killed by a signal ({status}): {}", stderr.trim())),
        Some(0) if stderr.is_empty() => Ok(()),
        Some(1)
            if stderr.starts_with("h5sparse: error: ")
                && stderr.trim_end().lines().count() == 1
                && !stderr.contains("internal error") =>
        {
            Ok(())
        }
        Some(c) => Err(format!("exit {c}: {}", stderr.trim())),
    }
}

#[test]
fn no_damaged_fixture_aborts_the_cli_under_a_1_gib_address_space_limit() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_h5sparse"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no_abort");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = Vec::new();
    let mut partners = std::collections::HashMap::new();
    for path in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let original = std::fs::read(&path).unwrap();
        all.extend(cases(&name, &original));
        if name.ends_with(".h5ad") {
            let p = dir.join(format!("partner-{name}"));
            partner(&path, &p).unwrap();
            partners.insert(name, p.to_str().unwrap().to_string());
        }
    }
    let started = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let runs = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for worker in 0..2 {
            let (all, next, failures, runs, bin, dir) = (&all, &next, &failures, &runs, &bin, &dir);
            let partners = &partners;
            s.spawn(move || {
                let file = dir.join(format!("damaged-{worker}.h5"));
                let out = dir.join(format!("out-{worker}.h5ad"));
                let out = out.to_str().unwrap();
                let target = dir.join(format!("target-{worker}.h5ad"));
                let target = target.to_str().unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = all.get(i) else { break };
                    std::fs::write(&file, &case.bytes).unwrap();
                    let mut commands: Vec<Vec<&str>> = vec![
                        vec!["dump", "--json"],
                        vec!["ls", "-r", "-v", "-d"],
                        vec!["info", "--json"],
                    ];
                    let partner = partners.get(&case.fixture);
                    if let Some(partner) = partner {
                        commands.push(vec!["subset", "{}", out, "--obs", "::2", "--var", "1:"]);
                        // Damaged as the source, then as the target (last:
                        // it grows the damaged copy).
                        commands.push(vec!["append-obs", target, "{}", "--block-size", "1K"]);
                        commands.push(vec!["append-obs", "{}", partner, "--block-size", "1K"]);
                    }
                    if case.fixture.starts_with("tenx") || case.fixture == "visium.h5" {
                        commands.push(vec!["convert", "{}", out]);
                    }
                    for args in &commands {
                        if let (Some(p), Some(&"{}")) = (partner, args.get(2)) {
                            std::fs::copy(p, target).unwrap();
                        }
                        runs.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = run(bin, &file, args) {
                            let kept = dir.join(format!("failure-{i}.h5"));
                            let _ = std::fs::write(&kept, &case.bytes);
                            failures.lock().unwrap().push(format!(
                                "{} ({}; {}): {e}",
                                case.what,
                                args.join(" "),
                                kept.display()
                            ));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "{} damaged files, {} runs in {:.1} s, {} failures",
        all.len(),
        runs.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} runs did not end normally:\n{}",
        failures.len(),
        runs.load(Ordering::Relaxed),
        failures.join("\n")
    );
}
