//! Renewals (issue 22): the next term a partner scheduled (term, billing cycle, quantity, SKU
//! and the availability it renews on; each NULL: as now), why a subscription expired, and the
//! index the renewal pass finds due subscriptions by (commitment end, then id).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0015_renewals"
    }
}

const COLUMNS: [&str; 6] = [
    "next_term",
    "next_billing_cycle",
    "next_quantity",
    "next_sku_id",
    "next_availability_id",
    "expiry_reason",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in COLUMNS {
            let mut column = ColumnDef::new(name);
            if name == "next_quantity" {
                column.integer().null();
            } else {
                column.string().null();
            }
            m.alter_table(
                Table::alter()
                    .table("subscriptions")
                    .add_column(column.to_owned())
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("subscriptions_by_commitment_end")
                .table("subscriptions")
                .col("commitment_end_at")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("subscriptions_by_parent")
                .table("subscriptions")
                .col("parent_subscription_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("subscriptions_by_parent")
                .table("subscriptions")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("subscriptions_by_commitment_end")
                .table("subscriptions")
                .to_owned(),
        )
        .await?;
        for name in COLUMNS {
            m.alter_table(
                Table::alter()
                    .table("subscriptions")
                    .drop_column(name)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
