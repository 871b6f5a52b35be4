//! The catalog-change log and the one-row catalog state (current month, last revision) whose
//! update serializes publishes across replicas.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_catalog_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("catalog_changes")
                .col(big_integer("revision").primary_key())
                .col(string_len("month", 7))
                .col(string("kind"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("availability_id"))
                .col(string("country"))
                .col(string("segment"))
                .col(string("product_type"))
                .col(text("changes"))
                .col(timestamp_with_time_zone("published_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("catalog_changes_by_month")
                .table("catalog_changes")
                .col("month")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("catalog_state")
                .col(integer("id").primary_key())
                .col(string_len_null("current_month", 7))
                .col(big_integer("last_revision"))
                .to_owned(),
        )
        .await?;
        // The single row: months published before this migration keep their state.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO catalog_state (id, current_month, last_revision) \
                 SELECT 1, MAX(month), 0 FROM price_lists WHERE status = 'published'",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table("price_lists")
                .add_column(big_integer_null("first_revision"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("price_lists")
                .add_column(big_integer_null("last_revision"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("catalog_changes").to_owned())
            .await?;
        m.drop_table(Table::drop().table("catalog_state").to_owned())
            .await?;
        Ok(())
    }
}
