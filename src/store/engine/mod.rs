//! How the store runs statements. Every connection of the process is here, each kind for a
//! reason:
//! - the SeaORM pool: transactions and everything rare;
//! - the direct connections (`direct.rs`): the hot reads on both backends, and PostgreSQL's
//!   guarded writes, outside the pool (which pings every connection it takes back);
//! - the month scans (`scan.rs`): a whole month's rows, on connections of their own;
//! - SQLite's writer thread (`sqlite/`): SQLite's guarded writes, in group commits;
//! - PostgreSQL's listener (`listener`): other replicas' notifications;
//! - the health probe (`probe.rs`): whether the database answers, on its own connection;
//! - the write gate (`write_turn`): SQLite's writers queue in the process, not in SQLite's
//!   busy handler.
//!
//! A guarded write (`guarded.rs`) is compiled here for the backend: the aggregates build
//! statements and map rows, and never ask which backend they run on.

mod bulk;
mod direct;
mod guarded;
mod probe;
mod scan;
mod sqlite;
#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr,
};

pub(super) use bulk::{Bulk, ByMonth, Cell, Rows, Table};
pub(super) use direct::Direct;
pub(super) use guarded::{GuardedWrite, Insert, Outcome};
pub use probe::{PROBE_APPLICATION_NAME, Probe};
pub(super) use scan::{Cells, ScanRow};
pub use sqlite::SqliteSynchronous;

use tracing::Instrument;

use crate::domain::DomainError;

/// The `application_name` of the PostgreSQL listener's connection.
pub const LISTENER_APPLICATION_NAME: &str = "csp-listener";

/// The span of one statement (or SQLite batch) on a hot path: a child of the RPC's span, so a
/// trace shows where a call waited on the database. (The pool's rare statements have none.)
fn db_span(backend: DbBackend, operation: &'static str) -> tracing::Span {
    let system = match backend {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    };
    tracing::info_span!("db", db.system.name = system, db.operation.name = operation)
}

/// How full one set of connections is at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `pool` (sqlx's pool: transactions, rare statements) or `direct` (the hot statements).
    pub pool: &'static str,
    /// Connections a caller holds now.
    pub in_use: u32,
    /// Open connections waiting for a caller.
    pub idle: u32,
    /// The most there may be.
    pub max: u32,
}

#[derive(Clone, Debug)]
pub(super) struct Engine {
    pool: DatabaseConnection,
    url: String,
    /// SQLite's `synchronous`, for the connections opened outside the pool (`bulk.rs`).
    synchronous: SqliteSynchronous,
    /// Where the listener connects: `url`, unless a pooler stands between the replicas and
    /// PostgreSQL (LISTEN needs a session of its own, which a transaction pooler cannot give).
    listen_url: String,
    /// SQLite has one writer at a time, and a writer that finds the file locked backs off by
    /// sleeping (up to 100 ms a try). Queuing this process's writers here instead hands the
    /// lock over at once (the writer thread takes it for each group it writes). Correctness
    /// never rests on it: the transactions are safe without it (and PostgreSQL, shared by
    /// replicas, has none).
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: the guarded writes, written in groups by one thread on its own connection.
    writer: Option<sqlite::WriteQueue>,
    /// The connections the hot statements go through, outside the pool.
    direct: Arc<direct::DirectConnections>,
    /// SQLite: this process's lock on the file (one server per file), held while any clone
    /// of the engine lives.
    _file_lock: Option<Arc<sqlite::FileLock>>,
}

impl Engine {
    /// Connects to `url` (`sqlite://path` or `postgres://...`). A SQLite file is created if
    /// missing, runs in WAL mode with `synchronous`, and is locked for this process first: a
    /// file another process holds is refused (`DomainError::Unavailable`, naming its pid).
    pub(super) async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
        synchronous: SqliteSynchronous,
    ) -> Result<Self, DomainError> {
        // Before anything opens the file: not even the migrations run beside another server.
        let file_lock = match url.starts_with("sqlite:") {
            true => sqlite::lock(url)?.map(Arc::new),
            false => None,
        };
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(acquire_timeout)
            // Only a connection idle long enough to have been dropped by a server, proxy or
            // firewall is pinged before use (each ping is a round trip). sqlx also pings every
            // connection it takes back, whatever the options: the hot statements skip the
            // pool for that (`direct.rs`).
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(move |o| sqlite::pool_options(o, synchronous));
        let pool = Database::connect(options).await?;
        let sqlite = pool.get_database_backend() == DbBackend::Sqlite;
        let write_gate = sqlite.then(|| Arc::new(tokio::sync::Mutex::new(())));
        let writer = match &write_gate {
            Some(gate) => Some(sqlite::WriteQueue::start(
                sqlite::Writer::new(url, synchronous)?,
                gate.clone(),
            )?),
            None => None,
        };
        let direct = Arc::new(match sqlite {
            true => direct::DirectConnections::sqlite(
                sqlite::url_options(url, synchronous)?,
                max_connections,
            ),
            false => direct::DirectConnections::postgres(url, max_connections)?,
        });
        Ok(Self {
            pool,
            url: url.to_owned(),
            synchronous,
            listen_url: url.to_owned(),
            write_gate,
            writer,
            direct,
            _file_lock: file_lock,
        })
    }

    /// How full the pool and the direct connections are, for the metrics.
    pub(super) fn pool_use(&self) -> [PoolUse; 2] {
        let (size, idle, max) = match self.backend() {
            DbBackend::Postgres => {
                let pool = self.pool.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DbBackend::Sqlite => {
                let pool = self.pool.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        let (taken, direct_idle, direct_max) = self.direct.use_now();
        [
            PoolUse {
                pool: "pool",
                in_use: size.saturating_sub(idle),
                idle,
                max,
            },
            PoolUse {
                pool: "direct",
                in_use: taken,
                idle: direct_idle,
                max: direct_max,
            },
        ]
    }

    /// The listener connects to `url` (PostgreSQL itself) instead of the database URL.
    pub(super) fn listen_at(&mut self, url: &str) {
        url.clone_into(&mut self.listen_url);
    }

    /// The pool: transactions and the rare statements.
    pub(super) fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// The direct connections, which skip the pool's round trip after each statement: the hot
    /// reads (on SQLite they only read).
    pub(super) fn direct(&self) -> Direct<'_> {
        Direct(&self.direct)
    }

    pub(super) fn backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    /// The SQLite database's file (`None` on PostgreSQL or in memory).
    pub(super) fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self.backend() {
            DbBackend::Sqlite => sqlite::database_file(&self.url),
            _ => None,
        }
    }

    /// Whether this process is the database's only writer (SQLite: one server process per
    /// file), so that what it wrote last is what is stored.
    pub(super) fn sole_writer(&self) -> bool {
        self.writer.is_some()
    }

    /// Waits for this process's turn to write on the pool (SQLite only); hold it until the
    /// commit.
    pub(super) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    /// Writes `write` whole or not at all (see `guarded.rs`): on SQLite through the writer
    /// thread, on PostgreSQL as one statement on a direct connection.
    pub(super) async fn write(&self, write: GuardedWrite) -> Result<Outcome, DomainError> {
        if let Some(writer) = &self.writer {
            let written = writer
                .write(write.sqlite()?)
                .instrument(db_span(DbBackend::Sqlite, "write"))
                .await?;
            return Ok(if written {
                Outcome::Written
            } else {
                Outcome::Refused
            });
        }
        let (statement, rows, after_commit) = write.postgres()?;
        let outcome = match self.direct().execute_raw(statement).await {
            Ok(done) if done.rows_affected() == rows => Outcome::Written,
            Ok(_) => Outcome::Refused,
            Err(e) if refused_by_a_key(&e) => Outcome::Refused,
            Err(e) => return Err(e.into()),
        };
        if let (Outcome::Written, Some(then)) = (outcome, after_commit) {
            then();
        }
        Ok(outcome)
    }

    /// PostgreSQL: notifies `channel` of `payload` (which must need no quoting) when `txn`
    /// commits; nothing on SQLite (one process owns the file: there is nobody to tell).
    pub(super) async fn notify_in<C: ConnectionTrait>(
        &self,
        txn: &C,
        channel: &str,
        payload: &str,
    ) -> Result<(), DomainError> {
        if self.backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!("NOTIFY {channel}, '{payload}'"))
                .await?;
        }
        Ok(())
    }

    /// Closes the idle connections of the pool and the direct ones (PostgreSQL): after an
    /// outage they are dead, and each would fail one more call.
    pub(super) fn forget_idle(&self) {
        self.direct.forget_idle();
        if self.backend() != DbBackend::Postgres {
            return;
        }
        let pool = self.pool.get_postgres_connection_pool();
        let mut idle = Vec::new();
        while let Some(connection) = pool.try_acquire() {
            idle.push(connection);
        }
        for mut connection in idle {
            connection.close_on_drop();
        }
    }

    /// A probe of whether the database answers, on a connection of its own (PostgreSQL),
    /// each probe within `timeout`.
    pub(super) fn probe(&self, timeout: Duration) -> Probe {
        Probe::new(
            (self.backend() == DbBackend::Postgres).then_some(self.url.as_str()),
            timeout,
        )
    }

    /// PostgreSQL: a listener for notifications, on a connection of its own named
    /// [`LISTENER_APPLICATION_NAME`] (so an operator sees it in `pg_stat_activity`); `None` on
    /// SQLite (one process owns the file: there is nobody else to hear from).
    ///
    /// It does not reconnect by itself: a lost connection is `Ok(None)` from `try_recv`, and
    /// the caller, which must forget what it may have missed, connects a new one.
    pub(super) async fn listener(&self) -> Result<Option<PgListener>, sea_orm::sqlx::Error> {
        if self.backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let options = PgConnectOptions::from_str(&self.listen_url)?
            .application_name(LISTENER_APPLICATION_NAME);
        // One connection, kept as long as it lives (timeouts do not apply to a listener).
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options)
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.eager_reconnect(false);
        Ok(Some(listener))
    }

    pub(super) async fn close(self) -> Result<(), DomainError> {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.direct.close().await;
        self.pool.close().await?;
        Ok(())
    }
}

/// Whether a key or a foreign key refused a statement (which then wrote nothing that stands).
fn refused_by_a_key(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// Whether `e` says the database cannot be reached now (it is down, restarting, refusing
/// connections, or the connection broke), as opposed to a statement it refused: the one place
/// that tells an outage, answered UNAVAILABLE with a retry delay, from a bug. Checked on the
/// sqlx error SeaORM wraps: its I/O and TLS failures, a pool closed, and PostgreSQL's
/// SQLSTATEs of class 08 (connection exception), 57P01-57P03 (admin or crash shutdown, cannot
/// connect now) and 53300 (too many connections).
pub(super) fn unreachable(e: &DbErr) -> bool {
    use sea_orm::{ConnAcquireErr, RuntimeErr, sqlx::Error};
    let sqlx = match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match &**sqlx {
        Error::Io(_) | Error::Tls(_) | Error::PoolClosed | Error::WorkerCrashed => true,
        // A peer that closes before the handshake's first answer (a proxy or pooler with no
        // server behind it) reads as a malformed answer to the TLS request.
        Error::Protocol(_) => matches!(e, DbErr::Conn(_)),
        Error::Database(db) => db.code().is_some_and(|code| unreachable_sqlstate(&code)),
        _ => false,
    }
}

/// PostgreSQL's SQLSTATEs that mean "not now" rather than "not this statement".
fn unreachable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}
