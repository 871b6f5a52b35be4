use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subscription_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub partner_id: String,
    pub customer_id: String,
    pub order_id: String,
    pub kind: String,
    pub quantity_delta: i32,
    pub quantity: i32,
    pub period_start: DateTimeUtc,
    pub period_end: Option<DateTimeUtc>,
    pub currency: String,
    pub amount_micros: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
