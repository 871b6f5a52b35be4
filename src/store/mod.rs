//! Persistence: SeaORM entities, migrations and the queries the services need. Transactions
//! live here. The same code runs on SQLite (default) and PostgreSQL, chosen by the URL.

mod carts;
mod catalog;
mod changes;
mod customers;
pub mod entity;
mod idempotency;
pub mod migration;
mod orders;
mod partners;
mod standing;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlErr};
use sea_orm_migration::MigratorTrait;

use crate::domain::DomainError;

pub use carts::LineChange;
pub use catalog::{STATUS_IMPORTED, STATUS_PUBLISHED};
pub use changes::{CatalogState, NOTIFY_CHANNEL, Published};
pub use customers::{NewCustomer, QualificationChange};
pub use idempotency::WriteKey;
pub use orders::{CheckoutOutcome, Held, OrderFilter, SubscriptionFilter};
pub use standing::Standing;

#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    url: String,
    /// SQLite has one writer at a time, and a writer that finds the file locked backs off by
    /// sleeping (up to 100 ms a try). Queuing this process's writers here instead hands the
    /// lock over at once. Correctness never rests on it: the transactions are safe without it
    /// (and PostgreSQL, shared by replicas, has none).
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The customer standings this process keeps (see `standing.rs`).
    standings: Arc<standing::Standings>,
}

impl From<DbErr> for DomainError {
    fn from(e: DbErr) -> Self {
        DomainError::Internal(format!("database: {e}"))
    }
}

/// A stored value that does not parse: the database was changed behind the service's back.
fn corrupt(what: &str, value: &str) -> DomainError {
    DomainError::Internal(format!("stored {what} is not valid: {value:?}"))
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
    /// missing and runs in WAL mode.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DomainError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // NORMAL in WAL mode: a committed transaction survives a process crash;
                    // only an OS crash or power loss can lose the last ones.
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let db = Database::connect(options).await?;
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        let write_gate = sqlite.then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self {
            db,
            url: url.to_owned(),
            write_gate,
            // On PostgreSQL, kept only once other replicas' changes are heard.
            standings: Arc::new(standing::Standings::new(sqlite)),
        })
    }

    /// Waits for this process's turn to write (SQLite only); hold it until the commit.
    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        migration::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(self) -> Result<(), DomainError> {
        self.db.close().await?;
        Ok(())
    }
}
