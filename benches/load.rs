//! Load benchmark of the release server, against a bare tonic server as the yardstick.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench load                       # everything, defaults below
//! cargo bench --bench load -- --scenario startup --startups 9
//! cargo bench --bench load -- --scenario bare,mix --rounds 3 --seconds 3
//! ```
//!
//! It builds nothing: it spawns `CSP_BIN` (default `target/release/csp-commerce`) as a child
//! process on a fresh SQLite file and a free loopback port, and re-executes itself with
//! `--bare-server PORT` for a server that answers only `grpc.health.v1.Health/Check` on the
//! same runtime settings (tokio multi-thread, default workers). The load generator runs in this
//! process: C requests in flight over K HTTP/2 connections, for a fixed time after a warm-up;
//! every latency goes into an HDR histogram. Bare and catalog rounds alternate, and the summary
//! reports medians over the rounds.
//!
//! Other modes: `--frame-get-sku FILE` writes a gRPC-framed `GetSkuRequest` (for h2load, see
//! `scripts/h2load.sh`).

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::{Buf as _, BufMut as _, Bytes};
use clap::{Parser, ValueEnum};
use csp_commerce::auth::TokenKeys;
use csp_commerce::config::Settings;
use csp_commerce::domain::customer::Role;
use csp_commerce::domain::ids::PartnerId;
use csp_commerce::grpc::pb;
use hdrhistogram::Histogram;
use pb::catalog_service_client::CatalogServiceClient;
use prost::Message as _;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

mod support;

use support::{
    CATALOG_SERVICE, START_TIMEOUT, cpu_sample, free_port, grpc_frame, histogram, server_binary,
    verdict,
};

/// The same allocator as the server under test: the bare server (this binary re-executed) is
/// the yardstick, and it should differ from the real one only in what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The HS256 secret given to the server under test (and used here to mint the token).
const SECRET: &str = "load-bench-secret-0123456789abcdef";
/// The demo partner whose sales agent calls, and its US customer for CheckPurchasability.
const PARTNER: &str = "us";
const CUSTOMER: &str = "us-fabrikam";
/// Words of the text-filtered listing.
const TEXT: &str = "office";
/// One call that takes longer than this counts as an error (and keeps the run bounded).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(2);
/// Receive windows of the load generator's connections.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

#[derive(Parser, Debug)]
#[command(
    name = "load",
    about = "Load benchmark of the csp-commerce release binary against a bare tonic server"
)]
struct Args {
    /// Interleaved rounds (each runs every selected load scenario once).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Measured seconds per scenario and round.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Warm-up seconds before each measurement (same load, not recorded).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// HTTP/2 connections (tonic Channels) the requests are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Start-ups of the server, each on a fresh database.
    #[arg(long, default_value_t = 5)]
    startups: usize,
    /// Scenarios to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    scenario: Vec<ScenarioArg>,
    /// Product of the GetSku / ListAvailabilities / CheckPurchasability calls.
    #[arg(long, default_value = "CFQ7TTC0LH18")]
    product: String,
    /// SKU of the GetSku / ListAvailabilities / CheckPurchasability calls.
    #[arg(long, default_value = "0001")]
    sku: String,
    /// Only write a gRPC-framed GetSkuRequest (--product, --sku) to FILE and exit.
    #[arg(long, value_name = "FILE")]
    frame_get_sku: Option<PathBuf>,
    /// Internal: serve only grpc.health.v1 on 127.0.0.1:PORT until stdin closes.
    #[arg(long, value_name = "PORT", hide = true)]
    bare_server: Option<u16>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScenarioArg {
    /// Every scenario below.
    All,
    /// Start-up time on a fresh database, and a restart on the populated one.
    Startup,
    /// grpc.health.v1 Check on the bare tonic server.
    Bare,
    /// The catalog mix: each call below in turn.
    Mix,
    ListProducts,
    ListProductsText,
    GetSku,
    ListAvailabilities,
    /// What the customer may buy, first page of 20 (not in the mix, which stays comparable).
    ListOffers,
    CheckPurchasability,
}

impl ScenarioArg {
    fn load_scenarios() -> [ScenarioArg; 8] {
        use ScenarioArg::*;
        [
            Bare,
            Mix,
            ListProducts,
            ListProductsText,
            GetSku,
            ListAvailabilities,
            ListOffers,
            CheckPurchasability,
        ]
    }

    fn label(self) -> &'static str {
        match self {
            ScenarioArg::All => "all",
            ScenarioArg::Startup => "startup",
            ScenarioArg::Bare => "bare: Health/Check",
            ScenarioArg::Mix => "catalog mix",
            ScenarioArg::ListProducts => "ListProducts US online p20",
            ScenarioArg::ListProductsText => "ListProducts + text",
            ScenarioArg::GetSku => "GetSku",
            ScenarioArg::ListAvailabilities => "ListAvailabilities",
            ScenarioArg::ListOffers => "ListOffers customer p20",
            ScenarioArg::CheckPurchasability => "CheckPurchasability",
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(port) = args.bare_server {
        return bare_server(port).await;
    }
    if let Some(file) = &args.frame_get_sku {
        let body = grpc_frame(&pb::GetSkuRequest {
            month: String::new(),
            product_id: args.product.clone(),
            sku_id: args.sku.clone(),
        });
        std::fs::write(file, &body).with_context(|| format!("writing {}", file.display()))?;
        eprintln!(
            "wrote {} bytes: GetSku {}/{} as one gRPC message",
            body.len(),
            args.product,
            args.sku
        );
        return Ok(());
    }
    run(args).await
}

// ---------------------------------------------------------------------------------------------
// The bare server (child mode)

async fn bare_server(port: u16) -> Result<()> {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("bare server: binding 127.0.0.1:{port}"))?;
    // Stops when the parent closes our stdin (also when the parent dies), or on a signal.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = tx.send(());
    });
    let shutdown = async {
        tokio::select! {
            _ = rx => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    };
    // The transport settings csp-commerce's server asks for (src/startup.rs), without its
    // services, interceptors or tracing.
    // `Server::tcp_nodelay` is ignored by `serve_with_incoming*`: the incoming stream must set
    // TCP_NODELAY on the accepted sockets itself.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .max_concurrent_streams(1024)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .tcp_nodelay(true)
        .add_service(health)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// A server child process, killed when dropped.
struct ServerProcess {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (graceful drain), then SIGKILL after a few seconds.
    fn stop(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // Closing stdin stops the bare server; SIGTERM stops csp-commerce.
        drop(self.child.stdin.take());
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("{} did not stop within 5 s: killing it", self.name);
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// CPU time of the server under test, of this process and of the whole machine.
#[derive(Debug, Clone, Copy)]
struct CpuSample {
    server: Duration,
    client: Duration,
    machine: Duration,
}

impl CpuSample {
    fn take(server: &ServerProcess) -> Option<Self> {
        let (server, client, machine) = cpu_sample(server.pid())?;
        Some(Self {
            server: Duration::from_secs_f64(server),
            client: Duration::from_secs_f64(client),
            machine: Duration::from_secs_f64(machine),
        })
    }
}

/// How long a start took, from spawn.
#[derive(Debug, Clone, Copy)]
struct Startup {
    /// Until the catalog service's health answered SERVING: the start-up figure.
    serving: Duration,
    /// Until the port first accepted a connection (the catalog is loaded before the bind).
    listening: Duration,
}

/// Spawns csp-commerce on `db` and times it until its catalog service answers SERVING.
async fn start_csp(bin: &Path, db: &Path) -> Result<(ServerProcess, Startup)> {
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    let child = Command::new(bin)
        .arg("serve")
        .env("CSP_LISTEN", addr.to_string())
        .env("CSP_DATABASE_URL", Settings::sqlite_url(db))
        .env("CSP_JWT_SECRET", SECRET)
        .env("CSP_LOG", "warn")
        // The other quotas are counted (their cost is measured) but never reached.
        .envs(
            support::QUOTAS_NEVER_REACHED
                .iter()
                .map(|&name| (name, "1000000000")),
        )
        // Nothing from the caller's environment may add work: no config file, no exporter.
        .env_remove("CSP_CONFIG")
        .env_remove("CSP_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;
    let mut server = ServerProcess {
        name: "csp-commerce",
        child,
        addr,
    };
    let listening = wait_serving(&mut server, CATALOG_SERVICE).await?;
    let serving = started.elapsed();
    Ok((
        server,
        Startup {
            serving,
            listening: listening.saturating_duration_since(started),
        },
    ))
}

/// Re-executes this benchmark binary as the bare server.
async fn start_bare() -> Result<ServerProcess> {
    let port = free_port()?;
    let me = std::env::current_exe().context("locating the benchmark binary")?;
    let child = Command::new(me)
        .args(["--bare-server", &port.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .context("spawning the bare server")?;
    let mut server = ServerProcess {
        name: "bare server",
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    wait_serving(&mut server, "").await?;
    Ok(server)
}

/// Polls grpc.health.v1 Check every few milliseconds until `service` is SERVING; returns when
/// the port first accepted a connection.
async fn wait_serving(server: &mut ServerProcess, service: &str) -> Result<Instant> {
    let deadline = Instant::now() + START_TIMEOUT;
    let uri = format!("http://{}", server.addr);
    let mut listening = None;
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!("{} exited during start-up: {status}", server.name);
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not answer SERVING within {START_TIMEOUT:?}",
                server.name
            );
        }
        if let Ok(channel) = Endpoint::from_shared(uri.clone())?
            .connect_timeout(Duration::from_millis(250))
            .connect()
            .await
        {
            let listening = *listening.get_or_insert_with(Instant::now);
            let answer = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: service.to_owned(),
                })
                .await;
            if let Ok(response) = answer
                && response.into_inner().status == ServingStatus::Serving as i32
            {
                return Ok(listening);
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Calls

/// One call of the load, encoded once: the load generator sends these bytes and keeps the
/// answer as bytes. It measures the server, so it does not pay to re-encode every request or to
/// decode answers it would throw away (h2load does neither either). Every answer must still be
/// OK and byte for byte the one checked in full when the call was prepared (answers here are
/// deterministic, and prost's encoding canonical), so a wrong answer counts as an error.
#[derive(Debug, Clone)]
struct Call {
    path: PathAndQuery,
    body: Bytes,
    answer: Bytes,
}

impl Call {
    fn new(path: &'static str, request: &impl prost::Message, answer: Vec<u8>) -> Self {
        Self {
            path: PathAndQuery::from_static(path),
            body: request.encode_to_vec().into(),
            answer: answer.into(),
        }
    }
}

/// The client of one load task, on one connection.
struct Clients {
    grpc: tonic::client::Grpc<Channel>,
    authorization: Option<MetadataValue<Ascii>>,
}

impl Clients {
    fn new(channel: Channel, authorization: Option<MetadataValue<Ascii>>) -> Self {
        Self {
            grpc: tonic::client::Grpc::new(channel),
            authorization,
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        request
    }

    async fn issue(&mut self, call: &Call) -> Result<(), tonic::Status> {
        self.grpc
            .ready()
            .await
            .map_err(|e| tonic::Status::unavailable(format!("connection not ready: {e}")))?;
        let request = self.request(call.body.clone());
        let answer = self
            .grpc
            .unary(request, call.path.clone(), RawCodec)
            .await?
            .into_inner();
        if answer != call.answer {
            return Err(tonic::Status::data_loss(format!(
                "{} answered {} bytes unlike the {} checked before the load",
                call.path,
                answer.len(),
                call.answer.len()
            )));
        }
        Ok(())
    }
}

/// Pre-encoded requests out, answers kept as bytes.
#[derive(Debug, Clone, Copy)]
struct RawCodec;

struct RawEncoder;

struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// The catalog calls, prepared once against the running server.
struct CatalogCalls {
    list_products: Call,
    list_products_text: Call,
    get_sku: Call,
    list_availabilities: Call,
    list_offers: Call,
    check_purchasability: Call,
    authorization: MetadataValue<Ascii>,
}

impl CatalogCalls {
    fn for_scenario(&self, scenario: ScenarioArg) -> Vec<Call> {
        match scenario {
            ScenarioArg::Mix => vec![
                self.list_products.clone(),
                self.list_products_text.clone(),
                self.get_sku.clone(),
                self.list_availabilities.clone(),
                self.check_purchasability.clone(),
            ],
            ScenarioArg::ListProducts => vec![self.list_products.clone()],
            ScenarioArg::ListProductsText => vec![self.list_products_text.clone()],
            ScenarioArg::GetSku => vec![self.get_sku.clone()],
            ScenarioArg::ListAvailabilities => vec![self.list_availabilities.clone()],
            ScenarioArg::ListOffers => vec![self.list_offers.clone()],
            ScenarioArg::CheckPurchasability => vec![self.check_purchasability.clone()],
            ScenarioArg::All | ScenarioArg::Startup | ScenarioArg::Bare => Vec::new(),
        }
    }
}

/// Mints the sales agent's token, finds a catalog item and checks every call answers OK with
/// real content once.
async fn prepare_catalog_calls(addr: SocketAddr, args: &Args) -> Result<CatalogCalls> {
    let seed = csp_commerce::demo::seed().map_err(|e| anyhow!("{e}"))?;
    let partner = seed
        .partners
        .iter()
        .find(|p| p.key == PARTNER)
        .ok_or_else(|| anyhow!("no demo partner {PARTNER:?} in seed.json"))?;
    let customer = seed
        .customers
        .iter()
        .find(|c| c.key == CUSTOMER && c.partner == PARTNER)
        .ok_or_else(|| anyhow!("no demo customer {CUSTOMER:?} of {PARTNER:?} in seed.json"))?;
    let keys = TokenKeys::new(SECRET, None).map_err(anyhow::Error::msg)?;
    let token = keys
        .mint(
            "load-bench",
            Some(PartnerId::from_uuid(partner.id)),
            Role::SalesAgent,
            chrono::Duration::hours(6),
        )
        .map_err(anyhow::Error::msg)?;
    let authorization: MetadataValue<Ascii> = format!("Bearer {token}").parse()?;

    let channel = Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut catalog = CatalogServiceClient::new(channel);

    let filter = pb::CatalogFilter {
        country: "US".into(),
        product_type: pb::ProductType::OnlineServices as i32,
        ..Default::default()
    };
    let list_products = pb::ListProductsRequest {
        filter: Some(filter.clone()),
        page_size: 20,
        ..Default::default()
    };
    let list_products_text = pb::ListProductsRequest {
        filter: Some(pb::CatalogFilter {
            text: TEXT.into(),
            ..filter
        }),
        page_size: 20,
        ..Default::default()
    };
    let mut list_lens = Vec::new();
    for (what, request) in [("", &list_products), (" + text", &list_products_text)] {
        let page = catalog
            .list_products(authorized(&authorization, request.clone()))
            .await
            .with_context(|| format!("ListProducts{what}"))?
            .into_inner();
        if page.products.is_empty() {
            bail!("ListProducts{what} found no product: the demo catalog is not loaded?");
        }
        eprintln!(
            "  ListProducts{what}: {} of {} products on the first page ({} bytes)",
            page.products.len(),
            page.total_size,
            page.encoded_len()
        );
        list_lens.push(page.encode_to_vec());
    }

    let get_sku = pb::GetSkuRequest {
        month: String::new(),
        product_id: args.product.clone(),
        sku_id: args.sku.clone(),
    };
    let answer = catalog
        .get_sku(authorized(&authorization, get_sku.clone()))
        .await
        .context("GetSku")?
        .into_inner();
    let size = answer.encoded_len();
    let sku_answer = answer.encode_to_vec();
    let sku = answer
        .sku
        .ok_or_else(|| anyhow!("GetSku answered no SKU"))?;
    eprintln!(
        "  GetSku: {}/{} {} ({size} bytes)",
        sku.product_id, sku.id, sku.title
    );

    let list_availabilities = pb::ListAvailabilitiesRequest {
        product_id: args.product.clone(),
        sku_id: args.sku.clone(),
        ..Default::default()
    };
    let all = catalog
        .list_availabilities(authorized(&authorization, list_availabilities.clone()))
        .await
        .context("ListAvailabilities")?
        .into_inner();
    eprintln!(
        "  ListAvailabilities: {} availabilities ({} bytes)",
        all.availabilities.len(),
        all.encoded_len()
    );
    // The item to check: the SKU as sold in the customer's country to commercial customers.
    let ours = catalog
        .list_availabilities(authorized(
            &authorization,
            pb::ListAvailabilitiesRequest {
                country: customer.country.clone(),
                segment: pb::Segment::Commercial as i32,
                ..list_availabilities.clone()
            },
        ))
        .await
        .context("ListAvailabilities for the customer's country")?
        .into_inner();
    let availability = ours.availabilities.first().ok_or_else(|| {
        anyhow!(
            "{}/{} is not sold to commercial customers in {}",
            args.product,
            args.sku,
            customer.country
        )
    })?;
    let term = availability
        .terms
        .first()
        .ok_or_else(|| anyhow!("{} has no terms", availability.catalog_item_id))?;
    let check_purchasability = pb::CheckPurchasabilityRequest {
        month: String::new(),
        customer_id: customer.id.to_string(),
        catalog_item_id: availability.catalog_item_id.clone(),
        quantity: sku.min_quantity.max(1),
        term: term.term,
        billing_cycle: term.billing_cycle,
    };
    let verdict = catalog
        .check_purchasability(authorized(&authorization, check_purchasability.clone()))
        .await
        .context("CheckPurchasability")?
        .into_inner();
    eprintln!(
        "  CheckPurchasability: {} buys {} x{}: purchasable={} {:?} ({} bytes)",
        CUSTOMER,
        availability.catalog_item_id,
        check_purchasability.quantity,
        verdict.purchasable,
        verdict.problems.iter().map(|p| &p.code).collect::<Vec<_>>(),
        verdict.encoded_len()
    );

    let list_offers = pb::ListOffersRequest {
        customer_id: customer.id.to_string(),
        page_size: 20,
        ..Default::default()
    };
    let offers = catalog
        .list_offers(authorized(&authorization, list_offers.clone()))
        .await
        .context("ListOffers")?
        .into_inner();
    if offers.offers.is_empty() {
        bail!("ListOffers found nothing {CUSTOMER} may buy");
    }
    eprintln!(
        "  ListOffers: {} of {} offers {CUSTOMER} may buy on the first page ({} bytes)",
        offers.offers.len(),
        offers.total_size,
        offers.encoded_len()
    );

    const CATALOG: &str = "/csp.commerce.v1.CatalogService/";
    let path = |method: &str| -> &'static str { format!("{CATALOG}{method}").leak() };
    Ok(CatalogCalls {
        list_products: Call::new(path("ListProducts"), &list_products, list_lens[0].clone()),
        list_products_text: Call::new(
            path("ListProducts"),
            &list_products_text,
            list_lens[1].clone(),
        ),
        get_sku: Call::new(path("GetSku"), &get_sku, sku_answer),
        list_availabilities: Call::new(
            path("ListAvailabilities"),
            &list_availabilities,
            all.encode_to_vec(),
        ),
        list_offers: Call::new(path("ListOffers"), &list_offers, offers.encode_to_vec()),
        check_purchasability: Call::new(
            path("CheckPurchasability"),
            &check_purchasability,
            verdict.encode_to_vec(),
        ),
        authorization,
    })
}

fn authorized<T>(authorization: &MetadataValue<Ascii>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", authorization.clone());
    request
}

// ---------------------------------------------------------------------------------------------
// The load generator

struct LoadConfig {
    concurrency: usize,
    connections: usize,
    warmup: Duration,
    measure: Duration,
}

/// One scenario's round.
#[derive(Debug, Clone)]
struct RoundResult {
    rps: f64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
    count: u64,
    errors: u64,
    first_error: Option<String>,
    /// Server CPU per measured request, when /proc tells.
    server_cpu_us_per_request: Option<f64>,
    /// This load generator's CPU per measured request.
    client_cpu_us_per_request: Option<f64>,
    /// Cores busy with anything but the server under test and this client (other processes,
    /// the idle server, the kernel's own threads), on average over the measured window.
    background_cores: Option<f64>,
}

struct WorkerResult {
    histogram: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
    last_done: Option<Instant>,
}

async fn worker(
    mut clients: Clients,
    calls: Arc<Vec<Call>>,
    offset: usize,
    measure_from: Instant,
    end: Instant,
) -> Result<WorkerResult> {
    let mut histogram = histogram()?;
    let mut errors = 0;
    let mut first_error = None;
    let mut last_done = None;
    let mut next = offset;
    loop {
        let start = Instant::now();
        if start >= end {
            break;
        }
        let call = &calls[next % calls.len()];
        next += 1;
        let outcome = tokio::time::timeout(CALL_TIMEOUT, clients.issue(call)).await;
        let done = Instant::now();
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(status)) => Some(format!("{:?}: {}", status.code(), status.message())),
            Err(_) => Some(format!("no answer within {CALL_TIMEOUT:?}")),
        };
        if let Some(failure) = failure {
            errors += 1;
            first_error.get_or_insert(failure);
        }
        if start >= measure_from {
            histogram.saturating_record((done - start).as_micros() as u64);
            last_done = Some(done);
        }
    }
    Ok(WorkerResult {
        histogram,
        errors,
        first_error,
        last_done,
    })
}

/// Runs `calls` round-robin from `concurrency` tasks over `connections` connections for the
/// warm-up plus the measured time; then every task stops by itself.
async fn run_load(
    server: &ServerProcess,
    calls: Vec<Call>,
    authorization: Option<MetadataValue<Ascii>>,
    config: &LoadConfig,
) -> Result<RoundResult> {
    let uri = format!("http://{}", server.addr);
    let mut channels = Vec::with_capacity(config.connections);
    for _ in 0..config.connections.max(1) {
        channels.push(
            Endpoint::from_shared(uri.clone())?
                .tcp_nodelay(true)
                // h2's default 64 KiB windows stall a connection with 16 answers of a few KiB
                // in flight, and the WINDOW_UPDATE traffic costs both sides CPU.
                .initial_stream_window_size(STREAM_WINDOW)
                .initial_connection_window_size(CONNECTION_WINDOW)
                .connect_timeout(Duration::from_secs(5))
                .connect()
                .await
                .with_context(|| format!("connecting to {}", server.name))?,
        );
    }
    let calls = Arc::new(calls);
    let started = Instant::now();
    let measure_from = started + config.warmup;
    let end = measure_from + config.measure;
    let mut tasks = Vec::with_capacity(config.concurrency);
    for i in 0..config.concurrency.max(1) {
        let clients = Clients::new(channels[i % channels.len()].clone(), authorization.clone());
        tasks.push(tokio::spawn(worker(
            clients,
            calls.clone(),
            i,
            measure_from,
            end,
        )));
    }
    // Server CPU over the measured window.
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_before = CpuSample::take(server);
    tokio::time::sleep_until(end.into()).await;
    let cpu_after = CpuSample::take(server);

    let mut histogram = histogram()?;
    let mut errors = 0;
    let mut first_error = None;
    let mut last_done = measure_from;
    let overall = CALL_TIMEOUT + Duration::from_secs(5);
    for task in tasks {
        let result = tokio::time::timeout(overall, task)
            .await
            .context("a load task did not stop")???;
        histogram.add(&result.histogram)?;
        errors += result.errors;
        if first_error.is_none() {
            first_error = result.first_error;
        }
        if let Some(done) = result.last_done {
            last_done = last_done.max(done);
        }
    }
    let elapsed = (last_done - measure_from).as_secs_f64().max(1e-9);
    let count = histogram.len();
    let cpu = cpu_before.zip(cpu_after).map(|(before, after)| CpuSample {
        server: after.server.saturating_sub(before.server),
        client: after.client.saturating_sub(before.client),
        machine: after.machine.saturating_sub(before.machine),
    });
    let server_cpu_us_per_request = cpu
        .filter(|_| count > 0)
        .map(|c| c.server.as_secs_f64() * 1e6 / count as f64);
    let client_cpu_us_per_request = cpu
        .filter(|_| count > 0)
        .map(|c| c.client.as_secs_f64() * 1e6 / count as f64);
    let background_cores = cpu.map(|c| {
        let other = c.machine.as_secs_f64() - c.server.as_secs_f64() - c.client.as_secs_f64();
        other.max(0.0) / config.measure.as_secs_f64()
    });
    Ok(RoundResult {
        rps: count as f64 / elapsed,
        p50_us: histogram.value_at_quantile(0.50),
        p90_us: histogram.value_at_quantile(0.90),
        p99_us: histogram.value_at_quantile(0.99),
        max_us: histogram.max(),
        count,
        errors,
        first_error,
        server_cpu_us_per_request,
        client_cpu_us_per_request,
        background_cores,
    })
}

// ---------------------------------------------------------------------------------------------
// The run

struct StartupResult {
    fresh: Vec<Startup>,
    restart: Vec<Startup>,
}

async fn measure_startups(bin: &Path, runs: usize) -> Result<StartupResult> {
    let mut fresh = Vec::with_capacity(runs);
    let mut restart = Vec::with_capacity(runs);
    for i in 1..=runs {
        let dir = tempfile::Builder::new()
            .prefix("csp-bench-startup-")
            .tempdir_in("/tmp")?;
        let db = dir.path().join("csp.sqlite");
        let (mut server, took) = start_csp(bin, &db).await?;
        server.stop()?;
        drop(server);
        let (mut again, took_again) = start_csp(bin, &db).await?;
        again.stop()?;
        eprintln!(
            "start-up {i}/{runs}: fresh database {:.0} ms (listening at {:.0} ms), restart on it {:.0} ms (listening at {:.0} ms)",
            ms(took.serving),
            ms(took.listening),
            ms(took_again.serving),
            ms(took_again.listening)
        );
        fresh.push(took);
        restart.push(took_again);
    }
    Ok(StartupResult { fresh, restart })
}

async fn run(args: Args) -> Result<()> {
    let bin = match server_binary() {
        Ok(bin) => bin,
        Err(e) => {
            // A setup mistake, not a failure of the benchmark: the message, without a backtrace.
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let selected =
        |s: ScenarioArg| args.scenario.contains(&ScenarioArg::All) || args.scenario.contains(&s);
    let load: Vec<ScenarioArg> = ScenarioArg::load_scenarios()
        .into_iter()
        .filter(|s| selected(*s))
        .collect();
    if args.rounds == 0 || args.seconds <= 0.0 || args.warmup < 0.0 {
        bail!("--rounds and --seconds must be positive, --warmup not negative");
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "server {} | {cores} cores shared by client and servers | {} rounds x ({:.1} s warm-up + {:.1} s) | {} in flight over {} connections",
        bin.display(),
        args.rounds,
        args.warmup,
        args.seconds,
        args.concurrency,
        args.connections
    );

    let startup = if selected(ScenarioArg::Startup) && args.startups > 0 {
        eprintln!("\n== start-up: spawn until Health/Check({CATALOG_SERVICE}) answers SERVING");
        Some(measure_startups(&bin, args.startups).await?)
    } else {
        None
    };

    let mut results: Vec<(ScenarioArg, Vec<RoundResult>)> =
        load.iter().map(|s| (*s, Vec::new())).collect();
    if !load.is_empty() {
        eprintln!("\n== load");
        let dir = tempfile::Builder::new()
            .prefix("csp-bench-load-")
            .tempdir_in("/tmp")?;
        let (mut csp, took) = start_csp(&bin, &dir.path().join("csp.sqlite")).await?;
        eprintln!(
            "csp-commerce pid {} on {} (ready in {:.0} ms)",
            csp.pid(),
            csp.addr,
            ms(took.serving)
        );
        let mut bare = if selected(ScenarioArg::Bare) {
            let bare = start_bare().await?;
            eprintln!("bare server pid {} on {}", bare.pid(), bare.addr);
            Some(bare)
        } else {
            None
        };
        let calls = prepare_catalog_calls(csp.addr, &args).await?;
        let config = LoadConfig {
            concurrency: args.concurrency,
            connections: args.connections,
            warmup: Duration::from_secs_f64(args.warmup),
            measure: Duration::from_secs_f64(args.seconds),
        };
        for round in 1..=args.rounds {
            for (scenario, rounds) in &mut results {
                let result = match (*scenario, &bare) {
                    (ScenarioArg::Bare, Some(bare)) => {
                        let call = Call::new(
                            "/grpc.health.v1.Health/Check",
                            &HealthCheckRequest {
                                service: String::new(),
                            },
                            HealthCheckResponse {
                                status: ServingStatus::Serving as i32,
                            }
                            .encode_to_vec(),
                        );
                        run_load(bare, vec![call], None, &config).await?
                    }
                    (scenario, _) => {
                        run_load(
                            &csp,
                            calls.for_scenario(scenario),
                            Some(calls.authorization.clone()),
                            &config,
                        )
                        .await?
                    }
                };
                eprintln!(
                    "round {round}/{} {:<28} {:>8.0} req/s  p50 {:>6.2}  p90 {:>6.2}  p99 {:>6.2}  max {:>7.2} ms  CPU us/req server {:>4} client {:>4}  bg {} cores  errors {}{}",
                    args.rounds,
                    scenario.label(),
                    result.rps,
                    us_ms(result.p50_us),
                    us_ms(result.p90_us),
                    us_ms(result.p99_us),
                    us_ms(result.max_us),
                    result
                        .server_cpu_us_per_request
                        .map_or("-".to_owned(), |c| format!("{c:.1}")),
                    result
                        .client_cpu_us_per_request
                        .map_or("-".to_owned(), |c| format!("{c:.1}")),
                    result
                        .background_cores
                        .map_or("-".to_owned(), |c| format!("{c:.2}")),
                    result.errors,
                    result
                        .first_error
                        .as_ref()
                        .map_or(String::new(), |e| format!(" (first: {e})"))
                );
                rounds.push(result);
            }
        }
        if let Some(bare) = &mut bare {
            bare.stop()?;
        }
        csp.stop()?;
    }

    let summary = summary(&args, startup.as_ref(), &results);
    println!("\n{summary}");
    let errors: u64 = results
        .iter()
        .flat_map(|(_, rounds)| rounds.iter().map(|r| r.errors))
        .sum();
    if errors > 0 {
        bail!("{errors} calls failed: every call of the benchmark is valid and must answer OK");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reporting

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us_ms(us: u64) -> f64 {
    us as f64 / 1e3
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn median_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut values: Vec<f64> = values.collect();
    let max = values.iter().copied().fold(f64::NAN, f64::max);
    (median(&mut values), max)
}

fn median_of(rounds: &[RoundResult], f: impl Fn(&RoundResult) -> f64) -> f64 {
    median(&mut rounds.iter().map(f).collect::<Vec<_>>())
}

/// The median of a figure the rounds may lack, formatted, or a dash.
fn median_known(
    rounds: &[RoundResult],
    f: impl Fn(&RoundResult) -> Option<f64>,
    decimals: usize,
) -> String {
    let mut known: Vec<f64> = rounds.iter().filter_map(f).collect();
    if known.is_empty() {
        "–".to_owned()
    } else {
        format!("{:.*}", decimals, median(&mut known))
    }
}

fn git_revision() -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(rev) = run(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown: not a git checkout".into();
    };
    let dirty = run(&["status", "--porcelain", "--", "src", "proto", "Cargo.toml"])
        .is_some_and(|s| !s.is_empty());
    if dirty { format!("{rev}+changes") } else { rev }
}

fn summary(
    args: &Args,
    startup: Option<&StartupResult>,
    results: &[(ScenarioArg, Vec<RoundResult>)],
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(
        out,
        "### Measured {} (git {}, {cores} cores shared by client and servers)\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        git_revision()
    );
    let rounds_of = |s: ScenarioArg| {
        results
            .iter()
            .find(|(scenario, _)| *scenario == s)
            .map(|(_, r)| r.as_slice())
            .filter(|r| !r.is_empty())
    };
    let bare = rounds_of(ScenarioArg::Bare);
    let bare_rps = bare.map(|r| median_of(r, |x| x.rps));

    if !results.is_empty() {
        let _ = writeln!(
            out,
            "Load: {} in flight over {} HTTP/2 connections, {} interleaved rounds of {} s after {} s warm-up; medians over the rounds.\n",
            args.concurrency, args.connections, args.rounds, args.seconds, args.warmup
        );
        let _ = writeln!(
            out,
            "| scenario | req/s (median) | req/s (min–max) | of bare | p50 ms | p90 ms | p99 ms | max ms (median / worst) | server CPU µs/req | client CPU µs/req | background cores | errors |"
        );
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for (scenario, rounds) in results {
            if rounds.is_empty() {
                continue;
            }
            let rps = median_of(rounds, |r| r.rps);
            let min = rounds.iter().map(|r| r.rps).fold(f64::INFINITY, f64::min);
            let max = rounds.iter().map(|r| r.rps).fold(0.0, f64::max);
            let worst = rounds.iter().map(|r| r.max_us).max().unwrap_or(0);
            let errors: u64 = rounds.iter().map(|r| r.errors).sum();
            let of_bare = match bare_rps {
                Some(b) if b > 0.0 => format!("{:.0}%", 100.0 * rps / b),
                _ => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.0}–{:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} | {} | {} | {} | {} |",
                scenario.label(),
                rps,
                min,
                max,
                of_bare,
                median_of(rounds, |r| us_ms(r.p50_us)),
                median_of(rounds, |r| us_ms(r.p90_us)),
                median_of(rounds, |r| us_ms(r.p99_us)),
                median_of(rounds, |r| us_ms(r.max_us)),
                us_ms(worst),
                median_known(rounds, |r| r.server_cpu_us_per_request, 0),
                median_known(rounds, |r| r.client_cpu_us_per_request, 0),
                median_known(rounds, |r| r.background_cores, 2),
                errors
            );
        }
        let requests: u64 = results
            .iter()
            .flat_map(|(_, r)| r.iter().map(|x| x.count))
            .sum();
        let _ = writeln!(out, "\n{requests} measured requests in all.");
    }

    if let Some(s) = startup {
        let _ = writeln!(
            out,
            "\nStart-up: spawn of the release binary until Health/Check answers SERVING, polled every {} ms on a new connection; {} runs.\n",
            POLL_EVERY.as_millis(),
            s.fresh.len()
        );
        let _ = writeln!(
            out,
            "| start-up | until SERVING: median ms | max ms | until the port accepts: median ms | max ms |"
        );
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
        for (what, runs) in [
            (
                "fresh SQLite: migrate + demo partners + import and publish the demo month",
                &s.fresh,
            ),
            (
                "restart on that database (load the published month)",
                &s.restart,
            ),
        ] {
            let (serving_median, serving_max) = median_max(runs.iter().map(|r| ms(r.serving)));
            let (listening_median, listening_max) =
                median_max(runs.iter().map(|r| ms(r.listening)));
            let _ = writeln!(
                out,
                "| {what} | {serving_median:.0} | {serving_max:.0} | {listening_median:.0} | {listening_max:.0} |"
            );
        }
    }

    let mut targets = Vec::new();
    if let (Some(b), Some(mix)) = (bare_rps, rounds_of(ScenarioArg::Mix)) {
        let mix_rps = median_of(mix, |r| r.rps);
        let ratio = mix_rps / b;
        // The same ratio round by round (bare and mix measured back to back).
        let per_round = bare.map(|bare| {
            let mut ratios: Vec<f64> = bare.iter().zip(mix).map(|(b, m)| m.rps / b.rps).collect();
            median(&mut ratios)
        });
        targets.push(format!(
            "| catalog mix ≥ 50% of bare rps | {mix_rps:.0} / {b:.0} req/s = {:.0}% (median of per-round ratios {:.0}%) | {} |",
            100.0 * ratio,
            100.0 * per_round.unwrap_or(f64::NAN),
            verdict(ratio >= 0.5)
        ));
    }
    if let Some(mix) = rounds_of(ScenarioArg::Mix) {
        let p99 = median_of(mix, |r| us_ms(r.p99_us));
        targets.push(format!(
            "| p99 < 5 ms at {} concurrent (catalog mix) | {p99:.2} ms | {} |",
            args.concurrency,
            if args.concurrency == 64 {
                verdict(p99 < 5.0)
            } else {
                "(target is at 64)"
            }
        ));
    }
    if let Some(s) = startup {
        let (median_ms, max_ms) = median_max(s.fresh.iter().map(|r| ms(r.serving)));
        targets.push(format!(
            "| start-up with the demo catalog < 1 s (every run) | median {median_ms:.0} ms, max {max_ms:.0} ms | {} |",
            verdict(max_ms < 1000.0)
        ));
    }
    if !targets.is_empty() {
        let _ = writeln!(out, "\n| target | measured | verdict |");
        let _ = writeln!(out, "| --- | --- | --- |");
        for t in targets {
            let _ = writeln!(out, "{t}");
        }
    }
    out
}
