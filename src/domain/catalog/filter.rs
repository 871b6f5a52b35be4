//! What a catalog listing asks for.

use super::{BillingType, ProductType, Segment};
use crate::domain::ids::CountryCode;

/// Filters of a catalog listing; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CatalogFilter {
    pub country: Option<CountryCode>,
    /// `None`: every segment except nonprofit.
    pub segment: Option<Segment>,
    pub product_type: Option<ProductType>,
    /// `Some(true)`: Microsoft only; `Some(false)`: third parties only.
    pub microsoft: Option<bool>,
    pub billing_type: Option<BillingType>,
    /// Lower case.
    pub category: Option<String>,
    pub trial: Option<bool>,
    /// Lower-cased words that must all appear.
    pub words: Vec<String>,
}

impl CatalogFilter {
    pub fn segment_matches(&self, segment: Segment) -> bool {
        match self.segment {
            Some(wanted) => wanted == segment,
            None => segment != Segment::Nonprofit,
        }
    }
}
