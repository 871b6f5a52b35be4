//! `customers.holdings_version`: bumped by every write that changes what a customer holds
//! (checkout, cancellation). A checkout plans its order on the holdings it read at one version
//! and writes only if the version is still that one, so two checkouts racing for the same
//! seats cannot both win, on either backend and across replicas, without holding a lock while
//! the rules run.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_holdings_version"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("customers")
                .add_column(
                    ColumnDef::new("holdings_version")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("customers")
                .drop_column("holdings_version")
                .to_owned(),
        )
        .await
    }
}
