//! OTLP trace export: the real binary, started with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
//! real OTLP/gRPC trace receiver, exports a span per RPC; a call carrying a W3C `traceparent`
//! joins the caller's trace, a malformed one starts a trace of its own.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, TEST_SECRET};
use csp_commerce::grpc::pb;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::transport::Channel;

/// A received span.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    /// `key=value`.
    attributes: Vec<String>,
    trace_id: String,
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
    /// The spans received so far, once `ready` holds of them (within 30 s: the batch exporter
    /// sends within seconds).
    async fn wait_for(&self, what: &str, ready: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let spans = self.0.lock().unwrap().clone();
            if ready(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not reach the collector: {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
        .wait_for("the four calls' spans", |spans| {
            ["GetProduct", "WatchCatalogChanges"]
                .iter()
                .all(|method| spans.iter().any(|s| s.is_rpc(method)))
                && spans.iter().filter(|s| s.is_rpc("ListProducts")).count() == malformed.len()
        })
        .await;
    for method in ["GetProduct", "WatchCatalogChanges"] {
        let rpc = spans.iter().find(|s| s.is_rpc(method)).unwrap();
        assert_eq!(rpc.trace_id, trace_id, "{method} joins the caller's trace");
        assert_eq!(
            rpc.parent_span_id, client_span,
            "{method}'s server span is a child of the client span"
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
