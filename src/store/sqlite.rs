//! SQLite's write path: one connection of its own, kept out of the pool, that every guarded
//! batch of this process goes through, each batch a whole transaction sent to sqlx-sqlite's
//! worker thread at once.
//!
//! Through the pool a batch took four hand-overs to that thread and back (BEGIN, the
//! statements, COMMIT, and the ping sqlx sends each connection returned to the pool), each
//! one a wait for the runtime to schedule the writer again while every other writer queued
//! behind it. Here it takes one. The connection also keeps its page cache: a connection of
//! the pool finds it emptied by every write another connection made.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sea_orm::sqlx::{self, AssertSqlSafe, ConnectOptions as _, Connection as _};
use sea_orm::{DbErr, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;

use crate::domain::DomainError;

/// The options every connection to the file is opened with, the pool's and the writer's.
pub(super) fn options(o: SqliteConnectOptions) -> SqliteConnectOptions {
    o.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode: a committed transaction survives a process crash; only an OS
        // crash or power loss can lose the last ones.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
}

/// The name of the check a batch's statement fails when it changed other than its rows.
const ROW_COUNT_CHECK: &str = "batch_row_count";

/// A table that refuses every row, so inserting into it stops a batch: each statement of a
/// batch is followed by an insert into it of the rows where its count of changed rows was
/// not the one expected (none, or one that fails the check). Temporary: it lives in the
/// writer connection's own memory and nothing is ever stored in it.
const TRIPWIRE: &str = "CREATE TEMP TABLE IF NOT EXISTS batch_tripwire \
     (ok INTEGER NOT NULL, CONSTRAINT batch_row_count CHECK (ok <> 0))";

/// Statements sent to the database as one transaction, each with the rows it must change.
/// A statement that changes other rows, or that a key refuses, stops the batch there and the
/// transaction is rolled back: it is applied in full or not at all.
#[derive(Debug, Default)]
pub(super) struct SqliteBatch {
    sql: String,
    values: Vec<sea_orm::Value>,
}

impl SqliteBatch {
    pub(super) fn push(&mut self, statement: Statement, rows: u64) {
        self.sql.push_str(&statement.sql);
        self.sql
            .push_str(";\nINSERT INTO temp.batch_tripwire (ok) SELECT 0 WHERE changes() <> ");
        self.sql.push_str(&rows.to_string());
        self.sql.push_str(";\n");
        self.values
            .extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
}

/// The writer connection, opened on first use and again after a failure that may have left it
/// inside a transaction.
#[derive(Debug)]
pub(super) struct Writer {
    options: SqliteConnectOptions,
    connection: Option<SqliteConnection>,
}

impl Writer {
    pub(super) fn new(url: &str) -> Result<Self, DomainError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| DomainError::Internal(format!("sqlite url: {e}")))?;
        Ok(Self {
            options: self::options(options).disable_statement_logging(),
            connection: None,
        })
    }

    async fn connection(&mut self) -> Result<&mut SqliteConnection, DomainError> {
        if self.connection.is_none() {
            let mut connection = self.options.connect().await.map_err(conn_err)?;
            sqlx::raw_sql(TRIPWIRE)
                .execute(&mut connection)
                .await
                .map_err(exec_err)?;
            self.connection = Some(connection);
        }
        self.connection
            .as_mut()
            .ok_or_else(|| DomainError::Internal("sqlite writer connection".into()))
    }

    /// Runs `batch` as one transaction: `Ok(false)` if a statement changed other rows than
    /// it was pushed with, or a key refused one (nothing of it was kept).
    pub(super) async fn apply(&mut self, batch: SqliteBatch) -> Result<bool, DomainError> {
        let sql = format!("BEGIN IMMEDIATE;\n{}COMMIT;", batch.sql);
        let connection = self.connection().await?;
        let error = match sqlx::query_with(AssertSqlSafe(sql), SqlxValues(Values(batch.values)))
            .execute(&mut *connection)
            .await
        {
            Ok(_) => return Ok(true),
            Err(error) => error,
        };
        // The batch stopped inside its transaction (or at BEGIN, leaving none to roll back).
        if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *connection).await
            && !e.to_string().contains("no transaction is active")
        {
            tracing::error!(error = %e, "sqlite writer: rollback failed; reconnecting");
            if let Some(connection) = self.connection.take() {
                let _ = connection.close().await;
            }
        }
        let refused = match &error {
            sqlx::Error::Database(e) => {
                e.is_unique_violation()
                    || e.is_foreign_key_violation()
                    || (e.is_check_violation() && e.message().contains(ROW_COUNT_CHECK))
            }
            _ => false,
        };
        if refused {
            Ok(false)
        } else {
            Err(exec_err(error).into())
        }
    }

    pub(super) async fn close(&mut self) {
        if let Some(connection) = self.connection.take() {
            let _ = connection.close().await;
        }
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn conn_err(e: sqlx::Error) -> DomainError {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::{DbBackend, Statement};

    use super::*;

    fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    async fn count(writer: &mut Writer) -> i64 {
        let connection = writer.connection().await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(connection)
            .await
            .unwrap()
    }

    /// A batch is kept whole or not at all, whichever statement stops it, and the writer
    /// goes on writing afterwards (no transaction left open).
    #[tokio::test]
    async fn a_batch_is_applied_in_full_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let mut writer = Writer::new(&url).unwrap();
        let connection = writer.connection().await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .execute(connection)
            .await
            .unwrap();

        let insert = |id: i64| statement("INSERT INTO t (id, v) VALUES (?, 0)", vec![id.into()]);
        let mut good = SqliteBatch::default();
        good.push(insert(1), 1);
        good.push(
            statement("UPDATE t SET v = v + 1 WHERE id = ?", vec![1.into()]),
            1,
        );
        assert!(writer.apply(good).await.unwrap());
        assert_eq!(count(&mut writer).await, 1);

        // The second statement changes no row: the first is not kept.
        let mut short = SqliteBatch::default();
        short.push(insert(2), 1);
        short.push(
            statement("UPDATE t SET v = 1 WHERE id = ?", vec![99.into()]),
            1,
        );
        assert!(!writer.apply(short).await.unwrap());
        assert_eq!(count(&mut writer).await, 1);

        // A statement changing more rows than expected stops it too.
        let mut wide = SqliteBatch::default();
        wide.push(insert(3), 1);
        wide.push(statement("UPDATE t SET v = 2", vec![]), 1);
        assert!(!writer.apply(wide).await.unwrap());
        assert_eq!(count(&mut writer).await, 1);

        // A key refusing a row: the batch is refused, not an error, and nothing is kept.
        let mut taken = SqliteBatch::default();
        taken.push(insert(4), 1);
        taken.push(insert(1), 1);
        assert!(!writer.apply(taken).await.unwrap());
        assert_eq!(count(&mut writer).await, 1);

        // Any other error is an error, and leaves no transaction behind either.
        let mut broken = SqliteBatch::default();
        broken.push(insert(5), 1);
        broken.push(statement("UPDATE missing SET v = 1", vec![]), 1);
        assert!(writer.apply(broken).await.is_err());

        let mut after = SqliteBatch::default();
        after.push(insert(6), 1);
        after.push(insert(7), 1);
        assert!(writer.apply(after).await.unwrap());
        assert_eq!(count(&mut writer).await, 3);
    }
}
