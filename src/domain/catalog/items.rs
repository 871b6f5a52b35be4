//! What a month's catalog is made of, as imported and stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{BillingCycle, BillingType, ProductType, Segment, Term};
use crate::domain::ids::{AvailabilityId, CatalogItemId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub title: String,
    pub description: String,
    pub product_type: ProductType,
    pub publisher: String,
    pub billing_type: BillingType,
    pub category: String,
}

impl Product {
    pub fn is_microsoft(&self) -> bool {
        self.publisher.starts_with("Microsoft")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sku {
    pub product_id: ProductId,
    pub id: SkuId,
    pub title: String,
    pub description: String,
    pub min_quantity: i32,
    pub max_quantity: i32,
    pub is_trial: bool,
    /// Non-empty exactly for add-ons.
    pub prerequisites: Vec<(ProductId, SkuId)>,
    pub seat_limit: Option<i32>,
    pub seat_limit_type: String,
    pub unit_of_measure: String,
    pub category: String,
    /// Needs a reservation scope and an Azure subscription on its cart line.
    pub is_reservation: bool,
    pub provisioning_id: String,
    /// A trial's paid SKUs (the matrix's `ProductSkuConversion`): what it may convert to.
    pub conversions: Vec<(ProductId, SkuId)>,
    /// The matrix's `Concurrent` limit: subscriptions of this SKU a customer may hold at once.
    pub concurrent_limit: Option<i32>,
    /// The matrix's `Lifetime` limit: subscriptions of this SKU a customer may ever hold.
    pub lifetime_limit: Option<i32>,
}

/// A trial whose matrix row names no limit may be taken once per customer, as Partner Center's
/// trials are.
pub const DEFAULT_TRIAL_LIFETIME_LIMIT: i32 = 1;

impl Sku {
    /// The lifetime limit the rules apply: the matrix's, else one for a trial.
    pub fn effective_lifetime_limit(&self) -> Option<i32> {
        self.lifetime_limit
            .or((self.is_trial && self.concurrent_limit.is_none())
                .then_some(DEFAULT_TRIAL_LIFETIME_LIMIT))
    }

    /// Whether a trial of this SKU may convert to `product`/`sku`.
    pub fn converts_to(&self, product: &ProductId, sku: &SkuId) -> bool {
        self.conversions
            .iter()
            .any(|(p, s)| p == product && s == sku)
    }

    pub fn is_addon(&self) -> bool {
        !self.prerequisites.is_empty()
    }

    /// Per-user add-ons may not have more seats than their base.
    pub fn addon_limited_by_base(&self) -> bool {
        self.is_addon() && self.unit_of_measure.to_ascii_lowercase().contains("licen")
    }

    pub fn provisioning_variables(&self) -> Vec<&'static str> {
        if self.is_reservation {
            vec!["scope", "azure_subscription_id"]
        } else {
            Vec::new()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermPrice {
    pub term: Term,
    pub billing_cycle: BillingCycle,
    /// For one unit and the whole term.
    pub unit_price: Money,
    pub erp_price: Money,
    pub effective_start: DateTime<Utc>,
    /// `None` for an open end.
    pub effective_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    pub id: AvailabilityId,
    pub product_id: ProductId,
    pub sku_id: SkuId,
    pub country: CountryCode,
    pub segment: Segment,
    pub currency: Currency,
    /// Shared by the availabilities priced alike (a snapshot holds each distinct list once:
    /// the segments of a market, the markets of a currency often are).
    pub terms: Arc<[TermPrice]>,
    /// The earliest end of the availability's prices inside the month, when sale ends.
    pub end_of_sale: Option<DateTime<Utc>>,
}

impl Availability {
    pub fn catalog_item_id(&self) -> CatalogItemId {
        CatalogItemId {
            product: self.product_id.clone(),
            sku: self.sku_id.clone(),
            availability: self.id.clone(),
        }
    }

    pub fn price_for(&self, term: Term, cycle: BillingCycle) -> Option<&TermPrice> {
        self.terms
            .iter()
            .find(|t| t.term == term && t.billing_cycle == cycle)
    }
}

/// What the importer produces and the store holds: one month's whole catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogData {
    pub products: Vec<Product>,
    pub skus: Vec<Sku>,
    pub availabilities: Vec<Availability>,
}
