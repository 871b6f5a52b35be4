use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cart_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub cart_id: String,
    pub position: i32,
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub quantity: i32,
    pub term: String,
    pub billing_cycle: String,
    pub parent_subscription_id: Option<String>,
    pub scope: Option<String>,
    pub azure_subscription_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
