//! PostgreSQL only: every committed change to a partner NOTIFYs its id on
//! `csp_partner_changes`, so every replica forgets the partner it caches
//! (`store/cache/partners.rs`) as soon as an UpdatePartner elsewhere commits. A trigger, as for
//! customers (m0004), so that no write path (nor a hand-made fix in psql) goes unannounced.
//! SQLite has one process per file and needs nothing.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_partner_change_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE FUNCTION csp_notify_partner_change() RETURNS trigger AS $$
             BEGIN
               IF TG_OP = 'DELETE' THEN
                 PERFORM pg_notify('csp_partner_changes', OLD.id::text);
               ELSE
                 PERFORM pg_notify('csp_partner_changes', NEW.id::text);
               END IF;
               RETURN NULL;
             END
             $$ LANGUAGE plpgsql",
        )
        .await?;
        // A new partner is not cached anywhere (an unknown partner is read again each time).
        db.execute_unprepared(
            "CREATE TRIGGER partners_notify_partner_change \
             AFTER UPDATE OR DELETE ON partners \
             FOR EACH ROW EXECUTE FUNCTION csp_notify_partner_change()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS partners_notify_partner_change ON partners")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS csp_notify_partner_change()")
            .await?;
        Ok(())
    }
}
