//! Typed settings, layered: defaults < config file < `CSP_*` environment < command-line flags.
//! The only reader of environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::store::SqliteSynchronous;

/// The development secret: it is public, so a server listening beyond loopback refuses it.
pub const DEV_JWT_SECRET: &str = "csp-commerce-development-secret-change-me";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://csp-commerce.sqlite";

/// A loopback address, IPv4-mapped IPv6 ones included: where the development secret may serve.
pub fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// `sqlite://path` (created if missing) or `postgres://user@host/db`.
    pub database_url: String,
    /// PostgreSQL: where the listener for other replicas' changes connects, when
    /// `database_url` names a transaction pooler (pgbouncer): LISTEN needs a session of its
    /// own, so this names PostgreSQL itself. None: `database_url`.
    pub database_listen_url: Option<String>,
    /// The most connections of the pool, and as many again for the hot statements
    /// (`store/direct.rs`).
    pub max_db_connections: u32,
    /// SQLite: `full` (each commit synced before it is acknowledged) or `normal` (faster; an
    /// acknowledged write survives a process crash but can be lost on a power failure).
    pub sqlite_synchronous: SqliteSynchronous,
    /// HS256 secret for bearer tokens (shared by every replica).
    pub jwt_secret: String,
    /// Optional PEM file with an RS256 public key also accepted for tokens.
    pub jwt_rs256_public_key: Option<PathBuf>,
    /// Load the demo catalog and partners into an empty database.
    pub demo: bool,
    /// OperatorService's MintToken signs partner users' tokens with `jwt_secret` (HS256).
    /// Off: tokens come only from the identity provider (README "Running for real").
    pub mint_tokens: bool,
    /// OTLP/gRPC endpoint for traces and metrics, e.g. `http://127.0.0.1:4317`; none: no
    /// export.
    pub otlp_endpoint: Option<String>,
    /// How often metrics are pushed to `otlp_endpoint` (milliseconds).
    pub metrics_export_interval_ms: u64,
    /// Where to serve Prometheus' `GET /metrics` (plain HTTP/1.1): `host:port`, or a bare
    /// port for loopback (`9464` is `127.0.0.1:9464`); none: no scrape endpoint.
    pub metrics_listen: Option<String>,
    /// `tracing` filter, e.g. `info` or `csp_commerce=debug`.
    pub log: String,
    /// Concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// The console at `/`, its development sign-in and gRPC-Web on the gRPC port (HTTP/1.1
    /// accepted for them). Off: native gRPC over HTTP/2 only, e.g. a replica only other
    /// services call. Env: `CSP_WEB=false`.
    pub web: bool,
    /// Browser origins (`https://console.example.com`, scheme and host and port exactly as
    /// the browser sends them) allowed to call the API over gRPC-Web from another origin
    /// (CORS). The console served at `/` is of the server's own origin and needs none; a
    /// request whose `Origin` is neither is refused (403). Env: `CSP_GRPC_WEB_ORIGINS='["https://a", "https://b"]'`.
    pub grpc_web_origins: Vec<String>,
    /// Months of catalog-change log retained for subscribers to resume from.
    pub change_log_months: usize,
    /// Months of subscription events retained for WatchSubscriptionEvents to resume from;
    /// older ones are forgotten (a resume before them: REVISION_COMPACTED).
    pub subscription_event_retention_months: u32,
    /// How often the subscription events older than the retention are forgotten
    /// (milliseconds).
    pub subscription_event_purge_interval_ms: u64,
    /// An idle change stream gets a progress message this often (milliseconds).
    pub watch_progress_interval_ms: u64,
    /// A subscriber that takes none of its messages for this long is ended with where to
    /// resume; one that grants no HTTP/2 window has its connection closed at twice this
    /// (milliseconds).
    pub slow_subscriber_timeout_ms: u64,
    /// Cart and order requests a minute per partner (bursts up to a minute's worth); 0: no
    /// limit. The reference API allows 500.
    pub partner_order_requests_per_minute: u32,
    /// How often a replica checks the database for changes published elsewhere, besides
    /// PostgreSQL notifications (milliseconds).
    pub change_poll_interval_ms: u64,
    /// How often the server runs the renewal pass: every subscription term ended by the
    /// service's clock is renewed or expired (milliseconds; 0: never, leaving it to the
    /// `renew` subcommand or OperatorService.RunRenewals).
    pub renewal_interval_ms: u64,

    // Transport limits: connections, HTTP/2, request sizes, change streams.
    /// Open connections at most; at the cap the server stops accepting (new connections wait
    /// in the kernel's backlog) until one closes.
    pub max_connections: usize,
    /// A connection that has not sent the 24 bytes of an HTTP/2 preface (or a TLS hello)
    /// within this long is closed (milliseconds).
    pub handshake_timeout_ms: u64,
    /// A connection from which nothing was read for this long is closed; live peers answer
    /// the HTTP/2 keepalive pings well within it (milliseconds; at least the keepalive
    /// interval plus its timeout).
    pub idle_timeout_ms: u64,
    /// HTTP/2 keepalive: a ping this often (milliseconds)...
    pub http2_keepalive_interval_ms: u64,
    /// ...and a peer that has not answered it within this long is dropped (milliseconds).
    pub http2_keepalive_timeout_ms: u64,
    /// A connection older than this is asked to go (HTTP/2 GOAWAY: calls in flight finish,
    /// the client reconnects, through the balancer to any replica), so load spreads over
    /// replicas started later (milliseconds; 0: no maximum).
    pub max_connection_age_ms: u64,
    /// ...and one still open this long after its GOAWAY (a change stream, usually) is
    /// closed (milliseconds; 0: never).
    pub max_connection_age_grace_ms: u64,
    /// On SIGTERM (or SIGINT) the server reports NOT_SERVING at once and keeps serving this
    /// long, so balancers' health checks see it go before it stops accepting: longer than
    /// their check interval times their fall count (milliseconds).
    pub drain_grace_ms: u64,
    /// Then it stops accepting, ends change streams (with their revision to resume after) and
    /// waits at most this long for calls in flight (milliseconds).
    pub drain_timeout_ms: u64,
    /// Deadline of a unary call, and of a stream's start (milliseconds); a shorter
    /// `grpc-timeout` from the client wins. Server streams are not cut.
    pub request_timeout_ms: u64,
    /// Deadline of a CatalogAdminService call (milliseconds): an upload and import of a whole
    /// month takes minutes.
    pub admin_request_timeout_ms: u64,
    /// Largest request message of the commerce services (bytes); CatalogAdminService sets
    /// its own.
    pub max_request_bytes: usize,
    /// Largest request message of health and reflection (bytes).
    pub probe_max_request_bytes: usize,
    /// Open WatchCatalogChanges streams per user (token subject within its partner)...
    pub watch_streams_per_user: u32,
    /// ...per partner...
    pub watch_streams_per_partner: u32,
    /// ...and in the whole process (each: 0, no limit).
    pub watch_streams_total: u32,
    /// Database connections the change streams' replays may use at once; 0: a quarter of
    /// `max_db_connections` (at least 1). Replays beyond it wait their turn.
    pub watch_replay_connections: u32,
    /// Recent changes the feed holds in memory: a stream starting or resuming within them
    /// reads nothing from the database.
    pub watch_recent_changes: usize,
    /// How long a call waits for a pooled database connection before it is answered
    /// UNAVAILABLE (milliseconds).
    pub db_acquire_timeout_ms: u64,
    // Token claims, quotas and failed-authentication limits.
    /// Required `iss` of every token when set; tokens minted here carry it.
    pub jwt_issuer: Option<String>,
    /// Required `aud` of every token when set (tokens minted here carry it); when unset a
    /// token's `aud`, if any, is not checked (identity providers always send one).
    pub jwt_audience: Option<String>,
    /// The longest a token may live (`exp - iat`, seconds); a token without `iat` is refused
    /// while this applies. 0: no maximum.
    pub jwt_max_lifetime_seconds: u64,
    /// Clock skew allowed on `exp`, `nbf` and `iat` (seconds).
    pub jwt_leeway_seconds: u64,
    /// Optional JSON Web Key Set file (keys picked by the token's `kid`), re-read when it
    /// changes, so keys rotate without a restart.
    pub jwt_jwks_file: Option<PathBuf>,
    /// Catalog requests (WatchCatalogChanges opens included) a minute per partner; 0: no limit.
    pub catalog_partner_requests_per_minute: u32,
    /// Catalog requests a minute per user (a token's partner and `sub`); 0: no limit.
    pub catalog_user_requests_per_minute: u32,
    /// Customer requests a minute per partner; 0: no limit.
    pub customer_partner_requests_per_minute: u32,
    /// Customer requests a minute per user; 0: no limit.
    pub customer_user_requests_per_minute: u32,
    /// Cart and order requests a minute per user, within the partner's shared quota; 0: no
    /// limit.
    pub order_user_requests_per_minute: u32,
    /// Catalog-admin requests a minute per user; 0: no limit.
    pub admin_user_requests_per_minute: u32,
    /// Failed authentications a minute per peer address (an IPv6 peer by its /64) before that
    /// address's not-yet-verified tokens are refused unchecked; 0: no limit.
    pub failed_auth_per_minute: u32,
    /// Replicas behind an even balancer: every per-minute limit above is divided by it, so
    /// the set honours the configured total (0 is taken as 1).
    pub quota_replicas: u32,
    // TLS: both files set, the server speaks only TLS; none set, only plaintext.
    /// PEM certificate chain the server presents; set with `tls_key_file` to serve TLS.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA certificates for mTLS: when set, every client must present a certificate that
    /// chains to one of them (needs `tls_cert_file`).
    pub tls_client_ca_file: Option<PathBuf>,
    // Imports: caps on every import's files, the upload's spool, the path form.
    /// The one folder ImportMonth may read paths from (relative to it, or absolute inside it);
    /// none: ImportMonth's path form is off (FAILED_PRECONDITION) and months come by UploadMonth.
    pub import_dir: Option<PathBuf>,
    /// Where UploadMonth spools the files it receives; none: the system's temp folder.
    pub import_spool_dir: Option<PathBuf>,
    /// The largest file of an import, in bytes.
    pub import_max_file_bytes: u64,
    /// All the files of one import together, in bytes.
    pub import_max_month_bytes: u64,
    /// Bytes of catalog listings (a filter's matching rows, paged from memory) kept per
    /// snapshot; past it, listings asked for once go first.
    pub catalog_listing_cache_bytes: u64,
    /// Bytes of past months kept in memory for reads as of a month (each month's snapshot and
    /// an eighth of `catalog_listing_cache_bytes` for its listings); past it, the least recently
    /// read month is forgotten (and loaded again when next asked for).
    pub catalog_past_months_bytes: u64,
    /// Whether the current month's snapshot is kept in a file between starts (read at start
    /// when it matches the store's current month, written whenever a month is loaded).
    pub catalog_snapshot_file: bool,
    /// The folder of that file (`catalog-snapshot` in it); none: `<database file>-catalog`
    /// beside a SQLite database, no file on PostgreSQL.
    pub catalog_snapshot_dir: Option<PathBuf>,
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
            database_listen_url: None,
            max_db_connections: 8,
            sqlite_synchronous: SqliteSynchronous::Full,
            jwt_secret: DEV_JWT_SECRET.to_owned(),
            jwt_rs256_public_key: None,
            demo: true,
            mint_tokens: true,
            otlp_endpoint: None,
            metrics_export_interval_ms: 60_000,
            metrics_listen: None,
            log: "info,sqlx=warn,sea_orm=warn".to_owned(),
            max_concurrent_streams: 100,
            web: true,
            grpc_web_origins: Vec::new(),
            change_log_months: 12,
            subscription_event_retention_months: 12,
            subscription_event_purge_interval_ms: 3_600_000,
            watch_progress_interval_ms: 10_000,
            slow_subscriber_timeout_ms: 30_000,
            change_poll_interval_ms: 2_000,
            renewal_interval_ms: 60_000,
            partner_order_requests_per_minute: 500,

            max_connections: 10_000,
            handshake_timeout_ms: 10_000,
            idle_timeout_ms: 600_000,
            http2_keepalive_interval_ms: 30_000,
            http2_keepalive_timeout_ms: 10_000,
            max_connection_age_ms: 300_000,
            max_connection_age_grace_ms: 60_000,
            drain_grace_ms: 5_000,
            drain_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            admin_request_timeout_ms: 600_000,
            max_request_bytes: 1024 * 1024,
            probe_max_request_bytes: 4 * 1024,
            watch_streams_per_user: 100,
            watch_streams_per_partner: 1_000,
            watch_streams_total: 20_000,
            watch_replay_connections: 0,
            watch_recent_changes: 10_000,
            db_acquire_timeout_ms: 10_000,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_lifetime_seconds: 24 * 3600,
            jwt_leeway_seconds: 30,
            jwt_jwks_file: None,
            catalog_partner_requests_per_minute: 12_000,
            catalog_user_requests_per_minute: 3_000,
            customer_partner_requests_per_minute: 1_000,
            customer_user_requests_per_minute: 300,
            order_user_requests_per_minute: 200,
            admin_user_requests_per_minute: 600,
            failed_auth_per_minute: 60,
            quota_replicas: 1,
            tls_cert_file: None,
            tls_key_file: None,
            tls_client_ca_file: None,
            import_dir: None,
            import_spool_dir: None,
            import_max_file_bytes: 256 << 20,
            import_max_month_bytes: 1 << 30,
            import_max_record_bytes: 64 << 10,
            catalog_listing_cache_bytes: 64 << 20,
            catalog_past_months_bytes: 256 << 20,
            catalog_snapshot_file: true,
            catalog_snapshot_dir: None,
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

    /// The scrape endpoint's address, if it is on: a bare port is on loopback.
    pub fn metrics_address(&self) -> Result<Option<SocketAddr>, String> {
        let Some(text) = self.metrics_listen.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if let Ok(port) = text.parse::<u16>() {
            return Ok(Some(SocketAddr::from(([127, 0, 0, 1], port))));
        }
        text.parse()
            .map(Some)
            .map_err(|_| format!("metrics_listen must be host:port or a port, not {text:?}"))
    }

    /// A fresh SQLite file URL for `path`.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}", path.display())
    }
}
