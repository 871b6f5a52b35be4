//! `subscription_events`: the partner's stream of subscription changes (WatchSubscriptionEvents),
//! one row per change written in the change's own transaction, with the subscription as the
//! change left it and the change's transaction, when it has one.
//!
//! Revisions are per partner and gap-free: `subscription_event_heads` holds each partner's
//! last one, and inserting an event takes the next (a trigger, so no writer can number one
//! itself): the head row is updated in the inserting transaction, so it stays locked until
//! that commits (a concurrent writer of the same partner waits, then takes the next number)
//! and a rolled-back transaction gives its number back. PostgreSQL sets the row's revision
//! before the insert; SQLite, whose triggers cannot change the row they insert, sets it right
//! after, in the same statement. Writers take the head row last in their transaction (its
//! lock is the partner's, held to the commit).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0018_subscription_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("subscription_event_heads")
                .col(string("partner_id").primary_key())
                .col(big_integer("last_revision"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("subscription_events")
                // Set by the trigger below: never null once the insert is done.
                .col(big_integer_null("revision"))
                .col(string("partner_id"))
                .col(string("kind"))
                .col(timestamp_with_time_zone("occurred_at"))
                // The subscription as the change left it (the columns of `subscriptions`).
                .col(string("subscription_id"))
                .col(string("customer_id"))
                .col(string("order_id"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("availability_id"))
                .col(integer("quantity"))
                .col(string("term"))
                .col(string("billing_cycle"))
                .col(string("status"))
                .col(boolean("is_trial"))
                .col(string_null("parent_subscription_id"))
                .col(timestamp_with_time_zone("start_at"))
                .col(timestamp_with_time_zone_null("commitment_end_at"))
                .col(boolean("auto_renew"))
                .col(big_integer("version"))
                .col(big_integer("unit_price_micros"))
                .col(string_len("currency", 3))
                // The change's transaction, when it has one (its currency is the
                // subscription's).
                .col(string_null("transaction_kind"))
                .col(integer_null("quantity_delta"))
                .col(timestamp_with_time_zone_null("period_start"))
                .col(timestamp_with_time_zone_null("period_end"))
                .col(big_integer_null("amount_micros"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("subscription_events_by_revision")
                .table("subscription_events")
                .col("partner_id")
                .col("revision")
                .unique()
                .to_owned(),
        )
        .await?;
        // The retention purge finds the old ones by time.
        m.create_index(
            Index::create()
                .name("subscription_events_by_time")
                .table("subscription_events")
                .col("occurred_at")
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared(
                "CREATE FUNCTION csp_subscription_event_revision() RETURNS trigger AS $$
                 BEGIN
                   INSERT INTO subscription_event_heads AS h (partner_id, last_revision)
                     VALUES (NEW.partner_id, 1)
                     ON CONFLICT (partner_id) DO UPDATE SET last_revision = h.last_revision + 1
                     RETURNING h.last_revision INTO NEW.revision;
                   RETURN NEW;
                 END
                 $$ LANGUAGE plpgsql",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER subscription_events_revision \
                 BEFORE INSERT ON subscription_events \
                 FOR EACH ROW EXECUTE FUNCTION csp_subscription_event_revision()",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "CREATE TRIGGER subscription_events_revision \
                 AFTER INSERT ON subscription_events FOR EACH ROW \
                 BEGIN \
                   INSERT OR IGNORE INTO subscription_event_heads (partner_id, last_revision) \
                     VALUES (NEW.partner_id, 0); \
                   UPDATE subscription_event_heads SET last_revision = last_revision + 1 \
                     WHERE partner_id = NEW.partner_id; \
                   UPDATE subscription_events SET revision = \
                     (SELECT last_revision FROM subscription_event_heads \
                      WHERE partner_id = NEW.partner_id) \
                     WHERE rowid = NEW.rowid; \
                 END",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS subscription_events_revision ON subscription_events",
            )
            .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS csp_subscription_event_revision()")
                .await?;
        }
        m.drop_table(Table::drop().table("subscription_events").to_owned())
            .await?;
        m.drop_table(Table::drop().table("subscription_event_heads").to_owned())
            .await
    }
}
