//! PostgreSQL: a month's availabilities and prices in tables of their own (migration m0019
//! partitions both tables by month). COPY into an indexed table of millions of rows pays an
//! index insertion a row (at full size, most of an import); into a fresh table it only
//! appends, and the indexes are then built once, by sorting. So an import:
//! 1. creates the month's table, empty and unindexed (`begin`), and copies the rows into it;
//! 2. at the commit, builds its indexes (`index`): the parent is not locked meanwhile, so every
//!    other month stays readable and writable;
//! 3. swaps it in (`attach`): drops the partition of an earlier import of the month (this
//!    locks the parent, only until the commit a few milliseconds later; a swap that waits
//!    for a reader steps back and tries again, so readers never queue behind it for long),
//!    deletes the month's rows from the default partition (where the rows from before m0019
//!    live), and attaches the new table with the indexes it has (a CHECK on the month spares
//!    the scan that would prove its rows belong there).
//!
//! Nothing is visible before the commit; a rolled-back import leaves no table behind.

use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Row as _};

use super::{Table, internal, pg_err};
use crate::domain::DomainError;

/// Sorting memory for the index builds of one import: a full-size month's price key sorts in
/// memory instead of in temporary files. The transaction's own setting, for its server process.
const INDEX_BUILD_MEMORY: &str = "SET LOCAL maintenance_work_mem = '256MB'";

/// How a table is partitioned by month: its indexes, built on each month's table before it is
/// attached (the same columns as the parent's, else PostgreSQL would build its own while the
/// parent is locked; `tests/api/months.rs` checks that each one is taken as it is).
#[derive(Debug)]
pub(in crate::store) struct ByMonth {
    pub primary_key: &'static [&'static str],
    pub indexes: &'static [&'static [&'static str]],
}

/// The table a month's rows are being copied into.
#[derive(Debug)]
pub(super) struct Partition {
    pub table: &'static Table,
    pub month: String,
    /// The new table's name: `{table}_{yyyy}_{mm}_{microseconds}`, unique to the import.
    pub name: String,
}

/// The month as a literal: it is formatted into DDL, which takes no parameters.
fn literal(month: &str) -> Result<String, DomainError> {
    let b = month.as_bytes();
    let well_formed = b.len() == 7
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit());
    match well_formed {
        true => Ok(format!("'{month}'")),
        false => Err(internal(format!("not a month: {month:?}"))),
    }
}

async fn run(connection: &mut PgConnection, sql: &str) -> Result<(), DomainError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(connection)
        .await
        .map_err(pg_err)?;
    Ok(())
}

/// Creates the month's new table, empty, with the parent's columns.
pub(super) async fn begin(
    connection: &mut PgConnection,
    table: &'static Table,
    month: &str,
) -> Result<Partition, DomainError> {
    literal(month)?;
    let stamp = chrono::Utc::now().timestamp_micros();
    let name = format!("{}_{}_{stamp}", table.name, month.replace('-', "_"));
    run(
        connection,
        &format!(
            "CREATE TABLE {name} (LIKE {} INCLUDING DEFAULTS)",
            table.name
        ),
    )
    .await?;
    Ok(Partition {
        table,
        month: month.to_owned(),
        name,
    })
}

/// Builds the new table's indexes and its CHECK on the month.
pub(super) async fn index(
    connection: &mut PgConnection,
    partition: &Partition,
) -> Result<(), DomainError> {
    let Some(by_month) = &partition.table.by_month else {
        return Err(internal(format!(
            "{} is not by month",
            partition.table.name
        )));
    };
    let name = &partition.name;
    run(connection, INDEX_BUILD_MEMORY).await?;
    run(
        connection,
        &format!(
            "ALTER TABLE {name} ADD CONSTRAINT {name}_month CHECK (month = {})",
            literal(&partition.month)?
        ),
    )
    .await?;
    run(
        connection,
        &format!(
            "ALTER TABLE {name} ADD PRIMARY KEY ({})",
            by_month.primary_key.join(", ")
        ),
    )
    .await?;
    for columns in by_month.indexes {
        run(
            connection,
            &format!("CREATE INDEX ON {name} ({})", columns.join(", ")),
        )
        .await?;
    }
    Ok(())
}

/// How long the swap waits for a lock before it steps back (`attach`).
const SWAP_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '2s'";
/// How many times it tries, a second apart, before the import fails.
const SWAP_ATTEMPTS: u32 = 30;

/// Puts the new tables in the place of the months' rows (see the module's comment), all at
/// once. Dropping an earlier import's partition locks its parent whole: while it waits for a
/// reader that holds the parent (a month read for a diff, seconds at full size), every new
/// reader would queue behind it. So the swap waits at most `SWAP_LOCK_TIMEOUT`, steps back to
/// its savepoint (releasing what it took) and tries again a second later.
pub(super) async fn attach(
    connection: &mut PgConnection,
    partitions: &[Partition],
) -> Result<(), DomainError> {
    let mut attempt = 1;
    loop {
        run(connection, "SAVEPOINT swap").await?;
        run(connection, SWAP_LOCK_TIMEOUT).await?;
        match swap(connection, partitions).await {
            Ok(()) => return run(connection, "RELEASE SAVEPOINT swap").await,
            Err(e) if lock_not_available(&e) && attempt < SWAP_ATTEMPTS => {
                run(connection, "ROLLBACK TO SAVEPOINT swap").await?;
                tracing::info!(attempt, "the month's swap waited for readers: trying again");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                attempt += 1;
            }
            Err(e) => return Err(pg_err(e)),
        }
    }
}

/// PostgreSQL's `lock_not_available`: `lock_timeout` expired.
fn lock_not_available(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "55P03")
}

async fn swap(connection: &mut PgConnection, partitions: &[Partition]) -> Result<(), sqlx::Error> {
    for partition in partitions {
        // The month was checked when its table was made (`begin`).
        let (parent, month) = (partition.table.name, format!("'{}'", partition.month));
        let bound = format!("FOR VALUES IN ({month})");
        let earlier = sqlx::query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = $1::regclass AND pg_get_expr(c.relpartbound, c.oid) = $2",
        )
        .bind(parent)
        .bind(&bound)
        .fetch_all(&mut *connection)
        .await?;
        let mut statements = Vec::new();
        for row in earlier {
            let earlier: String = row.try_get(0)?;
            statements.push(format!("DROP TABLE {earlier}"));
        }
        statements.push(format!(
            "DELETE FROM {parent}_default WHERE month = {month}"
        ));
        statements.push(format!(
            "ALTER TABLE {parent} ATTACH PARTITION {} {bound}",
            partition.name
        ));
        for sql in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *connection)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn only_a_month_is_formatted_into_ddl() {
        assert_eq!(literal("2027-01").unwrap(), "'2027-01'");
        for bad in ["2027-1", "2027-01'", "20a7-01", "2027_01", "'; DROP", ""] {
            assert!(literal(bad).is_err(), "{bad:?}");
        }
    }
}
