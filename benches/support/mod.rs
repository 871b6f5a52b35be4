//! What the benchmarks share: the release server as a child process on a fresh database and a
//! free loopback port, tokens, histograms, CPU and memory samples, verdicts.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use bytes::{BufMut as _, Bytes, BytesMut};
use clap::ValueEnum;
use csp_commerce::auth::TokenKeys;
use csp_commerce::domain::customer::Role;
use csp_commerce::domain::ids::PartnerId;
use hdrhistogram::Histogram;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The service whose health says the catalog is loaded (set just before serving).
pub const CATALOG_SERVICE: &str = "csp.commerce.v1.CatalogService";
/// How long a server may take to answer SERVING before the benchmark gives up.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Histogram range in microseconds: 1 us .. 60 s, 3 significant digits.
pub const HIST_MAX_US: u64 = 60_000_000;
/// Quota settings the benches set so high that their load never reaches them: the quotas are
/// counted (their cost is measured) but never refuse a call.
pub const QUOTAS_NEVER_REACHED: &[&str] = &[
    "CSP_PARTNER_ORDER_REQUESTS_PER_MINUTE",
    "CSP_CATALOG_PARTNER_REQUESTS_PER_MINUTE",
    "CSP_CATALOG_USER_REQUESTS_PER_MINUTE",
    "CSP_CUSTOMER_PARTNER_REQUESTS_PER_MINUTE",
    "CSP_CUSTOMER_USER_REQUESTS_PER_MINUTE",
    "CSP_ORDER_USER_REQUESTS_PER_MINUTE",
    "CSP_ADMIN_USER_REQUESTS_PER_MINUTE",
];
/// The default PostgreSQL server (no database path) for scratch databases.
pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Raises this process's soft open-file limit to its hard limit (best effort, via prlimit).
pub fn raise_open_files() {
    let pid = std::process::id().to_string();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=unlimited:"])
        .stderr(Stdio::null())
        .status();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={}:", hard_open_files())])
        .stderr(Stdio::null())
        .status();
}

/// The hard limit on open files of processes started from here.
pub fn hard_open_files() -> u64 {
    Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

/// CPU seconds used so far by the server, by this process, and by the whole machine.
pub fn cpu_sample(server_pid: u32) -> Option<(f64, f64, f64)> {
    let ticks = 100.0;
    let process = |file: String| -> Option<f64> {
        let stat = std::fs::read_to_string(file).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / ticks)
    };
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let jiffies: Vec<f64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    let busy = (jiffies.iter().sum::<f64>() - jiffies.get(3)? - jiffies.get(4)?) / ticks;
    Some((
        process(format!("/proc/{server_pid}/stat"))?,
        process("/proc/self/stat".to_owned())?,
        busy,
    ))
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `CSP_BIN`, or the release binary; never built here. The release binary is checked against
/// the sources: one older than them is measured with a warning.
pub fn server_binary() -> Result<PathBuf> {
    let (bin, default) = match std::env::var_os("CSP_BIN") {
        Some(path) => (PathBuf::from(path), false),
        None => (manifest_dir().join("target/release/csp-commerce"), true),
    };
    if !bin.is_file() {
        bail!(
            "the release server binary {} does not exist.\n\
             Run `cargo build --release` first (or point CSP_BIN at a csp-commerce binary): \
             this benchmark measures the release binary and never builds it.",
            bin.display()
        );
    }
    if let Some(newer) = default.then(|| newer_source_than(&bin)).flatten() {
        eprintln!(
            "WARNING: {} is older than {}: run `cargo build --release` to measure the current code",
            bin.display(),
            newer.display()
        );
    }
    Ok(bin)
}

/// A source file changed after `bin` was built, if any (a stale-binary hint).
fn newer_source_than(bin: &Path) -> Option<PathBuf> {
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok()?;
    let mut stack = vec![manifest_dir().join("src"), manifest_dir().join("proto")];
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if let Ok(modified) = meta.modified()
                && newest.as_ref().is_none_or(|(t, _)| modified > *t)
            {
                newest = Some((modified, path));
            }
        }
    }
    newest.filter(|(t, _)| *t > built).map(|(_, p)| p)
}

pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

pub fn psql(server: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .args([
            &format!("{server}/postgres"),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!(
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A fresh database, removed when dropped.
pub struct Database {
    pub url: String,
    postgres: Option<(String, String)>,
    /// The SQLite file's folder (and room for a benchmark's scratch files).
    pub dir: tempfile::TempDir,
}

impl Database {
    /// A temp SQLite file, or `CREATE DATABASE bench_<random>` on the `postgres` server.
    pub fn fresh(backend: Backend, postgres: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        Ok(match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", dir.path().join("bench.sqlite").display()),
                postgres: None,
                dir,
            },
            Backend::Postgres => {
                let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
                psql(postgres, &format!("CREATE DATABASE {name}"))?;
                Self {
                    url: format!("{postgres}/{name}"),
                    postgres: Some((postgres.to_owned(), name)),
                    dir,
                }
            }
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres
            && let Err(e) = psql(
                server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
        {
            eprintln!("could not drop {name}: {e:#}");
        }
    }
}

/// The server under test, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// `serve` on `database_url` with the HS256 `secret`, quotas never reached, and `env`
    /// (`CSP_*` settings) on top; waits until the catalog answers SERVING.
    pub async fn start(
        bin: &Path,
        database_url: &str,
        secret: &str,
        env: &[(&str, String)],
    ) -> Result<Self> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // The shell raises the open-file limit to the hard limit, then becomes the server.
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                "ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" serve",
            ])
            .arg(bin)
            .env("CSP_LISTEN", addr.to_string())
            .env("CSP_DATABASE_URL", database_url)
            .env("CSP_JWT_SECRET", secret)
            .env("CSP_LOG", "warn")
            // No balancer to tell: stop without the drain grace.
            .env("CSP_DRAIN_GRACE_MS", "0")
            .envs(
                QUOTAS_NEVER_REACHED
                    .iter()
                    .map(|&name| (name, "1000000000")),
            )
            .env_remove("CSP_CONFIG")
            .env_remove("CSP_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let mut server = Self { child, addr };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited during start-up: {status}");
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("the server did not answer SERVING within {START_TIMEOUT:?}");
            }
            if let Ok(channel) = Endpoint::from_shared(format!("http://{addr}"))?
                .connect_timeout(Duration::from_millis(250))
                .connect()
                .await
                && let Ok(r) = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: CATALOG_SERVICE.into(),
                    })
                    .await
                && r.into_inner().status == ServingStatus::Serving as i32
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/<pid>/status` figure in KiB (VmRSS, VmHWM).
    pub fn status_kib(&self, field: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow!("no {field} in /proc/{}/status", self.child.id()))
    }

    /// SIGTERM (graceful drain), then SIGKILL after 10 s.
    pub fn stop(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Bearer(pub MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// A six-hour HS256 token of `role` (for `partner`) signed with `secret`.
pub fn bearer(secret: &str, partner: Option<PartnerId>, role: Role) -> Result<Bearer> {
    user_bearer(secret, "bench", partner, role)
}

/// The same for the user `sub`.
pub fn user_bearer(
    secret: &str,
    sub: &str,
    partner: Option<PartnerId>,
    role: Role,
) -> Result<Bearer> {
    let keys = TokenKeys::new(secret, None).map_err(anyhow::Error::msg)?;
    let token = keys
        .mint(sub, partner, role, chrono::Duration::hours(6))
        .map_err(anyhow::Error::msg)?;
    Ok(Bearer(format!("Bearer {token}").parse()?))
}

/// The id of the demo partner with `key` (`us`, `sk`, ...).
pub fn demo_partner(key: &str) -> Result<PartnerId> {
    let seed = csp_commerce::demo::seed().map_err(|e| anyhow!("{e}"))?;
    let partner = seed
        .partners
        .iter()
        .find(|p| p.key == key)
        .ok_or_else(|| anyhow!("no demo partner {key:?}"))?;
    Ok(PartnerId::from_uuid(partner.id))
}

/// A plaintext channel to `addr`, with a per-call `timeout` if given.
pub async fn connect(addr: SocketAddr, timeout: Option<Duration>) -> Result<Channel> {
    let mut endpoint = Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    if let Some(timeout) = timeout {
        endpoint = endpoint.timeout(timeout);
    }
    Ok(endpoint.connect().await?)
}

pub fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, HIST_MAX_US, 3)?)
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let _ = h.record((d.as_micros() as u64).clamp(1, HIST_MAX_US));
}

/// The `q` quantile of `h`, in milliseconds.
pub fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// `message` as one gRPC length-prefixed frame: flag 0 (uncompressed), big-endian length.
pub fn grpc_frame(message: &impl prost::Message) -> Bytes {
    let bytes = message.encode_to_vec();
    let mut framed = BytesMut::with_capacity(5 + bytes.len());
    framed.put_u8(0);
    framed.put_u32(bytes.len() as u32);
    framed.put_slice(&bytes);
    framed.freeze()
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "MET" } else { "NOT MET" }
}
