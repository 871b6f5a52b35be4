//! Test harness: the real server on port 0 with a fresh database (a SQLite file, or a new
//! database on the real PostgreSQL), and real gRPC clients over a socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use csp_commerce::config::Settings;
use csp_commerce::domain::customer::Role;
use csp_commerce::domain::ids::PartnerId;
use csp_commerce::grpc::pb;
use csp_commerce::service::ManualClock;
use csp_commerce::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use csp_commerce::demo::seed;

pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;
pub type CatalogClient = pb::catalog_service_client::CatalogServiceClient<Authed>;
pub type CustomerClient = pb::customer_service_client::CustomerServiceClient<Authed>;
pub type CartClient = pb::cart_service_client::CartServiceClient<Authed>;
pub type OrderClient = pb::order_service_client::OrderServiceClient<Authed>;
pub type AdminClient = pb::catalog_admin_service_client::CatalogAdminServiceClient<Authed>;
pub type OperatorClient = pb::operator_service_client::OperatorServiceClient<Authed>;
pub type EventClient =
    pb::subscription_event_service_client::SubscriptionEventServiceClient<Authed>;

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub keys: Arc<csp_commerce::auth::TokenKeys>,
    pub channel: Channel,
    pub database_url: String,
    /// Where `GET /metrics` is served, when `metrics_listen` was set.
    pub metrics_addr: Option<std::net::SocketAddr>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    owns_database: bool,
    _dir: tempfile::TempDir,
}

/// The instant the tests' clock starts at: inside the demo month, before the mid-month ends.
pub fn start_of_test_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 10, 12, 0, 0).unwrap()
}

/// Whether the PostgreSQL suite was explicitly switched off (`CSP_SKIP_POSTGRES=1`).
pub fn postgres_skipped() -> bool {
    std::env::var("CSP_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

pub async fn fresh_postgres_database() -> String {
    let admin_url =
        std::env::var("CSP_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_owned());
    let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "\n\n*** PostgreSQL is not reachable at {admin_url}: {e}\n*** The PostgreSQL suite cannot run. Start PostgreSQL (see README), point CSP_TEST_POSTGRES_URL at one,\n*** or set CSP_SKIP_POSTGRES=1 to skip this suite knowingly.\n\n"
        )
    });
    let name = format!("csp_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    let _ = admin.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("database URL with a path");
    format!("{base}/{name}")
}

impl TestApp {
    /// A server on a fresh database of `backend` with the demo catalog and partners.
    /// Returns `None` only when the PostgreSQL suite is knowingly skipped.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, with settings adjusted by `configure`.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Settings),
    ) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => Settings::sqlite_url(&dir.path().join("test.sqlite")),
            Backend::Postgres => {
                if postgres_skipped() {
                    eprintln!("*** CSP_SKIP_POSTGRES=1: skipping a PostgreSQL test");
                    return None;
                }
                fresh_postgres_database().await
            }
        };
        Some(Self::spawn_on(backend, database_url, dir, configure).await)
    }

    /// A second server process-equivalent on the same database: another replica.
    pub async fn replica(&self, configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut app = Self::spawn_on(self.backend, self.database_url.clone(), dir, configure).await;
        // Only the first replica drops the database.
        app.owns_database = false;
        app
    }

    async fn spawn_on(
        backend: Backend,
        database_url: String,
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: database_url.clone(),
            jwt_secret: TEST_SECRET.to_owned(),
            max_db_connections: 8,
            // Stopping a test server need not wait for balancers' health checks.
            drain_grace_ms: 0,
            ..Settings::default()
        };
        configure(&mut settings);
        let clock = ManualClock::new(start_of_test_time());
        let app = Application::build(settings, clock.clone())
            .await
            .expect("build the application");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let keys = app.token_keys();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("connect to the test server");
        Self {
            addr,
            backend,
            clock,
            keys,
            channel,
            database_url,
            metrics_addr,
            shutdown: Some(tx),
            server: Some(server),
            owns_database: true,
            _dir: dir,
        }
    }

    pub fn partner_id(key: &str) -> PartnerId {
        let seed = seed().unwrap();
        let p = seed
            .partners
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no demo partner {key}"));
        PartnerId::from_uuid(p.id)
    }

    pub fn customer_id(key: &str) -> String {
        let seed = seed().unwrap();
        seed.customers
            .iter()
            .find(|c| c.key == key)
            .unwrap_or_else(|| panic!("no demo customer {key}"))
            .id
            .to_string()
    }

    pub fn token(&self, partner: Option<&str>, role: Role) -> String {
        self.keys
            .mint(
                "tester",
                partner.map(Self::partner_id),
                role,
                chrono::Duration::hours(1),
            )
            .unwrap()
    }

    fn bearer(&self, partner: Option<&str>, role: Role) -> Bearer {
        Bearer(Some(
            format!("Bearer {}", self.token(partner, role))
                .parse()
                .unwrap(),
        ))
    }

    /// A client with a raw `authorization` value (or none).
    pub fn raw_bearer(value: Option<&str>) -> Bearer {
        Bearer(value.map(|v| v.parse().unwrap()))
    }

    pub fn catalog(&self, partner: &str, role: Role) -> CatalogClient {
        self.catalog_with(self.bearer(Some(partner), role))
    }

    pub fn catalog_with(&self, bearer: Bearer) -> CatalogClient {
        pb::catalog_service_client::CatalogServiceClient::with_interceptor(
            self.channel.clone(),
            bearer,
        )
    }

    pub fn customers(&self, partner: &str, role: Role) -> CustomerClient {
        self.customers_with(self.bearer(Some(partner), role))
    }

    pub fn customers_with(&self, bearer: Bearer) -> CustomerClient {
        pb::customer_service_client::CustomerServiceClient::with_interceptor(
            self.channel.clone(),
            bearer,
        )
    }

    pub fn carts(&self, partner: &str, role: Role) -> CartClient {
        self.carts_with(self.bearer(Some(partner), role))
    }

    pub fn carts_with(&self, bearer: Bearer) -> CartClient {
        pb::cart_service_client::CartServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    pub fn orders(&self, partner: &str, role: Role) -> OrderClient {
        self.orders_with(self.bearer(Some(partner), role))
    }

    pub fn orders_with(&self, bearer: Bearer) -> OrderClient {
        pb::order_service_client::OrderServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    pub fn events(&self, partner: &str, role: Role) -> EventClient {
        self.events_with(self.bearer(Some(partner), role))
    }

    pub fn events_with(&self, bearer: Bearer) -> EventClient {
        pb::subscription_event_service_client::SubscriptionEventServiceClient::with_interceptor(
            self.channel.clone(),
            bearer,
        )
    }

    pub fn admin(&self, partner: Option<&str>, role: Role) -> AdminClient {
        self.admin_with(self.bearer(partner, role))
    }

    pub fn admin_with(&self, bearer: Bearer) -> AdminClient {
        pb::catalog_admin_service_client::CatalogAdminServiceClient::with_interceptor(
            self.channel.clone(),
            bearer,
        )
    }

    /// OperatorService as the platform operator.
    pub fn operator(&self) -> OperatorClient {
        self.operator_with(self.bearer(None, Role::Operator))
    }

    pub fn operator_with(&self, bearer: Bearer) -> OperatorClient {
        pb::operator_service_client::OperatorServiceClient::with_interceptor(
            self.channel.clone(),
            bearer,
        )
    }

    /// Sends `token` (as MintToken answered it) on every call.
    pub fn token_bearer(token: &str) -> Bearer {
        Self::raw_bearer(Some(&format!("Bearer {token}")))
    }

    /// Stops the server and drops a PostgreSQL test database.
    /// Stops this server (the database kept, and its folder: a SQLite file stays) and starts
    /// another on the same database, with settings adjusted by `configure`: a restart.
    pub async fn restart(mut self, configure: impl FnOnce(&mut Settings)) -> Self {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        let mut app = Self::spawn_on(self.backend, self.database_url.clone(), dir, configure).await;
        app.owns_database = self.owns_database;
        app
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
        if self.backend == Backend::Postgres && self.owns_database {
            let admin_url = std::env::var("CSP_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_owned());
            let name = self
                .database_url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            if let Ok(admin) = Database::connect(&admin_url).await {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
}

/// A loopback port nothing listens on now: for a server binary started as a child process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A channel to `addr` (`http://host:port`) once a server there accepts connections, within
/// 60 s.
pub async fn connect_when_up(addr: &str) -> Channel {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(channel) = Channel::from_shared(addr.to_owned())
            .unwrap()
            .connect()
            .await
        {
            return channel;
        }
        assert!(
            Instant::now() < deadline,
            "the server at {addr} did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The US partner's sales agent `user`, signed with the test secret: for a server binary
/// started as a child process (a `TestApp` mints its own).
pub fn us_sales_agent(user: &str) -> Bearer {
    let token = csp_commerce::auth::TokenKeys::new(TEST_SECRET, None)
        .unwrap()
        .mint(
            user,
            Some(TestApp::partner_id("us")),
            Role::SalesAgent,
            chrono::Duration::hours(1),
        )
        .unwrap();
    TestApp::raw_bearer(Some(&format!("Bearer {token}")))
}

/// The first commercial availability of `sku` (product id, SKU id) in `country`, as `catalog`
/// lists it.
pub async fn commercial_availability(
    catalog: &mut CatalogClient,
    sku: (&str, &str),
    country: &str,
) -> pb::Availability {
    catalog
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: sku.0.into(),
            sku_id: sku.1.into(),
            country: country.into(),
            segment: pb::Segment::Commercial.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .availabilities
        .remove(0)
}

/// A fresh request id.
pub fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Checkout of `cart` at the etag it was read with, under a fresh request id.
pub fn checkout_request(cart: &pb::Cart) -> pb::CheckoutRequest {
    pb::CheckoutRequest {
        request_id: rid(),
        cart_id: cart.id.clone(),
        etag: cart.etag.clone(),
    }
}

/// A well-formed id that names nothing: a fresh UUID.
pub fn unknown_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An honest catalog read on the app's own connection, answered within 2 s.
pub async fn honest_read(app: &TestApp) {
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(2),
        app.catalog("de", Role::SalesAgent)
            .list_products(pb::ListProductsRequest {
                page_size: 5,
                ..Default::default()
            }),
    )
    .await
    .expect("an honest caller was not served within 2 s")
    .expect("an honest caller was refused");
    assert!(!answer.into_inner().products.is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// CPU time (user + system) that `process` has used, from /proc: a pid, or `self`.
pub fn cpu_time(process: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).unwrap();
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// Runs a scenario against SQLite and against PostgreSQL, as two tests; with
/// `configure: |settings| ...` first, on servers with those settings (e.g. the demo off).
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* $name:ident, configure: $configure:expr, $body:expr) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn_with($crate::common::Backend::Sqlite, $configure).await.expect("sqlite app");
                let run = $body;
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::spawn_with($crate::common::Backend::Postgres, $configure).await else {
                    return;
                };
                let run = $body;
                run(&app).await;
                app.stop().await;
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, $body:expr) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await.expect("sqlite app");
                let run = $body;
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await else {
                    return;
                };
                let run = $body;
                run(&app).await;
                app.stop().await;
            }
        }
    };
}

/// The google.rpc details of a failed call.
pub fn details(status: &tonic::Status) -> tonic_types::ErrorDetails {
    use tonic_types::StatusExt;
    status
        .check_error_details()
        .expect("google.rpc details decode")
}

/// A problem's code as the domain names it (and ErrorInfo.reason carries it).
pub fn code(problem: &pb::PurchaseProblem) -> &'static str {
    csp_commerce::grpc::convert::problem_code_str(problem.code()).unwrap_or("UNSPECIFIED")
}

/// The ErrorInfo reason of a failed call (every error carries one).
pub fn reason(status: &tonic::Status) -> String {
    details(status)
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
        .reason
        .clone()
}

/// Asserts FAILED_PRECONDITION and returns the PreconditionFailure's violations.
pub fn violations(status: &tonic::Status) -> Vec<tonic_types::PreconditionViolation> {
    assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
    details(status)
        .precondition_failure()
        .unwrap_or_else(|| panic!("no PreconditionFailure in {status:?}"))
        .violations
        .clone()
}

/// Asserts a status code and that a BadRequest violation names `field`; returns the reason.
pub fn assert_bad_field(status: &tonic::Status, field: &str) -> String {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let d = details(status);
    let bad = d
        .bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    let v = bad
        .field_violations
        .iter()
        .find(|v| v.field == field)
        .unwrap_or_else(|| panic!("no violation for {field} in {:?}", bad.field_violations));
    assert!(d.error_info().is_some(), "ErrorInfo missing");
    v.reason.clone()
}

/// Asserts, in the tables of the database at `url`, that every order is whole: each has
/// lines, its customer and its cart marked ordered; each cart marked ordered has its order;
/// each order line, subscription and checkout request id belongs to an order that exists;
/// one subscription per order line. (PostgreSQL has no foreign keys on these rows: the
/// checkout statement is what keeps them whole.)
pub async fn assert_orders_whole(url: &str) {
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    for (what, sql) in [
        (
            "orders without lines",
            "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
        ),
        (
            "orders without their customer",
            "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id AND c.partner_id = o.partner_id)",
        ),
        (
            "carts ordered without an order",
            "SELECT COUNT(*) FROM carts c WHERE c.status = 'ordered' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = c.order_id)",
        ),
        (
            "orders whose cart is not ordered",
            "SELECT COUNT(*) FROM orders o JOIN carts c ON c.id = o.cart_id WHERE c.status <> 'ordered'",
        ),
        (
            "order lines without their order",
            "SELECT COUNT(*) FROM order_lines l WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = l.order_id)",
        ),
        (
            "subscriptions without their order",
            "SELECT COUNT(*) FROM subscriptions s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.order_id AND o.customer_id = s.customer_id)",
        ),
        (
            "checkout request ids without their order",
            "SELECT COUNT(*) FROM idempotency_keys k WHERE k.operation = 'Checkout' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = k.resource_id)",
        ),
        (
            "order lines minus subscriptions",
            "SELECT (SELECT COUNT(*) FROM order_lines) - (SELECT COUNT(*) FROM subscriptions)",
        ),
    ] {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        let count: i64 = row.try_get_by_index(0).unwrap();
        assert_eq!(count, 0, "{what}: {sql}");
    }
    let _ = db.close().await;
}

/// The markets of the demo's price lists.
pub const DEMO_MARKETS: [&str; 7] = ["US", "DE", "FR", "GB", "IE", "JP", "SK"];

/// The demo's files of `month` (`data/demo/<month>`).
pub fn demo_dir(month: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/demo")
        .join(month)
}

/// An import of `month` from the files under `dir`: its offer matrix and a price list for each
/// demo market, under a fresh request id.
pub fn month_request(month: &str, dir: &std::path::Path) -> pb::ImportMonthRequest {
    pb::ImportMonthRequest {
        request_id: rid(),
        month: month.into(),
        offer_matrix_path: dir.join("offer-matrix.csv").display().to_string(),
        price_list_paths: DEMO_MARKETS
            .iter()
            .map(|m| dir.join(format!("pricelist-{m}.csv")).display().to_string())
            .collect(),
    }
}

/// The messages of an UploadMonth sending the files `request` names (read here): the header
/// (the offer matrix first, then the price lists, each named by its file name), then each
/// file in chunks of `chunk` bytes.
pub fn upload_messages(
    request: &pb::ImportMonthRequest,
    chunk: usize,
) -> Vec<pb::UploadMonthRequest> {
    use pb::upload_month_request::Part;
    let paths: Vec<&str> = std::iter::once(request.offer_matrix_path.as_str())
        .chain(request.price_list_paths.iter().map(String::as_str))
        .collect();
    let files = paths
        .iter()
        .enumerate()
        .map(|(i, path)| pb::ImportFile {
            name: std::path::Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            kind: if i == 0 {
                pb::ImportFileKind::OfferMatrix
            } else {
                pb::ImportFileKind::PriceList
            } as i32,
        })
        .collect();
    let mut messages = vec![pb::UploadMonthRequest {
        part: Some(Part::Header(pb::UploadMonthHeader {
            request_id: request.request_id.clone(),
            month: request.month.clone(),
            files,
        })),
    }];
    for (i, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        for data in bytes.chunks(chunk) {
            messages.push(pb::UploadMonthRequest {
                part: Some(Part::Chunk(pb::UploadMonthChunk {
                    file_index: i as u32,
                    data: data.to_vec(),
                })),
            });
        }
    }
    messages
}

/// Imports the files `request` names with UploadMonth (256 KiB chunks).
pub async fn upload(
    admin: &mut AdminClient,
    request: &pb::ImportMonthRequest,
) -> Result<tonic::Response<pb::ImportMonthResponse>, tonic::Status> {
    admin
        .upload_month(tokio_stream::iter(upload_messages(request, 256 << 10)))
        .await
}

/// A TCP proxy to `upstream` that a test can cut (every live connection dropped, new ones
/// accepted and closed at once) and restore: a database outage, seen from the server.
pub struct CuttableProxy {
    pub addr: std::net::SocketAddr,
    cut: Arc<tokio::sync::watch::Sender<bool>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    pub async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(tokio::sync::watch::channel(false).0);
        let accepting = tokio::spawn({
            let cut = cut.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if *cut.borrow() {
                        // Refused: closed at once.
                        continue;
                    }
                    let mut cut = cut.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await
                        else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.wait_for(|cut| *cut) => {}
                        }
                    });
                }
            }
        });
        Self {
            addr,
            cut,
            accepting,
        }
    }

    /// `url` (a PostgreSQL URL) through this proxy.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
        let (_, path) = rest.split_once('/').unwrap();
        let at = if user.is_empty() { "" } else { "@" };
        format!("{scheme}://{user}{at}{}/{path}", self.addr)
    }

    /// The upstream address of a PostgreSQL `url` (host:port, port 5432 if none).
    pub fn upstream_of(url: &str) -> std::net::SocketAddr {
        let (_, rest) = url.split_once("://").unwrap();
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, _) = rest.split_once('/').unwrap();
        let host = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        use std::net::ToSocketAddrs;
        host.to_socket_addrs().unwrap().next().unwrap()
    }

    /// Drops every live connection and refuses new ones until `restore`.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut.send_replace(true);
    }
}

/// The health status of `service` ("" for the server as a whole) on `channel`.
pub async fn health_of(channel: &Channel, service: &str) -> i32 {
    tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

/// Waits (up to 30 s) until `service` on `channel` reports `status`.
pub async fn health_becomes(
    channel: &Channel,
    service: &str,
    status: tonic_health::pb::health_check_response::ServingStatus,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while health_of(channel, service).await != status as i32 {
        assert!(
            Instant::now() < deadline,
            "{service:?} did not become {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The server binary run as a child process on a free loopback port, on `database_url`.
pub struct ServerProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub addr: String,
}

impl ServerProcess {
    /// Starts it with `env` besides the test's settings, and waits (up to 60 s) until its
    /// health service answers.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_csp-commerce"))
            .arg("serve")
            .env("CSP_LISTEN", format!("127.0.0.1:{port}"))
            .env("CSP_DATABASE_URL", database_url)
            .env("CSP_JWT_SECRET", TEST_SECRET)
            .env("CSP_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start the server binary");
        let addr = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(channel) = Channel::from_shared(addr.clone()).unwrap().connect().await {
                let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
                if health
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: "csp.commerce.v1.CartService".into(),
                    })
                    .await
                    .is_ok()
                {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, addr }
    }

    /// Sends it `signal` (`TERM`, `INT`...) through kill(1).
    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} failed");
    }

    /// Waits (up to 60 s) for it to exit; its exit status.
    pub async fn exited(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A change stream from now on `catalog`, and the revision its first message (progress) says
/// it starts after.
pub async fn watch_from_now(
    catalog: &mut CatalogClient,
) -> (tonic::Streaming<pb::WatchCatalogChangesResponse>, u64) {
    use pb::watch_catalog_changes_response::Event;
    let mut stream = catalog
        .watch_catalog_changes(pb::WatchCatalogChangesRequest {
            start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    match stream.message().await.unwrap().unwrap().event.unwrap() {
        Event::Progress(p) => (stream, p.current_revision),
        other => panic!("{other:?}"),
    }
}

/// A GCC validation code of the right shape.
pub const GCC_CODE: &str = "GCC-VALID-0001";

/// What a partner submits for `kind` (Education: K-12; GCC: `GCC_CODE`).
pub fn submission(
    customer_id: &str,
    kind: pb::QualificationKind,
) -> pb::SubmitQualificationRequest {
    pb::SubmitQualificationRequest {
        request_id: rid(),
        customer_id: customer_id.into(),
        etag: String::new(),
        kind: kind.into(),
        education_segment: match kind {
            pb::QualificationKind::Education => pb::EducationSegment::K12.into(),
            _ => 0,
        },
        gcc_validation_code: match kind {
            pb::QualificationKind::Gcc => GCC_CODE.into(),
            _ => String::new(),
        },
    }
}

/// The operator's verdict on the customer's submitted `kind`.
pub async fn review(
    app: &TestApp,
    customer_id: &str,
    kind: pb::QualificationKind,
    approve: bool,
    reason: &str,
) -> pb::Customer {
    app.operator()
        .review_qualification(pb::ReviewQualificationRequest {
            request_id: rid(),
            customer_id: customer_id.into(),
            etag: String::new(),
            kind: kind.into(),
            decision: if approve {
                pb::ReviewDecision::Approve
            } else {
                pb::ReviewDecision::Deny
            }
            .into(),
            reason: reason.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
}

/// The operator grants (or revokes, with a reason) the customer's Nonprofit qualification.
pub async fn set_nonprofit(app: &TestApp, customer_id: &str, granted: bool) -> pb::Customer {
    app.operator()
        .set_nonprofit(pb::SetNonprofitRequest {
            request_id: rid(),
            customer_id: customer_id.into(),
            etag: String::new(),
            decision: if granted {
                pb::ReviewDecision::Approve
            } else {
                pb::ReviewDecision::Deny
            }
            .into(),
            reason: if granted {
                ""
            } else {
                "not a registered charity"
            }
            .into(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
}

/// Brings the customer's qualifications to `wanted`, the way they change for real: its partner
/// withdraws what is not wanted and submits what is, and the operator approves or denies it
/// (Nonprofit: the operator grants or revokes it; a revoked one stays, denied). A GCC
/// submission needs a GCC partner.
pub async fn set_qualifications(
    app: &TestApp,
    partner: &str,
    customer_id: &str,
    wanted: &[(pb::QualificationKind, pb::VettingStatus)],
) -> pb::Customer {
    use pb::QualificationKind::Nonprofit;
    use pb::VettingStatus::{Approved, Denied, InReview};
    let mut customers = app.customers(partner, Role::AdminAgent);
    let current = customers
        .get_customer(pb::GetCustomerRequest {
            customer_id: customer_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let withdraw = async |kind: pb::QualificationKind| {
        app.customers(partner, Role::AdminAgent)
            .withdraw_qualification(pb::WithdrawQualificationRequest {
                request_id: rid(),
                customer_id: customer_id.into(),
                etag: String::new(),
                kind: kind.into(),
            })
            .await
            .unwrap();
    };
    for q in &current.qualifications {
        let kind = q.kind();
        let wanted_now = wanted.iter().find(|(k, _)| *k == kind).map(|w| w.1);
        match (kind, wanted_now) {
            (Nonprofit, None) if q.vetting_status() == Approved => {
                set_nonprofit(app, customer_id, false).await;
            }
            (Nonprofit, _) => {}
            (_, None) => withdraw(kind).await,
            // An approved one cannot go back to review: withdrawn, then submitted again.
            (_, Some(w)) if q.vetting_status() == Approved && w != Approved => withdraw(kind).await,
            _ => {}
        }
    }
    for &(kind, vetting) in wanted {
        if kind == Nonprofit {
            assert_ne!(vetting, InReview, "Nonprofit is never in review");
            set_nonprofit(app, customer_id, vetting == Approved).await;
            continue;
        }
        let already = current
            .qualifications
            .iter()
            .any(|q| q.kind() == kind && q.vetting_status() == Approved);
        if already && vetting == Approved {
            continue;
        }
        customers
            .submit_qualification(submission(customer_id, kind))
            .await
            .unwrap();
        match vetting {
            Approved => drop(review(app, customer_id, kind, true, "").await),
            Denied => drop(review(app, customer_id, kind, false, "not eligible").await),
            _ => {}
        }
    }
    customers
        .get_customer(pb::GetCustomerRequest {
            customer_id: customer_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
}

/// Sets `partner`'s GCC status (the operator's UpdatePartner).
pub async fn set_partner_gcc(app: &TestApp, partner: &str, gcc: bool) {
    app.operator()
        .update_partner(pb::UpdatePartnerRequest {
            request_id: rid(),
            partner_id: TestApp::partner_id(partner).to_string(),
            etag: String::new(),
            name: String::new(),
            gcc_status: if gcc {
                pb::GccStatus::Qualified
            } else {
                pb::GccStatus::NotQualified
            }
            .into(),
        })
        .await
        .unwrap();
}

/// A customer of a partner that is not (or no longer) GCC-qualified, holding an approved GCC
/// qualification: the partner held GCC when it submitted, and lost it since.
pub async fn approved_gcc_of_a_partner_without_gcc(
    app: &TestApp,
    partner: &str,
    customer_id: &str,
) {
    set_partner_gcc(app, partner, true).await;
    set_qualifications(
        app,
        partner,
        customer_id,
        &[(pb::QualificationKind::Gcc, pb::VettingStatus::Approved)],
    )
    .await;
    set_partner_gcc(app, partner, false).await;
}

/// `GET /metrics` over a plain HTTP/1.1 connection: the status line and the body.
pub async fn scrape(app: &TestApp) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.metrics_addr.expect("metrics_listen is set");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}
