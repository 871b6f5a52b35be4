//! Trials and the offer matrix's ownership limits: per SKU its conversion targets
//! (`ProductSkuConversion`, `product/sku` pairs joined by `,`) and its `Concurrent` and
//! `Lifetime` limits (subscriptions held at once, ever); per subscription the trial SKU it
//! was converted from (`product/sku`), which it still counts toward for life. Months imported
//! before keep no limit (their trials fall back to one for life) and no targets.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0017_trial_conversions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new("conversions")
                .text()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new("concurrent_limit")
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new("lifetime_limit").integer().null().to_owned(),
        ] {
            m.alter_table(Table::alter().table("skus").add_column(column).to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table("subscriptions")
                .add_column(ColumnDef::new("converted_from").string().null().to_owned())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("subscriptions")
                .drop_column("converted_from")
                .to_owned(),
        )
        .await?;
        for column in ["conversions", "concurrent_limit", "lifetime_limit"] {
            m.alter_table(Table::alter().table("skus").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
