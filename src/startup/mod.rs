//! The running application as a value: built from settings, bound to a port (0 allowed),
//! served until a shutdown signal. `main` and the tests build it the same way.

mod gauges;
mod health;
mod interceptors;
mod security;
mod settings;
mod tasks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tonic::transport::{Server, ServerTlsConfig};

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::demo;
use crate::grpc::admin::AdminApi;
use crate::grpc::cart::CartApi;
use crate::grpc::catalog::CatalogApi;
use crate::grpc::customer::CustomerApi;
use crate::grpc::deadline::DeadlineLayer;
use crate::grpc::listener::{self, Connections};
use crate::grpc::metrics::RpcMetricsLayer;
use crate::grpc::operator::OperatorApi;
use crate::grpc::order::OrderApi;
use crate::grpc::pb::cart_service_server::CartServiceServer;
use crate::grpc::pb::catalog_admin_service_server::CatalogAdminServiceServer;
use crate::grpc::pb::catalog_service_server::CatalogServiceServer;
use crate::grpc::pb::customer_service_server::CustomerServiceServer;
use crate::grpc::pb::operator_service_server::OperatorServiceServer;
use crate::grpc::pb::order_service_server::OrderServiceServer;
use crate::grpc::pb::subscription_event_service_server::SubscriptionEventServiceServer;
use crate::grpc::subscription_events::SubscriptionEventApi;
use crate::grpc::watch::WatchRoute;
use crate::grpc::{self, pb};
use crate::import::files::ImportDir;
use crate::service::Clock;
use crate::service::carts::CartService;
use crate::service::catalog::CatalogService;
use crate::service::customers::CustomerService;
use crate::service::feed::{ChangeFeed, SubscriptionEventFeed};
use crate::service::orders::OrderService;
use crate::service::paging::PageTokens;
use crate::service::partners::PartnerService;
use crate::service::vetting::VettingService;
use crate::store::Store;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::scrape;
use crate::web::{Console, DevSignIn, Origins, WebLayer};
use tonic::service::interceptor::InterceptedService;

use interceptors::{Interceptors, forget_idle_callers};
use security::{refuse_public_dev_secret, tls_config};
use tasks::{Background, event_purge_loop, provisioning_loop, renewal_loop};

pub use settings::import_limits;
pub use tasks::{drain_signal, shutdown_signal};

pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    settings: Settings,
    keys: Arc<TokenKeys>,
    store: Store,
    catalog: CatalogService,
    customers: CustomerService,
    partners: PartnerService,
    vetting: VettingService,
    carts: CartService,
    orders: OrderService,
    feed: ChangeFeed,
    events: SubscriptionEventFeed,
    tls: Option<ServerTlsConfig>,
    import_dir: Option<ImportDir>,
    metrics: Metrics,
    /// The scrape endpoint's listener, when `metrics_listen` is set.
    metrics_listener: Option<TcpListener>,
    /// The console, its sign-in and gRPC-Web, in front of the gRPC stack.
    web: WebLayer,
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
        let origins = Origins::new(&settings.grpc_web_origins)?;
        let metrics_address = settings.metrics_address().map_err(anyhow::Error::msg)?;
        let metrics = Metrics::new(
            settings.otlp_endpoint.as_deref(),
            Duration::from_millis(settings.metrics_export_interval_ms.max(100)),
            metrics_address.is_some(),
        )?;
        let store = Store::connect_with(
            &settings.database_url,
            settings.max_db_connections,
            Duration::from_millis(settings.db_acquire_timeout_ms),
            settings.sqlite_synchronous,
        )
        .await?;
        let store = match &settings.database_listen_url {
            Some(url) => store.listen_at(url),
            None => store,
        };
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
        .with_import_limits(import_limits(&settings))
        .with_listing_cache_bytes(
            usize::try_from(settings.catalog_listing_cache_bytes).unwrap_or(usize::MAX),
        )
        .with_past_months_bytes(
            usize::try_from(settings.catalog_past_months_bytes).unwrap_or(usize::MAX),
            usize::try_from(settings.catalog_listing_cache_bytes).unwrap_or(usize::MAX),
        )
        .with_snapshot_file(settings::snapshot_file(&settings, &store));
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
        let partners = PartnerService::new(
            store.clone(),
            tokens.clone(),
            clock.clone(),
            settings.mint_tokens.then(|| keys.clone()),
        );
        let vetting = VettingService::new(store.clone(), tokens.clone(), clock.clone());
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
            settings::feed(&settings),
            crate::grpc::wire::CHANGE_WIRE_FORMS,
        )
        .await?;
        let events = SubscriptionEventFeed::new(
            store.clone(),
            feed.clone(),
            settings::feed(&settings),
            crate::grpc::wire::EVENT_WIRE_FORMS,
        );
        let snapshot = catalog.snapshot();
        let (products, skus, availabilities) = snapshot.counts();
        let footprint = snapshot.footprint();
        drop(snapshot);
        let listener = TcpListener::bind(settings.listen).await?;
        let local_addr = listener.local_addr()?;
        let metrics_listener = match metrics_address {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("metrics_listen {address}"))?,
            ),
            None => None,
        };
        tracing::info!(
            month = ?month.map(|m| m.to_string()),
            products,
            skus,
            availabilities,
            snapshot_bytes = footprint.total(),
            bytes_per_availability = footprint.total() / availabilities.max(1),
            %footprint,
            ready_in_ms = started.elapsed().as_millis() as u64,
            "catalog ready"
        );
        let web = if settings.web {
            WebLayer::new(
                Console::embedded(),
                DevSignIn::new(&settings.jwt_secret, keys.clone(), store.clone()),
                origins,
            )
        } else {
            WebLayer::off()
        };
        Ok(Self {
            web,
            listener,
            local_addr,
            settings,
            keys,
            store,
            catalog,
            customers,
            partners,
            vetting,
            carts,
            orders,
            feed,
            events,
            tls,
            import_dir,
            metrics,
            metrics_listener,
        })
    }

    /// Where `GET /metrics` is served, when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
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

    /// Serves until `shutdown` completes, then drains: NOT_SERVING at once, serving on for
    /// `drain_grace_ms`, then no new connections, change streams ended with their revision to
    /// resume after, and calls in flight given up to `drain_timeout_ms`.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let limits = self.settings.clone();
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        // Health and reflection take a few small messages: 100 unfinished 4 MB health checks
        // held 400 MB.
        let health_service =
            health_service.max_decoding_message_size(limits.probe_max_request_bytes);
        let health = health::Health::new(health_reporter).await;
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
        let incoming = listener::incoming(
            self.listener,
            settings::listener(&limits),
            connections.clone(),
        );

        let Interceptors {
            catalog: catalog_auth,
            customers: customers_auth,
            ordering,
            admin,
            operator,
            limits: quotas,
        } = Interceptors::new(&self.settings, &self.keys);
        tracing::info!(address = %self.local_addr, "csp-commerce listening");
        let rpc_metrics = RpcMetricsLayer::new(
            &self.metrics.meter(),
            &[
                pb::FILE_DESCRIPTOR_SET,
                tonic_health::pb::FILE_DESCRIPTOR_SET,
                tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            ],
        );
        let _gauges = gauges::register(&self.metrics.meter(), &self.store, &self.feed);
        let mut background = Background::default();
        if let (Some(listener), Some(registry)) = (self.metrics_listener, self.metrics.registry()) {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "serving GET /metrics");
            }
            background.spawn(scrape::serve(listener, registry.clone()));
        }
        background.spawn(provisioning_loop(self.orders.clone()));
        background.spawn(renewal_loop(
            self.orders.clone(),
            self.settings.renewal_interval_ms,
        ));
        background.spawn(event_purge_loop(
            self.orders.clone(),
            Duration::from_millis(self.settings.subscription_event_purge_interval_ms.max(10)),
            self.settings.subscription_event_retention_months,
        ));
        background.spawn(self.events.clone().pump());
        background.spawn(self.feed.clone().watchdog());
        background.spawn(forget_idle_callers(quotas));
        background.spawn(self.feed.clone().pump(
            self.catalog.published_signal(),
            self.store.publish_notifications(),
        ));
        background.spawn(health::follow_database(self.store.clone(), health.clone()));
        let feed = self.feed.clone();
        let events = self.events.clone();
        let grace = Duration::from_millis(limits.drain_grace_ms);
        let (stopping, stopped) = tokio::sync::oneshot::channel();
        let shutdown = async move {
            shutdown.await;
            // Balancers learn from their health checks first, while every call is still served.
            health.drain().await;
            tracing::info!(
                grace_ms = grace.as_millis() as u64,
                "shutting down: NOT_SERVING; serving on for the drain grace"
            );
            tokio::time::sleep(grace).await;
            tracing::info!("draining: no new connections; ending change streams, finishing calls");
            // Streams never end by themselves: end them (each with its revision to resume
            // after) so the drain can finish.
            feed.shut_down();
            events.shut_down();
            let _ = stopping.send(());
        };
        let web_on = self.settings.web;
        let mut server = Server::builder();
        if let Some(tls) = self.tls {
            // Over our incoming stream too: tonic runs the TLS handshake on each connection.
            server = server.tls_config(tls)?;
        }
        if limits.max_connection_age_ms > 0 {
            // GOAWAY once a connection is this old (over our incoming stream too: tonic applies
            // it to every connection it serves). The grace is `listener.rs`'s: tonic's own
            // skips the GOAWAY when a grace is set.
            server = server.max_connection_age(Duration::from_millis(limits.max_connection_age_ms));
        }
        let serve = server
            // HTTP/1.1 for gRPC-Web and the console; native gRPC stays on HTTP/2.
            .accept_http1(web_on)
            .trace_fn(grpc::trace::rpc_span)
            // In front of everything: the console's GETs, gRPC-Web (translated to gRPC, so
            // every layer below sees a gRPC call) and CORS; native gRPC passes straight on.
            .layer(self.web)
            // Outermost: it sees every call's final status, the deadline's too.
            .layer(rpc_metrics)
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
            .add_service(health_service)
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
                        connections.clone(),
                    ),
                    catalog_auth,
                )
            })
            .add_service(InterceptedService::new(
                CustomerServiceServer::new(CustomerApi {
                    customers: self.customers.clone(),
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
                ordering.clone(),
            ))
            .add_service(InterceptedService::new(
                SubscriptionEventServiceServer::new(SubscriptionEventApi {
                    feed: self.events.clone(),
                    customers: self.customers.clone(),
                    connections: connections.clone(),
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
            .add_service(InterceptedService::new(
                OperatorServiceServer::new(OperatorApi {
                    partners: self.partners,
                    vetting: self.vetting,
                    orders: self.orders.clone(),
                })
                .max_decoding_message_size(max_request),
                operator,
            ))
            // Our accept loop: connection cap, handshake and idle timeouts, kill switches.
            .serve_with_incoming_shutdown(incoming, shutdown);
        let drain_timeout = Duration::from_millis(limits.drain_timeout_ms);
        tokio::select! {
            served = serve => served?,
            () = async {
                let _ = stopped.await;
                tokio::time::sleep(drain_timeout).await;
            } => tracing::warn!(
                timeout_ms = drain_timeout.as_millis() as u64,
                "calls still in flight after the drain timeout are cut"
            ),
        }
        background.stop().await;
        // The last OTLP export, off the runtime's threads (it waits for the collector).
        let metrics = self.metrics;
        let _ = tokio::task::spawn_blocking(move || drop(metrics)).await;
        Ok(())
    }
}
