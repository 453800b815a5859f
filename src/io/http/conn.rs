//! Connections: TCP (and TLS with feature `tls`) with connect, read and
//! per-request deadlines, and a small pool of kept-alive connections.

use std::io::{self, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::url::Url;
use super::HttpOptions;

/// What identifies a server a connection can be reused for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnKey {
    https: bool,
    host: String,
    port: u16,
}

impl ConnKey {
    pub fn of(url: &Url) -> ConnKey {
        ConnKey {
            https: url.https,
            host: url.host.clone(),
            port: url.port,
        }
    }
}

/// The transport under a connection.
pub(crate) enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stream::Plain(s) => write!(f, "Plain({:?})", s.peer_addr().ok()),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => write!(f, "Tls({:?})", s.sock.peer_addr().ok()),
        }
    }
}

/// A transport whose reads give up at a deadline: each read waits at most
/// the I/O timeout, and never past the deadline of the request under way.
#[derive(Debug)]
pub(crate) struct Timed {
    stream: Stream,
    io_timeout: Duration,
    deadline: Instant,
    /// The read timeout set on the socket now.
    applied: Option<Duration>,
}

impl Timed {
    /// Starts a new request's clock.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    fn arm(&mut self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request took longer than its time limit",
            ));
        }
        let t = left.min(self.io_timeout);
        // Set again only when it changes (near the deadline it does).
        if self.applied != Some(t) {
            self.stream.tcp().set_read_timeout(Some(t))?;
            self.applied = Some(t);
        }
        Ok(())
    }
}

/// Timeouts surface as `WouldBlock` on Unix and `TimedOut` on Windows; both
/// become `TimedOut` with a message.
fn timed_out(e: io::Error, what: &str, t: Duration) -> io::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no data from the server for {:.1} s while {what}",
                t.as_secs_f64()
            ),
        ),
        _ => e,
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        let t = self.applied.unwrap_or(self.io_timeout);
        let r = match &mut self.stream {
            Stream::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf),
        };
        r.map_err(|e| timed_out(e, "reading", t))
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let t = self.io_timeout;
        let r = match &mut self.stream {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
        };
        r.map_err(|e| timed_out(e, "sending the request", t))
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.stream {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A connection to one server, buffered for reading responses.
#[derive(Debug)]
pub(crate) struct Conn {
    pub key: ConnKey,
    pub io: BufReader<Timed>,
    /// Whether it served a request before (a failure before the first byte
    /// of the response then means the server closed it while idle).
    pub reused: bool,
}

/// Opens a connection to `url`'s server: every resolved address in turn,
/// each within the connect timeout; then the TLS handshake for `https`.
pub(crate) fn connect(url: &Url, opts: &HttpOptions, tls: &TlsConfig) -> io::Result<Conn> {
    let addrs = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot resolve host {}: {e}", url.host)))?;
    let mut last = None;
    let mut tcp = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, opts.connect_timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(timed_out(e, "connecting", opts.connect_timeout)),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        let e = last.unwrap_or_else(|| io::Error::other("the host has no address"));
        io::Error::new(
            e.kind(),
            format!("cannot connect to {}: {e}", url.authority()),
        )
    })?;
    tcp.set_nodelay(true)?;
    tcp.set_write_timeout(Some(opts.io_timeout))?;
    // Reads inside a TLS handshake (on the first write) wait this long too.
    tcp.set_read_timeout(Some(opts.io_timeout))?;
    let stream = if url.https {
        tls.wrap(url, tcp)?
    } else {
        Stream::Plain(tcp)
    };
    Ok(Conn {
        key: ConnKey::of(url),
        io: BufReader::with_capacity(
            64 << 10,
            Timed {
                stream,
                io_timeout: opts.io_timeout,
                deadline: Instant::now() + opts.request_timeout,
                applied: Some(opts.io_timeout),
            },
        ),
        reused: false,
    })
}

/// Idle kept-alive connections, at most `max` of them.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Mutex<Vec<Conn>>,
    max: usize,
}

impl Pool {
    pub fn new(max: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            max,
        }
    }

    /// The most recently returned idle connection to `key`'s server.
    pub fn take(&self, key: &ConnKey) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let i = idle.iter().rposition(|c| &c.key == key)?;
        let mut conn = idle.remove(i);
        conn.reused = true;
        Some(conn)
    }

    /// Keeps `conn` for a later request (dropped, so closed, when the pool
    /// is full).
    pub fn put(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() >= self.max {
            idle.remove(0);
        }
        if self.max > 0 {
            idle.push(conn);
        }
    }
}

/// The TLS client configuration, made on first use (feature `tls`).
#[derive(Debug, Default)]
pub(crate) struct TlsConfig {
    #[cfg(feature = "tls")]
    config: std::sync::OnceLock<Arc<rustls::ClientConfig>>,
    #[cfg(feature = "tls")]
    extra_roots: Vec<Vec<u8>>,
}

impl TlsConfig {
    /// Trusts the Mozilla roots (webpki-roots) and the DER certificates in
    /// `extra_roots`.
    #[cfg(feature = "tls")]
    pub fn new(extra_roots: Vec<Vec<u8>>) -> TlsConfig {
        TlsConfig {
            config: std::sync::OnceLock::new(),
            extra_roots,
        }
    }

    /// No TLS in this build.
    #[cfg(not(feature = "tls"))]
    pub fn new(_extra_roots: Vec<Vec<u8>>) -> TlsConfig {
        TlsConfig {}
    }

    #[cfg(not(feature = "tls"))]
    fn wrap(&self, url: &Url, _tcp: TcpStream) -> io::Result<Stream> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "{}: https:// needs h5sparse's `tls` feature (rustls), which this build lacks",
                url.redacted()
            ),
        ))
    }

    #[cfg(feature = "tls")]
    fn config(&self) -> io::Result<Arc<rustls::ClientConfig>> {
        if let Some(c) = self.config.get() {
            return Ok(c.clone());
        }
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in &self.extra_roots {
            roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("root certificate: {e}"),
                    )
                })?;
        }
        // rustls 0.23.48 deprecates the *ring* provider for lacking
        // post-quantum key exchange; its other choice, aws-lc-rs, needs a
        // much larger C build (cmake). Classical key exchange is what most
        // servers offer today.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| io::Error::other(format!("TLS configuration: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(self.config.get_or_init(|| Arc::new(config)).clone())
    }

    #[cfg(feature = "tls")]
    fn wrap(&self, url: &Url, tcp: TcpStream) -> io::Result<Stream> {
        let name = rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("TLS server name {}: {e}", url.host),
            )
        })?;
        let conn = rustls::ClientConnection::new(self.config()?, name)
            .map_err(|e| io::Error::other(format!("TLS: {e}")))?;
        // The handshake happens on the first read or write, within the
        // socket's timeouts.
        Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
    }
}
