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
//! cargo bench --bench commerce -- --scenario fleet               # through HAProxy: 1, 3 replicas
//! cargo bench --bench commerce -- --scenario fleet-subscribers --subscriber-inflate once
//! cargo bench --bench commerce -- --scenario fullsize --fullsize-markets 240 --fullsize-rows 15000
//! cargo bench --bench commerce -- --scenario as-of --concurrency 16   # a past month's reads
//! cargo bench --bench commerce -- --scenario renewals             # one pass, 100,000 due
//! cargo bench --bench commerce -- --scenario subscription-events --event-subscribers 1000
//! ```
//!
//! One module a scenario: `flow` (the buying flow), `checkout` (checkout alone, pgbench),
//! `imports`, `subscribers` (with `watch`, how they read the stream), `catalog_size` (issue
//! 21, on the month `fullsize` generates), `as_of` (issue 22: reads as of a past month),
//! `renewals` (issue 22: a renewal pass over 100,000 due subscriptions);
//! `report` prints the summary.
//!
//! It builds nothing: it spawns `CSP_BIN` (default `target/release/csp-commerce`) as a child
//! process on a fresh database (a temp SQLite file, or `CREATE DATABASE bench_<random>` on
//! `--postgres`, dropped afterwards) and a free loopback port, with the per-partner order quota
//! off (`CSP_PARTNER_ORDER_REQUESTS_PER_MINUTE=0`). The load generator runs in this process and
//! every latency goes into an HDR histogram. Every run stops by itself: calls time out after
//! 10 s, phases after a bounded wait.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, ValueEnum};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::cart_service_client::CartServiceClient;
use pb::catalog_admin_service_client::CatalogAdminServiceClient;
use pb::catalog_service_client::CatalogServiceClient;
use pb::customer_service_client::CustomerServiceClient;
use tonic::transport::Channel;

mod as_of;
mod catalog_size;
mod checkout;
mod fleet;
mod fleet_subscribers;
mod flow;
mod fullsize;
mod imports;
mod renewals;
mod report;
mod subscribers;
mod subscription_events;
#[path = "../support/mod.rs"]
mod support;
mod watch;

use checkout::pgbench;
use flow::buying;
use imports::import;
use report::Report;
use subscribers::subscribers;
use support::{
    Authed, Backend, Bearer, bearer, demo_partner, load_average, raise_open_files, server_binary,
};

/// The HS256 secret given to the server under test (and used here to mint tokens).
const SECRET: &str = "commerce-bench-secret-0123456789abcdef";
/// The demo partner whose sales agent buys.
const PARTNER: &str = "us";
/// A unary call that takes longer than this fails (and keeps the run bounded).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
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
    /// Markets of the generated full-size month (`fullsize`).
    #[arg(long, default_value_t = 240)]
    fullsize_markets: usize,
    /// Price rows per market of the generated full-size month (about).
    #[arg(long, default_value_t = 15_000)]
    fullsize_rows: usize,
    /// Where the full-size month is written (kept); default: a temp folder, removed after.
    #[arg(long)]
    fullsize_dir: Option<std::path::PathBuf>,
    /// SQLite only: the database file of the full-size month, imported and published into it
    /// when it does not exist, reused as it is when it does (to measure start-up and reads
    /// again without importing again; the month is still generated, for its counts).
    #[arg(long)]
    fullsize_sqlite: Option<std::path::PathBuf>,
    /// Only the import, changes and publish of both months (no `serve`, no reads).
    #[arg(long)]
    fullsize_import_only: bool,
    /// Only the first month is imported and published (start-up and reads on one month,
    /// without the second month's diff).
    #[arg(long)]
    fullsize_first_only: bool,
    /// Idle subscribers multiplexed over --mux-connections connections (0: skip).
    #[arg(long, default_value_t = 10_000)]
    mux_subscribers: usize,
    #[arg(long, default_value_t = 100)]
    mux_connections: usize,
    /// Subscribers of the fleet-subscribers scenario, spread over its 3 replicas.
    #[arg(long, default_value_t = 100_000)]
    fleet_subscribers: usize,
    /// HTTP/2 connections they multiplex over, spread evenly over the replicas.
    #[arg(long, default_value_t = 300)]
    fleet_connections: usize,
    /// Idle subscribers each on its own connection (0: skip).
    #[arg(long, default_value_t = 1_000)]
    own_subscribers: usize,
    /// The subscribers' month: 2026-12 with the prices of every N-th availability raised (0:
    /// 2026-12 as is, 280 changes).
    #[arg(long, default_value_t = 2)]
    repriced: usize,
    /// Due subscriptions of the renewals scenario.
    #[arg(long, default_value_t = 100_000)]
    renewal_subscriptions: usize,
    /// PostgreSQL server (no database path): scratch databases are created and dropped there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Subscription-event streams of the subscription-events scenario (one partner's).
    #[arg(long, default_value_t = 1_000)]
    event_subscribers: usize,
    /// Quantity changes made under them, one after the other.
    #[arg(long, default_value_t = 200)]
    event_changes: usize,
    /// HTTP/2 connections the event streams are multiplexed over.
    #[arg(long, default_value_t = 10)]
    event_connections: usize,
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
    /// Issue 19: the flow and catalog reads through HAProxy, 1 and 3 replicas on PostgreSQL
    /// (not part of `all`: it needs haproxy).
    Fleet,
    /// Issue 19: 100,000 change-stream subscribers over 3 replicas on PostgreSQL, a repriced
    /// month published on one (not part of `all`: minutes, and gigabytes of memory).
    FleetSubscribers,
    /// Issue 21: the full-size month (generated): import, diff, publish, serve, reads. Not
    /// part of `all` (minutes and gigabytes); ask for it by name.
    Fullsize,
    /// Issue 22: catalog reads as of a past month (cold, warm) against the current month's.
    AsOf,
    /// Issue 22: one renewal pass over --renewal-subscriptions due subscriptions, per backend.
    Renewals,
    /// Issue 22: subscription-event fan-out to one partner's subscribers (`--subscriber-backend`).
    SubscriptionEvents,
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
    if args.scenario.contains(&Scenario::Fleet)
        && let Err(e) = fleet::fleet(&bin, &args).await
    {
        eprintln!("!! fleet: {e:#}");
        report.failures.push(format!("fleet: {e:#}"));
    }
    if args.scenario.contains(&Scenario::FleetSubscribers)
        && let Err(e) = fleet_subscribers::fleet_subscribers(&bin, &args).await
    {
        eprintln!("!! fleet subscribers: {e:#}");
        report.failures.push(format!("fleet subscribers: {e:#}"));
    }
    if args.scenario.contains(&Scenario::Fullsize) {
        let (_keep, dir) = catalog_size::month_dir(&args)?;
        let months = catalog_size::months(&args, &dir)?;
        for &backend in &args.backend {
            if let Err(e) = catalog_size::catalog_size(&bin, &args, backend, &months).await {
                eprintln!("!! fullsize on {}: {e:#}", backend.label());
                report
                    .failures
                    .push(format!("fullsize on {}: {e:#}", backend.label()));
            }
        }
    }
    if wants(Scenario::AsOf)
        && let Err(e) = as_of::as_of(&bin, &args).await
    {
        eprintln!("!! as of a month: {e:#}");
        report.failures.push(format!("as of a month: {e:#}"));
    }
    if wants(Scenario::Renewals) {
        for &backend in &args.backend {
            if let Err(e) = renewals::renewals(&bin, &args, backend).await {
                eprintln!("!! renewals on {}: {e:#}", backend.label());
                report
                    .failures
                    .push(format!("renewals on {}: {e:#}", backend.label()));
            }
        }
    }
    if wants(Scenario::SubscriptionEvents)
        && let Err(e) = subscription_events::subscription_events(&bin, &args).await
    {
        eprintln!("!! subscription events: {e:#}");
        report.failures.push(format!("subscription events: {e:#}"));
    }
    report.print();
    if report.failures.is_empty() {
        Ok(())
    } else {
        bail!("{} scenario(s) failed", report.failures.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

/// Beyond the production limits: the subscribers scenario multiplexes up to 10,000
/// subscribers of one user over a few connections, and months are imported by path from the
/// temp folder.
fn bench_settings() -> [(&'static str, String); 5] {
    [
        ("CSP_MAX_CONCURRENT_STREAMS", "20000".into()),
        ("CSP_WATCH_STREAMS_PER_USER", "0".into()),
        ("CSP_WATCH_STREAMS_PER_PARTNER", "0".into()),
        ("CSP_WATCH_STREAMS_TOTAL", "0".into()),
        ("CSP_IMPORT_DIR", std::env::temp_dir().display().to_string()),
    ]
}

fn sales_agent() -> Result<Bearer> {
    bearer(SECRET, Some(demo_partner(PARTNER)?), Role::SalesAgent)
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
