//! The catalog of one month as an immutable snapshot with its indexes, and the queries that
//! browse it.

use std::collections::HashMap;
use std::ops::Range;

mod footprint;
pub use footprint::Footprint;

use super::index::{IndexedSku, ListingIndex, intersect};
use super::{Availability, BillingCycle, CatalogData, CatalogFilter, Month, Product, Segment, Sku};
use crate::domain::ids::{AvailabilityId, CatalogItemId, CountryCode, ProductId, SkuId};

/// A SKU in the snapshot with its derived, precomputed facts.
#[derive(Debug)]
struct SkuEntry {
    sku: Sku,
    product: usize,
    availabilities: Range<usize>,
    /// Lower-cased product and SKU titles, ids and descriptions, for text search; the titles
    /// are its first `title_len` bytes.
    search_text: String,
    title_len: usize,
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
    /// Positions in `availabilities`, sorted by availability id: 4 bytes an availability
    /// where a map would hold each id twice.
    availabilities_by_id: Vec<u32>,
    listing_index: ListingIndex,
}

/// A view of one SKU of the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SkuView<'a> {
    /// Its place in the snapshot's (product, SKU) order, for what is kept per SKU.
    pub position: usize,
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
        let mut availabilities = data.availabilities;
        // Kept for the snapshot's life: no room to grow.
        availabilities.shrink_to_fit();
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
            let titles = format!("{} {}", p.title, sku.title).to_lowercase();
            let title_len = titles.len();
            let rest = format!(" {} {} {} {}", p.id, sku.id, p.description, sku.description)
                .to_lowercase();
            let search_text = titles + &rest;
            skus.push(SkuEntry {
                sku,
                product,
                availabilities: start..next_availability,
                search_text,
                title_len,
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
        let availabilities_by_id = by_id(&availabilities);
        let listing_index = ListingIndex::build(skus.iter().map(|e| {
            IndexedSku {
                product_type: data.products[e.product].product_type,
                places: availabilities[e.availabilities.clone()]
                    .iter()
                    .map(|a| (a.country, a.segment))
                    .collect(),
                search_text: &e.search_text,
            }
        }));
        Self {
            month,
            products: data.products,
            skus,
            availabilities,
            product_skus,
            product_index,
            sku_index,
            availabilities_by_id,
            listing_index,
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
            position: index,
            product: &self.products[entry.product],
            sku: &entry.sku,
            countries: &entry.countries,
            billing_cycles: &entry.billing_cycles,
            availabilities: &self.availabilities[entry.availabilities.clone()],
        }
    }

    /// Every product, sorted by id (with or without SKUs).
    pub fn products(&self) -> &[Product] {
        &self.products
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

    /// The availability with this id.
    pub fn availability(&self, id: &AvailabilityId) -> Option<&Availability> {
        let found = self
            .availabilities_by_id
            .binary_search_by(|&i| self.availabilities[i as usize].id.cmp(id))
            .ok()?;
        Some(&self.availabilities[self.availabilities_by_id[found] as usize])
    }

    /// The position of one of this snapshot's availabilities (`None` for another's), for what
    /// is kept per availability: the number of availabilities before it in the snapshot.
    pub fn availability_position(&self, availability: &Availability) -> Option<usize> {
        let size = std::mem::size_of::<Availability>();
        let offset = (availability as *const Availability as usize)
            .checked_sub(self.availabilities.as_ptr() as usize)?;
        let position = offset / size;
        (offset % size == 0 && position < self.availabilities.len()).then_some(position)
    }

    /// Resolves `product:sku:availability`; `None` unless all three exist and belong together.
    pub fn item(&self, id: &CatalogItemId) -> Option<Item<'_>> {
        let availability = self.availability(&id.availability)?;
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

    /// Positions (for [`Catalog::sku_at`]) of the SKUs matching `filter`, in (product, SKU)
    /// order: those with an availability in the filter's country and segment that pass its
    /// SKU-level filters and hold every word in their search text. Found through the listing
    /// indexes: the lists the filter names are intersected, then the rest is checked per SKU.
    pub fn matching(&self, filter: &CatalogFilter) -> Vec<usize> {
        let index = &self.listing_index;
        let mut found = index.placed(filter.country, filter.segment);
        if let Some(t) = filter.product_type {
            intersect(&mut found, index.of_type(t));
        }
        for word in &filter.words {
            if found.is_empty() {
                break;
            }
            if !word.is_empty() {
                intersect(&mut found, &index.containing(word));
            }
        }
        found
            .into_iter()
            .map(|i| i as usize)
            .filter(|&i| {
                let view = self.view(i);
                let (product, sku) = (view.product, view.sku);
                filter.microsoft.is_none_or(|m| m == product.is_microsoft())
                    && filter
                        .billing_type
                        .is_none_or(|b| b == product.billing_type)
                    && filter.category.as_ref().is_none_or(|c| {
                        sku.category.eq_ignore_ascii_case(c)
                            || product.category.eq_ignore_ascii_case(c)
                    })
                    && filter.trial.is_none_or(|t| t == sku.is_trial)
            })
            .collect()
    }

    /// The SKU at a position [`Catalog::matching`] gave.
    pub fn sku_at(&self, position: usize) -> Option<SkuView<'_>> {
        (position < self.skus.len()).then(|| self.view(position))
    }

    /// Whether every word is in the product's or the SKU's title (lower-cased).
    pub fn titles_hold(&self, position: usize, words: &[String]) -> bool {
        self.skus.get(position).is_some_and(|e| {
            let titles = e.search_text.get(..e.title_len).unwrap_or_default();
            words.iter().all(|w| titles.contains(w.as_str()))
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

/// Positions of `availabilities` sorted by id. Sorted by each id's first 16 bytes held inline
/// (ties, only between longer ids, broken by the whole id): a million ids compared where they
/// lie would cost a cache miss per comparison, seconds at the full size.
fn by_id(availabilities: &[Availability]) -> Vec<u32> {
    let mut keyed: Vec<(u128, u32)> = availabilities
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut prefix = [0u8; 16];
            let id = a.id.as_str().as_bytes();
            let n = id.len().min(16);
            prefix[..n].copy_from_slice(&id[..n]);
            (
                u128::from_be_bytes(prefix),
                u32::try_from(i).unwrap_or(u32::MAX),
            )
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            availabilities[a.1 as usize]
                .id
                .cmp(&availabilities[b.1 as usize].id)
        })
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests;
