//! OTLP trace export: the real binary, started with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
//! real OTLP/gRPC trace receiver, exports a span per RPC; a call carrying a W3C `traceparent`
//! joins the caller's trace, a malformed one starts a trace of its own.
//!
//! Metrics: a real OTLP/gRPC metrics receiver gets the exact count of calls per method and
//! status code, and as many durations; the Prometheus scrape endpoint shows the same counters
//! and the connection and change-stream gauges.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, Backend, TEST_SECRET, TestApp, scrape};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use tonic::transport::Channel;

/// A received span.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    /// `key=value`.
    attributes: Vec<String>,
    trace_id: String,
    span_id: String,
    /// Empty for a root span.
    parent_span_id: String,
}

impl Span {
    fn is_rpc(&self, method: &str) -> bool {
        self.name == "rpc" && self.attributes.iter().any(|a| a.contains(method))
    }
}

/// Collects every span it receives.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Span>>>);

impl Receiver {
    /// The spans received so far, once `ready` holds of them.
    async fn wait_for(&self, what: &str, ready: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        received(
            what,
            || self.0.lock().unwrap().clone(),
            |spans| ready(spans),
        )
        .await
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                for span in scope.spans {
                    let attributes = span
                        .attributes
                        .iter()
                        .map(|a| {
                            format!(
                                "{}={:?}",
                                a.key,
                                a.value.as_ref().and_then(|v| v.value.clone())
                            )
                        })
                        .collect();
                    spans.push(Span {
                        name: span.name,
                        attributes,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// What a collector has `read` so far, once `ready` holds of it (within 30 s: exporters send
/// within seconds).
async fn received<T: std::fmt::Debug>(
    what: &str,
    read: impl Fn() -> T,
    ready: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let received = read();
        if ready(&received) {
            return received;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not reach the collector: {received:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The real binary exporting to a real collector; killed on drop.
struct Traced {
    receiver: Receiver,
    child: Child,
    channel: Channel,
    _dir: tempfile::TempDir,
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Traced {
    async fn start() -> Self {
        let receiver = Receiver::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let collector = listener.local_addr().unwrap();
        let service = receiver.clone();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(service))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
        });

        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_csp-commerce"))
            .env("CSP_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "CSP_DATABASE_URL",
                format!("sqlite://{}", dir.path().join("otel.sqlite").display()),
            )
            .env("CSP_JWT_SECRET", TEST_SECRET)
            .env("CSP_LOG", "warn")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let channel = common::connect_when_up(&format!("http://127.0.0.1:{port}")).await;
        Traced {
            receiver,
            child,
            channel,
            _dir: dir,
        }
    }

    fn catalog(
        &self,
    ) -> pb::catalog_service_client::CatalogServiceClient<
        tonic::service::interceptor::InterceptedService<Channel, common::Bearer>,
    > {
        pb::catalog_service_client::CatalogServiceClient::with_interceptor(
            self.channel.clone(),
            common::us_sales_agent("otel"),
        )
    }
}

impl Traced {
    fn customers(
        &self,
    ) -> pb::customer_service_client::CustomerServiceClient<
        tonic::service::interceptor::InterceptedService<Channel, common::Bearer>,
    > {
        pb::customer_service_client::CustomerServiceClient::with_interceptor(
            self.channel.clone(),
            common::us_sales_agent("otel"),
        )
    }
}

/// `message` with a `traceparent` header as another service's client span would send it.
fn with_traceparent<T>(message: T, traceparent: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    request
}

fn get_product() -> pb::GetProductRequest {
    pb::GetProductRequest {
        month: String::new(),
        product_id: "CFQ7TTC02ROY".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_is_exported_as_a_span_over_otlp() {
    let app = Traced::start().await;
    app.catalog().get_product(get_product()).await.unwrap();

    let spans = app
        .receiver
        .wait_for("a span for GetProduct", |spans| {
            spans.iter().any(|s| s.is_rpc("GetProduct"))
        })
        .await;
    let rpc = spans.iter().find(|s| s.is_rpc("GetProduct")).unwrap();
    assert!(
        rpc.parent_span_id.is_empty(),
        "a call without traceparent starts a trace: {rpc:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_a_traceparent_joins_the_callers_trace() {
    let app = Traced::start().await;
    // The caller's client span, as another service would send it.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let mut catalog = app.catalog();
    catalog
        .get_product(with_traceparent(
            get_product(),
            &format!("00-{trace_id}-{client_span}-01"),
        ))
        .await
        .unwrap();
    // The change stream too: its span covers the call until the stream starts.
    let watch = catalog
        .watch_catalog_changes(with_traceparent(
            pb::WatchCatalogChangesRequest {
                start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
                ..Default::default()
            },
            &format!("00-{trace_id}-{client_span}-01"),
        ))
        .await
        .unwrap();
    // A call that reads the database: its statements are spans of the same trace.
    app.customers()
        .get_customer(with_traceparent(
            pb::GetCustomerRequest {
                customer_id: TestApp::customer_id("us-fabrikam"),
            },
            &format!("00-{trace_id}-{client_span}-01"),
        ))
        .await
        .unwrap();
    // Malformed: ignored, so each of these calls gets a trace of its own.
    let malformed = [
        format!("00-{trace_id}-{client_span}00-01"), // a span id one byte too long
        format!("00-{trace_id}-{}-01", "zz".repeat(8)), // not hex
    ];
    for traceparent in &malformed {
        catalog
            .list_products(with_traceparent(
                pb::ListProductsRequest::default(),
                traceparent,
            ))
            .await
            .unwrap();
    }

    let spans = app
        .receiver
        .wait_for("the five calls' spans", |spans| {
            ["GetProduct", "WatchCatalogChanges", "GetCustomer"]
                .iter()
                .all(|method| spans.iter().any(|s| s.is_rpc(method)))
                && spans
                    .iter()
                    .any(|s| s.name == "db" && s.trace_id == trace_id)
                && spans.iter().filter(|s| s.is_rpc("ListProducts")).count() == malformed.len()
        })
        .await;
    for method in ["GetProduct", "WatchCatalogChanges", "GetCustomer"] {
        let rpc = spans.iter().find(|s| s.is_rpc(method)).unwrap();
        assert_eq!(rpc.trace_id, trace_id, "{method} joins the caller's trace");
        assert_eq!(
            rpc.parent_span_id, client_span,
            "{method}'s server span is a child of the client span"
        );
    }
    // One trace from the caller's client span through the RPC to the database: every
    // statement GetCustomer ran is a child of its RPC span.
    let get_customer = spans.iter().find(|s| s.is_rpc("GetCustomer")).unwrap();
    let statements: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "db" && s.trace_id == trace_id)
        .collect();
    assert!(!statements.is_empty());
    for statement in statements {
        assert_eq!(
            statement.parent_span_id, get_customer.span_id,
            "a statement of GetCustomer is a child of its RPC span: {statement:?}"
        );
    }
    for rpc in spans.iter().filter(|s| s.is_rpc("ListProducts")) {
        assert_ne!(rpc.trace_id, trace_id, "a malformed traceparent is ignored");
        assert_eq!(rpc.trace_id.len(), 32, "a fresh, valid trace id: {rpc:?}");
        assert!(
            rpc.parent_span_id.is_empty(),
            "a malformed traceparent starts a root span: {rpc:?}"
        );
    }
    drop(watch);
}

/// One series: a metric's name and its attributes, `key=value` sorted and joined by `,`.
type Series = (String, String);

fn series(name: &str, attributes: &[(&str, &str)]) -> Series {
    let attributes: BTreeMap<_, _> = attributes.iter().copied().collect();
    (name.to_owned(), join(attributes))
}

fn join<K: std::fmt::Display, V: std::fmt::Display>(attributes: BTreeMap<K, V>) -> String {
    let pairs: Vec<String> = attributes
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    pairs.join(",")
}

/// The latest value of every series received (exports are cumulative): a sum's value, a
/// histogram's count.
#[derive(Clone, Default)]
struct MetricsReceiver(Arc<Mutex<HashMap<Series, f64>>>);

impl MetricsReceiver {
    /// A receiver on a port of its own, and its `http://` address.
    async fn start() -> (Self, String) {
        let receiver = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let service = receiver.clone();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(MetricsServiceServer::new(service))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
        });
        (receiver, address)
    }

    /// The series received so far, once `ready` holds of them.
    async fn wait_for(
        &self,
        what: &str,
        ready: impl Fn(&HashMap<Series, f64>) -> bool,
    ) -> HashMap<Series, f64> {
        received(what, || self.0.lock().unwrap().clone(), ready).await
    }
}

fn otlp_attributes(attributes: &[KeyValue]) -> String {
    let map: BTreeMap<_, _> = attributes
        .iter()
        .map(|a| {
            let value = match a.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (a.key.clone(), value)
        })
        .collect();
    join(map)
}

#[tonic::async_trait]
impl MetricsService for MetricsReceiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut received = self.0.lock().unwrap();
        let metrics = request
            .into_inner()
            .resource_metrics
            .into_iter()
            .flat_map(|r| r.scope_metrics)
            .flat_map(|s| s.metrics);
        for metric in metrics {
            let name = metric.name;
            let points: Vec<(String, f64)> = match metric.data {
                Some(metric::Data::Sum(sum)) => sum
                    .data_points
                    .iter()
                    .map(|p| (otlp_attributes(&p.attributes), number(p.value)))
                    .collect(),
                Some(metric::Data::Gauge(gauge)) => gauge
                    .data_points
                    .iter()
                    .map(|p| (otlp_attributes(&p.attributes), number(p.value)))
                    .collect(),
                Some(metric::Data::Histogram(histogram)) => histogram
                    .data_points
                    .iter()
                    .map(|p| (otlp_attributes(&p.attributes), p.count as f64))
                    .collect(),
                _ => Vec::new(),
            };
            for (attributes, value) in points {
                received.insert((name.clone(), attributes), value);
            }
        }
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

fn number(value: Option<number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        Some(number_data_point::Value::AsDouble(d)) => d,
        None => f64::NAN,
    }
}

const CUSTOMER_SERVICE: &str = "csp.commerce.v1.CustomerService";

/// 3 GetCustomer answered OK, 2 NOT_FOUND, 1 UNAUTHENTICATED: the calls whose counts the
/// metrics must show, by code (0, 5, 16).
async fn known_calls(app: &TestApp) -> [(&'static str, f64); 3] {
    let mut customers = app.customers("us", Role::HelpdeskAgent);
    let request = |customer_id: String| pb::GetCustomerRequest { customer_id };
    for _ in 0..3 {
        customers
            .get_customer(request(TestApp::customer_id("us-fabrikam")))
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let status = customers
            .get_customer(request(common::unknown_id()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
    }
    let status = app
        .customers_with(TestApp::raw_bearer(None))
        .get_customer(request(TestApp::customer_id("us-fabrikam")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    [("0", 3.0), ("5", 2.0), ("16", 1.0)]
}

/// A change stream of the US partner's sales agent, from now.
async fn watch_from_now(app: &TestApp) -> tonic::Streaming<pb::WatchCatalogChangesResponse> {
    app.catalog("us", Role::SalesAgent)
        .watch_catalog_changes(pb::WatchCatalogChangesRequest {
            start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

fn get_customer_series(name: &str, code: &str) -> Series {
    series(
        name,
        &[
            ("rpc.service", CUSTOMER_SERVICE),
            ("rpc.method", "GetCustomer"),
            ("rpc.grpc.status_code", code),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_counts_by_method_and_code_reach_an_otlp_receiver() {
    let (receiver, endpoint) = MetricsReceiver::start().await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.otlp_endpoint = Some(endpoint);
        s.metrics_export_interval_ms = 200;
    })
    .await
    .unwrap();
    let expected = known_calls(&app).await;

    let total = |received: &HashMap<Series, f64>| -> f64 {
        expected
            .iter()
            .filter_map(|(code, _)| received.get(&get_customer_series("rpc.server.requests", code)))
            .sum()
    };
    let received = receiver
        .wait_for("the six GetCustomer calls", |r| total(r) >= 6.0)
        .await;
    for (code, count) in expected {
        assert_eq!(
            received.get(&get_customer_series("rpc.server.requests", code)),
            Some(&count),
            "GetCustomer calls with code {code}"
        );
        assert_eq!(
            received.get(&get_customer_series("rpc.server.duration", code)),
            Some(&count),
            "a duration for each GetCustomer call with code {code}"
        );
    }
    assert_eq!(
        received.get(&series(
            "rpc.server.active_requests",
            &[
                ("rpc.service", CUSTOMER_SERVICE),
                ("rpc.method", "GetCustomer")
            ]
        )),
        Some(&0.0),
        "no GetCustomer call is in flight"
    );

    // A stream counts with the code it ends with, sent in its trailers: UNAVAILABLE at
    // shutdown. The provider's last export, as the server stops, carries it.
    let mut stream = watch_from_now(&app).await;
    let ended = tokio::spawn(async move {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return tonic::Code::Ok,
                Err(status) => return status.code(),
            }
        }
    });
    app.stop().await;
    assert_eq!(ended.await.unwrap(), tonic::Code::Unavailable);
    let watch = series(
        "rpc.server.requests",
        &[
            ("rpc.service", "csp.commerce.v1.CatalogService"),
            ("rpc.method", "WatchCatalogChanges"),
            ("rpc.grpc.status_code", "14"),
        ],
    );
    receiver
        .wait_for("the stream's end", |r| r.get(&watch) == Some(&1.0))
        .await;
}

/// The samples of a text exposition: Prometheus names, labels sorted.
fn samples(text: &str) -> HashMap<Series, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels: BTreeMap<_, _> = labels
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap();
                    (key.to_owned(), value.trim_matches('"').to_owned())
                })
                .collect();
            ((name.to_owned(), join(labels)), value.parse().unwrap())
        })
        .collect()
}

fn prometheus_series(name: &str, labels: &[(&str, &str)]) -> Series {
    let labels: Vec<(String, &str)> = labels
        .iter()
        .map(|(key, value)| (key.replace('.', "_"), *value))
        .collect();
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    series(name, &labels)
}

async fn the_scrape_endpoint_shows_calls_connections_and_streams(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.metrics_listen = Some("127.0.0.1:0".into());
    })
    .await
    else {
        return;
    };
    let expected = known_calls(&app).await;
    let stream = watch_from_now(&app).await;

    let (status, body) = scrape(&app).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let sampled = samples(&body);
    let get_customer = |name: &str, code: &str| {
        sampled
            .get(&prometheus_series(
                name,
                &[
                    ("rpc.service", CUSTOMER_SERVICE),
                    ("rpc.method", "GetCustomer"),
                    ("rpc.grpc.status_code", code),
                ],
            ))
            .copied()
    };
    for (code, count) in expected {
        assert_eq!(
            get_customer("rpc_server_requests_total", code),
            Some(count),
            "GetCustomer calls with code {code}:\n{body}"
        );
        assert_eq!(
            get_customer("rpc_server_duration_seconds_count", code),
            Some(count),
            "GetCustomer durations with code {code}:\n{body}"
        );
    }
    let gauge = |name: &str, labels: &[(&str, &str)]| {
        sampled
            .get(&prometheus_series(name, labels))
            .copied()
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{body}"))
    };
    assert_eq!(gauge("csp_watch_subscribers", &[]), 1.0);
    assert_eq!(
        gauge(
            "rpc_server_active_requests",
            &[
                ("rpc.service", "csp.commerce.v1.CatalogService"),
                ("rpc.method", "WatchCatalogChanges"),
            ]
        ),
        1.0,
        "the open stream is a call in flight"
    );
    for pool in ["pool", "direct"] {
        let name = [("db.client.connection.pool.name", pool)];
        assert_eq!(gauge("db_client_connection_max", &name), 8.0, "{pool}");
        let used = gauge(
            "db_client_connection_count",
            &[name[0], ("db.client.connection.state", "used")],
        );
        let idle = gauge(
            "db_client_connection_count",
            &[name[0], ("db.client.connection.state", "idle")],
        );
        assert!(used + idle <= 8.0, "{pool}: {used} used, {idle} idle");
    }
    // The calls above read customers through the direct connections, which stay open.
    assert!(
        gauge(
            "db_client_connection_count",
            &[
                ("db.client.connection.pool.name", "direct"),
                ("db.client.connection.state", "idle")
            ]
        ) >= 1.0
    );
    assert!(sampled.contains_key(&prometheus_series("csp_catalog_revision", &[])));

    // A stream its client drops ends CANCELLED, and its subscriber is gone.
    drop(stream);
    let cancelled = prometheus_series(
        "rpc_server_requests_total",
        &[
            ("rpc.service", "csp.commerce.v1.CatalogService"),
            ("rpc.method", "WatchCatalogChanges"),
            ("rpc.grpc.status_code", "1"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = scrape(&app).await;
        let sampled = samples(&body);
        if sampled.get(&prometheus_series("csp_watch_subscribers", &[])) == Some(&0.0)
            && sampled.get(&cancelled) == Some(&1.0)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stream stays counted:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_endpoint_shows_calls_connections_and_streams_sqlite() {
    the_scrape_endpoint_shows_calls_connections_and_streams(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_endpoint_shows_calls_connections_and_streams_postgres() {
    the_scrape_endpoint_shows_calls_connections_and_streams(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_endpoint_serves_only_get_metrics() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.metrics_listen = Some("127.0.0.1:0".into());
    })
    .await
    .unwrap();
    for (request, status) in [
        ("GET / HTTP/1.1", "HTTP/1.1 404 Not Found"),
        ("POST /metrics HTTP/1.1", "HTTP/1.1 405 Method Not Allowed"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(app.metrics_addr.unwrap())
            .await
            .unwrap();
        let request = format!("{request}\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with(status), "{request}: {answer}");
    }
    app.stop().await;
}
