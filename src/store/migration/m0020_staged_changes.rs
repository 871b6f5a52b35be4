//! A month's diff, kept between its preview and its publish (`store/staged.rs`): the changes
//! the `changes` command listed, numbered from 1 in their order, and what they were computed
//! from (the month current then, the month's import), so that a publish of the same import
//! against the same month copies them instead of reading both months again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0020_staged_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("staged_diffs")
                .col(string_len("month", 7).primary_key())
                .col(string_len("against_month", 7))
                .col(timestamp_with_time_zone("imported_at"))
                .col(big_integer("changes"))
                .to_owned(),
        )
        .await?;
        // catalog_changes' columns: a staged change is copied as it is, `revision` being its
        // place in the diff (the publish adds the revision before the first).
        m.create_table(
            Table::create()
                .table("staged_changes")
                .col(string_len("month", 7))
                .col(big_integer("revision"))
                .col(string("kind"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("availability_id"))
                .col(string("country"))
                .col(string("segment"))
                .col(string("product_type"))
                .col(text("changes"))
                .col(timestamp_with_time_zone("published_at"))
                .primary_key(Index::create().col("month").col("revision"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["staged_changes", "staged_diffs"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
