//! OTLP trace export: the real binary, started with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
//! real OTLP/gRPC trace receiver, exports a span per RPC.

use std::process::{Command, Stdio};
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

/// A received span: its name and its attributes as `key=value`.
type Span = (String, Vec<String>);

/// Collects every span it receives.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Span>>>);

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
                    spans.push((span.name, attributes));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_is_exported_as_a_span_over_otlp() {
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_csp-commerce"))
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
    let mut catalog = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel,
        common::us_sales_agent("otel"),
    );
    catalog
        .get_product(pb::GetProductRequest {
            product_id: "CFQ7TTC02ROY".into(),
        })
        .await
        .unwrap();

    // The batch exporter sends within seconds; wait for the span, boundedly.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = receiver.0.lock().unwrap().iter().any(|(name, attributes)| {
            name == "rpc" && attributes.iter().any(|a| a.contains("GetProduct"))
        });
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no span for GetProduct reached the collector: {:?}",
            receiver.0.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
