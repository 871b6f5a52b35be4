use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "skus")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub description: String,
    pub min_quantity: i32,
    pub max_quantity: i32,
    pub is_trial: bool,
    pub seat_limit: Option<i32>,
    pub seat_limit_type: String,
    pub unit_of_measure: String,
    pub category: String,
    pub is_reservation: bool,
    pub provisioning_id: String,
    /// `product/sku` pairs joined by `,` (m0017).
    pub conversions: String,
    pub concurrent_limit: Option<i32>,
    pub lifetime_limit: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
