//! Catalog listings (ListProducts): every row a query matches, made once per snapshot and
//! paged from memory; listings narrowed to one buyer are made per call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::{Catalog, CatalogFilter, Item, SkuView};
use crate::domain::customer::Caller;
use crate::domain::eligibility::{self, Buyer};
use crate::domain::ids::{CustomerId, ProductId, SkuId};
use crate::service::paging::page_size;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Product,
    Sku,
}

/// A page of a catalog listing.
#[derive(Debug)]
pub struct ListingPage {
    pub catalog: Arc<Catalog>,
    /// (product, SKU) keys of the rows: the SKU is `None` in the product view.
    pub rows: Vec<(ProductId, Option<SkuId>)>,
    /// Matching SKUs per product row (product view), in `rows` order.
    pub sku_counts: Vec<usize>,
    pub next_page_token: String,
    pub total_size: usize,
}

/// Every row a listing query matches, in key order.
#[derive(Debug)]
struct Listing {
    rows: Vec<ListingRow>,
}

#[derive(Debug)]
struct ListingRow {
    product: ProductId,
    /// `None` in the product view.
    sku: Option<SkuId>,
    /// Matching SKUs of the product (product view).
    sku_count: usize,
    /// What page tokens resume after: the product id, or "product sku" in the SKU view (a
    /// space sorts before every id character, so key order is (product, SKU) order).
    key: String,
}

impl Listing {
    fn make(
        catalog: &Catalog,
        filter: &CatalogFilter,
        view: View,
        offered: impl Fn(&SkuView<'_>) -> bool,
    ) -> Self {
        let mut rows: Vec<ListingRow> = Vec::new();
        for v in catalog.matching_skus(filter).filter(|v| offered(v)) {
            match view {
                View::Sku => rows.push(ListingRow {
                    product: v.product.id.clone(),
                    sku: Some(v.sku.id.clone()),
                    sku_count: 1,
                    key: format!("{} {}", v.product.id, v.sku.id),
                }),
                View::Product => match rows.last_mut() {
                    Some(row) if row.product == v.product.id => row.sku_count += 1,
                    _ => rows.push(ListingRow {
                        product: v.product.id.clone(),
                        sku: None,
                        sku_count: 1,
                        key: v.product.id.to_string(),
                    }),
                },
            }
        }
        Self { rows }
    }
}

/// The listings made from one snapshot, by query. Invalidated when the snapshot is swapped
/// (a publish or a reload), and emptied whole past `MAX_CACHED_LISTINGS` queries.
#[derive(Debug, Default)]
pub(super) struct ListingCache {
    made: Mutex<Option<(Arc<Catalog>, ListingsByQuery)>>,
}

type ListingsByQuery = HashMap<String, Arc<Listing>>;

/// Queries cached per snapshot; past that many, all are forgotten at once.
const MAX_CACHED_LISTINGS: usize = 1024;

impl ListingCache {
    fn get_or_make(
        &self,
        catalog: &Arc<Catalog>,
        query: &str,
        make: impl FnOnce() -> Listing,
    ) -> Arc<Listing> {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = match &mut *made {
            Some((of, cached)) if Arc::ptr_eq(of, catalog) => cached,
            other => &mut other.insert((catalog.clone(), HashMap::new())).1,
        };
        if let Some(listing) = cached.get(query) {
            return listing.clone();
        }
        // Made under the lock: a listing takes microseconds, and two callers never make the
        // same one twice.
        let listing = Arc::new(make());
        if cached.len() >= MAX_CACHED_LISTINGS {
            cached.clear();
        }
        cached.insert(query.to_owned(), listing.clone());
        listing
    }
}

impl CatalogService {
    /// Products or SKUs matching `filter`, optionally only those `customer` may buy.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: CatalogFilter,
        purchasable_by: Option<CustomerId>,
        view: View,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<ListingPage, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("list|{view:?}|{filter:?}|{purchasable_by:?}");
        let after = self.tokens.decode(&query, page_token)?;
        let catalog = self.snapshot();
        let buyer_parts = match purchasable_by {
            Some(customer) => {
                let (partner, standing) = self.customers.buyer(caller, customer).await?;
                filter.country = Some(standing.customer.country);
                Some((partner, standing))
            }
            None => None,
        };
        let listing = match &buyer_parts {
            // What matches depends only on the snapshot and the filter.
            None => self.listings.get_or_make(&catalog, &query, || {
                Listing::make(&catalog, &filter, view, |_| true)
            }),
            Some((partner, standing)) => {
                let now = self.clock.now();
                let buyer = Buyer {
                    catalog: &catalog,
                    partner,
                    customer: &standing.customer,
                    role: caller.role,
                    holdings: &standing.held.holdings,
                    now,
                };
                Arc::new(Listing::make(&catalog, &filter, view, |v: &SkuView<'_>| {
                    v.availabilities
                        .iter()
                        .filter(|a| a.country == standing.customer.country)
                        .any(|a| {
                            let item = Item {
                                product: v.product,
                                sku: *v,
                                availability: a,
                            };
                            eligibility::offer_problems(&buyer, &item).is_empty()
                        })
                }))
            }
        };
        let start = after.as_ref().map_or(0, |a| {
            listing
                .rows
                .partition_point(|r| r.key.as_str() <= a.as_str())
        });
        let page = listing.rows.get(start..).unwrap_or_default();
        let page = page.get(..limit).unwrap_or(page);
        let next_page_token = match page.last() {
            Some(last) if start + page.len() < listing.rows.len() => {
                self.tokens.encode(&query, &last.key)
            }
            _ => String::new(),
        };
        Ok(ListingPage {
            rows: page
                .iter()
                .map(|r| (r.product.clone(), r.sku.clone()))
                .collect(),
            sku_counts: page.iter().map(|r| r.sku_count).collect(),
            catalog,
            next_page_token,
            total_size: listing.rows.len(),
        })
    }
}
