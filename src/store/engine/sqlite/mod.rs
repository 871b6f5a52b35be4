//! SQLite's writer, kept out of sqlx's pool (which pings every connection it takes back: one
//! more hand-over to sqlx-sqlite's worker thread per query): every guarded write of this
//! process is a `Batch` written by one thread (`writer.rs`), on one rusqlite connection of its
//! own, with no hand-over to a driver's worker thread per statement. A batch alone is one
//! transaction; batches that queued together share one transaction and one commit, each in a
//! savepoint of its own (group commit). The hot reads go through `direct.rs`'s connections.

use std::str::FromStr;
use std::time::Duration;

use chrono::SecondsFormat;
use rusqlite::types::Value as SqlValue;
use rusqlite::{OpenFlags, ffi};
use sea_orm::Statement;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use serde::{Deserialize, Serialize};

use super::guarded::AfterCommit;
use crate::domain::DomainError;

pub(super) use lock::FileLock;
pub(super) use writer::{WriteQueue, Writer};

/// When a commit reaches the disk (`PRAGMA synchronous`, in WAL mode), on every connection
/// of the process: the pool's, the readers', the writer's and the checkpointer's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// Each commit is synced to the disk before it is acknowledged: an acknowledged write
    /// survives a power failure.
    #[default]
    Full,
    /// The WAL is synced only at checkpoints: an acknowledged write survives a crash of the
    /// process, but the last ones can be lost on a power failure or an OS crash.
    Normal,
}

impl SqliteSynchronous {
    fn sqlx(self) -> sea_orm::sqlx::sqlite::SqliteSynchronous {
        match self {
            Self::Full => sea_orm::sqlx::sqlite::SqliteSynchronous::Full,
            Self::Normal => sea_orm::sqlx::sqlite::SqliteSynchronous::Normal,
        }
    }

    fn pragma(self) -> &'static str {
        match self {
            Self::Full => "PRAGMA synchronous = FULL;",
            Self::Normal => "PRAGMA synchronous = NORMAL;",
        }
    }
}

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The options every sqlx connection to the file is opened with, the pool's and the readers'.
/// The writer's rusqlite connection is opened with the same settings (`Writer::open`).
pub(super) fn options(
    o: SqliteConnectOptions,
    synchronous: SqliteSynchronous,
) -> SqliteConnectOptions {
    o.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous.sqlx())
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

/// How every connection that writes (the pool's, the writer's) keeps its pages: an 8 MiB page
/// cache; statement journals and temporary tables in memory (a multi-row statement inside a
/// transaction journals what it overwrites); and checkpoints left to the checkpointer thread
/// (`writer.rs`), so a commit does not copy the WAL back on its way (SQLite runs a checkpoint
/// in the commit that crosses `wal_autocheckpoint`; this is only the bound if the checkpointer
/// falls behind). An 8 MiB cache, not more: every commit ends by truncating the cache's page
/// hash (`pcache1TruncateUnsafe`), whose cost grows with the cache (14% of the writer's time
/// with 64 MiB, out of the profile with 8: BENCHMARKS.md).
const WRITING_PRAGMAS: [(&str, &str); 3] = [
    ("cache_size", "-8192"),
    ("temp_store", "MEMORY"),
    ("wal_autocheckpoint", "20000"),
];

/// The options of the pool's connections (`options`, and `WRITING_PRAGMAS`).
pub(super) fn pool_options(
    o: SqliteConnectOptions,
    synchronous: SqliteSynchronous,
) -> SqliteConnectOptions {
    WRITING_PRAGMAS
        .iter()
        .fold(options(o, synchronous), |o, (key, value)| {
            o.pragma(*key, *value)
        })
}

/// The options of the readers' connections to `url`.
pub(super) fn url_options(
    url: &str,
    synchronous: SqliteSynchronous,
) -> Result<SqliteConnectOptions, DomainError> {
    Ok(options(parsed_url(url)?, synchronous).disable_statement_logging())
}

fn parsed_url(url: &str) -> Result<SqliteConnectOptions, DomainError> {
    SqliteConnectOptions::from_str(url)
        .map_err(|e| DomainError::Internal(format!("sqlite url: {e}")))
}

/// The file a SQLite `url` names (`None` in memory).
pub(super) fn database_file(url: &str) -> Option<std::path::PathBuf> {
    let path = parsed_url(url).ok()?.get_filename().to_owned();
    (path.as_os_str() != ":memory:" && !url.contains("mode=memory")).then_some(path)
}

/// Takes the lock of the file at `url` for this process (`lock.rs`); none for an in-memory
/// database, which no other process can open.
pub(super) fn lock(url: &str) -> Result<Option<FileLock>, DomainError> {
    let path = parsed_url(url)?.get_filename().to_owned();
    if path.as_os_str() == ":memory:" || url.contains("mode=memory") {
        return Ok(None);
    }
    FileLock::take(&path).map(Some)
}

/// Statements applied as one transaction, each with the rows it must change (or find). A
/// statement that changes other rows, or that a key refuses, stops the batch there and nothing
/// of it is kept: it is applied in full or not at all.
#[derive(Default)]
pub(super) struct Batch {
    statements: Vec<(Statement, Expect)>,
    after_commit: Option<AfterCommit>,
}

/// What a statement of a batch must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Change exactly this many rows.
    Changes(u64),
    /// Find exactly this many rows (a query; the writer holds the whole database, so what it
    /// finds stays as found until the commit).
    Finds(u64),
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("statements", &self.statements)
            .field("after_commit", &self.after_commit.is_some())
            .finish()
    }
}

impl Batch {
    /// `statement` must change exactly `rows` rows.
    pub(super) fn push(&mut self, statement: Statement, rows: u64) {
        self.statements.push((statement, Expect::Changes(rows)));
    }

    /// The query `statement` must find exactly `rows` rows.
    pub(super) fn push_lookup(&mut self, statement: Statement, rows: u64) {
        self.statements.push((statement, Expect::Finds(rows)));
    }

    /// Runs `then` on the writer thread right after the commit that keeps this batch, before
    /// any caller of its group is answered (and whether or not its own caller still waits);
    /// never if the batch is not kept. Commits run `then`s in commit order.
    pub(super) fn after_commit(&mut self, then: AfterCommit) {
        self.after_commit = Some(then);
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
pub(super) fn bind(value: sea_orm::Value) -> Result<SqlValue, DomainError> {
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

/// Opens the file at `url` as `open` does (the bulk transactions' connection).
pub(super) fn open_url(
    url: &str,
    synchronous: SqliteSynchronous,
) -> Result<rusqlite::Connection, DomainError> {
    open(url_options(url, synchronous)?.get_filename(), synchronous)
}

/// Opens the file with the settings of `options` (rusqlite).
fn open(
    path: &std::path::Path,
    synchronous: SqliteSynchronous,
) -> Result<rusqlite::Connection, DomainError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection =
        rusqlite::Connection::open_with_flags(path, flags).map_err(|e| write_err(&e))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| {
            connection.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; {} PRAGMA foreign_keys = ON;",
                synchronous.pragma()
            ))
        })
        .map_err(|e| write_err(&e))?;
    Ok(connection)
}

/// Runs each statement of a batch (prepared once per text, in the connection's cache) and
/// checks the rows it changed or found.
fn run(
    connection: &rusqlite::Connection,
    statements: Vec<(Statement, Expect)>,
) -> Result<(), Stop> {
    for (statement, expect) in statements {
        let values = statement
            .values
            .map(|v| v.0)
            .unwrap_or_default()
            .into_iter()
            .map(bind)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Stop::Failed(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
        let mut prepared = connection.prepare_cached(&statement.sql)?;
        let params = rusqlite::params_from_iter(values);
        let (rows, wanted) = match expect {
            Expect::Changes(wanted) => (prepared.execute(params)? as u64, wanted),
            Expect::Finds(wanted) => {
                let mut found = prepared.query(params)?;
                let mut rows = 0;
                while found.next()?.is_some() {
                    rows += 1;
                }
                (rows, wanted)
            }
        };
        if rows != wanted {
            return Err(Stop::Refused);
        }
    }
    Ok(())
}

mod lock;
#[cfg(test)]
mod tests;
mod writer;
