use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub line_number: i32,
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub product_title: String,
    pub sku_title: String,
    pub quantity: i32,
    pub term: String,
    pub billing_cycle: String,
    pub unit_price_micros: i64,
    pub extended_price_micros: i64,
    pub subscription_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
