//! The operator's review queue lists the oldest submission first: every qualification in
//! review gets its submission time (those set in review by the demo seed had none: they take
//! the time they were set), and the queue is read by an index on (status, submission time,
//! customer, kind) instead of m0010's (status, customer, kind).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_review_queue_by_submission"
    }
}

const TABLE: &str = "customer_qualifications";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE customer_qualifications SET submitted_at = updated_at \
                 WHERE vetting_status = 'in_review' AND submitted_at IS NULL",
            )
            .await?;
        m.drop_index(
            Index::drop()
                .name("customer_qualifications_by_status")
                .table(TABLE)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("customer_qualifications_by_submission")
                .table(TABLE)
                .col("vetting_status")
                .col("submitted_at")
                .col("customer_id")
                .col("kind")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("customer_qualifications_by_submission")
                .table(TABLE)
                .to_owned(),
        )
        .await?;
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
}
