//! A month's rows of one table, streamed in the table's stored order: what loading a whole
//! month reads (millions of rows, `store/catalog/load.rs`). Neither backend goes through
//! sqlx's row decoding, which cost ~2.5 µs a row (and two months read at once, for a diff,
//! five times that in thread switches on SQLite):
//! - SQLite: the table scanned (`NOT INDEXED`), not searched through its `(month, ...)` key
//!   (the import writes the rows market by market, keyed by hashed ids: a million seeks cost
//!   twenty times the scan), on a rusqlite connection of its own on a blocking thread, which
//!   decodes the rows and hands them over in chunks.
//! - PostgreSQL: `COPY (SELECT ...) TO STDOUT` on a connection of its own, in a transaction
//!   set to UTC and ISO dates, each text line split into its cells.

use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use futures::{Stream, TryStreamExt};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{DbBackend, DbErr, RuntimeErr};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{Engine, sqlite};
use crate::domain::DomainError;

/// Rows handed over at a time.
const CHUNK: usize = 4096;
/// Chunks that may wait for the reader.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The cells of one scanned row, by position.
pub(in crate::store) trait Cells {
    fn text(&self, i: usize) -> Result<String, String>;
    fn int(&self, i: usize) -> Result<i64, String>;
    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, String>;
}

/// A row of a month's scan, made from its cells (in the order selected).
pub(in crate::store) trait ScanRow: Sized + Send + 'static {
    fn from_cells(row: &impl Cells) -> Result<Self, String>;
}

/// The rows, one at a time.
pub(in crate::store) type RowStream<T> =
    Pin<Box<dyn Stream<Item = Result<T, DomainError>> + Send + 'static>>;

fn failed(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("month scan: {e}"))
}

impl Engine {
    /// Streams `columns` of `table`'s rows of `month`, in the table's stored order. `table`
    /// and `columns` are the store's constants; `month` is a `Month`'s text (`YYYY-MM`).
    pub(in crate::store) fn month_rows<T: ScanRow>(
        &self,
        table: &str,
        columns: &str,
        month: &str,
    ) -> Result<RowStream<T>, DomainError> {
        if month.len() != 7 || !month.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(failed(format!("not a month: {month:?}")));
        }
        let (chunks, received) = mpsc::channel(CHUNKS_IN_FLIGHT);
        match self.backend() {
            DbBackend::Sqlite => {
                let sql = format!("SELECT {columns} FROM {table} NOT INDEXED WHERE month = ?1");
                let (url, synchronous, month) =
                    (self.url.clone(), self.synchronous, month.to_owned());
                tokio::task::spawn_blocking(move || {
                    let scan = || -> Result<(), DomainError> {
                        let connection = sqlite::open_url(&url, synchronous)?;
                        let mut statement = connection.prepare(&sql).map_err(failed)?;
                        let mut rows = statement.query([&month]).map_err(failed)?;
                        let mut chunk = Chunk::new(&chunks);
                        while let Some(row) = rows.next().map_err(failed)? {
                            if !chunk.push_blocking(T::from_cells(row).map_err(failed)?) {
                                return Ok(());
                            }
                        }
                        chunk.finish_blocking();
                        Ok(())
                    };
                    if let Err(e) = scan() {
                        let _ = chunks.blocking_send(Err(e));
                    }
                });
            }
            _ => {
                let sql = format!(
                    "COPY (SELECT {columns} FROM {table} WHERE month = '{month}') TO STDOUT"
                );
                let url = self.url.clone();
                tokio::spawn(async move {
                    if let Err(e) = copy_out::<T>(&url, &sql, &chunks).await {
                        let _ = chunks.send(Err(e)).await;
                    }
                });
            }
        }
        Ok(Box::pin(
            ReceiverStream::new(received)
                .map_ok(|chunk: Vec<T>| futures::stream::iter(chunk.into_iter().map(Ok)))
                .try_flatten(),
        ))
    }
}

type Sender<T> = mpsc::Sender<Result<Vec<T>, DomainError>>;

/// Rows gathered into chunks for the reader.
struct Chunk<'a, T> {
    rows: Vec<T>,
    to: &'a Sender<T>,
}

impl<'a, T> Chunk<'a, T> {
    fn new(to: &'a Sender<T>) -> Self {
        Self {
            rows: Vec::with_capacity(CHUNK),
            to,
        }
    }

    fn full(&mut self) -> Option<Vec<T>> {
        (self.rows.len() == CHUNK)
            .then(|| std::mem::replace(&mut self.rows, Vec::with_capacity(CHUNK)))
    }

    /// Adds `row`; `false` once the reader stopped reading.
    fn push_blocking(&mut self, row: T) -> bool {
        self.rows.push(row);
        match self.full() {
            Some(full) => self.to.blocking_send(Ok(full)).is_ok(),
            None => true,
        }
    }

    async fn push(&mut self, row: T) -> bool {
        self.rows.push(row);
        match self.full() {
            Some(full) => self.to.send(Ok(full)).await.is_ok(),
            None => true,
        }
    }

    fn finish_blocking(self) {
        if !self.rows.is_empty() {
            let _ = self.to.blocking_send(Ok(self.rows));
        }
    }

    async fn finish(self) {
        if !self.rows.is_empty() {
            let _ = self.to.send(Ok(self.rows)).await;
        }
    }
}

/// PostgreSQL: `sql` (a `COPY ... TO STDOUT`) on a connection of its own, each line's cells
/// made into a row.
async fn copy_out<T: ScanRow>(url: &str, sql: &str, to: &Sender<T>) -> Result<(), DomainError> {
    let pg = |e: sqlx::Error| DomainError::from(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))));
    let options = PgConnectOptions::from_str(url)
        .map_err(failed)?
        .disable_statement_logging();
    let mut connection = options.connect().await.map_err(pg)?;
    // One transaction, so that a transaction pooler keeps the settings for the COPY.
    sqlx::raw_sql("BEGIN; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'")
        .execute(&mut connection)
        .await
        .map_err(pg)?;
    let mut chunk = Chunk::new(to);
    {
        let mut data = connection.copy_out_raw(sql).await.map_err(pg)?;
        // PostgreSQL sends one row a message; a message is taken whole either way.
        while let Some(bytes) = data.try_next().await.map_err(pg)? {
            let text = std::str::from_utf8(&bytes).map_err(failed)?;
            for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                let row = T::from_cells(&CopyLine::split(line).map_err(failed)?).map_err(failed)?;
                if !chunk.push(row).await {
                    return Ok(());
                }
            }
        }
    }
    chunk.finish().await;
    sqlx::raw_sql("COMMIT")
        .execute(&mut connection)
        .await
        .map_err(pg)?;
    let _ = connection.close().await;
    Ok(())
}

/// The most cells a scanned row has.
const MAX_CELLS: usize = 16;

/// One line of COPY's text format: cells split at tabs, `\N` for NULL, backslash escapes
/// (undone when a cell is read).
struct CopyLine<'a> {
    cells: [&'a str; MAX_CELLS],
    count: usize,
}

impl<'a> CopyLine<'a> {
    fn split(line: &'a str) -> Result<Self, String> {
        let mut cells = [""; MAX_CELLS];
        let mut count = 0;
        for cell in line.split('\t') {
            *cells
                .get_mut(count)
                .ok_or_else(|| format!("more than {MAX_CELLS} cells"))? = cell;
            count += 1;
        }
        Ok(Self { cells, count })
    }

    fn cell(&self, i: usize) -> Result<Option<&'a str>, String> {
        match self.cells[..self.count].get(i) {
            Some(&"\\N") => Ok(None),
            Some(cell) => Ok(Some(cell)),
            None => Err(format!("no cell {i}")),
        }
    }

    fn required(&self, i: usize) -> Result<&'a str, String> {
        self.cell(i)?.ok_or_else(|| format!("cell {i} is NULL"))
    }
}

/// COPY's text escapes undone (`\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`; anything else
/// backslashed stands for itself).
fn unescape(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl Cells for CopyLine<'_> {
    fn text(&self, i: usize) -> Result<String, String> {
        let cell = self.required(i)?;
        Ok(match cell.contains('\\') {
            true => unescape(cell),
            false => cell.to_owned(),
        })
    }

    fn int(&self, i: usize) -> Result<i64, String> {
        let cell = self.required(i)?;
        cell.parse()
            .map_err(|e| format!("cell {i} ({cell:?}) is not an integer: {e}"))
    }

    /// `timestamptz` as ISO output in UTC: `2026-12-01 00:00:00+00`, seconds maybe fractional
    /// (read as `YYYY-MM-DDTHH:MM:SS[.f]` by chrono's parser of that one form, whose items
    /// are made once, not per cell).
    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, String> {
        let Some(cell) = self.cell(i)? else {
            return Ok(None);
        };
        let not_a_time = || format!("cell {i} ({cell:?}) is not a time in UTC");
        let local = cell.strip_suffix("+00").ok_or_else(not_a_time)?;
        let (date, time) = local.split_once(' ').ok_or_else(not_a_time)?;
        let date: NaiveDate = date.parse().map_err(|_| not_a_time())?;
        let time: NaiveTime = time.parse().map_err(|_| not_a_time())?;
        Ok(Some(date.and_time(time).and_utc()))
    }
}

impl Cells for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String, String> {
        self.get(i).map_err(|e| e.to_string())
    }

    fn int(&self, i: usize) -> Result<i64, String> {
        self.get(i).map_err(|e| e.to_string())
    }

    /// RFC 3339 text, as the store writes timestamps on SQLite (as sqlx binds them).
    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, String> {
        let value = self.get_ref(i).map_err(|e| e.to_string())?;
        let text = value.as_str_or_null().map_err(|e| e.to_string())?;
        text.map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("cell {i} ({t:?}) is not a time: {e}"))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_copy_line_reads_back_what_copy_wrote() {
        let line = CopyLine::split(
            "a\\tb\\\\c\\nd\\re\t-42\t2026-12-01 00:00:00+00\t\\N\t2026-12-01 10:11:12.5+00",
        )
        .unwrap();
        assert_eq!(line.text(0).unwrap(), "a\tb\\c\nd\re");
        assert_eq!(line.int(1).unwrap(), -42);
        let at = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap();
        assert_eq!(line.time(2).unwrap(), Some(at.with_timezone(&Utc)));
        assert_eq!(line.time(3).unwrap(), None);
        assert!(line.text(3).is_err(), "NULL is no text");
        let later = DateTime::parse_from_rfc3339("2026-12-01T10:11:12.5Z").unwrap();
        assert_eq!(line.time(4).unwrap(), Some(later.with_timezone(&Utc)));
        assert!(line.int(0).is_err());
        assert!(line.text(5).is_err(), "past the last cell");
        assert!(line.time(1).is_err());
        assert!(CopyLine::split(&"x\t".repeat(MAX_CELLS)).is_err());
    }
}
