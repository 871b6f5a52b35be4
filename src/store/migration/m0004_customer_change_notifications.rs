//! PostgreSQL only: every committed change to a customer, its qualifications or its
//! subscriptions NOTIFYs the customer's id on `csp_customer_changes`, so every replica forgets
//! the standing it keeps of that customer (`store/standing.rs`). A trigger, not application
//! code, so that no write path (nor a hand-made fix in psql) can forget to announce itself.
//! PostgreSQL folds the same notification sent many times in one transaction into one.
//! SQLite has one process per file and needs nothing.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_customer_change_notifications"
    }
}

/// (table, the column holding the customer id).
const TABLES: &[(&str, &str)] = &[
    ("customers", "id"),
    ("customer_qualifications", "customer_id"),
    ("subscriptions", "customer_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE FUNCTION csp_notify_customer_change() RETURNS trigger AS $$
             DECLARE changed jsonb;
             BEGIN
               IF TG_OP = 'DELETE' THEN changed := to_jsonb(OLD); ELSE changed := to_jsonb(NEW); END IF;
               PERFORM pg_notify('csp_customer_changes', changed ->> TG_ARGV[0]);
               RETURN NULL;
             END
             $$ LANGUAGE plpgsql",
        )
        .await?;
        for (table, column) in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_notify_customer_change \
                 AFTER INSERT OR UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION csp_notify_customer_change('{column}')"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (table, _) in TABLES {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_notify_customer_change ON {table}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS csp_notify_customer_change()")
            .await?;
        Ok(())
    }
}
