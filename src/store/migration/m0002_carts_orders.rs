//! Carts and their lines, orders and their lines. Subscriptions came with m0001.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_carts_orders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("carts")
                .col(string("id").primary_key())
                .col(string("partner_id"))
                .col(string("customer_id"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .col(string_null("order_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("carts", "customer_id")
                        .to("customers", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("carts_by_customer")
                .table("carts")
                .col("customer_id")
                .col("status")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("cart_lines")
                .col(string("id").primary_key())
                .col(string("cart_id"))
                .col(integer("position"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("availability_id"))
                .col(integer("quantity"))
                .col(string("term"))
                .col(string("billing_cycle"))
                .col(string_null("parent_subscription_id"))
                .col(string_null("scope"))
                .col(string_null("azure_subscription_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("cart_lines", "cart_id")
                        .to("carts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("cart_lines_by_cart")
                .table("cart_lines")
                .col("cart_id")
                .col("position")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("orders")
                .col(string("id").primary_key())
                .col(string("partner_id"))
                .col(string("customer_id"))
                // One order per cart, whatever races: the database says so.
                .col(string_uniq("cart_id"))
                .col(string_uniq("order_number"))
                .col(string("status"))
                .col(string_len("currency", 3))
                .col(big_integer("total_micros"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("cancelled_at"))
                .col(big_integer_null("refund_micros"))
                .col(big_integer("version"))
                .foreign_key(
                    ForeignKey::create()
                        .from("orders", "customer_id")
                        .to("customers", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("orders_by_customer")
                .table("orders")
                .col("customer_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("orders_by_status")
                .table("orders")
                .col("status")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("order_lines")
                .col(string("order_id"))
                .col(integer("line_number"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("availability_id"))
                .col(string("product_title"))
                .col(string("sku_title"))
                .col(integer("quantity"))
                .col(string("term"))
                .col(string("billing_cycle"))
                .col(big_integer("unit_price_micros"))
                .col(big_integer("extended_price_micros"))
                .col(string("subscription_id"))
                .primary_key(Index::create().col("order_id").col("line_number"))
                .foreign_key(
                    ForeignKey::create()
                        .from("order_lines", "order_id")
                        .to("orders", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("subscriptions_by_order")
                .table("subscriptions")
                .col("order_id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idempotency_keys_by_age")
                .table("idempotency_keys")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["order_lines", "orders", "cart_lines", "carts"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
