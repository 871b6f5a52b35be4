//! The catalog of one published month, as an immutable snapshot with its indexes, and the
//! queries that browse it.
//!
//! `items`: products, SKUs, availabilities and their prices, as imported and stored; `month`:
//! the price-list month; `snapshot`: the indexed, immutable catalog and its queries;
//! `billing`: how a term's price is charged per billing period; `filter`: what a listing asks
//! for; `index`: the snapshot's listing indexes.

mod billing;
mod filter;
mod index;
mod items;
mod month;
mod snapshot;

pub use billing::{billing_period_charge, billing_periods, line_charge, totals_by_currency};
pub use filter::CatalogFilter;
pub use items::{Availability, CatalogData, DEFAULT_TRIAL_LIFETIME_LIMIT, Product, Sku, TermPrice};
pub use month::Month;
pub use snapshot::{Catalog, Footprint, Item, SkuView};

text_enum!(Segment {
    Commercial = "commercial",
    Education = "education",
    Government = "government",
    Nonprofit = "nonprofit",
});
text_enum!(ProductType {
    OnlineServices = "online_services",
    Azure = "azure",
    Software = "software",
    Marketplace = "marketplace",
});

impl ProductType {
    /// The product types whose filter finds a product of this type. Marketplace SaaS (a
    /// third-party publisher's subscription) is found under Online services too, as Partner
    /// Center lists it (Online services, Publisher: partner); the Marketplace filter finds it
    /// alone.
    pub fn listed_under(self) -> &'static [ProductType] {
        match self {
            ProductType::OnlineServices => &[ProductType::OnlineServices],
            ProductType::Azure => &[ProductType::Azure],
            ProductType::Software => &[ProductType::Software],
            ProductType::Marketplace => &[ProductType::Marketplace, ProductType::OnlineServices],
        }
    }
}

text_enum!(BillingType { License = "license", Usage = "usage" });
text_enum!(
    /// The commitment of a term; perpetual software has none.
    Term {
        P1M = "P1M",
        P1Y = "P1Y",
        P3Y = "P3Y",
        None = "none",
    }
);
text_enum!(BillingCycle {
    Monthly = "monthly",
    Annual = "annual",
    Triennial = "triennial",
    OneTime = "one_time",
    None = "none",
});
