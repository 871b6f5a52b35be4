//! `availabilities_by_sku`: the diff of two months reads them SKU by SKU (`store/month_diff.rs`),
//! a few SKUs at a time, instead of loading both months whole.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_availabilities_by_sku"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("availabilities_by_sku")
                .table("availabilities")
                .col("month")
                .col("product_id")
                .col("sku_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("availabilities_by_sku")
                .table("availabilities")
                .to_owned(),
        )
        .await
    }
}
