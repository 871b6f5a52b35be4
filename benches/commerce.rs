//! Commerce benchmark of the release server: the buying flow, checkout alone (against
//! PostgreSQL's own `pgbench` ceiling), a 100,000-row month import + diff, and idle change-stream
//! subscribers with publish-to-delivery latency.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench commerce                                  # everything, defaults below
//! cargo bench --bench commerce -- --scenario flow,checkout --backend sqlite
//! cargo bench --bench commerce -- --scenario import --import-rows 100000
//! cargo bench --bench commerce -- --scenario subscribers --mux-subscribers 10000
//! ```
//!
//! It builds nothing: it spawns `CSP_BIN` (default `target/release/csp-commerce`) as a child
//! process on a fresh database (a temp SQLite file, or `CREATE DATABASE bench_<random>` on
//! `--postgres`, dropped afterwards) and a free loopback port, with the per-partner order quota
//! off (`CSP_PARTNER_ORDER_REQUESTS_PER_MINUTE=0`). The load generator runs in this process and
//! every latency goes into an HDR histogram. Every run stops by itself: calls time out after
//! 10 s, phases after a bounded wait.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, ValueEnum};
use csp_commerce::auth::TokenKeys;
use csp_commerce::domain::customer::Role;
use csp_commerce::domain::ids::PartnerId;
use csp_commerce::grpc::pb;
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use pb::cart_service_client::CartServiceClient;
use pb::catalog_admin_service_client::CatalogAdminServiceClient;
use pb::catalog_service_client::CatalogServiceClient;
use pb::customer_service_client::CustomerServiceClient;
use prost::Message as _;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The HS256 secret given to the server under test (and used here to mint tokens).
const SECRET: &str = "commerce-bench-secret-0123456789abcdef";
/// The demo partner whose sales agent buys.
const PARTNER: &str = "us";
const CATALOG_SERVICE: &str = "csp.commerce.v1.CatalogService";
/// A unary call that takes longer than this fails (and keeps the run bounded).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Histogram range in microseconds: 1 us .. 60 s, 3 significant digits.
const HIST_MAX_US: u64 = 60_000_000;
/// Intune: no seat limit, sold in the US.
const INTUNE: (&str, &str) = ("CFQ7TTC0RDXR", "0001");
const DEMO_MONTH: &str = "2026-11";
const NEXT_MONTH: &str = "2026-12";
const DEMO_MARKETS: [&str; 7] = ["US", "DE", "FR", "GB", "IE", "JP", "SK"];
/// Real ISO 3166-1 alpha-2 codes outside the demo markets: the synthetic markets of the big
/// month (each a copy of the US price list priced in USD).
const EXTRA_MARKETS: [&str; 120] = [
    "AD", "AE", "AF", "AG", "AL", "AM", "AO", "AR", "AT", "AU", "AZ", "BA", "BB", "BD", "BE", "BF",
    "BG", "BH", "BI", "BJ", "BN", "BO", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CD", "CG", "CH",
    "CI", "CL", "CM", "CN", "CO", "CR", "CV", "CY", "CZ", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "ES", "ET", "FI", "FJ", "GA", "GD", "GE", "GH", "GM", "GN", "GR", "GT", "GY", "HN", "HR",
    "HT", "HU", "ID", "IL", "IN", "IQ", "IS", "IT", "JM", "JO", "KE", "KG", "KH", "KR", "KW", "KZ",
    "LA", "LB", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "MA", "MC", "MD", "ME", "MG", "MK", "ML",
    "MN", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NE", "NG", "NI", "NL", "NO", "NP", "NZ",
    "OM", "PA", "PE", "PG", "PH", "PK", "PL", "PT",
];

#[derive(Parser, Debug)]
#[command(
    name = "commerce",
    about = "Commerce benchmark of the csp-commerce release binary"
)]
struct Args {
    /// Scenarios to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    scenario: Vec<Scenario>,
    /// Backends of the flow, checkout and import scenarios.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    backend: Vec<Backend>,
    /// Whether the subscribers accept zstd-compressed messages (the server then sends each
    /// broadcast batch compressed once for all of them: a sixth of the bytes; tonic's client
    /// inflates them slower than it reads them uncompressed on loopback).
    #[arg(long, value_enum, default_value = "zstd")]
    subscriber_encoding: SubscriberEncoding,
    /// The subscribers' gRPC client: tonic's, or a lean one on hyper's HTTP/2 client that
    /// reads each message where it arrived (tonic copies every message into a buffer first,
    /// and its share of the two cores comes out of the server's).
    #[arg(long, value_enum, default_value = "lean")]
    subscriber_client: SubscriberClient,
    /// How the lean subscribers inflate compressed messages: `each` subscriber inflates every
    /// message it receives, as 10,000 separate machines would; `once`: the load generator
    /// inflates each distinct message once and knows a repeat of it by the xxh3-128 hash of
    /// all its bytes (every byte is still received and checked), so that this machine's two
    /// cores are not spent on 10,000 subscribers' decoding while the server delivers.
    #[arg(long, value_enum, default_value = "each")]
    subscriber_inflate: SubscriberInflate,
    /// Backend of the subscriber scenario.
    #[arg(long, value_enum, default_value = "sqlite")]
    subscriber_backend: Backend,
    /// Concurrent buying clients (one run each).
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    concurrency: Vec<usize>,
    /// HTTP/2 connections the buying clients are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Measured seconds per buying-flow run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Warm-up seconds before each buying-flow run (same load, not recorded).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Customers created (and agreement accepted) before buying; load is spread over them.
    #[arg(long, default_value_t = 200)]
    customers: usize,
    /// Carts prepared for the checkout-alone run.
    #[arg(long, default_value_t = 3000)]
    carts: usize,
    /// Concurrent checkouts in the checkout-alone run.
    #[arg(long, default_value_t = 16)]
    checkout_concurrency: usize,
    /// Seconds of `pgbench -b simple-update`.
    #[arg(long, default_value_t = 20)]
    pgbench_seconds: u32,
    /// Price rows of the generated month (at least; whole synthetic markets are added).
    #[arg(long, default_value_t = 100_000)]
    import_rows: usize,
    /// Idle subscribers multiplexed over --mux-connections connections (0: skip).
    #[arg(long, default_value_t = 10_000)]
    mux_subscribers: usize,
    #[arg(long, default_value_t = 100)]
    mux_connections: usize,
    /// Idle subscribers each on its own connection (0: skip).
    #[arg(long, default_value_t = 1_000)]
    own_subscribers: usize,
    /// The subscribers' month: 2026-12 with the prices of every N-th availability raised (0:
    /// 2026-12 as is, 280 changes).
    #[arg(long, default_value_t = 2)]
    repriced: usize,
    /// PostgreSQL server (no database path): scratch databases are created and dropped there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    All,
    /// Issue 3: create cart, add 3 lines, GetCart, Checkout.
    Flow,
    /// Checkout alone on prepared carts.
    Checkout,
    /// PostgreSQL's own ceiling: pgbench simple-update.
    Pgbench,
    /// Issue 4: import + diff of a 100,000-row month (CLI).
    Import,
    /// Issue 4: idle subscribers, memory and publish-to-delivery latency.
    Subscribers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SubscriberClient {
    Tonic,
    Lean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SubscriberInflate {
    Each,
    Once,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SubscriberEncoding {
    Identity,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    raise_open_files();
    let bin = server_binary()?;
    let all = args.scenario.contains(&Scenario::All);
    let wants = |s: Scenario| all || args.scenario.contains(&s);
    let mut report = Report::default();
    println!(
        "# csp-commerce commerce benchmark, {} UTC; {} cores; load average at start: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );

    if wants(Scenario::Flow) || wants(Scenario::Checkout) {
        for &backend in &args.backend {
            if let Err(e) = buying(&bin, &args, backend, &wants, &mut report).await {
                eprintln!("!! buying on {}: {e:#}", backend.label());
                report
                    .failures
                    .push(format!("buying on {}: {e:#}", backend.label()));
            }
        }
    }
    if wants(Scenario::Pgbench) {
        match pgbench(&args) {
            Ok(tps) => report.pgbench_tps = Some(tps),
            Err(e) => {
                eprintln!("!! pgbench: {e:#}");
                report.failures.push(format!("pgbench: {e:#}"));
            }
        }
    }
    if wants(Scenario::Import) {
        for &backend in &args.backend {
            match import(&bin, &args, backend) {
                Ok(r) => report.imports.push(r),
                Err(e) => {
                    eprintln!("!! import on {}: {e:#}", backend.label());
                    report
                        .failures
                        .push(format!("import on {}: {e:#}", backend.label()));
                }
            }
        }
    }
    if wants(Scenario::Subscribers) {
        let runs = [
            (args.mux_subscribers, args.mux_connections, "multiplexed"),
            (args.own_subscribers, args.own_subscribers, "own connection"),
        ];
        for (n, connections, label) in runs {
            if n == 0 {
                continue;
            }
            match subscribers(&bin, &args, n, connections.max(1), label).await {
                Ok(r) => report.subscribers.push(r),
                Err(e) => {
                    eprintln!("!! subscribers ({label}): {e:#}");
                    report
                        .failures
                        .push(format!("subscribers ({label}): {e:#}"));
                }
            }
        }
    }
    report.print();
    if report.failures.is_empty() {
        Ok(())
    } else {
        bail!("{} scenario(s) failed", report.failures.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Processes, databases, clients

/// Raises this process's soft open-file limit to its hard limit (best effort, via prlimit).
fn raise_open_files() {
    let pid = std::process::id().to_string();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=unlimited:"])
        .stderr(Stdio::null())
        .status();
    let hard = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={}:", hard.trim())])
        .stderr(Stdio::null())
        .status();
}

/// CPU seconds used so far by the server, by this process, and by the whole machine.
fn cpu_sample(server_pid: u32) -> Option<(f64, f64, f64)> {
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

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn server_binary() -> Result<PathBuf> {
    let bin = std::env::var_os("CSP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target/release/csp-commerce"));
    if !bin.is_file() {
        bail!(
            "the release server binary {} does not exist: run `cargo build --release` first \
             (or point CSP_BIN at one); this benchmark never builds it",
            bin.display()
        );
    }
    Ok(bin)
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn psql(server: &str, sql: &str) -> Result<()> {
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
struct Database {
    url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Database {
    fn fresh(backend: Backend, args: &Args) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        Ok(match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", dir.path().join("bench.sqlite").display()),
                postgres: None,
                _dir: dir,
            },
            Backend::Postgres => {
                let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
                psql(&args.postgres, &format!("CREATE DATABASE {name}"))?;
                Self {
                    url: format!("{}/{name}", args.postgres),
                    postgres: Some((args.postgres.clone(), name)),
                    _dir: dir,
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
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(bin: &Path, database_url: &str) -> Result<Self> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // The shell raises the open-file limit to the hard limit, then becomes the server.
        let child = Command::new("sh")
            .args([
                "-c",
                "ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" serve",
            ])
            .arg(bin)
            .env("CSP_LISTEN", addr.to_string())
            .env("CSP_DATABASE_URL", database_url)
            .env("CSP_JWT_SECRET", SECRET)
            .env("CSP_LOG", "warn")
            .env("CSP_PARTNER_ORDER_REQUESTS_PER_MINUTE", "0")
            // The repriced month is written under the temp folder and imported by path.
            .env("CSP_IMPORT_DIR", std::env::temp_dir())
            .env_remove("CSP_CONFIG")
            .env_remove("CSP_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
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

    /// A `/proc/<pid>/status` figure in KiB (VmRSS, VmHWM).
    fn status_kib(&self, field: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow!("no {field} in /proc/{}/status", self.child.id()))
    }

    /// SIGTERM (graceful drain), then SIGKILL after 10 s.
    fn stop(&mut self) -> Result<()> {
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
struct Bearer(MetadataValue<Ascii>);

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

type Authed = InterceptedService<Channel, Bearer>;

fn bearer(partner: Option<PartnerId>, role: Role) -> Result<Bearer> {
    let keys = TokenKeys::new(SECRET, None).map_err(anyhow::Error::msg)?;
    let token = keys
        .mint("commerce-bench", partner, role, chrono::Duration::hours(6))
        .map_err(anyhow::Error::msg)?;
    Ok(Bearer(format!("Bearer {token}").parse()?))
}

fn sales_agent() -> Result<Bearer> {
    let seed = csp_commerce::demo::seed().map_err(|e| anyhow!("{e}"))?;
    let partner = seed
        .partners
        .iter()
        .find(|p| p.key == PARTNER)
        .ok_or_else(|| anyhow!("no demo partner {PARTNER:?}"))?;
    bearer(Some(PartnerId::from_uuid(partner.id)), Role::SalesAgent)
}

async fn connect(addr: SocketAddr, timeout: Option<Duration>) -> Result<Channel> {
    let mut endpoint = Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    if let Some(timeout) = timeout {
        endpoint = endpoint.timeout(timeout);
    }
    Ok(endpoint.connect().await?)
}

/// The largest HTTP/2 frame a subscriber's connection accepts.
const SUBSCRIBER_FRAME_SIZE: u32 = 1 << 20;

/// The clients of one task, on one connection.
#[derive(Clone)]
struct Api {
    catalog: CatalogServiceClient<Authed>,
    customers: CustomerServiceClient<Authed>,
    carts: CartServiceClient<Authed>,
    admin: CatalogAdminServiceClient<Authed>,
}

impl Api {
    fn new(channel: Channel, bearer: Bearer) -> Self {
        Self {
            catalog: CatalogServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            customers: CustomerServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            carts: CartServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            admin: CatalogAdminServiceClient::with_interceptor(channel, bearer),
        }
    }
}

fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, HIST_MAX_US, 3)?)
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    let _ = h.record((d.as_micros() as u64).clamp(1, HIST_MAX_US));
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

// ---------------------------------------------------------------------------------------------
// Issue 3: the buying flow and checkout alone

/// What the buyers buy and who.
struct Fixture {
    /// Three non-seat-limited US commercial items.
    lines: Vec<pb::CartLineInput>,
    customers: Vec<String>,
}

async fn create_customers(api: &Api, n: usize) -> Result<Vec<String>> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let created = futures::stream::iter(0..n)
        .map(|i| {
            let mut api = api.clone();
            let run = run.clone();
            async move {
                let customer = api
                    .customers
                    .create_customer(pb::CreateCustomerRequest {
                        request_id: rid(),
                        company_name: format!("Bench Customer {i}"),
                        country: "US".into(),
                        email: format!("it{i}@bench-{run}.example.com"),
                        domain: format!("bench{i}x{}.onmicrosoft.com", &run[..8]),
                    })
                    .await?
                    .into_inner()
                    .customer
                    .ok_or_else(|| anyhow!("CreateCustomer answered no customer"))?;
                api.customers
                    .accept_agreement(pb::AcceptAgreementRequest {
                        request_id: rid(),
                        customer_id: customer.id.clone(),
                        etag: customer.etag.clone(),
                        contact_name: "Bench Contact".into(),
                        contact_email: format!("contact{i}@bench.example.com"),
                        accept_time: None,
                    })
                    .await?;
                anyhow::Ok(customer.id)
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    created.into_iter().collect()
}

/// The cart line for a SKU's US commercial availability if `customer` may buy it.
async fn line_for(
    api: &mut Api,
    sku: &pb::Sku,
    customer: &str,
) -> Result<Option<pb::CartLineInput>> {
    let availabilities = api
        .catalog
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: sku.product_id.clone(),
            sku_id: sku.id.clone(),
            country: "US".into(),
            segment: pb::Segment::Commercial as i32,
            ..Default::default()
        })
        .await?
        .into_inner()
        .availabilities;
    let Some(availability) = availabilities.iter().find(|a| a.end_of_sale.is_none()) else {
        return Ok(None);
    };
    let Some(term) = availability.terms.first() else {
        return Ok(None);
    };
    let line = pb::CartLineInput {
        catalog_item_id: availability.catalog_item_id.clone(),
        quantity: sku.min_quantity.max(1),
        term: term.term,
        billing_cycle: term.billing_cycle,
        provisioning_context: None,
    };
    let check = api
        .catalog
        .check_purchasability(pb::CheckPurchasabilityRequest {
            customer_id: customer.into(),
            catalog_item_id: line.catalog_item_id.clone(),
            quantity: line.quantity,
            term: line.term,
            billing_cycle: line.billing_cycle,
        })
        .await?
        .into_inner();
    Ok(check.purchasable.then_some(line))
}

/// Creates the customers and picks Intune plus two other SKUs without any limit.
async fn prepare_fixture(api: &Api, customers: usize) -> Result<Fixture> {
    let started = Instant::now();
    let customers = create_customers(api, customers).await?;
    let first = customers
        .first()
        .ok_or_else(|| anyhow!("no customers"))?
        .clone();
    let mut api = api.clone();
    let skus = api
        .catalog
        .list_products(pb::ListProductsRequest {
            filter: Some(pb::CatalogFilter {
                country: "US".into(),
                segment: pb::Segment::Commercial as i32,
                product_type: pb::ProductType::OnlineServices as i32,
                trial: pb::TrialFilter::NoTrials as i32,
                ..Default::default()
            }),
            view: pb::CatalogView::Sku as i32,
            page_size: 500,
            page_token: String::new(),
        })
        .await?
        .into_inner()
        .skus;
    let unlimited = |s: &&pb::Sku| {
        s.seat_limit.is_none()
            && s.seat_limit_type.is_empty()
            && !s.is_addon
            && !s.is_trial
            && s.provisioning_variables.is_empty()
            && s.prerequisites.is_empty()
    };
    let intune = skus
        .iter()
        .find(|s| (s.product_id.as_str(), s.id.as_str()) == INTUNE)
        .ok_or_else(|| anyhow!("Intune {INTUNE:?} is not sold in the US"))?;
    if !unlimited(&intune) {
        bail!("Intune has a limit: {intune:?}");
    }
    let mut lines = Vec::new();
    let mut chosen = Vec::new();
    let candidates = std::iter::once(intune).chain(
        skus.iter()
            .filter(unlimited)
            .filter(|s| s.product_id != INTUNE.0),
    );
    for sku in candidates {
        if lines.len() == 3 {
            break;
        }
        if chosen
            .iter()
            .any(|(p, _): &(String, String)| *p == sku.product_id)
        {
            continue;
        }
        if let Some(line) = line_for(&mut api, sku, &first).await? {
            chosen.push((sku.product_id.clone(), sku.id.clone()));
            eprintln!(
                "  line {}: {} {} x{} ({})",
                lines.len() + 1,
                line.catalog_item_id,
                sku.title,
                line.quantity,
                pb::TermDuration::try_from(line.term).map_or("?", |t| t.as_str_name())
            );
            lines.push(line);
        }
    }
    if lines.len() < 3 {
        bail!("found only {} purchasable non-limited SKUs", lines.len());
    }
    eprintln!(
        "  {} customers created and 3 SKUs chosen in {:.1} s",
        customers.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Fixture { lines, customers })
}

fn status(what: &str) -> impl Fn(tonic::Status) -> tonic::Status + '_ {
    move |s| tonic::Status::new(s.code(), format!("{what}: {}", s.message()))
}

fn missing(what: &str) -> tonic::Status {
    tonic::Status::internal(format!("{what} answered no cart"))
}

/// create cart, add 3 lines, GetCart review, Checkout: (whole flow, checkout) latencies.
async fn buy(
    api: &mut Api,
    customer: &str,
    lines: &[pb::CartLineInput],
) -> Result<(Duration, Duration), tonic::Status> {
    let started = Instant::now();
    let cart = api
        .carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: customer.into(),
            lines: Vec::new(),
        })
        .await
        .map_err(status("CreateCart"))?
        .into_inner()
        .cart
        .ok_or_else(|| missing("CreateCart"))?;
    let id = cart.id;
    let mut etag = cart.etag;
    for line in lines {
        etag = api
            .carts
            .add_cart_line(pb::AddCartLineRequest {
                request_id: rid(),
                cart_id: id.clone(),
                etag,
                line: Some(line.clone()),
            })
            .await
            .map_err(status("AddCartLine"))?
            .into_inner()
            .cart
            .ok_or_else(|| missing("AddCartLine"))?
            .etag;
    }
    let reviewed = api
        .carts
        .get_cart(pb::GetCartRequest {
            cart_id: id.clone(),
        })
        .await
        .map_err(status("GetCart"))?
        .into_inner()
        .cart
        .ok_or_else(|| missing("GetCart"))?;
    let problems: Vec<&str> = reviewed
        .problems
        .iter()
        .chain(reviewed.lines.iter().flat_map(|l| &l.problems))
        .map(|p| p.code.as_str())
        .collect();
    if !problems.is_empty() || reviewed.lines.len() != lines.len() {
        return Err(tonic::Status::failed_precondition(format!(
            "review: {} lines, problems {problems:?}",
            reviewed.lines.len()
        )));
    }
    let checkout = Instant::now();
    api.carts
        .checkout(pb::CheckoutRequest {
            request_id: rid(),
            cart_id: id,
            etag: reviewed.etag,
        })
        .await
        .map_err(status("Checkout"))?;
    Ok((started.elapsed(), checkout.elapsed()))
}

/// One task's results.
struct Tally {
    flow: Histogram<u64>,
    checkout: Histogram<u64>,
    done: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn new() -> Result<Self> {
        Ok(Self {
            flow: histogram()?,
            checkout: histogram()?,
            done: 0,
            errors: 0,
            first_error: None,
        })
    }

    fn error(&mut self, e: tonic::Status) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("{:?}: {}", e.code(), e.message()));
        }
    }

    fn merge(&mut self, other: Tally) -> Result<()> {
        self.flow.add(&other.flow)?;
        self.checkout.add(&other.checkout)?;
        self.done += other.done;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct FlowResult {
    backend: Backend,
    concurrency: usize,
    orders_per_s: f64,
    checkout_p50: f64,
    checkout_p99: f64,
    flow_p50: f64,
    flow_p99: f64,
    orders: u64,
    errors: u64,
    load: String,
    /// Server and load-generator CPU milliseconds per order, and the machine's busy cores.
    server_cpu_ms: f64,
    client_cpu_ms: f64,
    busy_cores: f64,
}

#[derive(Debug, Clone)]
struct CheckoutResult {
    backend: Backend,
    concurrency: usize,
    per_s: f64,
    p50: f64,
    p99: f64,
    checkouts: u64,
    errors: u64,
    cpu: CpuPerCall,
}

/// CPU milliseconds per call: the server's, the load generator's, and the rest of the
/// machine's (PostgreSQL's backends, mostly, on that backend).
#[derive(Debug, Clone, Copy)]
struct CpuPerCall {
    server_ms: f64,
    client_ms: f64,
    rest_ms: f64,
}

impl CpuPerCall {
    fn between(
        before: Option<(f64, f64, f64)>,
        after: Option<(f64, f64, f64)>,
        calls: u64,
    ) -> Self {
        let calls = calls.max(1) as f64;
        match before.zip(after) {
            Some((a, b)) => {
                let (server, client, busy) = (b.0 - a.0, b.1 - a.1, b.2 - a.2);
                Self {
                    server_ms: server * 1000.0 / calls,
                    client_ms: client * 1000.0 / calls,
                    rest_ms: (busy - server - client).max(0.0) * 1000.0 / calls,
                }
            }
            None => Self {
                server_ms: f64::NAN,
                client_ms: f64::NAN,
                rest_ms: f64::NAN,
            },
        }
    }
}

/// The buying scenarios on one server of `backend`.
async fn buying(
    bin: &Path,
    args: &Args,
    backend: Backend,
    wants: &impl Fn(Scenario) -> bool,
    report: &mut Report,
) -> Result<()> {
    eprintln!("== buying on {}", backend.label());
    let db = Database::fresh(backend, args)?;
    let mut server = Server::start(bin, &db.url).await?;
    let agent = sales_agent()?;
    let api = Api::new(
        connect(server.addr, Some(CALL_TIMEOUT)).await?,
        agent.clone(),
    );
    let fixture = Arc::new(prepare_fixture(&api, args.customers).await?);
    let channels = {
        let mut channels = Vec::new();
        for _ in 0..args.connections.max(1) {
            channels.push(connect(server.addr, Some(CALL_TIMEOUT)).await?);
        }
        channels
    };
    if wants(Scenario::Flow) {
        for &concurrency in &args.concurrency {
            let pid = server.child.id();
            let r = flow(&channels, &agent, &fixture, backend, concurrency, args, pid).await?;
            println!(
                "flow      {:<10} c={:<3} {:>7.1} orders/s  checkout p50 {:>6.1} ms p99 {:>6.1} ms  \
                 flow p50 {:>6.1} ms p99 {:>6.1} ms  orders {} errors {}",
                backend.label(),
                concurrency,
                r.orders_per_s,
                r.checkout_p50,
                r.checkout_p99,
                r.flow_p50,
                r.flow_p99,
                r.orders,
                r.errors
            );
            report.flows.push(r);
        }
    }
    if wants(Scenario::Checkout) {
        let pid = server.child.id();
        let r = checkout_alone(&channels, &agent, &fixture, backend, args, pid).await?;
        println!(
            "checkout  {:<10} c={:<3} {:>7.1} checkouts/s  p50 {:>6.1} ms p99 {:>6.1} ms  n {} errors {}  \
             CPU/checkout: server {:.2} ms, bench {:.2} ms, rest of machine {:.2} ms",
            backend.label(),
            r.concurrency,
            r.per_s,
            r.p50,
            r.p99,
            r.checkouts,
            r.errors,
            r.cpu.server_ms,
            r.cpu.client_ms,
            r.cpu.rest_ms
        );
        report.checkouts.push(r);
    }
    server.stop()?;
    drop(db);
    Ok(())
}

async fn flow(
    channels: &[Channel],
    agent: &Bearer,
    fixture: &Arc<Fixture>,
    backend: Backend,
    concurrency: usize,
    args: &Args,
    server_pid: u32,
) -> Result<FlowResult> {
    let load = load_average();
    let measure_from = Instant::now() + Duration::from_secs_f64(args.warmup);
    let until = measure_from + Duration::from_secs_f64(args.seconds);
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let before = cpu_sample(server_pid);
        tokio::time::sleep_until(until.into()).await;
        let after = cpu_sample(server_pid);
        before.zip(after)
    });
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mut api = Api::new(channels[w % channels.len()].clone(), agent.clone());
        let fixture = fixture.clone();
        // Each task has customers of its own: checkouts of one customer are serialized.
        let mine: Vec<String> = fixture
            .customers
            .iter()
            .skip(w % fixture.customers.len())
            .step_by(concurrency)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new()?;
            for customer in mine.iter().cycle() {
                if Instant::now() >= until {
                    break;
                }
                let result = buy(&mut api, customer, &fixture.lines).await;
                let done = Instant::now();
                if done < measure_from || done > until {
                    continue;
                }
                match result {
                    Ok((whole, checkout)) => {
                        tally.done += 1;
                        record(&mut tally.flow, whole);
                        record(&mut tally.checkout, checkout);
                    }
                    Err(e) => tally.error(e),
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::new()?;
    for task in tasks {
        total.merge(task.await??)?;
    }
    if let Some(e) = &total.first_error {
        eprintln!("  first error: {e}");
    }
    let orders = total.done.max(1) as f64;
    let (server_cpu_ms, client_cpu_ms, busy_cores) = match cpu.await? {
        Some((a, b)) => (
            (b.0 - a.0) * 1000.0 / orders,
            (b.1 - a.1) * 1000.0 / orders,
            (b.2 - a.2) / args.seconds,
        ),
        None => (f64::NAN, f64::NAN, f64::NAN),
    };
    eprintln!(
        "  CPU per order: server {server_cpu_ms:.2} ms, load generator {client_cpu_ms:.2} ms; \
         machine busy {busy_cores:.2} cores of {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    Ok(FlowResult {
        server_cpu_ms,
        client_cpu_ms,
        busy_cores,
        backend,
        concurrency,
        orders_per_s: total.done as f64 / args.seconds,
        checkout_p50: ms(&total.checkout, 0.5),
        checkout_p99: ms(&total.checkout, 0.99),
        flow_p50: ms(&total.flow, 0.5),
        flow_p99: ms(&total.flow, 0.99),
        orders: total.done,
        errors: total.errors,
        load,
    })
}

async fn checkout_alone(
    channels: &[Channel],
    agent: &Bearer,
    fixture: &Arc<Fixture>,
    backend: Backend,
    args: &Args,
    server_pid: u32,
) -> Result<CheckoutResult> {
    let concurrency = args.checkout_concurrency.max(1);
    let started = Instant::now();
    // Prepare the carts (3 lines each), at 16 in flight.
    let n_customers = fixture.customers.len();
    let prepared = futures::stream::iter(0..args.carts)
        .map(|i| {
            let mut api = Api::new(channels[i % channels.len()].clone(), agent.clone());
            let customer = i % n_customers;
            let request = pb::CreateCartRequest {
                request_id: rid(),
                customer_id: fixture.customers[customer].clone(),
                lines: fixture.lines.clone(),
            };
            async move {
                let cart = api
                    .carts
                    .create_cart(request)
                    .await?
                    .into_inner()
                    .cart
                    .ok_or_else(|| anyhow!("CreateCart answered no cart"))?;
                anyhow::Ok((customer, cart.id, cart.etag))
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    eprintln!(
        "  {} carts prepared in {:.1} s",
        prepared.len(),
        started.elapsed().as_secs_f64()
    );
    // Each task checks out the carts of its own customers, customers interleaved.
    let mut queues: Vec<Vec<(String, String)>> = vec![Vec::new(); concurrency];
    for (customer, id, etag) in prepared {
        queues[customer % concurrency].push((id, etag));
    }
    let load = load_average();
    let cpu_before = cpu_sample(server_pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, queue) in queues.into_iter().enumerate() {
        let mut api = Api::new(channels[w % channels.len()].clone(), agent.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new()?;
            for (cart_id, etag) in queue {
                let t = Instant::now();
                match api
                    .carts
                    .checkout(pb::CheckoutRequest {
                        request_id: rid(),
                        cart_id,
                        etag,
                    })
                    .await
                {
                    Ok(_) => {
                        tally.done += 1;
                        record(&mut tally.checkout, t.elapsed());
                    }
                    Err(e) => tally.error(e),
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::new()?;
    for task in tasks {
        total.merge(task.await??)?;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = CpuPerCall::between(cpu_before, cpu_sample(server_pid), total.done);
    if let Some(e) = &total.first_error {
        eprintln!("  first error: {e}");
    }
    eprintln!("  load average before the checkouts: {load}");
    Ok(CheckoutResult {
        backend,
        concurrency,
        per_s: total.done as f64 / wall,
        p50: ms(&total.checkout, 0.5),
        p99: ms(&total.checkout, 0.99),
        checkouts: total.done,
        errors: total.errors,
        cpu,
    })
}

/// `pgbench -i -s 10` then `pgbench -b simple-update -c 8 -j 2 -T <s>`: transactions/s.
fn pgbench(args: &Args) -> Result<f64> {
    eprintln!("== pgbench");
    let name = format!("bench_pgb_{}", uuid::Uuid::new_v4().simple());
    psql(&args.postgres, &format!("CREATE DATABASE {name}"))?;
    let run = |extra: &[&str]| -> Result<String> {
        let out = Command::new("pgbench")
            .args(extra)
            .args(["-h", "127.0.0.1", "-U", "postgres", &name])
            .output()
            .context("running pgbench")?;
        if !out.status.success() {
            bail!("pgbench: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let result = run(&["-i", "-s", "10", "-q"]).and_then(|_| {
        run(&[
            "-b",
            "simple-update",
            "-c",
            "8",
            "-j",
            "2",
            "-T",
            &args.pgbench_seconds.to_string(),
        ])
    });
    let _ = psql(
        &args.postgres,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    let out = result?;
    let tps = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .ok_or_else(|| anyhow!("no `tps = ` line in pgbench's output:\n{out}"))?;
    println!(
        "pgbench   simple-update -c 8 -j 2 -T {}: {tps:.0} TPS",
        args.pgbench_seconds
    );
    Ok(tps)
}

// ---------------------------------------------------------------------------------------------
// Issue 4: import + diff of a big month

/// Data lines of a CSV file with one record per line.
fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().skip(1).filter(|l| !l.trim().is_empty())
}

/// The 2026-12 demo month plus synthetic markets (copies of the US list, in USD) until at least
/// `rows` price rows; the offer matrix allows the new markets. Returns the files and row count.
fn big_month(dir: &Path, rows: usize) -> Result<(PathBuf, Vec<PathBuf>, usize)> {
    let demo = manifest_dir().join("data/demo").join(NEXT_MONTH);
    let mut lists = Vec::new();
    let mut total = 0;
    for market in DEMO_MARKETS {
        let path = demo.join(format!("pricelist-{market}.csv"));
        total += data_lines(&std::fs::read_to_string(&path)?).count();
        lists.push(path);
    }
    let us = std::fs::read_to_string(demo.join("pricelist-US.csv"))?;
    let header = us.lines().next().ok_or_else(|| anyhow!("empty US list"))?;
    let us_rows: Vec<&str> = data_lines(&us).collect();
    let mut extra = Vec::new();
    for market in EXTRA_MARKETS {
        if total >= rows {
            break;
        }
        let mut text = String::with_capacity(us.len());
        text.push_str(header);
        text.push_str("\r\n");
        for row in &us_rows {
            if !row.contains("\"US\",\"USD\"") {
                bail!("a US row without \"US\",\"USD\": {row}");
            }
            text.push_str(&row.replacen("\"US\",\"USD\"", &format!("\"{market}\",\"USD\""), 1));
            text.push_str("\r\n");
        }
        let path = dir.join(format!("pricelist-{market}.csv"));
        std::fs::write(&path, text)?;
        lists.push(path);
        extra.push(market);
        total += us_rows.len();
    }
    if total < rows {
        bail!("only {total} rows with every synthetic market");
    }
    let matrix = std::fs::read_to_string(demo.join("offer-matrix.csv"))?;
    let suffix: String = extra.iter().map(|m| format!(";{m}")).collect();
    let mut text = String::with_capacity(matrix.len() + 320 * suffix.len());
    for (i, line) in matrix.lines().enumerate() {
        text.push_str(line);
        if i > 0 && !line.trim().is_empty() {
            text.push_str(&suffix);
        }
        text.push_str("\r\n");
    }
    let matrix_path = dir.join("offer-matrix.csv");
    std::fs::write(&matrix_path, text)?;
    Ok((matrix_path, lists, total))
}

/// The 2026-12 demo month with the prices of every `every`-th availability (by first
/// appearance in the files) raised by one currency unit (0: unchanged). Returns the matrix and
/// the price lists.
fn repriced_month(dir: &Path, every: usize) -> Result<(PathBuf, Vec<PathBuf>)> {
    let demo = manifest_dir().join("data/demo").join(NEXT_MONTH);
    let mut keys = std::collections::HashMap::new();
    let mut lists = Vec::new();
    for market in DEMO_MARKETS {
        let text = std::fs::read_to_string(demo.join(format!("pricelist-{market}.csv")))?;
        let mut out = String::with_capacity(text.len() + 4096);
        for (n, line) in text.lines().enumerate() {
            let mut fields: Vec<String> = line
                .trim_matches('"')
                .split("\",\"")
                .map(str::to_owned)
                .collect();
            if n > 0 && every > 0 && fields.len() >= 18 {
                // ProductId, SkuId, Market, Segment (absent in the old format).
                let key = (
                    fields[1].clone(),
                    fields[2].clone(),
                    fields[9].clone(),
                    fields.get(18).cloned().unwrap_or_default(),
                );
                let next = keys.len();
                let index = *keys.entry(key).or_insert(next);
                let price = fields[11].clone();
                let (units, rest) = price.split_once('.').unwrap_or((price.as_str(), ""));
                if index % every == 0
                    && let Ok(units) = units.parse::<u64>()
                    && price.parse::<f64>().is_ok_and(|p| p > 0.0)
                {
                    fields[11] = if rest.is_empty() {
                        (units + 1).to_string()
                    } else {
                        format!("{}.{rest}", units + 1)
                    };
                }
            }
            out.push('"');
            out.push_str(&fields.join("\",\""));
            out.push_str("\"\r\n");
        }
        let path = dir.join(format!("pricelist-{market}.csv"));
        std::fs::write(&path, out)?;
        lists.push(path);
    }
    let matrix = dir.join("offer-matrix.csv");
    std::fs::copy(demo.join("offer-matrix.csv"), &matrix)?;
    Ok((matrix, lists))
}

/// A CLI run under `/usr/bin/time -v`: wall seconds, peak RSS in MiB, stderr.
fn timed(bin: &Path, database_url: &str, cli: &[String]) -> Result<(f64, f64, String)> {
    let dir = tempfile::tempdir()?;
    let time_file = dir.path().join("time.txt");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg("-o")
        .arg(&time_file)
        .arg(bin)
        .args(cli)
        .env("CSP_DATABASE_URL", database_url)
        .env("CSP_JWT_SECRET", SECRET)
        .env("CSP_LOG", "warn")
        .env_remove("CSP_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running /usr/bin/time (apt-get install -y time)")?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("{} failed: {}", cli.join(" "), stderr.trim());
    }
    let time = std::fs::read_to_string(&time_file)?;
    let kib: f64 = time
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow!("no peak RSS in /usr/bin/time's output"))?;
    Ok((wall, kib / 1024.0, stderr))
}

#[derive(Debug, Clone)]
struct ImportResult {
    backend: Backend,
    rows: usize,
    import_s: f64,
    import_mib: f64,
    changes_s: f64,
    changes_mib: f64,
    changes: String,
}

fn import(bin: &Path, args: &Args, backend: Backend) -> Result<ImportResult> {
    eprintln!("== import + diff on {}", backend.label());
    let dir = tempfile::tempdir()?;
    let (matrix, lists, rows) = big_month(dir.path(), args.import_rows)?;
    let db = Database::fresh(backend, args)?;
    let import_args = |month: &str, matrix: &Path, lists: &[PathBuf], publish: bool| {
        let mut v = vec![
            "import".to_owned(),
            "--month".to_owned(),
            month.to_owned(),
            "--offer-matrix".to_owned(),
            matrix.display().to_string(),
        ];
        for l in lists {
            v.push("--price-list".into());
            v.push(l.display().to_string());
        }
        if publish {
            v.push("--publish".into());
        }
        v
    };
    let demo = manifest_dir().join("data/demo").join(DEMO_MONTH);
    let demo_lists: Vec<PathBuf> = DEMO_MARKETS
        .iter()
        .map(|m| demo.join(format!("pricelist-{m}.csv")))
        .collect();
    let (s, _, _) = timed(
        bin,
        &db.url,
        &import_args(
            DEMO_MONTH,
            &demo.join("offer-matrix.csv"),
            &demo_lists,
            true,
        ),
    )?;
    eprintln!("  demo month {DEMO_MONTH} imported and published in {s:.1} s");
    let (import_s, import_mib, import_err) = timed(
        bin,
        &db.url,
        &import_args(NEXT_MONTH, &matrix, &lists, false),
    )?;
    eprintln!("  {}", import_err.trim());
    let (changes_s, changes_mib, changes_err) = timed(
        bin,
        &db.url,
        &["changes".into(), "--month".into(), NEXT_MONTH.into()],
    )?;
    let changes = changes_err.trim().lines().last().unwrap_or("").to_owned();
    println!(
        "import    {:<10} {rows} rows ({} files): import {import_s:.2} s, peak RSS {import_mib:.0} MiB; \
         changes {changes_s:.2} s, peak RSS {changes_mib:.0} MiB ({changes})",
        backend.label(),
        lists.len()
    );
    drop(db);
    Ok(ImportResult {
        backend,
        rows,
        import_s,
        import_mib,
        changes_s,
        changes_mib,
        changes,
    })
}

// ---------------------------------------------------------------------------------------------
// Issue 4: idle subscribers and publish-to-delivery latency

#[derive(Debug, Clone)]
struct SubscriberResult {
    label: &'static str,
    subscribers: usize,
    connections: usize,
    rss_before_kib: u64,
    /// What each subscriber of the second half added.
    second_half_kib: Option<f64>,
    rss_after_kib: u64,
    per_subscriber_kib: f64,
    changes: u64,
    delivered: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    publish_ms: f64,
    errors: u64,
}

async fn subscribers(
    bin: &Path,
    args: &Args,
    n: usize,
    connections: usize,
    label: &'static str,
) -> Result<SubscriberResult> {
    eprintln!(
        "== {n} subscribers over {connections} connections ({}, {:?} client accepting {:?}, \
         inflating {:?})",
        args.subscriber_backend.label(),
        args.subscriber_client,
        args.subscriber_encoding,
        args.subscriber_inflate
    );
    let db = Database::fresh(args.subscriber_backend, args)?;
    let mut server = Server::start(bin, &db.url).await?;
    let agent = sales_agent()?;
    let admin_token = bearer(None, Role::CatalogAdmin)?;
    let mut admin = Api::new(
        connect(server.addr, Some(Duration::from_secs(120))).await?,
        admin_token,
    );
    // The month to publish is imported first: the subscribers then measure publishing only.
    let month_dir = tempfile::tempdir()?;
    let (matrix, lists) = repriced_month(month_dir.path(), args.repriced)?;
    let imported = admin
        .admin
        .import_month(pb::ImportMonthRequest {
            request_id: rid(),
            month: NEXT_MONTH.into(),
            offer_matrix_path: matrix.display().to_string(),
            price_list_paths: lists.iter().map(|l| l.display().to_string()).collect(),
        })
        .await
        .context("ImportMonth")?
        .into_inner();
    eprintln!(
        "  imported {NEXT_MONTH}: {} availabilities, {} prices",
        imported.availabilities, imported.prices
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = server.status_kib("VmRSS")?;

    // Subscriber i reports (i, highest revision so far, when) for every batch.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, u64, Instant)>();
    let ready = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    // A subscriber's connection takes DATA frames of up to 1 MiB (HTTP/2's default is 16 KiB):
    // a batch of changes then crosses in one or two frames instead of seven, each of which
    // wakes the stream's reader.
    let mut channels = Vec::new();
    for _ in 0..connections {
        channels.push(
            Endpoint::from_shared(format!("http://{}", server.addr))?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .max_frame_size(SUBSCRIBER_FRAME_SIZE)
                .connect()
                .await?,
        );
    }
    let mut lean_connections = Vec::new();
    if args.subscriber_client == SubscriberClient::Lean {
        for _ in 0..connections {
            lean_connections.push(lean_connection(server.addr).await?);
        }
    }
    let authorization = http::HeaderValue::from_bytes(agent.0.as_encoded_bytes())?;
    let uri: http::Uri = format!(
        "http://{}/csp.commerce.v1.CatalogService/WatchCatalogChanges",
        server.addr
    )
    .parse()?;
    let (encoding, inflate) = (args.subscriber_encoding, args.subscriber_inflate);
    let mut tasks = Vec::with_capacity(n);
    // The RSS once the first half is subscribed too: what the second half adds is what a
    // subscriber costs once the allocator's free memory left from start-up and the import is
    // used up (the whole difference swings with how much of it there was).
    let half = n / 2;
    let mut rss_half_kib = None;
    for i in 0..n {
        if i == half && half > 0 {
            wait_subscribed(&ready, &errors, half).await?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            rss_half_kib = Some(server.status_kib("VmRSS")?);
        }
        let mut client = tonic::client::Grpc::new(InterceptedService::new(
            channels[i % connections].clone(),
            agent.clone(),
        ));
        if args.subscriber_encoding == SubscriberEncoding::Zstd {
            client = client.accept_compressed(tonic::codec::CompressionEncoding::Zstd);
        }
        let (tx, ready, errors, first_error) = (
            tx.clone(),
            ready.clone(),
            errors.clone(),
            first_error.clone(),
        );
        if let Some(send) = lean_connections.get(i % connections.max(1)) {
            let (send, uri, authorization) = (send.clone(), uri.clone(), authorization.clone());
            tasks.push(tokio::spawn(async move {
                let tops = |top| {
                    let _ = tx.send((i, top, Instant::now()));
                };
                if let Err(e) =
                    lean_watch(send, uri, authorization, (encoding, inflate), &ready, tops).await
                {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = first_error.lock() {
                        first.get_or_insert(e);
                    }
                }
            }));
            continue;
        }
        tasks.push(tokio::spawn(async move {
            let result: Result<(), tonic::Status> = async {
                client.ready().await.map_err(|e| {
                    tonic::Status::unavailable(format!("connection not ready: {e}"))
                })?;
                let mut stream = client
                    .server_streaming(
                        tonic::Request::new(pb::WatchCatalogChangesRequest {
                            start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
                            ..Default::default()
                        }),
                        PathAndQuery::from_static(
                            "/csp.commerce.v1.CatalogService/WatchCatalogChanges",
                        ),
                        WatchCodec,
                    )
                    .await?
                    .into_inner();
                ready.fetch_add(1, Ordering::Relaxed);
                while let Some(top) = stream.message().await? {
                    if let Some(top) = top {
                        let _ = tx.send((i, top, Instant::now()));
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = first_error.lock() {
                    first.get_or_insert_with(|| format!("{:?}: {}", e.code(), e.message()));
                }
            }
        }));
    }
    drop(tx);
    wait_subscribed(&ready, &errors, n).await?;
    let subscribed = ready.load(Ordering::Relaxed);
    // Idle for a while, then the memory they hold.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = server.status_kib("VmRSS")?;
    let per_subscriber_kib = (rss_after_kib as f64 - rss_before_kib as f64) / n as f64;
    let second_half_kib =
        rss_half_kib.map(|h| (rss_after_kib as f64 - h as f64) / (n - half) as f64);
    eprintln!(
        "  {subscribed} subscribed; server RSS {rss_before_kib} KiB -> {} KiB (half) -> \
         {rss_after_kib} KiB: {per_subscriber_kib:.1} KiB per idle subscriber, {} KiB each \
         of the second half",
        rss_half_kib.map_or_else(|| "-".to_owned(), |h| h.to_string()),
        second_half_kib.map_or_else(|| "-".to_owned(), |k| format!("{k:.1}")),
    );

    let cpu_before = cpu_sample(server.child.id());
    let sent = Instant::now();
    let published = admin
        .admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: NEXT_MONTH.into(),
        })
        .await
        .context("PublishMonth")?
        .into_inner();
    let publish_ms = sent.elapsed().as_secs_f64() * 1000.0;
    let last = published.last_revision;
    let changes = last.saturating_sub(published.first_revision) + 1;
    let mut seen: Vec<Option<(u64, Instant)>> = vec![None; n];
    let mut delivered = 0usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    while delivered < subscribed as usize {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, rx.recv()).await {
            Ok(Some((i, top, when))) => {
                let before = seen[i].is_some_and(|(t, _)| t >= last);
                if seen[i].is_none_or(|(t, _)| top > t) {
                    seen[i] = Some((top, when));
                }
                if !before && top >= last {
                    delivered += 1;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    // The CPU the delivery took (to the last subscriber's last batch): server, load generator.
    let cpu_after = cpu_sample(server.child.id());
    if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
        let wall = sent.elapsed().as_secs_f64();
        eprintln!(
            "  delivery CPU: server {:.2} s, load generator {:.2} s, machine {:.2} s of {:.2} s x {} cores",
            b.0 - a.0,
            b.1 - a.1,
            b.2 - a.2,
            wall,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
    let mut latency = histogram()?;
    for (_, when) in seen.iter().flatten().filter(|(t, _)| *t >= last) {
        record(&mut latency, when.saturating_duration_since(sent));
    }
    eprintln!(
        "  first subscriber through the last change after {:.0} ms",
        latency.min() as f64 / 1000.0
    );
    for task in &tasks {
        task.abort();
    }
    drop(channels);
    let errors = errors.load(Ordering::Relaxed);
    if let Ok(first) = first_error.lock()
        && let Some(e) = first.as_ref()
    {
        eprintln!("  first error: {e}");
    }
    let peak = server.status_kib("VmHWM").unwrap_or(0);
    server.stop()?;
    drop(db);
    let r = SubscriberResult {
        label,
        subscribers: n,
        connections,
        rss_before_kib,
        second_half_kib,
        rss_after_kib,
        per_subscriber_kib,
        changes,
        delivered,
        p50_ms: ms(&latency, 0.5),
        p99_ms: ms(&latency, 0.99),
        max_ms: latency.max() as f64 / 1000.0,
        publish_ms,
        errors,
    };
    println!(
        "subs      {n} over {connections} conns ({label}): {:.1} KiB/idle subscriber \
         (RSS {} -> {} KiB, peak {peak} KiB); publish of {changes} changes answered in {:.0} ms; \
         delivered to {delivered}/{n}: p50 {:.0} ms p99 {:.0} ms max {:.0} ms; errors {errors}",
        r.per_subscriber_kib,
        r.rss_before_kib,
        r.rss_after_kib,
        r.publish_ms,
        r.p50_ms,
        r.p99_ms,
        r.max_ms
    );
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Summary

#[derive(Default)]
struct Report {
    flows: Vec<FlowResult>,
    checkouts: Vec<CheckoutResult>,
    pgbench_tps: Option<f64>,
    imports: Vec<ImportResult>,
    subscribers: Vec<SubscriberResult>,
    failures: Vec<String>,
}

fn verdict(ok: bool) -> &'static str {
    if ok { "MET" } else { "NOT MET" }
}

impl Report {
    fn print(&self) {
        println!("\n## Summary\n");
        if !self.flows.is_empty() {
            println!(
                "| backend | clients | orders/s | checkout p50 | checkout p99 | flow p50 | flow p99 | orders | errors | server CPU/order | bench CPU/order | busy cores | load avg |"
            );
            println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for f in &self.flows {
                println!(
                    "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {:.2} ms | {:.2} ms | {:.2} | {} |",
                    f.backend.label(),
                    f.concurrency,
                    f.orders_per_s,
                    f.checkout_p50,
                    f.checkout_p99,
                    f.flow_p50,
                    f.flow_p99,
                    f.orders,
                    f.errors,
                    f.server_cpu_ms,
                    f.client_cpu_ms,
                    f.busy_cores,
                    f.load
                );
            }
            println!();
        }
        if !self.checkouts.is_empty() {
            println!(
                "| Checkout alone | clients | checkouts/s | p50 | p99 | n | errors | server CPU/checkout | bench CPU/checkout | rest of machine CPU/checkout |"
            );
            println!("|---|---|---|---|---|---|---|---|---|---|");
            for c in &self.checkouts {
                println!(
                    "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
                    c.backend.label(),
                    c.concurrency,
                    c.per_s,
                    c.p50,
                    c.p99,
                    c.checkouts,
                    c.errors,
                    c.cpu.server_ms,
                    c.cpu.client_ms,
                    c.cpu.rest_ms
                );
            }
            println!();
        }
        if let Some(tps) = self.pgbench_tps {
            println!("pgbench simple-update: {tps:.0} TPS\n");
        }
        for i in &self.imports {
            println!(
                "import {} rows on {}: import {:.2} s / {:.0} MiB, changes {:.2} s / {:.0} MiB ({})",
                i.rows,
                i.backend.label(),
                i.import_s,
                i.import_mib,
                i.changes_s,
                i.changes_mib,
                i.changes
            );
        }
        for s in &self.subscribers {
            println!(
                "{} subscribers over {} connections ({}): {:.1} KiB each; {} changes; \
                 delivered {}/{}: p50 {:.0} ms p99 {:.0} ms max {:.0} ms; errors {}",
                s.subscribers,
                s.connections,
                s.label,
                s.per_subscriber_kib,
                s.changes,
                s.delivered,
                s.subscribers,
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.errors
            );
        }

        println!("\n## Targets\n");
        for f in &self.flows {
            let target = match f.backend {
                Backend::Sqlite => 1000.0,
                Backend::Postgres => 300.0,
            };
            println!(
                "- flow {} c={}: {:.0} orders/s (target >= {target:.0}): {}; errors {}: {}",
                f.backend.label(),
                f.concurrency,
                f.orders_per_s,
                verdict(f.orders_per_s >= target),
                f.errors,
                verdict(f.errors == 0)
            );
            if f.concurrency == 16 {
                println!(
                    "- checkout p99 {} c=16: {:.1} ms (target < 50 ms): {}",
                    f.backend.label(),
                    f.checkout_p99,
                    verdict(f.checkout_p99 < 50.0)
                );
            }
        }
        if let Some(tps) = self.pgbench_tps {
            for c in self
                .checkouts
                .iter()
                .filter(|c| c.backend == Backend::Postgres)
            {
                let ratio = c.per_s / tps * 100.0;
                println!(
                    "- checkout alone / pgbench: {:.0} / {tps:.0} = {ratio:.0}% (target >= 50%): {}",
                    c.per_s,
                    verdict(ratio >= 50.0)
                );
            }
        }
        for i in &self.imports {
            let total = i.import_s + i.changes_s;
            let peak = i.import_mib.max(i.changes_mib);
            println!(
                "- import + diff {} ({} rows): {total:.2} s (target < 5 s): {}; peak {peak:.0} MiB (target < 500 MB): {}",
                i.backend.label(),
                i.rows,
                verdict(total < 5.0),
                verdict(peak * 1.048_576 < 500.0)
            );
        }
        for s in &self.subscribers {
            if s.label == "multiplexed" {
                println!(
                    "- idle subscriber memory (multiplexed): {:.1} KiB (target < 20 KiB): {} \
                     ({} KiB each of the second half)",
                    s.per_subscriber_kib,
                    verdict(s.per_subscriber_kib < 20.0),
                    s.second_half_kib
                        .map_or_else(|| "-".to_owned(), |k| format!("{k:.1}"))
                );
            }
            println!(
                "- publish-to-delivery p99 ({}): {:.0} ms (target < 1 s): {}; delivered {}/{}",
                s.label,
                s.p99_ms,
                verdict(s.p99_ms < 1000.0 && s.delivered == s.subscribers),
                s.delivered,
                s.subscribers
            );
        }
        for f in &self.failures {
            println!("- FAILED: {f}");
        }
    }
}

/// A connection of the lean subscribers: HTTP/2 straight from hyper, frames up to 1 MiB.
async fn lean_connection(
    addr: SocketAddr,
) -> Result<hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (send, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .max_frame_size(SUBSCRIBER_FRAME_SIZE)
            .initial_stream_window_size(2 << 20)
            .initial_connection_window_size(5 << 20)
            .handshake(hyper_util::rt::TokioIo::new(tcp))
            .await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(send)
}

/// One lean subscriber: `WatchCatalogChanges {from_now}` as a gRPC call over `send`; hands
/// `tops` the `batch_top` of every message, read where it arrived (a message split over
/// frames is joined first; a compressed one inflated into a buffer of the thread's).
/// With `SubscriberInflate::Once`, a compressed message whose bytes this thread inflated
/// before is known by their hash instead.
async fn lean_watch(
    mut send: hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
    uri: http::Uri,
    authorization: http::HeaderValue,
    (encoding, inflate): (SubscriberEncoding, SubscriberInflate),
    ready: &AtomicU64,
    mut tops: impl FnMut(u64),
) -> Result<(), String> {
    use bytes::{Buf as _, BufMut as _};
    use http_body_util::BodyExt as _;
    let message = pb::WatchCatalogChangesRequest {
        start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
        ..Default::default()
    }
    .encode_to_vec();
    let mut framed = bytes::BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.put_slice(&message);
    let request = http::Request::post(uri)
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("te", "trailers")
        .header(http::header::AUTHORIZATION, authorization)
        .header(
            "grpc-accept-encoding",
            match encoding {
                SubscriberEncoding::Zstd => "zstd",
                SubscriberEncoding::Identity => "identity",
            },
        )
        .body(http_body_util::Full::new(framed.freeze()))
        .map_err(|e| e.to_string())?;
    send.ready().await.map_err(|e| e.to_string())?;
    let response = send
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(status) = response.headers().get("grpc-status") {
        return Err(format!("refused: grpc-status {status:?}"));
    }
    ready.fetch_add(1, Ordering::Relaxed);
    let mut body = response.into_body();
    let (mut head, mut head_len, mut need, mut parts) =
        ([0u8; 5], 0, 0, Vec::<bytes::Bytes>::new());
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        let mut data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                let status = frame.trailers_ref().and_then(|t| t.get("grpc-status"));
                return match status.map(http::HeaderValue::as_bytes) {
                    Some(b"0") => Ok(()),
                    other => Err(format!("ended: grpc-status {other:?}")),
                };
            }
        };
        while data.has_remaining() {
            if head_len < 5 {
                let take = (5 - head_len).min(data.len());
                head[head_len..head_len + take].copy_from_slice(&data[..take]);
                data.advance(take);
                head_len += take;
                need = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            } else {
                let take = need.min(data.len());
                parts.push(data.split_to(take));
                need -= take;
            }
            if head_len == 5 && need == 0 {
                let joined;
                let message: &[u8] = match parts.as_slice() {
                    [one] => one,
                    _ => {
                        joined = parts.concat();
                        &joined
                    }
                };
                let top = if head[0] == 1 {
                    inflated_top(message, inflate == SubscriberInflate::Once)?
                } else {
                    batch_top(message)?
                };
                if let Some(top) = top {
                    tops(top);
                }
                parts.clear();
                head_len = 0;
            }
        }
    }
    Err("the stream ended without trailers".into())
}

/// A zstd context and its output buffer.
type Inflater = (zstd::bulk::Decompressor<'static>, Vec<u8>);

/// How many inflated messages each thread remembers (`--subscriber-inflate once`).
const INFLATED_KEPT: usize = 64;

thread_local! {
    /// The lean subscribers' inflater, one per thread, made on first use.
    static INFLATE: std::cell::RefCell<Option<Inflater>> = const { std::cell::RefCell::new(None) };
    /// The messages this thread inflated last: the xxh3-128 hash of their compressed bytes,
    /// and the `batch_top` read from them.
    static INFLATED: std::cell::RefCell<Vec<(u128, Option<u64>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The `batch_top` of a zstd-compressed message; with `once`, read from the message with the
/// same hash this thread inflated before, if any.
fn inflated_top(message: &[u8], once: bool) -> Result<Option<u64>, String> {
    let hash = once.then(|| xxhash_rust::xxh3::xxh3_128(message));
    if let Some(hash) = hash {
        let known =
            INFLATED.with_borrow(|kept| kept.iter().find(|(h, _)| *h == hash).map(|(_, top)| *top));
        if let Some(top) = known {
            return Ok(top);
        }
    }
    let top = INFLATE.with_borrow_mut(|slot| {
        let (inflater, out) = match slot {
            Some(made) => made,
            None => slot.insert((
                zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?,
                Vec::with_capacity(4 << 20),
            )),
        };
        out.clear();
        inflater
            .decompress_to_buffer(message, out)
            .map_err(|e| e.to_string())?;
        batch_top(out)
    })?;
    if let Some(hash) = hash {
        INFLATED.with_borrow_mut(|kept| {
            if kept.len() == INFLATED_KEPT {
                kept.remove(0);
            }
            kept.push((hash, top));
        });
    }
    Ok(top)
}

/// Waits until `n` subscribers got their response headers (or failed), for at most 120 s.
async fn wait_subscribed(ready: &AtomicU64, errors: &AtomicU64, n: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while (ready.load(Ordering::Relaxed) + errors.load(Ordering::Relaxed)) < n as u64 {
        if Instant::now() > deadline {
            bail!(
                "only {} of {n} subscribed within 120 s",
                ready.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// How far a `WatchCatalogChangesResponse` got, as a subscriber of the benchmark reads it:
/// `None` for a progress message, else the revision of the batch's last change (changes come in
/// revision order). It walks every change's length prefix and decodes the last change; the
/// bytes of every change still cross the connection. Decoding every field of ten million
/// changes would measure this load generator, on the same two cores as the server.
fn batch_top(message: &[u8]) -> Result<Option<u64>, String> {
    let Some(batch) = last_field(message, 1)? else {
        return Ok(None);
    };
    let Some(last) = last_field(batch, 1)? else {
        return Ok(None);
    };
    ThinChange::decode(last)
        .map(|c| Some(c.revision))
        .map_err(|e| e.to_string())
}

/// The last length-delimited field `tag` of `message`, whose fields are all length-delimited.
fn last_field(mut message: &[u8], tag: u32) -> Result<Option<&[u8]>, String> {
    use prost::encoding::{WireType, decode_key, decode_varint};
    let mut last = None;
    while !message.is_empty() {
        let (field, wire_type) = decode_key(&mut message).map_err(|e| e.to_string())?;
        if wire_type != WireType::LengthDelimited {
            return Err(format!("field {field} is not length-delimited"));
        }
        let len = usize::try_from(decode_varint(&mut message).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        if len > message.len() {
            return Err(format!("field {field} runs past the message"));
        }
        let (value, rest) = message.split_at(len);
        if field == tag {
            last = Some(value);
        }
        message = rest;
    }
    Ok(last)
}

#[derive(Clone, PartialEq, prost::Message)]
struct ThinChange {
    #[prost(uint64, tag = "1")]
    revision: u64,
}

/// Requests encoded by prost, answers read by `batch_top` where they arrived (in tonic's
/// buffer, which is then reused: nothing is copied or allocated per answer).
#[derive(Debug, Clone, Copy)]
struct WatchCodec;

struct TopDecoder;

impl tonic::codec::Decoder for TopDecoder {
    /// `batch_top` of the answer.
    type Item = Option<u64>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Option<u64>>, tonic::Status> {
        use bytes::Buf as _;
        let len = src.remaining();
        let top = if src.chunk().len() >= len {
            batch_top(&src.chunk()[..len])
        } else {
            batch_top(&src.copy_to_bytes(len))
        }
        .map_err(tonic::Status::data_loss)?;
        src.advance(src.remaining());
        Ok(Some(top))
    }
}

impl tonic::codec::Codec for WatchCodec {
    type Encode = pb::WatchCatalogChangesRequest;
    type Decode = Option<u64>;
    type Encoder = tonic_prost::ProstEncoder<pb::WatchCatalogChangesRequest>;
    type Decoder = TopDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(tonic::codec::BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        TopDecoder
    }
}
