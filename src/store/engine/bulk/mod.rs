//! A bulk transaction: a month's import, millions of rows in one transaction, on a connection
//! of its own outside SeaORM's pool (whose multi-row INSERTs build a SQL text and a value per
//! cell, and whose SQLite driver hands every statement to a worker thread of its own).
//!
//! - SQLite: a rusqlite connection with a page cache large enough for the month's indexes
//!   (`BULK_CACHE_KIB`; durability is untouched: the same WAL and `synchronous` as every
//!   connection, and one commit). Each table's rows go through one prepared single-row INSERT,
//!   bound cell by cell (no SQL text, no value list per row), on a blocking thread.
//! - PostgreSQL: a connection of its own; rows go through `COPY ... FROM STDIN` (text format)
//!   inside the transaction, a batch of rows (one price list's) per COPY. A table partitioned
//!   by month (`Table::by_month`) takes the month's rows in a new table of its own, indexed and
//!   attached at the commit (`partition.rs`). After the commit, `ANALYZE` of what was written
//!   (fresh statistics for the planner).
//!
//! The rare statements around the rows (clearing a previous import, the month's products and
//! SKUs) are SeaORM statements, run on the same connection. Dropped without `commit`, the
//! transaction is rolled back: the connection closes with it.

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, AssertSqlSafe, ConnectOptions as _, Connection as _, Row as _};
use sea_orm::{DbBackend, DbErr, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;

use super::Engine;
use super::sqlite;
use crate::domain::DomainError;

mod partition;

pub(in crate::store) use partition::ByMonth;
use partition::Partition;

/// The bulk connection's SQLite page cache: the indexes a full-size month's rows go into
/// (hundreds of MiB), so that each row's index entries are written in memory and reach the
/// file once, at the commit, instead of evicting and re-reading pages row after row.
const BULK_CACHE_KIB: i64 = 512 * 1024;

/// PostgreSQL: the statistics of the tables an import fills, besides the month's partitions.
const ANALYZE_MONTH: &str = "ANALYZE products, skus, sku_prerequisites";

/// A table the rows go into, and its columns in the order each row gives its cells.
#[derive(Debug)]
pub(in crate::store) struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    /// Partitioned by month on PostgreSQL: how (`partition.rs`).
    pub by_month: Option<ByMonth>,
}

/// One cell of a row, as the store writes it.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Time(Option<DateTime<Utc>>),
}

/// Where a table's rows are written: one call of `row` per row.
pub(in crate::store) struct Rows<'s> {
    sink: Sink<'s>,
    columns: usize,
    failed: Option<String>,
}

enum Sink<'s> {
    Sqlite(rusqlite::CachedStatement<'s>),
    Copy(&'s mut String),
}

impl Rows<'_> {
    /// Writes one row; `cells` in the table's column order. After a failure the rest is
    /// ignored, and the failure is the batch's answer.
    pub(in crate::store) fn row(&mut self, cells: &[Cell<'_>]) {
        if self.failed.is_some() {
            return;
        }
        if cells.len() != self.columns {
            self.failed = Some(format!(
                "{} cells for {} columns",
                cells.len(),
                self.columns
            ));
            return;
        }
        match &mut self.sink {
            Sink::Sqlite(statement) => {
                if let Err(e) = sqlite_row(statement, cells) {
                    self.failed = Some(e.to_string());
                }
            }
            Sink::Copy(out) => copy_row(out, cells),
        }
    }
}

fn sqlite_row(
    statement: &mut rusqlite::CachedStatement<'_>,
    cells: &[Cell<'_>],
) -> rusqlite::Result<()> {
    for (i, cell) in cells.iter().enumerate() {
        match *cell {
            Cell::Text(v) => statement.raw_bind_parameter(i + 1, v)?,
            Cell::Int(v) => statement.raw_bind_parameter(i + 1, v)?,
            // As sqlx-sqlite binds it (`sqlite::bind`): the store compares these as text.
            Cell::Time(Some(at)) => statement
                .raw_bind_parameter(i + 1, at.to_rfc3339_opts(SecondsFormat::AutoSi, false))?,
            Cell::Time(None) => statement.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
        }
    }
    statement.raw_execute()?;
    Ok(())
}

/// One line of COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_row(out: &mut String, cells: &[Cell<'_>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match *cell {
            Cell::Text(v) => {
                for c in v.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Time(Some(at)) => out.push_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Cell::Time(None) => out.push_str("\\N"),
        }
    }
    out.push('\n');
}

/// An open bulk transaction.
pub(in crate::store) struct Bulk {
    backend: Backend,
    /// PostgreSQL: the months' new tables, attached at the commit.
    partitions: Vec<Partition>,
}

enum Backend {
    /// Used on blocking threads, one call at a time.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(Box<PgConnection>),
}

fn internal(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("bulk write: {e}"))
}

fn pg_err(e: sqlx::Error) -> DomainError {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))).into()
}

fn sqlite_values(statement: Statement) -> Result<Vec<rusqlite::types::Value>, DomainError> {
    statement
        .values
        .map(|v| v.0)
        .unwrap_or_default()
        .into_iter()
        .map(sqlite::bind)
        .collect()
}

impl Engine {
    /// Begins a bulk transaction on a connection of its own (see the module's comment). On
    /// SQLite the caller holds the write turn (`write_turn`) until it commits.
    pub(in crate::store) async fn begin_bulk(&self) -> Result<Bulk, DomainError> {
        let backend = match self.backend() {
            DbBackend::Sqlite => {
                let (url, synchronous) = (self.url.clone(), self.synchronous);
                let connection = blocking(move || {
                    let connection = sqlite::open_url(&url, synchronous)?;
                    connection
                        .execute_batch(&format!(
                            "PRAGMA cache_size = -{BULK_CACHE_KIB}; PRAGMA temp_store = MEMORY; \
                             BEGIN IMMEDIATE;"
                        ))
                        .map_err(internal)?;
                    Ok(connection)
                })
                .await?;
                Backend::Sqlite(Arc::new(Mutex::new(connection)))
            }
            _ => {
                let options = PgConnectOptions::from_str(&self.url)
                    .map_err(internal)?
                    .disable_statement_logging();
                let mut connection = options.connect().await.map_err(|e| {
                    DomainError::from(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))
                })?;
                sqlx::raw_sql("BEGIN")
                    .execute(&mut connection)
                    .await
                    .map_err(pg_err)?;
                Backend::Postgres(Box::new(connection))
            }
        };
        Ok(Bulk {
            backend,
            partitions: Vec::new(),
        })
    }
}

/// SQLite: `f` on `statement` prepared (cached) with its values, on a blocking thread.
async fn on_sqlite<T: Send + 'static>(
    connection: &Arc<Mutex<rusqlite::Connection>>,
    statement: Statement,
    f: impl FnOnce(
        &mut rusqlite::CachedStatement<'_>,
        rusqlite::ParamsFromIter<Vec<rusqlite::types::Value>>,
    ) -> rusqlite::Result<T>
    + Send
    + 'static,
) -> Result<T, DomainError> {
    let connection = connection.clone();
    blocking(move || {
        let connection = connection.lock().map_err(internal)?;
        let sql = statement.sql.clone();
        let values = rusqlite::params_from_iter(sqlite_values(statement)?);
        let mut prepared = connection.prepare_cached(&sql).map_err(internal)?;
        f(&mut prepared, values).map_err(internal)
    })
    .await
}

/// Runs `f` on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
) -> Result<T, DomainError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| internal(format!("the bulk thread: {e}")))?
}

impl Bulk {
    pub(in crate::store) fn backend(&self) -> DbBackend {
        match self.backend {
            Backend::Sqlite(_) => DbBackend::Sqlite,
            Backend::Postgres(_) => DbBackend::Postgres,
        }
    }

    /// Runs a statement; answers the rows it changed.
    pub(in crate::store) async fn execute(
        &mut self,
        statement: Statement,
    ) -> Result<u64, DomainError> {
        match &mut self.backend {
            Backend::Sqlite(connection) => {
                on_sqlite(connection, statement, |prepared, values| {
                    prepared.execute(values).map(|changed| changed as u64)
                })
                .await
            }
            Backend::Postgres(connection) => {
                let done = pg_query(statement)
                    .execute(&mut **connection)
                    .await
                    .map_err(pg_err)?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Drops `table`'s rows of `month`, to be written anew. On PostgreSQL, a table by month
    /// takes them in a new table, which replaces the month's partition at the commit.
    pub(in crate::store) async fn replace_month(
        &mut self,
        table: &'static Table,
        month: &str,
    ) -> Result<(), DomainError> {
        if let (Backend::Postgres(connection), Some(_)) = (&mut self.backend, &table.by_month) {
            let partition = partition::begin(connection, table, month).await?;
            self.partitions.push(partition);
            return Ok(());
        }
        let delete = Query::delete()
            .from_table(Alias::new(table.name))
            .and_where(Expr::col(Alias::new("month")).eq(month))
            .to_owned();
        self.execute(self.backend().build(&delete)).await?;
        Ok(())
    }

    /// The first column of the first row `statement` finds, as text.
    pub(in crate::store) async fn query_text(
        &mut self,
        statement: Statement,
    ) -> Result<Option<String>, DomainError> {
        match &mut self.backend {
            Backend::Sqlite(connection) => {
                on_sqlite(connection, statement, |prepared, values| {
                    let mut rows = prepared.query(values)?;
                    match rows.next()? {
                        Some(row) => row.get::<_, String>(0).map(Some),
                        None => Ok(None),
                    }
                })
                .await
            }
            Backend::Postgres(connection) => {
                let row = pg_query(statement)
                    .fetch_optional(&mut **connection)
                    .await
                    .map_err(pg_err)?;
                row.map(|r| r.try_get::<String, _>(0))
                    .transpose()
                    .map_err(pg_err)
            }
        }
    }

    /// Writes the rows `each` makes of `items` into `table`: one call of `each` per item, which
    /// may write any number of rows (`Rows::row`).
    pub(in crate::store) async fn insert<T: Send + Sync + 'static>(
        &mut self,
        table: &'static Table,
        items: Arc<[T]>,
        each: impl Fn(&T, &mut Rows<'_>) + Send + 'static,
    ) -> Result<(), DomainError> {
        if items.is_empty() {
            return Ok(());
        }
        match &mut self.backend {
            Backend::Sqlite(connection) => {
                let connection = connection.clone();
                blocking(move || {
                    let connection = connection.lock().map_err(internal)?;
                    let statement = connection
                        .prepare_cached(&sqlite_insert(table))
                        .map_err(internal)?;
                    let mut rows = Rows {
                        sink: Sink::Sqlite(statement),
                        columns: table.columns.len(),
                        failed: None,
                    };
                    for item in items.iter() {
                        each(item, &mut rows);
                    }
                    rows.failed.map_or(Ok(()), |e| Err(internal(e)))
                })
                .await
            }
            Backend::Postgres(connection) => {
                let mut text = String::with_capacity(items.len() * 128);
                let failed = {
                    let mut rows = Rows {
                        sink: Sink::Copy(&mut text),
                        columns: table.columns.len(),
                        failed: None,
                    };
                    for item in items.iter() {
                        each(item, &mut rows);
                    }
                    rows.failed
                };
                if let Some(e) = failed {
                    return Err(internal(e));
                }
                let into = self
                    .partitions
                    .iter()
                    .find(|p| p.table.name == table.name)
                    .map_or(table.name, |p| p.name.as_str());
                let copy = format!("COPY {into} ({}) FROM STDIN", table.columns.join(", "));
                let mut copy_in = connection.copy_in_raw(&copy).await.map_err(pg_err)?;
                copy_in.send(text.as_bytes()).await.map_err(pg_err)?;
                copy_in.finish().await.map_err(pg_err)?;
                Ok(())
            }
        }
    }

    /// Makes everything written visible at once.
    pub(in crate::store) async fn commit(self) -> Result<(), DomainError> {
        match self.backend {
            Backend::Sqlite(connection) => {
                blocking(move || {
                    let connection = connection.lock().map_err(internal)?;
                    connection.execute_batch("COMMIT").map_err(internal)
                })
                .await
            }
            Backend::Postgres(mut connection) => {
                // Every index first: none of them locks the parent tables.
                for partition in &self.partitions {
                    partition::index(&mut connection, partition).await?;
                }
                partition::attach(&mut connection, &self.partitions).await?;
                sqlx::raw_sql("COMMIT")
                    .execute(&mut *connection)
                    .await
                    .map_err(pg_err)?;
                // The month is committed. Autovacuum would gather the copied rows' statistics
                // only later: until then the planner takes the tables for as small as before
                // (a diff step's lookups planned as scans of the month). Best effort: the
                // import stands either way.
                if !self.partitions.is_empty() {
                    let analyze = self
                        .partitions
                        .iter()
                        .fold(ANALYZE_MONTH.to_owned(), |sql, p| {
                            format!("{sql}, {}", p.name)
                        });
                    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(analyze))
                        .execute(&mut *connection)
                        .await
                    {
                        tracing::warn!(error = %e, "ANALYZE after the import failed");
                    }
                }
                let _ = (*connection).close().await;
                Ok(())
            }
        }
    }
}

/// `INSERT INTO table (columns) VALUES (?, ...)`: the names are the store's constants.
fn sqlite_insert(table: &Table) -> String {
    let marks = vec!["?"; table.columns.len()].join(", ");
    format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        table.name,
        table.columns.join(", ")
    )
}

fn pg_query(statement: Statement) -> sqlx::query::Query<'static, sqlx::Postgres, SqlxValues> {
    let values = SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
    sqlx::query_with(AssertSqlSafe(statement.sql), values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_cell_or_a_row() {
        let mut out = String::new();
        let at = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        copy_row(
            &mut out,
            &[
                Cell::Text("a\tb\\c\nd\re"),
                Cell::Int(-42),
                Cell::Time(at),
                Cell::Time(None),
            ],
        );
        assert_eq!(out, "a\\tb\\\\c\\nd\\re\t-42\t2026-12-01T00:00:00Z\t\\N\n");
    }
}
