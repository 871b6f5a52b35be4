//! Gauges read when metrics are collected (an OTLP export, a scrape), never on a call's path:
//! the database connections in use, idle and at most (the pool's and the direct ones), the
//! change streams open, the catalog revision this process has reached, whether it caches.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, ObservableGauge};

use crate::service::feed::ChangeFeed;
use crate::store::Store;

/// The gauges; their callbacks run while these live.
pub(super) struct Gauges {
    _instruments: [ObservableGauge<u64>; 5],
}

pub(super) fn register(meter: &Meter, store: &Store, feed: &ChangeFeed) -> Gauges {
    let connections = {
        let store = store.clone();
        meter
            .u64_observable_gauge("db.client.connection.count")
            .with_description("Database connections by pool and state (used, idle)")
            .with_unit("{connection}")
            .with_callback(move |observer| {
                for pool in store.pool_use() {
                    for (state, count) in [("used", pool.in_use), ("idle", pool.idle)] {
                        observer.observe(
                            u64::from(count),
                            &[
                                KeyValue::new("db.client.connection.pool.name", pool.pool),
                                KeyValue::new("db.client.connection.state", state),
                            ],
                        );
                    }
                }
            })
            .build()
    };
    let max = {
        let store = store.clone();
        meter
            .u64_observable_gauge("db.client.connection.max")
            .with_description("The most database connections each pool may open")
            .with_unit("{connection}")
            .with_callback(move |observer| {
                for pool in store.pool_use() {
                    observer.observe(
                        u64::from(pool.max),
                        &[KeyValue::new("db.client.connection.pool.name", pool.pool)],
                    );
                }
            })
            .build()
    };
    let subscribers = {
        let feed = feed.clone();
        meter
            .u64_observable_gauge("csp.watch.subscribers")
            .with_description("WatchCatalogChanges streams open")
            .with_unit("{stream}")
            .with_callback(move |observer| observer.observe(u64::from(feed.open_streams()), &[]))
            .build()
    };
    let revision = {
        let feed = feed.clone();
        meter
            .u64_observable_gauge("csp.catalog.revision")
            .with_description("The last catalog-change revision this process has sent out")
            .with_callback(move |observer| observer.observe(feed.head(), &[]))
            .build()
    };
    let caching = {
        let store = store.clone();
        meter
            .u64_observable_gauge("csp.store.caching")
            .with_description(
                "1 while this process caches customer standings and partners (on PostgreSQL: \
                 while it hears other replicas' changes), else 0",
            )
            .with_callback(move |observer| observer.observe(u64::from(store.caching()), &[]))
            .build()
    };
    Gauges {
        _instruments: [connections, max, subscribers, revision, caching],
    }
}
