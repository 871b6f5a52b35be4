//! Where a snapshot's memory goes: bytes by part, counted from the lengths and capacities it
//! holds (what the allocator is asked for, without its own rounding). Logged when a snapshot
//! is loaded; BENCHMARKS.md compares it with the process's RSS.

use std::fmt;
use std::mem::size_of;

use super::{Catalog, SkuEntry};
use crate::domain::catalog::{Availability, Product, TermPrice};
use crate::domain::ids::{ProductId, SkuId};

/// Bytes held by each part of one snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    pub availabilities: usize,
    /// The availabilities' own id texts (product and SKU ids are shared with their SKU's).
    pub availability_ids: usize,
    /// The availabilities' distinct lists of term prices (with their two reference counts).
    pub terms: usize,
    /// Products and SKUs with their texts, search texts, countries and billing cycles.
    pub products_and_skus: usize,
    /// The id lookups (products, SKUs, availabilities by id).
    pub lookups: usize,
    /// The listing indexes (by place, segment, type and word).
    pub listing_index: usize,
}

impl Footprint {
    pub fn total(&self) -> usize {
        self.availabilities
            + self.availability_ids
            + self.terms
            + self.products_and_skus
            + self.lookups
            + self.listing_index
    }
}

impl fmt::Display for Footprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "availabilities {} B, their ids {} B, terms {} B, products and SKUs {} B, \
             lookups {} B, listing index {} B; total {} B",
            self.availabilities,
            self.availability_ids,
            self.terms,
            self.products_and_skus,
            self.lookups,
            self.listing_index,
            self.total()
        )
    }
}

fn product_bytes(p: &Product) -> usize {
    size_of::<Product>()
        + p.id.as_str().len()
        + p.title.capacity()
        + p.description.capacity()
        + p.publisher.capacity()
        + p.category.capacity()
}

fn sku_bytes(e: &SkuEntry) -> usize {
    let s = &e.sku;
    size_of::<SkuEntry>()
        + s.id.as_str().len()
        + s.title.capacity()
        + s.description.capacity()
        + (s.prerequisites.capacity() + s.conversions.capacity()) * size_of::<(ProductId, SkuId)>()
        + s.seat_limit_type.capacity()
        + s.unit_of_measure.capacity()
        + s.category.capacity()
        + s.provisioning_id.capacity()
        + e.search_text.capacity()
        + e.countries.capacity() * 2
        + e.billing_cycles.capacity()
}

/// A hash map's table: its entries and a control byte each.
fn map_bytes<K, V>(capacity: usize) -> usize {
    capacity * (size_of::<(K, V)>() + 1)
}

impl Catalog {
    pub fn footprint(&self) -> Footprint {
        let a = &self.availabilities;
        Footprint {
            availabilities: a.capacity() * size_of::<Availability>(),
            availability_ids: a.iter().map(|a| a.id.as_str().len()).sum(),
            terms: {
                let mut lists = std::collections::HashSet::new();
                a.iter()
                    .filter(|a| lists.insert(a.terms.as_ptr()))
                    .map(|a| 16 + a.terms.len() * size_of::<TermPrice>())
                    .sum()
            },
            products_and_skus: self.products.iter().map(product_bytes).sum::<usize>()
                + self.skus.iter().map(sku_bytes).sum::<usize>()
                + self.product_skus.capacity() * size_of::<std::ops::Range<usize>>(),
            lookups: map_bytes::<ProductId, usize>(self.product_index.capacity())
                + map_bytes::<(ProductId, SkuId), usize>(self.sku_index.capacity())
                + self.availabilities_by_id.capacity() * size_of::<u32>(),
            listing_index: self.listing_index.heap_bytes(),
        }
    }
}
