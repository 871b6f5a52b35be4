//! Typed settings, layered: defaults < config file < `CSP_*` environment < command-line flags.
//! The only reader of environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The development secret: fine on a laptop, refused nowhere, warned about at start.
pub const DEV_JWT_SECRET: &str = "csp-commerce-development-secret-change-me";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://csp-commerce.sqlite";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// `sqlite://path` (created if missing) or `postgres://user@host/db`.
    pub database_url: String,
    /// The most connections of the pool, and as many again for the hot statements
    /// (`store/direct.rs`).
    pub max_db_connections: u32,
    /// HS256 secret for bearer tokens (shared by every replica).
    pub jwt_secret: String,
    /// Optional PEM file with an RS256 public key also accepted for tokens.
    pub jwt_rs256_public_key: Option<PathBuf>,
    /// Load the demo catalog and partners into an empty database.
    pub demo: bool,
    /// OTLP/gRPC endpoint for traces, e.g. `http://127.0.0.1:4317`; none: no export.
    pub otlp_endpoint: Option<String>,
    /// `tracing` filter, e.g. `info` or `csp_commerce=debug`.
    pub log: String,
    /// Concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// Months of catalog-change log kept for subscribers to resume from.
    pub change_log_months: usize,
    /// An idle change stream gets a progress message this often (milliseconds).
    pub watch_progress_interval_ms: u64,
    /// A subscriber that takes none of its messages for this long is ended (milliseconds).
    pub slow_subscriber_timeout_ms: u64,
    /// Cart and order requests a minute per partner (bursts up to a minute's worth); 0: no
    /// limit. The reference API allows 500.
    pub partner_order_requests_per_minute: u32,
    /// How often a replica checks the database for changes published elsewhere, besides
    /// PostgreSQL notifications (milliseconds).
    pub change_poll_interval_ms: u64,
    // Imports (issue 17): caps on every import's files, the upload's spool, the path form.
    /// The one folder ImportMonth may read paths from (relative to it, or absolute inside it);
    /// none: ImportMonth's path form is off (FAILED_PRECONDITION) and months come by UploadMonth.
    pub import_dir: Option<PathBuf>,
    /// Where UploadMonth spools the files it receives; none: the system's temp folder.
    pub import_spool_dir: Option<PathBuf>,
    /// The largest file of an import, in bytes.
    pub import_max_file_bytes: u64,
    /// All the files of one import together, in bytes.
    pub import_max_month_bytes: u64,
    /// The longest CSV record (line) of an import, in bytes.
    pub import_max_record_bytes: u64,
    /// The largest chunk of an UploadMonth stream, in bytes (CatalogAdminService's decode
    /// limit is this plus 128 KiB for the header).
    pub import_max_chunk_bytes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 50051))),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            max_db_connections: 8,
            jwt_secret: DEV_JWT_SECRET.to_owned(),
            jwt_rs256_public_key: None,
            demo: true,
            otlp_endpoint: None,
            log: "info,sqlx=warn,sea_orm=warn".to_owned(),
            max_concurrent_streams: 1024,
            change_log_months: 12,
            watch_progress_interval_ms: 10_000,
            slow_subscriber_timeout_ms: 30_000,
            change_poll_interval_ms: 2_000,
            partner_order_requests_per_minute: 500,
            import_dir: None,
            import_spool_dir: None,
            import_max_file_bytes: 256 << 20,
            import_max_month_bytes: 1 << 30,
            import_max_record_bytes: 64 << 10,
            import_max_chunk_bytes: 1 << 20,
        }
    }
}

/// Flags given on the command line: they win over everything else.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Settings {
    /// Reads the layers. `config_file` may be absent (then `CSP_CONFIG` may name one).
    pub fn load(
        config_file: Option<PathBuf>,
        overrides: &Overrides,
    ) -> Result<Self, Box<figment::Error>> {
        let file = config_file.or_else(|| std::env::var_os("CSP_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(Env::prefixed("CSP_"));
        // The OpenTelemetry convention, read here so it stays the one place env is read.
        if let Ok(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            && !endpoint.is_empty()
        {
            figment = figment.merge(Serialized::default("otlp_endpoint", endpoint));
        }
        figment
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    /// A fresh SQLite file URL for `path`.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}", path.display())
    }
}
