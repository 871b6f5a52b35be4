//! Vetting: a partner submits a qualification with its details (Education's segment, GCC's
//! validation code) and the operator approves or denies it with a reason. The review queue
//! reads the qualifications in review across partners, by an index on the status.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_qualification_vetting"
    }
}

const TABLE: &str = "customer_qualifications";

/// The new columns, all nullable (existing rows have none of them).
fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new("education_segment")
            .string()
            .null()
            .to_owned(),
        ColumnDef::new("gcc_validation_code")
            .string()
            .null()
            .to_owned(),
        ColumnDef::new("submitted_at")
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
        ColumnDef::new("reviewed_at")
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
        ColumnDef::new("review_reason").string().null().to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for mut column in columns() {
            m.alter_table(
                Table::alter()
                    .table(TABLE)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("customer_qualifications_by_status")
                .table(TABLE)
                .col("vetting_status")
                .col("customer_id")
                .col("kind")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("customer_qualifications_by_status")
                .table(TABLE)
                .to_owned(),
        )
        .await?;
        for column in [
            "review_reason",
            "reviewed_at",
            "submitted_at",
            "gcc_validation_code",
            "education_segment",
        ] {
            m.alter_table(Table::alter().table(TABLE).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
