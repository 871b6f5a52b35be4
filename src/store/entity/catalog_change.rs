use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i64,
    pub month: String,
    pub kind: String,
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub country: String,
    pub segment: String,
    pub product_type: String,
    /// JSON: `[{"field": ..., "before": ..., "after": ...}]`.
    pub changes: String,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
