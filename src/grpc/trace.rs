//! W3C trace context at the edge: a call that carries `traceparent` (and `tracestate`) joins
//! its caller's trace, so a request from another service shows as one trace end to end.

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

static PROPAGATOR: LazyLock<TraceContextPropagator> = LazyLock::new(TraceContextPropagator::new);

/// The span of one RPC (every RPC, the change stream too), continuing the caller's trace when
/// the call's metadata carries a valid `traceparent`. A malformed one is ignored: a new root.
pub fn rpc_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!("rpc", rpc = %request.uri().path());
    let headers = Headers(request.headers());
    // From an empty context, not the current one: no valid header means no parent at all.
    let parent = if headers.get(TRACEPARENT).is_some_and(well_formed) {
        PROPAGATOR.extract_with_context(&Context::new(), &headers)
    } else {
        Context::new()
    };
    // Without the OpenTelemetry layer (no exporter configured) there is nothing to parent.
    let _ = span.set_parent(parent);
    span
}

const TRACEPARENT: &str = "traceparent";

/// Whether the fields of a `traceparent` have the lengths W3C fixes (version, trace id, span
/// id, flags): the propagator parses them as numbers and would take a 17-digit span id.
fn well_formed(traceparent: &str) -> bool {
    let lengths = traceparent.trim().split('-').take(4).map(str::len);
    lengths.eq([2, 32, 16, 2])
}

/// gRPC metadata as the propagator's carrier (header names are lowercase on the wire).
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
