//! Logs to stderr (quiet by default) and, when an endpoint is set, OTLP trace export. Metrics
//! (`metrics.rs`) belong to each `Application`, exported by OTLP to the same endpoint and
//! scraped by Prometheus (`scrape.rs`).

pub mod metrics;
pub mod scrape;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes and shuts the exporter down when dropped.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("trace exporter shutdown: {e}");
        }
    }
}

/// Installs the global subscriber. Call once, from `main`.
pub fn init(filter: &str, otlp_endpoint: Option<&str>) -> anyhow::Result<TelemetryGuard> {
    let env_filter = EnvFilter::try_new(filter)?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(resource())
                    .build(),
            )
        }
        None => None,
    };
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("csp-commerce"))
            .with_filter(EnvFilter::new("info,h2=off,tower=off,hyper=off,sqlx=off"))
    });
    tracing_subscriber::registry()
        .with(fmt.with_filter(env_filter))
        .with(otel)
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// What every exported span and metric says of its source.
fn resource() -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder()
        .with_service_name("csp-commerce")
        .build()
}
