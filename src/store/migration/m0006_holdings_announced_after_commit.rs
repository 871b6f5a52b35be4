//! PostgreSQL only: what a customer holds is no longer announced by triggers. A NOTIFY inside
//! a transaction holds PostgreSQL's global notification lock from before the commit until
//! after its WAL flush, so every checkout of every replica committed one after the other
//! (pgbench, one UPDATE per transaction: 3,800 TPS, with a NOTIFY in it 1,200-1,800). The
//! writer now announces a holdings change on `csp_holdings_changes` right after its commit
//! (`Store::holdings_changed`); profile changes (the customer's own columns, its
//! qualifications) keep their trigger, and the customers trigger fires on updates that set
//! its `version`, which every profile change bumps.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_holdings_announced_after_commit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for statement in [
            "DROP TRIGGER subscriptions_notify_customer_change ON subscriptions",
            "DROP TRIGGER customers_notify_customer_change ON customers",
            "CREATE TRIGGER customers_notify_customer_change \
             AFTER INSERT OR DELETE ON customers \
             FOR EACH ROW EXECUTE FUNCTION csp_notify_customer_change('id')",
            // Every change of a customer's profile bumps its `version` (its etag); a checkout's
            // update sets only `holdings_version`, and costs no trigger at all.
            "CREATE TRIGGER customers_notify_customer_update \
             AFTER UPDATE OF version ON customers \
             FOR EACH ROW EXECUTE FUNCTION csp_notify_customer_change('id')",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for statement in [
            "DROP TRIGGER IF EXISTS customers_notify_customer_update ON customers",
            "DROP TRIGGER IF EXISTS customers_notify_customer_change ON customers",
            "CREATE TRIGGER customers_notify_customer_change \
             AFTER INSERT OR UPDATE OR DELETE ON customers \
             FOR EACH ROW EXECUTE FUNCTION csp_notify_customer_change('id')",
            "CREATE TRIGGER subscriptions_notify_customer_change \
             AFTER INSERT OR UPDATE OR DELETE ON subscriptions \
             FOR EACH ROW EXECUTE FUNCTION csp_notify_customer_change('customer_id')",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
