//! SQLite's own connections, kept out of sqlx's pool (which pings every connection it takes
//! back: one more hand-over to sqlx-sqlite's worker thread per query).
//!
//! - `WriteQueue` + `Writer`: every guarded batch of this process is written by one thread,
//!   on one connection of its own, through rusqlite: the statements run on that thread, with
//!   no hand-over to a driver's worker thread per statement. A batch alone is one
//!   transaction; batches that queued together share one transaction and one commit, each in
//!   a savepoint of its own (group commit).
//! - The hot reads go through `direct.rs`'s connections.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::SecondsFormat;
use rusqlite::types::Value as SqlValue;
use rusqlite::{OpenFlags, ffi};
use sea_orm::Statement;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};

use crate::domain::DomainError;

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The options every sqlx connection to the file is opened with, the pool's and the readers'.
/// The writer's rusqlite connection is opened with the same settings (`Writer::open`).
pub(super) fn options(o: SqliteConnectOptions) -> SqliteConnectOptions {
    o.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode: a committed transaction survives a process crash; only an OS
        // crash or power loss can lose the last ones.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

/// The options of the readers' connections to `url`.
pub(super) fn url_options(url: &str) -> Result<SqliteConnectOptions, DomainError> {
    let parsed = SqliteConnectOptions::from_str(url)
        .map_err(|e| DomainError::Internal(format!("sqlite url: {e}")))?;
    Ok(options(parsed).disable_statement_logging())
}

/// Statements applied as one transaction, each with the rows it must change. A statement
/// that changes other rows, or that a key refuses, stops the batch there and nothing of it
/// is kept: it is applied in full or not at all.
#[derive(Default)]
pub(super) struct SqliteBatch {
    statements: Vec<(Statement, u64)>,
    after_commit: Option<AfterCommit>,
}

/// What the writer thread does once a batch is committed, before it answers anyone.
type AfterCommit = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for SqliteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBatch")
            .field("statements", &self.statements)
            .field("after_commit", &self.after_commit.is_some())
            .finish()
    }
}

impl SqliteBatch {
    pub(super) fn push(&mut self, statement: Statement, rows: u64) {
        self.statements.push((statement, rows));
    }

    /// Runs `then` on the writer thread right after the commit that keeps this batch, before
    /// any caller of its group is answered (and whether or not its own caller still waits);
    /// never if the batch is not kept. Commits run `then`s in commit order.
    pub(super) fn after_commit(&mut self, then: impl FnOnce() + Send + 'static) {
        self.after_commit = Some(Box::new(then));
    }
}

/// Why a batch stopped.
enum Stop {
    /// A statement changed other rows than it was pushed with, or a key refused it.
    Refused,
    Failed(rusqlite::Error),
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        let refused = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _) if matches!(
                f.extended_code,
                ffi::SQLITE_CONSTRAINT_UNIQUE
                    | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    | ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            )
        );
        if refused {
            Stop::Refused
        } else {
            Stop::Failed(e)
        }
    }
}

/// A batch's answer: `Ok(false)` when it was refused, else the error.
fn answer(stop: Stop) -> Result<bool, DomainError> {
    match stop {
        Stop::Refused => Ok(false),
        Stop::Failed(e) => Err(write_err(&e)),
    }
}

fn write_err(e: &dyn std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("sqlite writer: {e}"))
}

/// A value as sqlx-sqlite binds it (so a row reads the same whichever connection wrote it:
/// timestamps as RFC 3339 text, which the store's comparisons order as text).
fn bind(value: sea_orm::Value) -> Result<SqlValue, DomainError> {
    use sea_orm::Value as V;
    let integer = |v: Option<i64>| v.map_or(SqlValue::Null, SqlValue::Integer);
    let text = |v: Option<String>| v.map_or(SqlValue::Null, SqlValue::Text);
    Ok(match value {
        V::Bool(v) => integer(v.map(i64::from)),
        V::TinyInt(v) => integer(v.map(i64::from)),
        V::SmallInt(v) => integer(v.map(i64::from)),
        V::Int(v) => integer(v.map(i64::from)),
        V::BigInt(v) => integer(v),
        V::TinyUnsigned(v) => integer(v.map(i64::from)),
        V::SmallUnsigned(v) => integer(v.map(i64::from)),
        V::Unsigned(v) => integer(v.map(i64::from)),
        V::BigUnsigned(v) => integer(
            v.map(i64::try_from)
                .transpose()
                .map_err(|e| write_err(&format!("an unsigned value out of range: {e}")))?,
        ),
        V::Float(v) => v.map_or(SqlValue::Null, |v| SqlValue::Real(f64::from(v))),
        V::Double(v) => v.map_or(SqlValue::Null, SqlValue::Real),
        V::String(v) => text(v),
        V::Char(v) => text(v.map(String::from)),
        V::Bytes(v) => v.map_or(SqlValue::Null, SqlValue::Blob),
        V::ChronoDateTimeUtc(v) => text(v.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, false))),
        V::ChronoDateTime(v) => text(v.map(|t| t.format("%F %T%.f").to_string())),
        V::Uuid(v) => v.map_or(SqlValue::Null, |u| SqlValue::Blob(u.as_bytes().to_vec())),
        other => return Err(write_err(&format!("a value it cannot bind: {other:?}"))),
    })
}

/// The writer connection (rusqlite, used on the writer's thread only), opened on first use
/// and again after a failure that may have left it inside a transaction.
#[derive(Debug)]
pub(super) struct Writer {
    path: PathBuf,
    connection: Option<rusqlite::Connection>,
}

impl Writer {
    pub(super) fn new(url: &str) -> Result<Self, DomainError> {
        Ok(Self {
            path: url_options(url)?.get_filename().to_owned(),
            connection: None,
        })
    }

    fn open(&self) -> Result<rusqlite::Connection, DomainError> {
        let connection = open(&self.path)?;
        // The checkpointer copies the WAL back; this is only the bound if it falls behind.
        // An 8 MiB page cache: every commit ends by truncating the cache's page hash
        // (`pcache1TruncateUnsafe`), whose cost grows with the cache: 14% of the writer's
        // time with 64 MiB, out of the profile with 8 (BENCHMARKS.md).
        connection
            .execute_batch(
                "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY; \
                 PRAGMA wal_autocheckpoint = 20000;",
            )
            .map_err(|e| write_err(&e))?;
        connection.set_prepared_statement_cache_capacity(256);
        Ok(connection)
    }

    fn connection(&mut self) -> Result<&rusqlite::Connection, DomainError> {
        if self.connection.is_none() {
            self.connection = Some(self.open()?);
        }
        self.connection
            .as_ref()
            .ok_or_else(|| write_err(&"no connection"))
    }

    /// Runs `batch` as one transaction: `Ok(false)` if a statement changed other rows than
    /// it was pushed with, or a key refused one (nothing of it was kept).
    pub(super) fn apply(&mut self, batch: SqliteBatch) -> Result<bool, DomainError> {
        let connection = self.connection()?;
        let SqliteBatch {
            statements,
            after_commit,
        } = batch;
        let run = connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(Stop::from)
            .and_then(|()| run(connection, statements))
            .and_then(|()| connection.execute_batch("COMMIT").map_err(Stop::from));
        match run {
            Ok(()) => {
                if let Some(then) = after_commit {
                    then();
                }
                Ok(true)
            }
            Err(stop) => {
                self.undo("ROLLBACK");
                answer(stop)
            }
        }
    }

    /// Runs `batches` in one transaction (one commit for all), each inside a savepoint of its
    /// own: a batch that stops is rolled back to its savepoint alone and the others go on.
    /// The answers are in the order of `batches`, each given only once the commit is done.
    pub(super) fn apply_group(
        &mut self,
        mut batches: Vec<SqliteBatch>,
    ) -> Vec<Result<bool, DomainError>> {
        if batches.len() == 1
            && let Some(batch) = batches.pop()
        {
            return vec![self.apply(batch)];
        }
        let count = batches.len();
        let failed = |writer: &mut Self, e: &dyn std::fmt::Display| {
            writer.undo("ROLLBACK");
            (0..count)
                .map(|_| Err(write_err(&format!("group commit: {e}"))))
                .collect::<Vec<_>>()
        };
        let connection = match self.connection() {
            Ok(connection) => connection,
            Err(e) => return failed(self, &e),
        };
        if let Err(e) = connection.execute_batch("BEGIN IMMEDIATE") {
            return failed(self, &e);
        }
        let mut answers = Vec::with_capacity(count);
        let mut after_commits = Vec::new();
        for batch in batches {
            let SqliteBatch {
                statements,
                after_commit,
            } = batch;
            let ran = connection
                .execute_batch("SAVEPOINT batch")
                .map_err(Stop::from)
                .and_then(|()| run(connection, statements))
                .and_then(|()| {
                    connection
                        .execute_batch("RELEASE batch")
                        .map_err(Stop::from)
                });
            match ran {
                Ok(()) => {
                    answers.push(Ok(true));
                    after_commits.extend(after_commit);
                }
                Err(stop) => {
                    // Undo this batch alone; a connection that cannot has lost the group.
                    if let Err(e) = connection.execute_batch("ROLLBACK TO batch; RELEASE batch") {
                        return failed(self, &e);
                    }
                    answers.push(answer(stop));
                }
            }
        }
        if let Err(e) = connection.execute_batch("COMMIT") {
            return failed(self, &e);
        }
        for then in after_commits {
            then();
        }
        answers
    }

    /// Undoes an open transaction; a connection that cannot is closed (and with it its
    /// transaction) and opened again on its next use.
    fn undo(&mut self, sql: &'static str) {
        let Some(connection) = self.connection.as_ref() else {
            return;
        };
        if connection.is_autocommit() {
            return;
        }
        if let Err(e) = connection.execute_batch(sql) {
            tracing::error!(error = %e, "sqlite writer: {sql} failed; reconnecting");
            self.connection = None;
        }
    }
}

/// Opens the file with the settings of `options` (rusqlite).
fn open(path: &std::path::Path) -> Result<rusqlite::Connection, DomainError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection =
        rusqlite::Connection::open_with_flags(path, flags).map_err(|e| write_err(&e))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| {
            connection.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON;",
            )
        })
        .map_err(|e| write_err(&e))?;
    Ok(connection)
}

/// How often the checkpointer copies what the WAL gained back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Copies the WAL back into the database file, on a thread of its own, until `stop` is
/// dropped. PASSIVE: it waits for no writer or reader, and the writer's commits no longer
/// pay for the copying and its syncs (SQLite runs a checkpoint in the commit that crosses
/// `wal_autocheckpoint`).
fn checkpoints(path: &std::path::Path, stop: &std::sync::mpsc::Receiver<()>) {
    let connection = match open(path) {
        Ok(connection) => connection,
        Err(e) => {
            tracing::error!(error = %e, "sqlite checkpointer: no connection; the writer checkpoints");
            return;
        }
    };
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY)
    {
        if let Err(e) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

/// Runs each statement of a batch (prepared once per text, in the connection's cache) and
/// checks the rows it changed.
fn run(connection: &rusqlite::Connection, statements: Vec<(Statement, u64)>) -> Result<(), Stop> {
    for (statement, rows) in statements {
        let values = statement
            .values
            .map(|v| v.0)
            .unwrap_or_default()
            .into_iter()
            .map(bind)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Stop::Failed(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
        let changed = connection
            .prepare_cached(&statement.sql)?
            .execute(rusqlite::params_from_iter(values))?;
        if changed as u64 != rows {
            return Err(Stop::Refused);
        }
    }
    Ok(())
}

/// The most batches one commit takes.
const GROUP: usize = 64;

enum Command {
    Batch(SqliteBatch, oneshot::Sender<Result<bool, DomainError>>),
    Close(oneshot::Sender<()>),
}

/// The queue of this process's batches and the thread that writes them: whatever queued
/// while it wrote the last group is the next group, so writers that come together commit
/// together (group commit), on their turn of the store's write gate.
#[derive(Debug, Clone)]
pub(super) struct WriteQueue {
    commands: mpsc::Sender<Command>,
}

impl WriteQueue {
    pub(super) fn start(
        mut writer: Writer,
        gate: Arc<tokio::sync::Mutex<()>>,
    ) -> Result<Self, DomainError> {
        let (commands, mut queue) = mpsc::channel(4 * GROUP);
        let (stop_checkpoints, stopped) = std::sync::mpsc::channel::<()>();
        let path = writer.path.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoints(&path, &stopped))
            .map_err(|e| write_err(&format!("no checkpointer thread: {e}")))?;
        // A thread of its own, outside the server's runtime: the statements run here, so
        // every writer waits on it and nothing else.
        let run = move || {
            // The checkpointer stops with the writer.
            let _stop_checkpoints = stop_checkpoints;
            while let Some(first) = queue.blocking_recv() {
                let mut batches = Vec::with_capacity(GROUP);
                let mut replies = Vec::with_capacity(GROUP);
                let mut close = None;
                let mut next = Some(first);
                while let Some(command) = next {
                    match command {
                        Command::Batch(batch, reply) => {
                            batches.push(batch);
                            replies.push(reply);
                        }
                        Command::Close(done) => close = Some(done),
                    }
                    next = (batches.len() < GROUP && close.is_none())
                        .then(|| queue.try_recv().ok())
                        .flatten();
                }
                if !batches.is_empty() {
                    let turn = gate.blocking_lock();
                    let answers = writer.apply_group(batches);
                    drop(turn);
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // A caller that went away finds its batch written all the same.
                        let _ = reply.send(answer);
                    }
                }
                if let Some(done) = close {
                    // Closed (its connection with it) before the answer.
                    drop(writer);
                    let _ = done.send(());
                    return;
                }
            }
        };
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(run)
            .map(|_| Self { commands })
            .map_err(|e| write_err(&format!("no thread: {e}")))
    }

    /// Writes `batch` (see `Writer::apply`); answers once it is committed.
    pub(super) async fn write(&self, batch: SqliteBatch) -> Result<bool, DomainError> {
        let stopped = || write_err(&"stopped");
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sea_orm::sqlx;
    use sea_orm::{DbBackend, Values};
    use sea_query_sqlx::SqlxValues;

    fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    fn count(writer: &mut Writer) -> i64 {
        let connection = writer.connection().unwrap();
        connection
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    /// A writer on a new file with one table `t`, and the directory holding the file.
    fn writer_on_a_table() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let mut writer = Writer::new(&url).unwrap();
        let connection = writer.connection().unwrap();
        connection
            .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .unwrap();
        (dir, writer)
    }

    fn insert(id: i64) -> Statement {
        statement("INSERT INTO t (id, v) VALUES (?, 0)", vec![id.into()])
    }

    fn batch(statements: Vec<(Statement, u64)>) -> SqliteBatch {
        let mut batch = SqliteBatch::default();
        for (statement, rows) in statements {
            batch.push(statement, rows);
        }
        batch
    }

    /// A batch is kept whole or not at all, whichever statement stops it, and the writer
    /// goes on writing afterwards (no transaction left open).
    #[test]
    fn a_batch_is_applied_in_full_or_not_at_all() {
        let (_dir, mut writer) = writer_on_a_table();

        let bump = statement("UPDATE t SET v = v + 1 WHERE id = ?", vec![1.into()]);
        assert!(
            writer
                .apply(batch(vec![(insert(1), 1), (bump, 1)]))
                .unwrap()
        );
        assert_eq!(count(&mut writer), 1);

        // The second statement changes no row: the first is not kept.
        let missing = statement("UPDATE t SET v = 1 WHERE id = ?", vec![99.into()]);
        assert!(
            !writer
                .apply(batch(vec![(insert(2), 1), (missing, 1)]))
                .unwrap()
        );
        assert_eq!(count(&mut writer), 1);

        // A statement changing more rows than expected stops it too.
        let wide = statement("UPDATE t SET v = 2", vec![]);
        assert!(
            !writer
                .apply(batch(vec![(insert(3), 1), (wide, 1)]))
                .unwrap()
        );
        assert_eq!(count(&mut writer), 1);

        // A key refusing a row: the batch is refused, not an error, and nothing is kept.
        assert!(
            !writer
                .apply(batch(vec![(insert(4), 1), (insert(1), 1)]))
                .unwrap()
        );
        assert_eq!(count(&mut writer), 1);

        // Any other error is an error, and leaves no transaction behind either.
        let broken = statement("UPDATE missing SET v = 1", vec![]);
        assert!(
            writer
                .apply(batch(vec![(insert(5), 1), (broken, 1)]))
                .is_err()
        );

        assert!(
            writer
                .apply(batch(vec![(insert(6), 1), (insert(7), 1)]))
                .unwrap()
        );
        assert_eq!(count(&mut writer), 3);
    }

    /// Batches committed together are each kept or undone on their own, whichever stops.
    #[test]
    fn a_group_keeps_each_batch_whole_or_not_at_all() {
        let (_dir, mut writer) = writer_on_a_table();
        let missing = || statement("UPDATE t SET v = 1 WHERE id = ?", vec![99.into()]);
        let answers = writer.apply_group(vec![
            batch(vec![(insert(1), 1), (insert(2), 1)]),
            batch(vec![(insert(3), 1), (missing(), 1)]),
            batch(vec![(insert(4), 1), (insert(1), 1)]),
            batch(vec![(insert(5), 1)]),
            batch(vec![
                (insert(6), 1),
                (statement("UPDATE nowhere SET v = 1", vec![]), 1),
            ]),
            batch(vec![(insert(7), 1), (missing(), 1)]),
        ]);
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
        let connection = writer.connection().unwrap();
        let ids: Vec<i64> = connection
            .prepare("SELECT id FROM t ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids, vec![1, 2, 5]);

        // The writer goes on, alone or in a group.
        let answers = writer.apply_group(vec![
            batch(vec![(insert(8), 1)]),
            batch(vec![(insert(9), 1)]),
        ]);
        assert!(answers.iter().all(|a| matches!(a, Ok(true))));
        assert_eq!(count(&mut writer), 5);
    }

    /// The writer binds every kind of value the store writes exactly as sqlx-sqlite does
    /// (the pool's connections write the same columns, and the queries compare them).
    #[tokio::test]
    async fn the_writer_binds_values_as_sqlx_does() {
        let (dir, mut writer) = writer_on_a_table();
        writer
            .connection()
            .unwrap()
            .execute_batch("CREATE TABLE v (n INTEGER, a, b, c, d, e, f, g, h, i)")
            .unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T07:17:12.123456Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let whole = chrono::DateTime::parse_from_rfc3339("2026-12-31T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let values = |n: i64| -> Vec<sea_orm::Value> {
            vec![
                n.into(),
                "text".into(),
                true.into(),
                7i32.into(),
                (-9_000_000_000i64).into(),
                at.into(),
                whole.into(),
                Option::<String>::None.into(),
                Option::<chrono::DateTime<chrono::Utc>>::None.into(),
                uuid::Uuid::from_u128(42).into(),
            ]
        };
        let sql = "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        assert!(
            writer
                .apply(batch(vec![(statement(sql, values(1)), 1)]))
                .unwrap()
        );

        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let mut sqlx_connection = url_options(&url).unwrap().connect().await.unwrap();
        sqlx::query_with(sql, SqlxValues(Values(values(2))))
            .execute(&mut sqlx_connection)
            .await
            .unwrap();

        let quoted = "SELECT quote(a) || ' ' || quote(b) || ' ' || quote(c) || ' ' || quote(d) \
                      || ' ' || quote(e) || ' ' || quote(f) || ' ' || quote(g) || ' ' || quote(h) \
                      || ' ' || quote(i) FROM v ORDER BY n";
        let rows: Vec<String> = sqlx::query_scalar(quoted)
            .fetch_all(&mut sqlx_connection)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], rows[1]);
        assert!(rows[0].contains(" '2026-12-03T07:17:12.123456+00:00' "));
    }
}
