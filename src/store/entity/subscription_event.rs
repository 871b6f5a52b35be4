use sea_orm::entity::prelude::*;

/// A row of `subscription_events` (m0018). `revision` is set by the table's trigger: an
/// insert leaves it unset.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i64,
    pub kind: String,
    pub occurred_at: DateTimeUtc,
    pub subscription_id: String,
    pub customer_id: String,
    pub order_id: String,
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub quantity: i32,
    pub term: String,
    pub billing_cycle: String,
    pub status: String,
    pub is_trial: bool,
    pub parent_subscription_id: Option<String>,
    pub start_at: DateTimeUtc,
    pub commitment_end_at: Option<DateTimeUtc>,
    pub auto_renew: bool,
    pub version: i64,
    pub unit_price_micros: i64,
    pub currency: String,
    pub transaction_kind: Option<String>,
    pub quantity_delta: Option<i32>,
    pub period_start: Option<DateTimeUtc>,
    pub period_end: Option<DateTimeUtc>,
    pub amount_micros: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
