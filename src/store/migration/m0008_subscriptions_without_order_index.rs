//! `subscriptions_by_order` is dropped: nothing reads subscriptions by their order (an order's
//! subscriptions are named by its lines, `order_lines.subscription_id`, and found by their
//! primary key), yet every checkout wrote one entry into it per line.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_subscriptions_without_order_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("subscriptions_by_order")
                .table("subscriptions")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("subscriptions_by_order")
                .table("subscriptions")
                .col("order_id")
                .to_owned(),
        )
        .await
    }
}
