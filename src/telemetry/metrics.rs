//! The process's meter provider: OTLP export (a periodic push to the traces' endpoint) and a
//! Prometheus registry for the scrape endpoint (`scrape.rs`), each when configured. One per
//! `Application`, not global: the instruments of two servers in one process (the tests) never
//! mix.

use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider as _, NoopMeterProvider};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

/// The meter provider; flushes the OTLP exporter when shut down or dropped.
#[derive(Debug)]
pub struct Metrics {
    /// `None` when nothing reads the instruments: they are then no-ops (an SDK provider without
    /// a reader would also log an error for every observable gauge).
    provider: Option<SdkMeterProvider>,
    registry: Option<prometheus::Registry>,
}

impl Metrics {
    /// Exports to `otlp_endpoint` every `interval` when set, and fills a Prometheus registry
    /// when `prometheus`. With neither, the instruments are no-ops.
    /// Call inside the tokio runtime (the OTLP client's channel lives there).
    pub fn new(
        otlp_endpoint: Option<&str>,
        interval: Duration,
        prometheus: bool,
    ) -> anyhow::Result<Self> {
        let mut builder = SdkMeterProvider::builder().with_resource(super::resource());
        if let Some(endpoint) = otlp_endpoint {
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?;
            builder = builder.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(interval)
                    .build(),
            );
        }
        let registry = prometheus.then(prometheus::Registry::new);
        if let Some(registry) = &registry {
            builder = builder.with_reader(
                opentelemetry_prometheus::exporter()
                    .with_registry(registry.clone())
                    .scope_info_enabled(false)
                    .build()?,
            );
        }
        let read = otlp_endpoint.is_some() || registry.is_some();
        Ok(Self {
            provider: read.then(|| builder.build()),
            registry,
        })
    }

    pub fn meter(&self) -> Meter {
        match &self.provider {
            Some(provider) => provider.meter("csp-commerce"),
            None => NoopMeterProvider::new().meter("csp-commerce"),
        }
    }

    /// The registry the scrape endpoint encodes, when it is on.
    pub fn registry(&self) -> Option<&prometheus::Registry> {
        self.registry.as_ref()
    }
}

impl Drop for Metrics {
    fn drop(&mut self) {
        // The last export: what was counted since the previous one.
        if let Some(Err(e)) = self.provider.as_ref().map(SdkMeterProvider::shutdown) {
            tracing::debug!(error = %e, "metrics provider shutdown");
        }
    }
}
