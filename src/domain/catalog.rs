//! The catalog of one published month, as an immutable snapshot with its indexes, and the
//! queries that browse it.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use chrono::{DateTime, Utc};

use super::DomainError;
use super::ids::{AvailabilityId, CatalogItemId, CountryCode, ProductId, SkuId};
use super::money::{Currency, Money};

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

/// A price-list month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                field,
                "MALFORMED",
                format!("{field} must be YYYY-MM, got {}", super::error::echo(text)),
            )
        };
        if text.len() != 7 {
            return Err(bad());
        }
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        let (year, month) = (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        );
        if y.len() != 4
            || m.len() != 2
            || !(1..=12).contains(&month)
            || !(2000..=2999).contains(&year)
        {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// 00:00 UTC on the 1st: the moment a month's prices take effect.
    pub fn start(&self) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    pub fn next(&self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                month: self.month + 1,
                ..*self
            }
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

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
}

impl Sku {
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

#[derive(Debug, Clone, PartialEq)]
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
    pub terms: Vec<TermPrice>,
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

/// What the importer produces and the store keeps: one month's whole catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogData {
    pub products: Vec<Product>,
    pub skus: Vec<Sku>,
    pub availabilities: Vec<Availability>,
}

/// A SKU in the snapshot with its derived, precomputed facts.
#[derive(Debug)]
struct SkuEntry {
    sku: Sku,
    product: usize,
    availabilities: Range<usize>,
    /// Lower-cased product and SKU ids, titles and descriptions, for text search.
    search_text: String,
    countries: Vec<CountryCode>,
    billing_cycles: Vec<BillingCycle>,
}

/// The immutable catalog of the current month. Readers hold an `Arc` of it; a publish swaps in
/// a new one, so a reader never sees half a month.
#[derive(Debug)]
pub struct Catalog {
    month: Option<Month>,
    products: Vec<Product>,
    skus: Vec<SkuEntry>,
    availabilities: Vec<Availability>,
    /// Index into `skus` of each product's first SKU, with its SKU count.
    product_skus: Vec<Range<usize>>,
    product_index: HashMap<ProductId, usize>,
    sku_index: HashMap<(ProductId, SkuId), usize>,
    availability_index: HashMap<AvailabilityId, usize>,
}

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

/// A view of one SKU of the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SkuView<'a> {
    pub product: &'a Product,
    pub sku: &'a Sku,
    pub countries: &'a [CountryCode],
    pub billing_cycles: &'a [BillingCycle],
    pub availabilities: &'a [Availability],
}

/// One resolved catalog item.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub product: &'a Product,
    pub sku: SkuView<'a>,
    pub availability: &'a Availability,
}

impl Catalog {
    pub fn empty() -> Self {
        Self::build(None, CatalogData::default())
    }

    /// Sorts and indexes a month's data. Availabilities of unknown SKUs and SKUs of unknown
    /// products are dropped (the importer and the store never produce them).
    pub fn build(month: Option<Month>, mut data: CatalogData) -> Self {
        data.products.sort_by(|a, b| a.id.cmp(&b.id));
        data.skus
            .sort_by(|a, b| (&a.product_id, &a.id).cmp(&(&b.product_id, &b.id)));
        data.availabilities.sort_by(|a, b| {
            (&a.product_id, &a.sku_id, a.country, a.segment).cmp(&(
                &b.product_id,
                &b.sku_id,
                b.country,
                b.segment,
            ))
        });
        let product_index: HashMap<ProductId, usize> = data
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();

        let mut skus = Vec::with_capacity(data.skus.len());
        let mut next_availability = 0;
        let availabilities = data.availabilities;
        for sku in data.skus {
            let Some(&product) = product_index.get(&sku.product_id) else {
                continue;
            };
            let key = (&sku.product_id, &sku.id);
            while next_availability < availabilities.len()
                && (
                    &availabilities[next_availability].product_id,
                    &availabilities[next_availability].sku_id,
                ) < key
            {
                next_availability += 1;
            }
            let start = next_availability;
            while next_availability < availabilities.len()
                && (
                    &availabilities[next_availability].product_id,
                    &availabilities[next_availability].sku_id,
                ) == key
            {
                next_availability += 1;
            }
            let own = &availabilities[start..next_availability];
            let mut countries: Vec<CountryCode> = own.iter().map(|a| a.country).collect();
            countries.dedup();
            let mut billing_cycles: Vec<BillingCycle> = own
                .iter()
                .flat_map(|a| a.terms.iter().map(|t| t.billing_cycle))
                .collect();
            billing_cycles.sort();
            billing_cycles.dedup();
            let p = &data.products[product];
            let search_text = format!(
                "{} {} {} {} {} {}",
                p.id, sku.id, p.title, sku.title, p.description, sku.description
            )
            .to_lowercase();
            skus.push(SkuEntry {
                sku,
                product,
                availabilities: start..next_availability,
                search_text,
                countries,
                billing_cycles,
            });
        }
        let mut product_skus = vec![0..0; data.products.len()];
        for (i, entry) in skus.iter().enumerate() {
            let range = &mut product_skus[entry.product];
            if range.start == range.end {
                *range = i..i + 1;
            } else {
                range.end = i + 1;
            }
        }
        let sku_index = skus
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.sku.product_id.clone(), e.sku.id.clone()), i))
            .collect();
        let availability_index = availabilities
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        Self {
            month,
            products: data.products,
            skus,
            availabilities,
            product_skus,
            product_index,
            sku_index,
            availability_index,
        }
    }

    pub fn month(&self) -> Option<Month> {
        self.month
    }

    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.products.len(),
            self.skus.len(),
            self.availabilities.len(),
        )
    }

    fn view(&self, index: usize) -> SkuView<'_> {
        let entry = &self.skus[index];
        SkuView {
            product: &self.products[entry.product],
            sku: &entry.sku,
            countries: &entry.countries,
            billing_cycles: &entry.billing_cycles,
            availabilities: &self.availabilities[entry.availabilities.clone()],
        }
    }

    /// Every SKU, in (product, SKU) order.
    pub fn all_skus(&self) -> impl Iterator<Item = SkuView<'_>> {
        (0..self.skus.len()).map(|i| self.view(i))
    }

    pub fn product(&self, id: &ProductId) -> Option<&Product> {
        self.product_index.get(id).map(|&i| &self.products[i])
    }

    pub fn skus_of(&self, product: &ProductId) -> impl Iterator<Item = SkuView<'_>> {
        let range = self
            .product_index
            .get(product)
            .map(|&i| self.product_skus[i].clone())
            .unwrap_or(0..0);
        range.map(|i| self.view(i))
    }

    pub fn sku(&self, product: &ProductId, sku: &SkuId) -> Option<SkuView<'_>> {
        self.sku_index
            .get(&(product.clone(), sku.clone()))
            .map(|&i| self.view(i))
    }

    /// Resolves `product:sku:availability`; `None` unless all three exist and belong together.
    pub fn item(&self, id: &CatalogItemId) -> Option<Item<'_>> {
        let availability = &self.availabilities[*self.availability_index.get(&id.availability)?];
        if availability.product_id != id.product || availability.sku_id != id.sku {
            return None;
        }
        let sku = self.sku(&id.product, &id.sku)?;
        Some(Item {
            product: sku.product,
            sku,
            availability,
        })
    }

    /// Every SKU in (product, SKU) order, each with the availabilities that pass `filter`'s
    /// country and segment. SKUs failing the SKU-level filters are skipped; SKUs with no
    /// matching availability are skipped when a country or segment narrows them.
    pub fn matching_skus<'a>(
        &'a self,
        filter: &'a CatalogFilter,
    ) -> impl Iterator<Item = SkuView<'a>> + 'a {
        (0..self.skus.len()).filter_map(move |i| {
            let entry = &self.skus[i];
            let view = self.view(i);
            let product = view.product;
            let sku = view.sku;
            let keep = filter
                .product_type
                .is_none_or(|t| t == product.product_type)
                && filter.microsoft.is_none_or(|m| m == product.is_microsoft())
                && filter
                    .billing_type
                    .is_none_or(|b| b == product.billing_type)
                && filter.category.as_ref().is_none_or(|c| {
                    sku.category.eq_ignore_ascii_case(c) || product.category.eq_ignore_ascii_case(c)
                })
                && filter.trial.is_none_or(|t| t == sku.is_trial)
                && filter
                    .words
                    .iter()
                    .all(|w| entry.search_text.contains(w.as_str()))
                && view.availabilities.iter().any(|a| {
                    filter.country.is_none_or(|c| c == a.country)
                        && filter.segment_matches(a.segment)
                });
            keep.then_some(view)
        })
    }

    /// Whether a SKU is sold in `country` to any segment.
    pub fn sold_in(&self, product: &ProductId, sku: &SkuId, country: CountryCode) -> bool {
        self.sku(product, sku)
            .is_some_and(|v| v.countries.contains(&country))
    }

    /// The availability of a SKU for one country and segment, if sold there.
    pub fn availability_for(
        &self,
        product: &ProductId,
        sku: &SkuId,
        country: CountryCode,
        segment: Segment,
    ) -> Option<&Availability> {
        self.sku(product, sku)?
            .availabilities
            .iter()
            .find(|a| a.country == country && a.segment == segment)
    }
}
