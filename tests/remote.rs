//! Reading HDF5 files over HTTP (issue 14): the parsers on a source read
//! range by range, against a real nginx on loopback. Results equal the local
//! reads; requests and bytes are counted from nginx's access log.

#[path = "support/nginx.rs"]
mod nginx;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5sparse::sparse::{Sel, SparseDataset};
use h5sparse::File;
use nginx::Nginx;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn server(name: &str) -> Nginx {
    Nginx::start(name, &fixtures()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every fixture walked over HTTP dumps exactly what the local file does.
#[test]
fn every_fixture_reads_the_same_over_http() {
    let srv = server("remote-dump");
    let mut n = 0;
    let mut names: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".h5") || f.ends_with(".h5ad"))
        .collect();
    names.sort();
    for name in names {
        let Ok(local) = File::open(fixtures().join(&name)) else {
            continue;
        };
        let remote = File::open_url(&srv.url(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            h5sparse::dump::dump_json(&remote),
            h5sparse::dump::dump_json(&local),
            "{name}: over HTTP and local disagree"
        );
        n += 1;
    }
    assert!(n > 30, "only {n} fixtures compared");
}

/// Opening an `.h5ad` and reading 10 rows of X costs a handful of requests
/// and little more than the metadata it touches.
#[test]
fn ten_rows_of_an_h5ad_cost_a_few_requests() {
    let srv = server("remote-rows");
    let local = File::open(fixtures().join("anndata_full.h5ad")).unwrap();
    let want = SparseDataset::open(&local, "/layers/counts")
        .unwrap()
        .read::<f32>(&Sel::range(0, 10), &Sel::All)
        .unwrap();
    srv.clear_log();
    let f = File::open_url(&srv.url("anndata_full.h5ad")).unwrap();
    let got = SparseDataset::open(&f, "/layers/counts")
        .unwrap()
        .read::<f32>(&Sel::range(0, 10), &Sel::All)
        .unwrap();
    assert_eq!(got, want);
    let log = srv.log();
    let bytes: u64 = log.iter().map(|a| a.bytes).sum();
    let size = std::fs::metadata(fixtures().join("anndata_full.h5ad"))
        .unwrap()
        .len();
    eprintln!(
        "anndata_full.h5ad ({size} bytes): {} requests, {bytes} bytes",
        log.len()
    );
    assert!(log.iter().all(|a| a.status == 206), "{log:?}");
    assert!(log.len() <= 8, "{} requests: {log:?}", log.len());
}

fn h5sparse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The CLI takes a URL wherever it reads a file: `ls`, `info`, `slice`,
/// `dump` and `copy` print (and write) what they do for the local file.
#[test]
fn the_command_line_reads_urls() {
    let srv = server("remote-cli");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("remote-cli");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["anndata.h5ad", "seed.h5", "tenx_v3.h5"] {
        let local = fixtures().join(name);
        let url = srv.url(name);
        let local_s = local.to_string_lossy().into_owned();
        for args in [vec!["ls", "-r"], vec!["info"], vec!["dump", "--json"]] {
            let a = stdout(h5sparse().args(&args).arg(&local));
            let b = stdout(h5sparse().args(&args).arg(&url));
            assert_eq!(
                a.replace(&local_s, "FILE"),
                b.replace(&url, "FILE"),
                "{args:?} {name}"
            );
        }
        let copy = dir.join(format!("copy-{name}"));
        stdout(h5sparse().arg("copy").arg(&url).arg(&copy));
        assert_eq!(
            h5sparse::dump::dump_json(&File::open(&copy).unwrap()),
            h5sparse::dump::dump_json(&File::open(&local).unwrap()),
            "copy of {url}"
        );
    }
    let a = stdout(
        h5sparse()
            .args(["slice"])
            .arg(fixtures().join("anndata.h5ad"))
            .args(["/X", "--rows", "2:9"]),
    );
    let b = stdout(
        h5sparse()
            .args(["slice"])
            .arg(srv.url("anndata.h5ad"))
            .args(["/X", "--rows", "2:9"]),
    );
    assert_eq!(a, b);
    // A URL that is not there: one line, non-zero exit.
    let out = h5sparse()
        .args(["ls"])
        .arg(srv.url("missing.h5"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("404"), "{err}");
}
