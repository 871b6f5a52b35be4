//! What a subscriber asks for.

use crate::domain::catalog::{ProductType, Segment};
use crate::domain::changes::CatalogChange;
use crate::domain::ids::CountryCode;

/// What a subscriber wants; empty lists mean any.
#[derive(Debug, Clone, Default)]
pub struct WatchFilter {
    pub countries: Vec<CountryCode>,
    pub segments: Vec<Segment>,
    pub product_types: Vec<ProductType>,
    pub product_ids: Vec<String>,
}

impl WatchFilter {
    /// Whether every change passes.
    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
            && self.segments.is_empty()
            && self.product_types.is_empty()
            && self.product_ids.is_empty()
    }

    /// SKU-level changes (no country, no segment) pass the country and segment filters; a
    /// product type is matched as listings match it (marketplace SaaS is an online service).
    pub fn matches(&self, change: &CatalogChange) -> bool {
        (self.countries.is_empty()
            || change.country.is_empty()
            || self.countries.iter().any(|c| c.as_str() == change.country))
            && (self.segments.is_empty()
                || change.segment.is_none_or(|s| self.segments.contains(&s)))
            && (self.product_types.is_empty()
                || (change.product_type.listed_under())
                    .iter()
                    .any(|t| self.product_types.contains(t)))
            && (self.product_ids.is_empty() || self.product_ids.contains(&change.product_id))
    }
}
