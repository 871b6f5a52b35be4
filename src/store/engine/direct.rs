//! The connections the hot statements go through, kept out of sqlx's pool.
//!
//! sqlx's pool tests every connection it takes back (`ping`, whatever the pool's options):
//! on PostgreSQL a `Sync` round trip after every statement, which wakes the server's
//! backend once more and costs both sides a TLS record each way; on SQLite one more
//! hand-over to the connection's worker thread. A connection here goes back to the idle
//! list only when its statement finished: answered, or refused by the database (which
//! leaves the connection ready for the next statement). One whose caller went away
//! mid-statement, or that failed any other way, is closed, and the next caller opens a new
//! one: a connection is never handed on in a state nobody checked. A connection idle for
//! long is pinged before its next statement, as the pool does.
//!
//! On SQLite these connections only read (every write goes through the writer thread,
//! `sqlite/`); on PostgreSQL they run the hot reads and the single-statement writes (cart
//! creation and changes, checkout, provisioning, holdings announcements). Transactions stay
//! on the pool.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, Postgres};
use sea_orm::sqlx::sqlite::{Sqlite, SqliteConnectOptions};
use sea_orm::sqlx::{self, AssertSqlSafe, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement, Values,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::domain::DomainError;

/// Connections of one database, at most `permits` at a time.
pub(super) struct Connections<DB: sqlx::Database> {
    options: <DB::Connection as sqlx::Connection>::Options,
    /// Each with the moment it was given back.
    idle: std::sync::Mutex<Vec<(DB::Connection, Instant)>>,
    permits: Semaphore,
    /// The permits there are.
    size: u32,
}

/// A connection idle this long is pinged before it is used: a server, proxy or firewall may
/// have dropped it meanwhile (the pool's `test_before_acquire_if_idle_for` does the same).
const TEST_IF_IDLE_FOR: Duration = Duration::from_secs(30);

impl<DB: sqlx::Database> std::fmt::Debug for Connections<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("idle", &self.idle.lock().map(|idle| idle.len()).ok())
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

/// A connection taken for one statement: back to the idle list when dropped if the
/// statement `finished`, else closed.
struct InUse<'a, DB: sqlx::Database> {
    connections: &'a Connections<DB>,
    connection: Option<DB::Connection>,
    finished: bool,
}

impl<DB: sqlx::Database> Drop for InUse<'_, DB> {
    fn drop(&mut self) {
        if !self.finished {
            // Dropped with the statement unfinished (its caller went away) or failed: the
            // connection is closed with it.
            return;
        }
        if let (Some(connection), Ok(mut idle)) =
            (self.connection.take(), self.connections.idle.lock())
        {
            idle.push((connection, Instant::now()));
        }
    }
}

impl<DB: sqlx::Database> InUse<'_, DB> {
    fn connection(&mut self) -> Result<&mut DB::Connection, DbErr> {
        self.connection
            .as_mut()
            .ok_or_else(|| DbErr::Custom("no connection".into()))
    }

    /// Notes how the statement ended: the connection is kept if it answered, or if the
    /// database refused the statement (it then waits for the next one as usual), unless the
    /// refusal says the server is going away (`57P01` admin shutdown...).
    fn ended<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.finished = match &result {
            Ok(_) => true,
            Err(sqlx::Error::Database(e)) => {
                !e.code().is_some_and(|c| super::unreachable_sqlstate(&c))
            }
            Err(_) => false,
        };
        result
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))
}

impl<DB: sqlx::Database> Connections<DB> {
    /// (taken, idle, at most): a connection is taken while its caller holds a permit.
    fn use_now(&self) -> (u32, u32, u32) {
        let idle = self.idle.lock().map_or(0, |idle| idle.len()) as u32;
        let taken = self
            .size
            .saturating_sub(self.permits.available_permits() as u32);
        (taken, idle, self.size)
    }

    pub(super) fn new(
        options: <DB::Connection as sqlx::Connection>::Options,
        connections: u32,
    ) -> Self {
        Self {
            options,
            idle: std::sync::Mutex::new(Vec::new()),
            permits: Semaphore::new(connections.max(1) as usize),
            size: connections.max(1),
        }
    }

    /// An idle connection, or a new one.
    async fn take(&self) -> Result<(tokio::sync::SemaphorePermit<'_>, InUse<'_, DB>), DbErr> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DbErr::Custom(format!("connections: {e}")))?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match idle {
            Some((connection, since)) if since.elapsed() < TEST_IF_IDLE_FOR => Some(connection),
            // Closed by the drop if it no longer answers.
            Some((mut connection, _)) => connection.ping().await.is_ok().then_some(connection),
            None => None,
        };
        let connection = match connection {
            Some(connection) => connection,
            None => self.options.connect().await.map_err(conn_err)?,
        };
        let taken = InUse {
            connections: self,
            connection: Some(connection),
            finished: false,
        };
        Ok((permit, taken))
    }

    /// Drops the idle connections (their sockets closed): after an outage they are dead.
    fn forget_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    pub(super) async fn close(&self) {
        let idle = match self.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => Vec::new(),
        };
        for (connection, _) in idle {
            let _ = connection.close().await;
        }
    }
}

impl<DB> Connections<DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    SqlxValues: sqlx::IntoArguments<DB>,
    QueryResult: From<DB::Row>,
    ExecResult: From<DB::QueryResult>,
{
    async fn fetch_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let (_permit, mut taken) = self.take().await?;
        let rows = query(statement).fetch_all(taken.connection()?).await;
        let rows = taken.ended(rows).map_err(query_err)?;
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    async fn execute(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        let (_permit, mut taken) = self.take().await?;
        let done = query(statement).execute(taken.connection()?).await;
        Ok(taken.ended(done).map_err(exec_err)?.into())
    }
}

/// `statement` as sqlx runs it, its values bound as sea-query binds them.
fn query<DB>(statement: Statement) -> sqlx::query::Query<'static, DB, SqlxValues>
where
    DB: sqlx::Database,
    SqlxValues: sqlx::IntoArguments<DB>,
{
    let values = SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
    sqlx::query_with(AssertSqlSafe(statement.sql), values)
}

/// This process's direct connections: SQLite's readers, or PostgreSQL's.
#[derive(Debug)]
pub(super) enum DirectConnections {
    Sqlite(Connections<Sqlite>),
    Postgres(Connections<Postgres>),
}

impl DirectConnections {
    /// Connections to the SQLite file `options` opens, at most `connections` at a time.
    pub(super) fn sqlite(options: SqliteConnectOptions, connections: u32) -> Self {
        DirectConnections::Sqlite(Connections::new(options, connections))
    }

    /// Connections to the PostgreSQL database at `url`, at most `connections` at a time.
    pub(super) fn postgres(url: &str, connections: u32) -> Result<Self, DomainError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DomainError::Internal(format!("postgres url: {e}")))?
            .disable_statement_logging();
        Ok(DirectConnections::Postgres(Connections::new(
            options,
            connections,
        )))
    }

    /// Drops the idle connections: after an outage they are dead.
    pub(super) fn forget_idle(&self) {
        match self {
            DirectConnections::Sqlite(c) => c.forget_idle(),
            DirectConnections::Postgres(c) => c.forget_idle(),
        }
    }

    /// How full they are: (taken, idle, at most).
    pub(super) fn use_now(&self) -> (u32, u32, u32) {
        match self {
            DirectConnections::Sqlite(c) => c.use_now(),
            DirectConnections::Postgres(c) => c.use_now(),
        }
    }

    pub(super) async fn close(&self) {
        match self {
            DirectConnections::Sqlite(c) => c.close().await,
            DirectConnections::Postgres(c) => c.close().await,
        }
    }
}

/// What `Engine::direct()` hands the queries: a `ConnectionTrait` on the direct connections.
/// On SQLite it refuses writes (they go through the writer thread).
pub(in crate::store) struct Direct<'a>(pub(super) &'a DirectConnections);

#[async_trait::async_trait]
impl ConnectionTrait for Direct<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self.0 {
            DirectConnections::Sqlite(_) => DbBackend::Sqlite,
            DirectConnections::Postgres(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        match self.0 {
            DirectConnections::Sqlite(_) => Err(DbErr::Custom(
                "a write on a SQLite reader (writes go through the writer)".into(),
            )),
            DirectConnections::Postgres(c) => {
                let span = super::db_span(DbBackend::Postgres, "execute");
                c.execute(statement).instrument(span).await
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.execute_raw(Statement::from_string(self.get_database_backend(), sql))
            .await
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query_all_raw(statement).await?.into_iter().next())
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let span = super::db_span(self.get_database_backend(), "query");
        match self.0 {
            DirectConnections::Sqlite(c) => c.fetch_all(statement).instrument(span).await,
            DirectConnections::Postgres(c) => c.fetch_all(statement).instrument(span).await,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn idle(set: &DirectConnections) -> usize {
        match set {
            DirectConnections::Sqlite(c) => c.idle.lock().unwrap().len(),
            DirectConnections::Postgres(c) => c.idle.lock().unwrap().len(),
        }
    }

    /// A connection goes back to the idle list only when its statement finished (answered
    /// or refused by the database); one whose caller went away mid-statement is closed.
    #[tokio::test]
    async fn only_a_connection_whose_statement_finished_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("d.db").display());
        let options = super::super::sqlite::url_options(&url, Default::default()).unwrap();
        let set = DirectConnections::sqlite(options, 4);
        let direct = Direct(&set);
        let statement = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql);

        let rows = direct.query_all_raw(statement("SELECT 1")).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(idle(&set), 1);

        // Refused by the database: the connection is ready for the next statement.
        assert!(
            direct
                .query_all_raw(statement("SELECT * FROM missing"))
                .await
                .is_err()
        );
        assert_eq!(idle(&set), 1);

        // The caller goes away mid-statement: its connection is not handed on.
        let slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                    WHERE i < 50000000) SELECT count(*) FROM n";
        let gone = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            direct.query_all_raw(statement(slow)),
        )
        .await;
        assert!(gone.is_err(), "the statement should still be running");
        assert_eq!(idle(&set), 0);

        // The next caller opens a new one.
        let rows = direct.query_all_raw(statement("SELECT 2")).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(idle(&set), 1);

        // SQLite's direct connections only read.
        assert!(
            direct
                .execute_raw(statement("CREATE TABLE t (x)"))
                .await
                .is_err()
        );
        set.close().await;
    }
}
