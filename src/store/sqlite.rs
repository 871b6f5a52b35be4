//! SQLite's own connections, kept out of sqlx's pool (which pings every connection it takes
//! back: one more hand-over to sqlx-sqlite's worker thread per query).
//!
//! - `WriteQueue` + `Writer`: every guarded batch of this process is written by one task, on
//!   a thread and runtime of its own, on one connection. A batch alone is one transaction sent
//!   at once, BEGIN to COMMIT (it took four hand-overs through the pool); batches that queued
//!   together share one transaction and one commit, each in a savepoint of its own.
//! - `Readers`: the connections the hot reads go through; `Reads` is what `Store::reads()`
//!   hands the queries (these, or the pool on PostgreSQL).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sea_orm::sqlx::{self, AssertSqlSafe, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement, Values,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{mpsc, oneshot};

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

/// The options of the writer's and readers' connections to `url`.
fn url_options(url: &str) -> Result<SqliteConnectOptions, DomainError> {
    let parsed = SqliteConnectOptions::from_str(url)
        .map_err(|e| DomainError::Internal(format!("sqlite url: {e}")))?;
    Ok(options(parsed).disable_statement_logging())
}

/// The name of the check a batch's statement fails when it changed other than its rows.
const ROW_COUNT_CHECK: &str = "batch_row_count";

/// A table that refuses every row, so inserting into it stops a batch with an error. Each
/// statement of a batch is followed by an insert into it that makes a row only when that
/// statement's count of changed rows is not the expected one. Temporary: it lives in the
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
        Ok(Self {
            options: url_options(url)?,
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
        let Err(error) = self.execute(sql, batch.values).await? else {
            return Ok(true);
        };
        // The batch stopped inside its transaction (or at BEGIN, leaving none to roll back).
        self.undo("ROLLBACK").await;
        refusal(error)
    }

    /// Runs `batches` in one transaction (one commit for all), each inside a savepoint of its
    /// own: a batch that stops is rolled back to its savepoint alone and the others go on.
    /// Each batch is sent as it is (so its statements stay prepared in sqlx's cache: a group
    /// sent as one text would be prepared anew every time). The answers are in the order of
    /// `batches`, each given only once the commit is done.
    pub(super) async fn apply_group(
        &mut self,
        mut batches: Vec<SqliteBatch>,
    ) -> Vec<Result<bool, DomainError>> {
        if batches.len() == 1
            && let Some(batch) = batches.pop()
        {
            return vec![self.apply(batch).await];
        }
        let count = batches.len();
        let failed = |e: &dyn std::fmt::Display| {
            (0..count)
                .map(|_| Err(DomainError::Internal(format!("sqlite group commit: {e}"))))
                .collect::<Vec<_>>()
        };
        if let Err(e) = self.run("BEGIN IMMEDIATE").await {
            self.undo("ROLLBACK").await;
            return failed(&e);
        }
        let mut answers = Vec::with_capacity(count);
        for batch in batches {
            let sql = format!("SAVEPOINT batch;\n{}RELEASE batch;", batch.sql);
            let result = match self.execute(sql, batch.values).await {
                Ok(result) => result,
                Err(e) => return failed(&e),
            };
            match result {
                Ok(()) => answers.push(Ok(true)),
                Err(error) => {
                    // Undo this batch alone; a connection that cannot has lost the group.
                    if !self.undo("ROLLBACK TO batch; RELEASE batch").await {
                        return failed(&error);
                    }
                    answers.push(refusal(error));
                }
            }
        }
        if let Err(e) = self.run("COMMIT").await {
            self.undo("ROLLBACK").await;
            return failed(&e);
        }
        answers
    }

    /// Runs `sql` with `values` (prepared once per text, in sqlx's cache): the outer error is
    /// a connection that could not be opened, the inner one the statements'.
    async fn execute(
        &mut self,
        sql: String,
        values: Vec<sea_orm::Value>,
    ) -> Result<Result<(), sqlx::Error>, DomainError> {
        let connection = self.connection().await?;
        Ok(
            sqlx::query_with(AssertSqlSafe(sql), SqlxValues(Values(values)))
                .execute(connection)
                .await
                .map(|_| ()),
        )
    }

    async fn run(&mut self, sql: &'static str) -> Result<(), DomainError> {
        let connection = self.connection().await?;
        sqlx::raw_sql(sql)
            .execute(connection)
            .await
            .map(|_| ())
            .map_err(|e| exec_err(e).into())
    }

    /// Runs `sql` to undo what a stopped batch did; a connection that cannot is closed (and
    /// with it its transaction) and replaced: `false` then.
    async fn undo(&mut self, sql: &'static str) -> bool {
        let Some(connection) = self.connection.as_mut() else {
            return false;
        };
        match sqlx::raw_sql(sql).execute(&mut *connection).await {
            Ok(_) => true,
            Err(e) if e.to_string().contains("no transaction is active") => true,
            Err(e) => {
                tracing::error!(error = %e, "sqlite writer: {sql} failed; reconnecting");
                if let Some(connection) = self.connection.take() {
                    let _ = connection.close().await;
                }
                false
            }
        }
    }

    pub(super) async fn close(&mut self) {
        if let Some(connection) = self.connection.take() {
            let _ = connection.close().await;
        }
    }
}

/// The most batches one commit takes.
const GROUP: usize = 64;

enum Command {
    Batch(SqliteBatch, oneshot::Sender<Result<bool, DomainError>>),
    Close(oneshot::Sender<()>),
}

/// The queue of this process's batches and the task that writes them: whatever queued while
/// it wrote the last group is the next group, so writers that come together commit together
/// (group commit), on their turn of the store's write gate.
#[derive(Debug, Clone)]
pub(super) struct WriteQueue {
    commands: mpsc::Sender<Command>,
}

impl WriteQueue {
    pub(super) fn start(
        writer: Writer,
        gate: Arc<tokio::sync::Mutex<()>>,
    ) -> Result<Self, DomainError> {
        let (commands, mut queue) = mpsc::channel(4 * GROUP);
        let run = async move {
            let mut writer = writer;
            let mut received = Vec::with_capacity(GROUP);
            while queue.recv_many(&mut received, GROUP).await > 0 {
                let mut batches = Vec::with_capacity(received.len());
                let mut replies = Vec::with_capacity(received.len());
                let mut close = None;
                for command in received.drain(..) {
                    match command {
                        Command::Batch(batch, reply) => {
                            batches.push(batch);
                            replies.push(reply);
                        }
                        Command::Close(done) => close = Some(done),
                    }
                }
                if !batches.is_empty() {
                    let turn = gate.lock().await;
                    let answers = writer.apply_group(batches).await;
                    drop(turn);
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // A caller that went away finds its batch written all the same.
                        let _ = reply.send(answer);
                    }
                }
                if let Some(done) = close {
                    writer.close().await;
                    let _ = done.send(());
                    return;
                }
            }
            writer.close().await;
        };
        // On a thread and runtime of its own: between its hand-overs to the worker thread
        // the writer is woken at once, not queued behind every request the server's runtime
        // is serving (all writers wait on it).
        let started = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run),
                    Err(e) => tracing::error!(error = %e, "sqlite writer: no runtime"),
                }
            });
        started
            .map(|_| Self { commands })
            .map_err(|e| DomainError::Internal(format!("sqlite writer thread: {e}")))
    }

    /// Writes `batch` (see `Writer::apply`); answers once it is committed.
    pub(super) async fn write(&self, batch: SqliteBatch) -> Result<bool, DomainError> {
        let stopped = || DomainError::Internal("the sqlite writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Batch(batch, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Writes what is queued, then closes the writer connection.
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.commands.send(Command::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

/// A batch's error: `Ok(false)` when it was refused (a row count, a key), else the error.
fn refusal(error: sqlx::Error) -> Result<bool, DomainError> {
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

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn conn_err(e: sqlx::Error) -> DomainError {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))).into()
}

/// Read connections of this process, kept out of sqlx's pool: a connection taken from the
/// pool is pinged on its way back, one more hand-over to its worker thread per query.
#[derive(Debug)]
pub(super) struct Readers {
    options: SqliteConnectOptions,
    idle: std::sync::Mutex<Vec<SqliteConnection>>,
    permits: tokio::sync::Semaphore,
}

/// A reader taken from `Readers`, given back when dropped (a query cancelled midway leaves
/// nothing behind: sqlx-sqlite's worker finishes or drops it before its next command).
struct Taken<'a> {
    readers: &'a Readers,
    connection: Option<SqliteConnection>,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let (Some(connection), Ok(mut idle)) = (self.connection.take(), self.readers.idle.lock())
        {
            idle.push(connection);
        }
    }
}

impl Readers {
    pub(super) fn new(url: &str, connections: u32) -> Result<Self, DomainError> {
        Ok(Self {
            options: url_options(url)?,
            idle: std::sync::Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(connections.max(1) as usize),
        })
    }

    pub(super) async fn query_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DbErr::Custom(format!("sqlite readers: {e}")))?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match idle {
            Some(connection) => connection,
            None => self.options.connect().await.map_err(exec_err)?,
        };
        let mut taken = Taken {
            readers: self,
            connection: Some(connection),
        };
        let Some(connection) = taken.connection.as_mut() else {
            return Err(DbErr::Custom("sqlite reader".into()));
        };
        let values = statement.values.unwrap_or(Values(Vec::new()));
        let rows = sqlx::query_with(AssertSqlSafe(statement.sql), SqlxValues(values))
            .fetch_all(&mut *connection)
            .await
            .map_err(exec_err)?;
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    pub(super) async fn close(&self) {
        let idle = match self.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => Vec::new(),
        };
        for connection in idle {
            let _ = connection.close().await;
        }
    }
}

/// Where reads go: the pool on PostgreSQL, `Readers` on SQLite. Reads only.
pub(super) enum Reads<'a> {
    Pool(&'a DatabaseConnection),
    Sqlite(&'a Readers),
}

#[async_trait::async_trait]
impl ConnectionTrait for Reads<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Reads::Pool(db) => db.get_database_backend(),
            Reads::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn execute_raw(&self, _: Statement) -> Result<ExecResult, DbErr> {
        Err(DbErr::Custom("a write on a read connection".into()))
    }

    async fn execute_unprepared(&self, _: &str) -> Result<ExecResult, DbErr> {
        Err(DbErr::Custom("a write on a read connection".into()))
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Reads::Pool(db) => db.query_one_raw(statement).await,
            Reads::Sqlite(readers) => Ok(readers.query_all(statement).await?.into_iter().next()),
        }
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Reads::Pool(db) => db.query_all_raw(statement).await,
            Reads::Sqlite(readers) => readers.query_all(statement).await,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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

    /// A writer on a new file with one table `t`, and the directory holding the file.
    async fn writer_on_a_table() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let mut writer = Writer::new(&url).unwrap();
        let connection = writer.connection().await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .execute(connection)
            .await
            .unwrap();
        (dir, writer)
    }

    /// A batch is kept whole or not at all, whichever statement stops it, and the writer
    /// goes on writing afterwards (no transaction left open).
    #[tokio::test]
    async fn a_batch_is_applied_in_full_or_not_at_all() {
        let (_dir, mut writer) = writer_on_a_table().await;

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

    /// Batches committed together are each kept or undone on their own, whichever stops.
    #[tokio::test]
    async fn a_group_keeps_each_batch_whole_or_not_at_all() {
        let (_dir, mut writer) = writer_on_a_table().await;
        let insert = |id: i64| statement("INSERT INTO t (id, v) VALUES (?, 0)", vec![id.into()]);
        let batch = |statements: Vec<(Statement, u64)>| {
            let mut batch = SqliteBatch::default();
            for (statement, rows) in statements {
                batch.push(statement, rows);
            }
            batch
        };
        let missing = || statement("UPDATE t SET v = 1 WHERE id = ?", vec![99.into()]);
        let answers = writer
            .apply_group(vec![
                batch(vec![(insert(1), 1), (insert(2), 1)]),
                batch(vec![(insert(3), 1), (missing(), 1)]),
                batch(vec![(insert(4), 1), (insert(1), 1)]),
                batch(vec![(insert(5), 1)]),
                batch(vec![
                    (insert(6), 1),
                    (statement("UPDATE nowhere SET v = 1", vec![]), 1),
                ]),
                batch(vec![(insert(7), 1), (missing(), 1)]),
            ])
            .await;
        let answers: Vec<_> = answers.into_iter().map(|a| a.ok()).collect();
        assert_eq!(
            answers,
            vec![
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                None,
                Some(false)
            ]
        );
        let connection = writer.connection().await.unwrap();
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(connection)
            .await
            .unwrap();
        assert_eq!(ids, vec![1, 2, 5]);

        // The writer goes on, alone or in a group.
        let answers = writer
            .apply_group(vec![
                batch(vec![(insert(8), 1)]),
                batch(vec![(insert(9), 1)]),
            ])
            .await;
        assert!(answers.iter().all(|a| matches!(a, Ok(true))));
        assert_eq!(count(&mut writer).await, 5);
    }
}
