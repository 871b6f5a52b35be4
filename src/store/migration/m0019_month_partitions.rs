//! PostgreSQL only: `availabilities` and `availability_prices` partitioned by month. An import
//! copies the month's millions of rows into a table of its own, indexes it once and attaches it
//! as the month's partition (`store/engine/bulk/partition.rs`), instead of inserting every row
//! into indexes over all the months. The tables as they were become the default partitions
//! (`{table}_default`): the rows already stored stay where they are. SQLite has no partitions
//! and its import is fast as it is: its tables stay plain, under the same names and columns.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0019_month_partitions"
    }
}

/// A table, its primary key and its other indexes (name, columns).
type Partitioned = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The tables, as m0001 and m0013 made them.
const TABLES: [Partitioned; 2] = [
    (
        "availabilities",
        "month, id",
        &[("availabilities_by_sku", "month, product_id, sku_id")],
    ),
    (
        "availability_prices",
        "month, availability_id, term, billing_cycle",
        &[],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (table, key, indexes) in TABLES {
            let old = format!("{table}_default");
            let mut sql = vec![
                format!("ALTER TABLE {table} RENAME TO {old}"),
                format!("ALTER INDEX {table}_pkey RENAME TO {old}_pkey"),
            ];
            for (index, _) in indexes {
                sql.push(format!("ALTER INDEX {index} RENAME TO {old}_{index}"));
            }
            sql.push(format!(
                "CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY LIST (month)"
            ));
            sql.push(format!("ALTER TABLE {table} ADD PRIMARY KEY ({key})"));
            for (index, columns) in indexes {
                sql.push(format!("CREATE INDEX {index} ON {table} ({columns})"));
            }
            // The old table's indexes match the new ones: they are attached, not rebuilt.
            sql.push(format!(
                "ALTER TABLE {table} ATTACH PARTITION {old} DEFAULT"
            ));
            for statement in sql {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (table, key, indexes) in TABLES {
            let plain = format!("{table}_plain");
            let mut sql = vec![
                format!("CREATE TABLE {plain} (LIKE {table} INCLUDING DEFAULTS)"),
                format!("INSERT INTO {plain} SELECT * FROM {table}"),
                format!("DROP TABLE {table}"),
                format!("ALTER TABLE {plain} RENAME TO {table}"),
                format!("ALTER TABLE {table} ADD PRIMARY KEY ({key})"),
            ];
            for (index, columns) in indexes {
                sql.push(format!("CREATE INDEX {index} ON {table} ({columns})"));
            }
            for statement in sql {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}
