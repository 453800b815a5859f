//! A real HTTP server for the HTTP source's tests: Debian's nginx
//! (`nginx-light`, installed by scripts/setup-system), started as the current
//! user on 127.0.0.1 on a free port with a generated configuration, serving
//! one directory, and killed when dropped.
//!
//! Everything it writes (configuration, pid, logs, temporary directories)
//! stays under `target/nginx-tests/<name>-<pid>-<n>/`. The access log has one
//! line per request: the request line, the status, the body bytes sent and
//! the `Range` header, so tests count requests and bytes as the server saw
//! them.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `GET /seed.h5 HTTP/1.1`
    pub request: String,
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// The `Range` header, `-` when there was none.
    pub range: String,
}

/// A running nginx; killed on drop.
pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    https: bool,
}

/// Where the nginx binary is: on the `PATH`, else `/usr/sbin/nginx`.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// TLS files for a server: its certificate and key (PEM).
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Nginx {
    /// Serves `root` over plain HTTP. Besides the files themselves:
    /// `/norange/NAME` serves the same files with range requests off
    /// (`max_ranges 0`: always `200` and the whole file), `/redirect/NAME`
    /// answers `302` to `/NAME`, `/loop` redirects to itself.
    pub fn start(name: &str, root: &Path) -> Result<Nginx, String> {
        Nginx::start_with(name, root, None)
    }

    /// [`start`](Nginx::start), over TLS when `tls` is given.
    pub fn start_with(name: &str, root: &Path, tls: Option<&Tls>) -> Result<Nginx, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let nginx = binary().ok_or(
            "nginx not found (on PATH or /usr/sbin): run scripts/setup-system, which installs \
             Debian's nginx-light",
        )?;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/nginx-tests")
            .join(format!(
                "{name}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| format!("{}: {e}", dir.display()))?;
        let root = root
            .canonicalize()
            .map_err(|e| format!("{}: {e}", root.display()))?;
        let mut last_error = String::new();
        // A free port can be taken between finding it and nginx binding it:
        // try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port: {e}"))?
                .port();
            let conf = config(&dir, &root, port, tls);
            std::fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
            let _ = std::fs::remove_file(dir.join("error.log"));
            let child = Command::new(&nginx)
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("{}: {e}", nginx.display()))?;
            let mut server = Nginx {
                child,
                port,
                dir: dir.clone(),
                https: tls.is_some(),
            };
            match server.wait_ready() {
                Ok(()) => return Ok(server),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    /// Waits (at most 10 s) until the port accepts connections.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                }
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                return Err(format!("nginx exited ({status}): {stderr}{log}"));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "nginx did not listen on port {} within 10 s",
            self.port
        ))
    }

    /// The URL of `path` (e.g. `"seed.h5"`, `"norange/seed.h5"`).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/{path}", self.port)
    }

    /// The access log so far.
    pub fn log(&self) -> Vec<Access> {
        let text = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let mut f = line.split('\t');
                Some(Access {
                    request: f.next()?.to_string(),
                    status: f.next()?.parse().ok()?,
                    bytes: f.next()?.parse().ok()?,
                    range: f.next()?.to_string(),
                })
            })
            .collect()
    }

    /// The access log once it has at least `n` lines (nginx writes a line
    /// after the response is sent, so just after a client got its bytes;
    /// waits at most 5 s).
    pub fn wait_log(&self, n: usize) -> Vec<Access> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.len() >= n || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Empties the access log (nginx appends to the same open file).
    pub fn clear_log(&self) {
        if let Ok(f) = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("access.log"))
        {
            let _ = f.set_len(0);
        }
    }
}

impl Drop for Nginx {
    /// Kills nginx, and removes its directory unless a test failed (its
    /// logs then stay to read).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn config(dir: &Path, root: &Path, port: u16, tls: Option<&Tls>) -> String {
    let d = dir.display();
    let r = root.display();
    let (listen, ssl) = match tls {
        None => (format!("127.0.0.1:{port}"), String::new()),
        Some(t) => (
            format!("127.0.0.1:{port} ssl"),
            format!(
                "ssl_certificate {};\n        ssl_certificate_key {};",
                t.cert.display(),
                t.key.display()
            ),
        ),
    };
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format ranges "$request\t$status\t$body_bytes_sent\t$http_range";
    access_log {d}/access.log ranges;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    server {{
        listen {listen};
        {ssl}
        root {r};
        location / {{ }}
        location /norange/ {{ alias {r}/; max_ranges 0; }}
        location /redirect/ {{ rewrite ^/redirect/(.*)$ /$1 redirect; }}
        location = /loop {{ return 302 /loop; }}
    }}
}}
"#
    )
}
