use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
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
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
    pub unit_price_micros: i64,
    pub currency: String,
    pub next_term: Option<String>,
    pub next_billing_cycle: Option<String>,
    pub next_quantity: Option<i32>,
    pub next_sku_id: Option<String>,
    pub next_availability_id: Option<String>,
    pub expiry_reason: Option<String>,
    /// A converted trial: the trial's `product/sku` (m0017).
    pub converted_from: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
