//! Persistence: SeaORM entities, migrations and the queries the services need. Transactions
//! live here. The same code runs on SQLite (default) and PostgreSQL, chosen by the URL.
//!
//! - `engine/`: every connection (pool, direct connections, SQLite's writer thread, the write
//!   gate, PostgreSQL's listener) and the one guarded write (`GuardedWrite`), compiled per
//!   backend. A new hot write is a `GuardedWrite` built in its aggregate file.
//! - `cache/`: what the process caches (customer standings, partners, carts at their
//!   version), each with what invalidates it.
//! - The aggregates (`carts.rs`, `orders/`, `customers/`, `catalog.rs`, `changes.rs`,
//!   `idempotency.rs`, `partners.rs`): statements and row mapping, with no backend branching.
//!   A month is written as it is read (`month_writer.rs`), diffed SKU by SKU
//!   (`month_diff.rs`) and published in one transaction (`publish.rs`).

mod cache;
mod carts;
mod catalog;
mod changes;
mod customers;
mod engine;
pub mod entity;
mod idempotency;
pub mod migration;
mod month_diff;
mod month_writer;
mod orders;
mod partners;
mod publish;
mod staged;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend, DbErr, SqlErr};
use sea_orm_migration::MigratorTrait;

use crate::domain::DomainError;
use crate::domain::ids::{ProductId, SkuId};

pub use cache::Standing;
pub use catalog::{
    FORMAT_VERSION, STATUS_IMPORTED, STATUS_PUBLISHED, SnapshotFile, SnapshotFileError,
};
pub use changes::{CatalogState, NOTIFY_CHANNEL, Published};
pub use customers::{QualificationWrite, ReviewKey};
pub use engine::{PROBE_APPLICATION_NAME, PoolUse, Probe, SqliteSynchronous};
pub use idempotency::WriteKey;
pub use month_diff::{SkuPair, SkuPairs};
pub use month_writer::MonthWriter;
pub use orders::events::{
    SUBSCRIPTION_EVENTS_CHANNEL, WrittenPartners, append_subscription_event, record_transactions,
};
pub use orders::{
    Cancellation, CustomerHoldings, Held, Placement, PlannedOrder, Recorded, Refusal,
    TermEndsWritten, change_resource,
};
pub use publish::{PublishStart, Publishing, concurrent_publish};
pub use staged::{StagedDiff, Staging};

/// The database, and what this process caches of it.
#[derive(Clone, Debug)]
pub struct Store {
    /// Every connection, and the one way to make a guarded write (`engine/`).
    engine: engine::Engine,
    /// The customer standings this process caches (`cache/standings.rs`).
    standings: Arc<cache::Standings>,
    /// The partners this process caches (`cache/partners.rs`).
    partners: Arc<cache::Partners>,
    /// The carts this process caches, each at its version (`cache/carts.rs`).
    carts: Arc<cache::CachedCarts>,
    /// PostgreSQL: tells other replicas what holdings changed.
    announcer: Option<cache::HoldingsAnnouncer>,
    /// PostgreSQL: tells other replicas whose subscription events were written.
    events_announcer: Option<cache::EventsAnnouncer>,
    /// Partners whose subscription events were written (here, or announced by others).
    written_partners: Arc<orders::events::WrittenPartners>,
    /// Woken when the database answers again after an outage: the listener reconnects at
    /// once instead of at its next retry.
    database_back: Arc<tokio::sync::Notify>,
}

impl From<DbErr> for DomainError {
    fn from(e: DbErr) -> Self {
        if is_pool_timeout(&e) {
            tracing::warn!(error = %e, "no database connection free within the acquire timeout");
            return DomainError::Overloaded {
                reason: "DATABASE_BUSY",
                message: "the service is busy".to_owned(),
                retry_after: Duration::from_secs(1),
            };
        }
        if engine::unreachable(&e) {
            tracing::warn!(error = %e, "the database is unreachable");
            return DomainError::Overloaded {
                reason: DATABASE_UNAVAILABLE,
                message: "the database is unreachable for now".to_owned(),
                retry_after: Duration::from_secs(1),
            };
        }
        DomainError::Internal(format!("database: {e}"))
    }
}

/// The ErrorInfo reason of the UNAVAILABLE answer while the database cannot be reached.
pub const DATABASE_UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";

/// Whether no pooled connection came free within the acquire timeout (sqlx's `PoolTimedOut`,
/// which SeaORM wraps as `ConnectionAcquire(Timeout)` or, on some paths, in a runtime error).
fn is_pool_timeout(e: &DbErr) -> bool {
    matches!(
        e,
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)
    ) || e.to_string().contains("pool timed out")
}

/// A stored value that does not parse: the database was changed behind the service's back.
fn corrupt(what: &str, value: &str) -> DomainError {
    DomainError::Internal(format!("stored {what} is not valid: {value:?}"))
}

/// SKUs as stored in one column: `product/sku` pairs joined by `,`.
fn sku_pairs(pairs: &[(ProductId, SkuId)]) -> String {
    pairs
        .iter()
        .map(|(p, s)| format!("{p}/{s}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The SKUs of a column written by [`sku_pairs`].
fn parse_sku_pairs(stored: &str) -> Result<Vec<(ProductId, SkuId)>, DomainError> {
    stored
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            pair.split_once('/')
                .and_then(|(p, s)| {
                    Some((ProductId::parse("p", p).ok()?, SkuId::parse("s", s).ok()?))
                })
                .ok_or_else(|| corrupt("SKU pair", pair))
        })
        .collect()
}

fn uuid(what: &str, value: &str) -> Result<uuid::Uuid, DomainError> {
    uuid::Uuid::parse_str(value).map_err(|_| corrupt(what, value))
}

/// Whether a database error is a unique-key violation (a lost race on insert).
fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`). A SQLite file is created if
    /// missing, runs in WAL mode with `synchronous = FULL`, and is this process's alone
    /// while the store lives: a file another process holds is refused, naming its pid.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DomainError> {
        Self::connect_with(
            url,
            max_connections,
            Duration::from_secs(10),
            SqliteSynchronous::default(),
        )
        .await
    }

    /// `connect`, with a call waiting at most `acquire_timeout` for a pooled connection, and
    /// SQLite's commits synced as `synchronous` says.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
        synchronous: SqliteSynchronous,
    ) -> Result<Self, DomainError> {
        let engine =
            engine::Engine::connect(url, max_connections, acquire_timeout, synchronous).await?;
        let sole_writer = engine.sole_writer();
        // Other processes write too (PostgreSQL): they hear of holdings changes.
        let announcer = (!sole_writer).then(|| cache::HoldingsAnnouncer::holdings(engine.clone()));
        let events_announcer = (!sole_writer)
            .then(|| cache::EventsAnnouncer::events(engine.clone(), SUBSCRIPTION_EVENTS_CHANNEL));
        Ok(Self {
            // On PostgreSQL, cached only once other replicas' changes are heard.
            standings: Arc::new(cache::Standings::new(sole_writer)),
            partners: Arc::new(cache::Partners::new(sole_writer)),
            carts: Arc::new(cache::CachedCarts::new(sole_writer)),
            announcer,
            events_announcer,
            written_partners: Arc::default(),
            engine,
            database_back: Arc::default(),
        })
    }

    /// PostgreSQL: the listener (other replicas' notifications) connects to `url` instead of
    /// the database URL: PostgreSQL itself when the database URL names a transaction pooler.
    /// Call before the store is cloned.
    pub fn listen_at(mut self, url: &str) -> Self {
        self.engine.listen_at(url);
        self
    }

    /// A probe of whether the database answers, on a connection of its own, each probe within
    /// `timeout` (always yes on SQLite).
    pub fn probe(&self, timeout: Duration) -> Probe {
        self.engine.probe(timeout)
    }

    /// Says the database answers again after an outage: the connections kept idle through it
    /// (dead now) are closed, and what waits to retry retries now.
    pub fn database_returned(&self) {
        self.engine.forget_idle();
        self.database_back.notify_waiters();
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        migration::Migrator::up(self.engine.pool(), None).await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.engine.backend()
    }

    /// Whether this process caches customer standings and partners now: always on SQLite, on
    /// PostgreSQL while it hears other replicas' changes (read by the metrics).
    pub fn caching(&self) -> bool {
        self.standings.enabled() && self.partners.enabled()
    }

    /// How full the pool and the direct connections are now (read by the metrics).
    pub fn pool_use(&self) -> [PoolUse; 2] {
        self.engine.pool_use()
    }

    pub fn connection(&self) -> &DatabaseConnection {
        self.engine.pool()
    }

    pub async fn close(self) -> Result<(), DomainError> {
        self.engine.close().await
    }
}
