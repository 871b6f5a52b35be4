//! The running application as a value: built from settings, bound to a port (0 allowed),
//! served until a shutdown signal. `main` and the tests build it the same way.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::demo;
use crate::domain::customer::Role;
use crate::grpc::admin::AdminApi;
use crate::grpc::cart::CartApi;
use crate::grpc::catalog::CatalogApi;
use crate::grpc::customer::CustomerApi;
use crate::grpc::deadline::DeadlineLayer;
use crate::grpc::listener::{self, Connections, ListenerSettings};
use crate::grpc::order::OrderApi;
use crate::grpc::pb::cart_service_server::CartServiceServer;
use crate::grpc::pb::catalog_admin_service_server::CatalogAdminServiceServer;
use crate::grpc::pb::catalog_service_server::CatalogServiceServer;
use crate::grpc::pb::customer_service_server::CustomerServiceServer;
use crate::grpc::pb::order_service_server::OrderServiceServer;
use crate::grpc::quota::{FailedAuth, Quotas, ServiceGroup};
use crate::grpc::watch::WatchRoute;
use crate::grpc::{self, Authenticate, pb};
use crate::import::ImportLimits;
use crate::import::files::ImportDir;
use crate::service::Clock;
use crate::service::carts::CartService;
use crate::service::catalog::CatalogService;
use crate::service::customers::CustomerService;
use crate::service::feed::{ChangeFeed, FeedSettings, StreamLimits};
use crate::service::orders::OrderService;
use crate::service::paging::PageTokens;
use crate::store::Store;
use tonic::service::interceptor::InterceptedService;

pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    settings: Settings,
    keys: Arc<TokenKeys>,
    store: Store,
    catalog: CatalogService,
    customers: CustomerService,
    carts: CartService,
    orders: OrderService,
    feed: ChangeFeed,
    tls: Option<ServerTlsConfig>,
    import_dir: Option<ImportDir>,
}

/// The import caps of `settings`.
pub fn import_limits(settings: &Settings) -> ImportLimits {
    ImportLimits {
        max_file_bytes: settings.import_max_file_bytes,
        max_month_bytes: settings.import_max_month_bytes,
        max_record_bytes: settings.import_max_record_bytes,
    }
}

impl Application {
    /// Connects and migrates the database, loads the demo into an empty one, loads the catalog
    /// snapshot and binds the listener.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let started = Instant::now();
        refuse_public_dev_secret(&settings)?;
        let keys = Arc::new(TokenKeys::from_settings(&settings).map_err(anyhow::Error::msg)?);
        if settings.jwt_secret == crate::config::DEV_JWT_SECRET {
            tracing::warn!("using the development JWT secret (loopback only): set CSP_JWT_SECRET");
        }
        let tls = tls_config(&settings)?;
        let store = Store::connect_with(
            &settings.database_url,
            settings.max_db_connections,
            Duration::from_millis(settings.db_acquire_timeout_ms),
        )
        .await?;
        store.migrate().await?;
        let tokens = PageTokens::new(settings.jwt_secret.as_bytes());
        let customers = CustomerService::new(store.clone(), tokens.clone(), clock.clone());
        let catalog = CatalogService::new(
            store.clone(),
            customers.clone(),
            tokens.clone(),
            clock.clone(),
            settings.change_log_months,
        )
        .with_import_limits(import_limits(&settings));
        let import_dir = settings
            .import_dir
            .as_deref()
            .map(ImportDir::new)
            .transpose()
            .context("import_dir must be an existing folder")?;
        let carts = CartService::new(
            store.clone(),
            catalog.clone(),
            customers.clone(),
            tokens.clone(),
            clock.clone(),
        );
        let orders = OrderService::new(
            store.clone(),
            catalog.clone(),
            customers.clone(),
            tokens,
            clock,
        );
        if settings.demo && store.partner_count().await? == 0 {
            demo::load_partners(&store).await?;
            tracing::info!("loaded the demo partners and customers");
        }
        let month = match catalog.reload().await? {
            Some(month) => Some(month),
            None if settings.demo => {
                demo::load_catalog(&catalog).await?;
                tracing::info!(month = demo::MONTH, "loaded the demo catalog");
                catalog.snapshot().month()
            }
            None => None,
        };
        let feed = ChangeFeed::new(
            store.clone(),
            catalog.clone(),
            FeedSettings {
                progress_interval: Duration::from_millis(
                    settings.watch_progress_interval_ms.max(1),
                ),
                slow_subscriber_timeout: Duration::from_millis(
                    settings.slow_subscriber_timeout_ms.max(1),
                ),
                poll_interval: Duration::from_millis(settings.change_poll_interval_ms.max(10)),
                replay_connections: match settings.watch_replay_connections {
                    0 => (settings.max_db_connections / 4).max(1),
                    n => n,
                } as usize,
                recent_changes: settings.watch_recent_changes,
                streams: StreamLimits {
                    per_user: settings.watch_streams_per_user,
                    per_partner: settings.watch_streams_per_partner,
                    total: settings.watch_streams_total,
                },
            },
            crate::grpc::wire::CHANGE_WIRE_FORMS,
        )
        .await?;
        let (products, skus, availabilities) = catalog.snapshot().counts();
        let listener = TcpListener::bind(settings.listen).await?;
        let local_addr = listener.local_addr()?;
        tracing::info!(
            month = ?month.map(|m| m.to_string()),
            products,
            skus,
            availabilities,
            ready_in_ms = started.elapsed().as_millis() as u64,
            "catalog ready"
        );
        Ok(Self {
            listener,
            local_addr,
            settings,
            keys,
            store,
            catalog,
            customers,
            carts,
            orders,
            feed,
            tls,
            import_dir,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn token_keys(&self) -> Arc<TokenKeys> {
        self.keys.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, then drains in-flight calls.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let limits = self.settings.clone();
        let (health_reporter, health) = tonic_health::server::health_reporter();
        // Health and reflection take a few small messages: 100 unfinished 4 MB health checks
        // held 400 MB.
        let health = health.max_decoding_message_size(limits.probe_max_request_bytes);
        for name in grpc::SERVICE_NAMES {
            health_reporter
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        // grpcurl 1.8 speaks only v1alpha; newer tools speak v1: serve both.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                // So reflection clients can decode the google.rpc error details.
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection()
            .build_v1()?
            .max_decoding_message_size(limits.probe_max_request_bytes);
        let reflection_v1alpha = reflection()
            .build_v1alpha()?
            .max_decoding_message_size(limits.probe_max_request_bytes);
        let max_request = limits.max_request_bytes;
        let connections = Arc::new(Connections::default());
        let incoming =
            listener::incoming(
                self.listener,
                ListenerSettings {
                    max_connections: limits.max_connections,
                    handshake_timeout: Duration::from_millis(limits.handshake_timeout_ms),
                    // Never before a live peer's answer to a keepalive ping is due.
                    idle_timeout: Duration::from_millis(limits.idle_timeout_ms.max(
                        limits.http2_keepalive_interval_ms + limits.http2_keepalive_timeout_ms,
                    )),
                    tcp_keepalive: Duration::from_secs(60),
                },
                connections.clone(),
            );

        let Interceptors {
            catalog: catalog_auth,
            customers: customers_auth,
            ordering,
            admin,
            limits: quotas,
        } = Interceptors::new(&self.settings, &self.keys);
        tracing::info!(address = %self.local_addr, "csp-commerce listening");
        let background = tokio::spawn(provisioning_loop(self.orders.clone()));
        let watchdog = tokio::spawn(self.feed.clone().watchdog());
        let forgetting = tokio::spawn(forget_idle_callers(quotas));
        let pump = tokio::spawn(self.feed.clone().pump(
            self.catalog.published_signal(),
            self.store.publish_notifications(),
        ));
        let reporter = health_reporter.clone();
        let feed = self.feed.clone();
        let shutdown = async move {
            shutdown.await;
            tracing::info!("shutting down: ending change streams, draining in-flight calls");
            // Streams never end by themselves: end them so the drain can finish.
            feed.shut_down();
            for name in grpc::SERVICE_NAMES {
                reporter
                    .set_service_status(*name, ServingStatus::NotServing)
                    .await;
            }
        };
        let mut server = Server::builder();
        if let Some(tls) = self.tls {
            // Over our incoming stream too: tonic runs the TLS handshake on each connection.
            server = server.tls_config(tls)?;
        }
        server
            .trace_fn(|request| tracing::info_span!("rpc", rpc = %request.uri().path()))
            .max_concurrent_streams(limits.max_concurrent_streams)
            .http2_keepalive_interval(Some(Duration::from_millis(
                limits.http2_keepalive_interval_ms,
            )))
            .http2_keepalive_timeout(Some(Duration::from_millis(
                limits.http2_keepalive_timeout_ms,
            )))
            // Covers a call until its answer starts: a stream's body is not cut.
            .layer(DeadlineLayer {
                limit: Duration::from_millis(limits.request_timeout_ms),
                admin_limit: Duration::from_millis(limits.admin_request_timeout_ms),
            })
            .add_service(health)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service({
                let api = CatalogApi {
                    catalog: self.catalog.clone(),
                    feed: self.feed.clone(),
                    encoded: Arc::default(),
                };
                InterceptedService::new(
                    WatchRoute::new(
                        CatalogServiceServer::new(api.clone())
                            .max_decoding_message_size(max_request),
                        api,
                        connections,
                    ),
                    catalog_auth,
                )
            })
            .add_service(InterceptedService::new(
                CustomerServiceServer::new(CustomerApi {
                    customers: self.customers,
                })
                .max_decoding_message_size(max_request),
                customers_auth,
            ))
            .add_service(InterceptedService::new(
                CartServiceServer::new(CartApi { carts: self.carts })
                    .max_decoding_message_size(max_request),
                ordering.clone(),
            ))
            .add_service(InterceptedService::new(
                OrderServiceServer::new(OrderApi {
                    orders: self.orders.clone(),
                })
                .max_decoding_message_size(max_request),
                ordering,
            ))
            .add_service(InterceptedService::new(
                // The decode limit caps an upload's chunk (and its header).
                CatalogAdminServiceServer::new(AdminApi {
                    catalog: self.catalog,
                    import_dir: self.import_dir,
                    spool_dir: self.settings.import_spool_dir.clone(),
                    max_chunk_bytes: self.settings.import_max_chunk_bytes as usize,
                })
                .max_decoding_message_size(
                    self.settings.import_max_chunk_bytes as usize + (128 << 10),
                ),
                admin,
            ))
            // Our accept loop: connection cap, handshake and idle timeouts, kill switches.
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await?;
        background.abort();
        watchdog.abort();
        forgetting.abort();
        pump.abort();
        Ok(())
    }
}

/// Refuses the public development secret unless the server listens on loopback only.
fn refuse_public_dev_secret(settings: &Settings) -> anyhow::Result<()> {
    let loopback = match settings.listen.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        v4 => v4.is_loopback(),
    };
    if settings.jwt_secret == crate::config::DEV_JWT_SECRET && !loopback {
        anyhow::bail!(
            "refusing to listen on {} with the public development JWT secret: set CSP_JWT_SECRET (or jwt_secret in the config file) to a secret of your own, or listen on loopback only (127.0.0.1 or ::1)",
            settings.listen
        );
    }
    Ok(())
}

/// The interceptors of the catalog, customer, cart-and-order and admin services, each with its
/// group's quotas (carts and orders share theirs), and the limits they hold, to forget idle
/// callers.
struct Interceptors {
    catalog: Authenticate,
    customers: Authenticate,
    ordering: Authenticate,
    admin: Authenticate,
    limits: Limits,
}

/// The quotas and the failed-authentication limit.
type Limits = (Vec<Quotas>, Option<Arc<FailedAuth>>);

impl Interceptors {
    fn new(s: &Settings, keys: &Arc<TokenKeys>) -> Self {
        let n = s.quota_replicas;
        let quotas = [
            Quotas::new(
                ServiceGroup::Catalog,
                s.catalog_partner_requests_per_minute,
                s.catalog_user_requests_per_minute,
                n,
            ),
            Quotas::new(
                ServiceGroup::Customers,
                s.customer_partner_requests_per_minute,
                s.customer_user_requests_per_minute,
                n,
            ),
            Quotas::new(
                ServiceGroup::Ordering,
                s.partner_order_requests_per_minute,
                s.order_user_requests_per_minute,
                n,
            ),
            // catalog_admin has no partner.
            Quotas::new(ServiceGroup::Admin, 0, s.admin_user_requests_per_minute, n),
        ];
        let failures = FailedAuth::new(s.failed_auth_per_minute, n);
        let [catalog, customers, ordering, admin] = quotas.clone().map(|q| {
            let auth = match q.group() {
                ServiceGroup::Admin => Authenticate::requiring(keys.clone(), Role::CatalogAdmin),
                _ => Authenticate::new(keys.clone()),
            };
            auth.throttled(q).limiting_failures(failures.clone())
        });
        Self {
            catalog,
            customers,
            ordering,
            admin,
            limits: (quotas.to_vec(), failures),
        }
    }
}

/// Drops the quota state of callers idle for a while, so the keyed limits stay bounded.
async fn forget_idle_callers((quotas, failures): Limits) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        quotas.iter().for_each(Quotas::forget_idle);
        if let Some(f) = &failures {
            f.forget_idle();
        }
    }
}

/// The TLS settings read and checked at start: a missing or unreadable file stops the start
/// with its path, never a plaintext fallback.
fn tls_config(settings: &Settings) -> anyhow::Result<Option<ServerTlsConfig>> {
    let read = |what: &str, path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read the TLS {what} {}: {e}", path.display()))
    };
    match (&settings.tls_cert_file, &settings.tls_key_file) {
        (None, None) if settings.tls_client_ca_file.is_some() => {
            anyhow::bail!("tls_client_ca_file needs tls_cert_file and tls_key_file")
        }
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
                read("certificate", cert)?,
                read("key", key)?,
            ));
            if let Some(ca) = &settings.tls_client_ca_file {
                // Client certificates are then required and verified against it (mTLS).
                tls = tls.client_ca_root(Certificate::from_pem(read("client CA", ca)?));
            }
            // Parsed now, so a bad certificate or key stops the start before anything is bound.
            Server::builder()
                .tls_config(tls.clone())
                .map_err(|e| anyhow::anyhow!("the TLS certificate or key is not usable: {e}"))?;
            tracing::info!(
                mtls = settings.tls_client_ca_file.is_some(),
                "serving TLS only"
            );
            Ok(Some(tls))
        }
        _ => anyhow::bail!("tls_cert_file and tls_key_file go together: set both or neither"),
    }
}

/// Completes provisioned orders and forgets old request ids, until aborted.
async fn provisioning_loop(orders: OrderService) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = orders.provision_pending().await {
            tracing::warn!(error = %e, "provisioning pass failed; retrying");
        }
        // About hourly.
        if ticks.is_multiple_of(36_000)
            && let Err(e) = orders.purge_request_ids().await
        {
            tracing::warn!(error = %e, "purging old request ids failed");
        }
        ticks += 1;
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
