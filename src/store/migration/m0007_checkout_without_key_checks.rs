//! PostgreSQL only: the foreign keys of the rows a checkout inserts (its order's customer,
//! its lines' order, its subscriptions' customer) are dropped. Each inserted row ran a
//! referential-integrity trigger (a `SELECT ... FOR KEY SHARE` of the referenced row through
//! SPI): seven per checkout of three lines, about a fifth of PostgreSQL's CPU per checkout
//! (measured: 1,255 / 1,323 checkouts/s without them against 1,105 / 1,047 with them, on the
//! same server). Those references hold by construction instead: a checkout writes its order,
//! lines, subscriptions and request id in one statement, the order only from the customer row
//! it locked and the rest only from the order it inserted (`Store::place_in_one_statement`),
//! and neither customers nor orders are ever deleted. SQLite keeps its keys: they cost it
//! little, and it cannot drop a constraint without rebuilding the table.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_checkout_without_key_checks"
    }
}

/// (table, column, referenced table) of each dropped key, named as PostgreSQL named it.
const KEYS: [(&str, &str, &str); 3] = [
    ("orders", "customer_id", "customers"),
    ("order_lines", "order_id", "orders"),
    ("subscriptions", "customer_id", "customers"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        for (table, column, _) in KEYS {
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_fkey"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        for (table, column, referenced) in KEYS {
            let mut key = ForeignKey::create();
            key.name(format!("{table}_{column}_fkey"))
                .from(table, column)
                .to(referenced, "id");
            if table == "order_lines" {
                key.on_delete(ForeignKeyAction::Cascade);
            }
            m.create_foreign_key(key).await?;
        }
        Ok(())
    }
}
