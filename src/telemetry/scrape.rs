//! The Prometheus scrape endpoint: `GET /metrics` over plain HTTP/1.1 on its own address
//! (`metrics_listen`), answered with the text exposition of the meter provider's registry.
//! One route, so hyper alone: no web framework.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus::{Encoder, TextEncoder};
use tokio::net::TcpListener;

/// A client that has not sent its request head within this long is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `registry` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, registry: prometheus::Registry) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // EMFILE and the like: back off rather than spin.
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = answer(&request, &registry);
                async move { Ok::<_, Infallible>(answer) }
            });
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "metrics endpoint: connection ended");
            }
        });
    }
}

fn answer<B>(
    request: &http::Request<B>,
    registry: &prometheus::Registry,
) -> http::Response<Full<Bytes>> {
    let plain = |status: http::StatusCode, text: &'static str| {
        let mut response = http::Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *response.status_mut() = status;
        response
    };
    if request.uri().path() != "/metrics" {
        return plain(
            http::StatusCode::NOT_FOUND,
            "only /metrics is served here\n",
        );
    }
    if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
        return plain(http::StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n");
    }
    let encoder = TextEncoder::new();
    let mut text = Vec::new();
    if let Err(e) = encoder.encode(&registry.gather(), &mut text) {
        tracing::warn!(error = %e, "metrics endpoint: encoding failed");
        return plain(http::StatusCode::INTERNAL_SERVER_ERROR, "encoding failed\n");
    }
    let mut response = http::Response::new(Full::new(Bytes::from(text)));
    if let Ok(value) = http::HeaderValue::from_str(encoder.format_type()) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}
