//! Metrics per RPC, through the OpenTelemetry metrics API: `rpc.server.requests` (a counter),
//! `rpc.server.duration` (a histogram, seconds) and `rpc.server.active_requests` (calls in
//! flight), by `rpc.service`, `rpc.method` and, once a call has ended, `rpc.grpc.status_code`.
//!
//! The code is the one the call ends with: a trailers-only answer's header, or the trailers
//! after the last message (a stream's code too, when it ends). An answer dropped before its
//! trailers (the client went away) counts as CANCELLED. A call ends when its trailers are
//! sent, so a stream's duration is its whole life.
//!
//! On the hot path nothing is allocated: every method's attribute sets (one per code) are made
//! once, from the descriptor sets, and a call finds its own by its path. Paths that name no
//! method share one set (`rpc.method` = `_OTHER`), so a caller cannot grow the series.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use prost::Message;
use tonic::Code;

/// Histogram buckets in seconds: from a cached read (tens of microseconds) to a checkout
/// waiting on its database, a deadline, or a stream's life.
const DURATION_BUCKETS: [f64; 20] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The 17 gRPC codes, 0 (OK) to 16 (UNAUTHENTICATED).
const CODES: usize = 17;

/// The attribute sets of one method.
#[derive(Debug)]
struct MethodAttributes {
    /// `rpc.service`, `rpc.method`.
    method: [KeyValue; 2],
    /// ... and `rpc.grpc.status_code`, by code.
    by_code: [[KeyValue; 3]; CODES],
}

impl MethodAttributes {
    fn new(service: &str, method: &str) -> Self {
        let method = [
            KeyValue::new("rpc.service", service.to_owned()),
            KeyValue::new("rpc.method", method.to_owned()),
        ];
        let by_code = std::array::from_fn(|code| {
            [
                method[0].clone(),
                method[1].clone(),
                KeyValue::new("rpc.grpc.status_code", code as i64),
            ]
        });
        Self { method, by_code }
    }
}

#[derive(Debug)]
struct Instruments {
    requests: Counter<u64>,
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
    /// Every method's attribute sets; the first is `_OTHER`'s.
    methods: Vec<MethodAttributes>,
    /// The index in `methods` of each path (`/package.Service/Method`).
    paths: HashMap<Box<str>, usize>,
}

/// The index of `_OTHER` in `Instruments::methods`.
const OTHER: usize = 0;

/// The layer: wraps every service of the server (put it outermost, so a deadline's status is
/// counted too).
#[derive(Debug, Clone)]
pub struct RpcMetricsLayer(Arc<Instruments>);

impl RpcMetricsLayer {
    /// Instruments on `meter` for every method of the services in `descriptor_sets` (encoded
    /// `FileDescriptorSet`s). A set that does not decode adds no method (its calls count as
    /// `_OTHER`).
    pub fn new(meter: &Meter, descriptor_sets: &[&[u8]]) -> Self {
        let mut methods = vec![MethodAttributes::new("_OTHER", "_OTHER")];
        let mut paths = HashMap::new();
        let files = descriptor_sets
            .iter()
            .filter_map(|set| prost_types::FileDescriptorSet::decode(*set).ok())
            .flat_map(|set| set.file);
        for file in files {
            for service in &file.service {
                let name = match file.package() {
                    "" => service.name().to_owned(),
                    package => format!("{package}.{}", service.name()),
                };
                for method in &service.method {
                    let path = format!("/{name}/{}", method.name()).into_boxed_str();
                    if let std::collections::hash_map::Entry::Vacant(entry) = paths.entry(path) {
                        entry.insert(methods.len());
                        methods.push(MethodAttributes::new(&name, method.name()));
                    }
                }
            }
        }
        let requests = meter
            .u64_counter("rpc.server.requests")
            .with_description("RPCs ended, by service, method and gRPC status code")
            .with_unit("{request}")
            .build();
        let duration = meter
            .f64_histogram("rpc.server.duration")
            .with_description("RPC duration, from its headers to its status (a stream's life)")
            .with_unit("s")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build();
        let active = meter
            .i64_up_down_counter("rpc.server.active_requests")
            .with_description("RPCs in flight (open streams included)")
            .with_unit("{request}")
            .build();
        Self(Arc::new(Instruments {
            requests,
            duration,
            active,
            methods,
            paths,
        }))
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> RpcMetrics<S> {
        RpcMetrics {
            inner,
            instruments: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    instruments: Arc<Instruments>,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for RpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Unpin,
    ResBody: Body<Data = Bytes> + Unpin,
{
    type Response = http::Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = MeteredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = Call::start(&self.instruments, request.uri().path());
        MeteredFuture {
            inner: self.inner.call(request),
            call: Some(call),
        }
    }
}

/// One call in flight: ended once, with its code, or as CANCELLED when dropped before.
#[derive(Debug)]
struct Call {
    instruments: Arc<Instruments>,
    method: usize,
    started: Instant,
    ended: bool,
}

impl Call {
    fn start(instruments: &Arc<Instruments>, path: &str) -> Self {
        let method = instruments.paths.get(path).copied().unwrap_or(OTHER);
        instruments
            .active
            .add(1, &instruments.methods[method].method);
        Self {
            instruments: instruments.clone(),
            method,
            started: Instant::now(),
            ended: false,
        }
    }

    fn end(&mut self, code: Code) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let instruments = &self.instruments;
        let attributes = &instruments.methods[self.method];
        let by_code = &attributes.by_code[(code as usize).min(CODES - 1)];
        instruments.requests.add(1, by_code);
        instruments
            .duration
            .record(self.started.elapsed().as_secs_f64(), by_code);
        instruments.active.add(-1, &attributes.method);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.end(Code::Cancelled);
    }
}

/// The code in `grpc-status`, if the headers carry one.
fn status_code(headers: &http::HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?;
    let code = std::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|text| text.parse::<i32>().ok())
        .map_or(Code::Unknown, Code::from_i32);
    Some(code)
}

/// The inner call's answer, its body metered.
#[derive(Debug)]
pub struct MeteredFuture<F> {
    inner: F,
    call: Option<Call>,
}

impl<F, ResBody, E> Future for MeteredFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>> + Unpin,
{
    type Output = Result<http::Response<MeteredBody<ResBody>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer = ready!(Pin::new(&mut self.inner).poll(cx));
        let mut call = self.call.take();
        Poll::Ready(answer.map(|response| {
            // A trailers-only answer (every error tonic's handlers return) ends here.
            if let (Some(code), Some(call)) = (status_code(response.headers()), call.as_mut()) {
                call.end(code);
            }
            response.map(|body| MeteredBody { inner: body, call })
        }))
        // An error from the inner service: `call` is dropped, counted as CANCELLED (tonic's
        // services are infallible; the connection is gone).
    }
}

/// An answer's body, watched for the trailers that end the call.
#[derive(Debug)]
pub struct MeteredBody<B> {
    inner: B,
    call: Option<Call>,
}

impl<B> Body for MeteredBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(code), Some(call)) = (
                    frame.trailers_ref().and_then(status_code),
                    self.call.as_mut(),
                ) {
                    call.end(code);
                }
            }
            // The body ended with no status: not a gRPC answer the client can read.
            None | Some(Err(_)) => {
                if let Some(call) = self.call.as_mut() {
                    call.end(Code::Unknown);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_method_of_the_descriptor_sets_has_its_attributes_and_nothing_else_does() {
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
        let layer = RpcMetricsLayer::new(
            &opentelemetry::metrics::MeterProvider::meter(&provider, "test"),
            &[
                crate::grpc::pb::FILE_DESCRIPTOR_SET,
                b"not a descriptor set",
            ],
        );
        let index = layer.0.paths["/csp.commerce.v1.CustomerService/GetCustomer"];
        let attributes = &layer.0.methods[index];
        assert_eq!(
            attributes.by_code[5]
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>(),
            [
                "rpc.service=csp.commerce.v1.CustomerService",
                "rpc.method=GetCustomer",
                "rpc.grpc.status_code=5"
            ]
        );
        assert!(
            layer
                .0
                .paths
                .contains_key("/csp.commerce.v1.CatalogService/WatchCatalogChanges")
        );
        assert!(!layer.0.paths.contains_key("/csp.commerce.v1.Nothing/Here"));
        assert_eq!(layer.0.methods[OTHER].method[1].value.as_str(), "_OTHER");
    }

    #[test]
    fn a_status_code_is_read_from_grpc_status_and_anything_else_is_unknown() {
        let headers = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-status", value.parse().unwrap());
            headers
        };
        assert_eq!(status_code(&http::HeaderMap::new()), None);
        assert_eq!(status_code(&headers("5")), Some(Code::NotFound));
        assert_eq!(status_code(&headers("16")), Some(Code::Unauthenticated));
        assert_eq!(status_code(&headers("99")), Some(Code::Unknown));
        assert_eq!(status_code(&headers("five")), Some(Code::Unknown));
    }
}
