//! `subscription_transactions`: the record of every change to a subscription (new, add or
//! remove quantity, cancel; later renew, convert), each with its billing period, quantity
//! delta and prorated amount. Keyed by the subscription and the version of it the change
//! made, so a change is recorded once; read by subscription (its history) and by order
//! (order history). Subscriptions keep their unit term price and currency (filled in from
//! their order lines), since a change prices itself from them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_subscription_transactions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("subscription_transactions")
                .col(string("subscription_id"))
                .col(big_integer("version"))
                .col(string("partner_id"))
                .col(string("customer_id"))
                .col(string("order_id"))
                .col(string("kind"))
                .col(integer("quantity_delta"))
                .col(integer("quantity"))
                .col(timestamp_with_time_zone("period_start"))
                .col(timestamp_with_time_zone_null("period_end"))
                .col(string_len("currency", 3))
                .col(big_integer("amount_micros"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("subscription_id").col("version"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("subscription_transactions_by_order")
                .table("subscription_transactions")
                .col("order_id")
                .to_owned(),
        )
        .await?;
        for column in [
            ColumnDef::new("unit_price_micros")
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new("currency")
                .string_len(3)
                .not_null()
                .default("")
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("subscriptions")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        // Subscriptions sold before: their price is their order line's.
        m.get_connection()
            .execute_unprepared(
                "UPDATE subscriptions SET \
                 unit_price_micros = COALESCE((SELECT l.unit_price_micros FROM order_lines l \
                   WHERE l.subscription_id = subscriptions.id), 0), \
                 currency = COALESCE((SELECT o.currency FROM orders o \
                   WHERE o.id = subscriptions.order_id), '')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["unit_price_micros", "currency"] {
            m.alter_table(
                Table::alter()
                    .table("subscriptions")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table("subscription_transactions").to_owned())
            .await
    }
}
