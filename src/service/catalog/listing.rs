//! Catalog listings (ListProducts): every row a query matches, made once per snapshot and
//! paged from memory; listings narrowed to one buyer are made per call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use super::CatalogService;
use super::past::AsOf;
use crate::domain::DomainError;
use crate::domain::catalog::{Catalog, CatalogFilter, Item, Month, SkuView};
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

/// Every row a query matches, in key order; with words, the rows whose titles hold them all
/// first (each part in key order).
#[derive(Debug)]
struct Listing {
    view: View,
    rows: Vec<ListingRow>,
    /// With words: how many rows match in titles. Their keys then start with `0 `, the
    /// others' with `1 `, so keys stay in row order.
    title_rows: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct ListingRow {
    /// The snapshot position of the SKU (product view: of the product's first matching SKU).
    sku: u32,
    /// Matching SKUs of the product (product view).
    sku_count: u32,
}

impl Listing {
    fn make(
        catalog: &Catalog,
        filter: &CatalogFilter,
        view: View,
        offered: impl Fn(&SkuView<'_>) -> bool,
    ) -> Self {
        let ranked = !filter.words.is_empty();
        let mut rows: Vec<ListingRow> = Vec::new();
        let mut titled: Vec<bool> = Vec::new();
        let mut last_product: Option<&ProductId> = None;
        for position in catalog.matching(filter) {
            let Some(v) = catalog.sku_at(position).filter(|v| offered(v)) else {
                continue;
            };
            let title = ranked && catalog.titles_hold(position, &filter.words);
            let same_product = last_product == Some(&v.product.id);
            last_product = Some(&v.product.id);
            match (view, rows.last_mut(), titled.last_mut()) {
                (View::Product, Some(row), Some(t)) if same_product => {
                    row.sku_count += 1;
                    *t |= title;
                }
                _ => {
                    let sku = u32::try_from(position).unwrap_or(u32::MAX);
                    rows.push(ListingRow { sku, sku_count: 1 });
                    titled.push(title);
                }
            }
        }
        let title_rows = ranked.then(|| {
            let (first, rest): (Vec<_>, Vec<_>) = rows.iter().zip(&titled).partition(|(_, t)| **t);
            let count = first.len();
            rows = first.into_iter().chain(rest).map(|(r, _)| *r).collect();
            count
        });
        rows.shrink_to_fit();
        Self {
            view,
            rows,
            title_rows,
        }
    }

    /// The (product, SKU) of a row: the SKU is `None` in the product view.
    fn ids(&self, catalog: &Catalog, row: &ListingRow) -> Option<(ProductId, Option<SkuId>)> {
        let v = catalog.sku_at(row.sku as usize)?;
        Some((
            v.product.id.clone(),
            (self.view == View::Sku).then(|| v.sku.id.clone()),
        ))
    }

    /// What page tokens resume after: the product id, or "product sku" in the SKU view (a
    /// space sorts before every id character, so key order is (product, SKU) order), after
    /// the rank (`0 `: a title match, `1 `: not) when ranked.
    fn key(&self, catalog: &Catalog, at: usize) -> String {
        let key = match self.rows.get(at).and_then(|row| self.ids(catalog, row)) {
            Some((product, Some(sku))) => format!("{product} {sku}"),
            Some((product, None)) => product.to_string(),
            None => String::new(),
        };
        match self.title_rows {
            Some(titled) => format!("{} {key}", u8::from(at >= titled)),
            None => key,
        }
    }

    /// Bytes held for this listing in the cache, its query included.
    fn bytes(&self, query: &str) -> usize {
        std::mem::size_of::<Self>()
            + self.rows.capacity() * std::mem::size_of::<ListingRow>()
            + query.len()
            + ENTRY_OVERHEAD
    }
}

/// The map entry, the order entry and the key's allocation, roughly.
const ENTRY_OVERHEAD: usize = 160;

/// The listings made from one snapshot, by query, within a byte budget. Invalidated when the
/// snapshot is swapped (a publish or a reload).
///
/// A listing is made outside the lock (two callers may make the same one; the first kept
/// wins), which is held only to look up, insert and evict. Eviction is a segmented LRU: a new
/// listing enters on probation; one asked for again moves to the protected part (at most
/// four fifths of the budget, its least recent going back to probation). Room is made from
/// probation first, so a stream of distinct one-off queries (text searches) only pushes out
/// other one-off queries, never the listings in repeated use.
#[derive(Debug)]
pub(super) struct ListingCache {
    budget: usize,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    of: Option<Arc<Catalog>>,
    entries: HashMap<Arc<str>, Entry>,
    /// Least recent first, by the tick of their last use.
    probation: BTreeMap<u64, Arc<str>>,
    protected: BTreeMap<u64, Arc<str>>,
    probation_bytes: usize,
    protected_bytes: usize,
    tick: u64,
}

#[derive(Debug)]
struct Entry {
    listing: Arc<Listing>,
    bytes: usize,
    tick: u64,
    protected: bool,
}

/// The default budget of the listing cache, in bytes.
pub const DEFAULT_LISTING_CACHE_BYTES: usize = 64 << 20;

impl Default for ListingCache {
    fn default() -> Self {
        Self::new(DEFAULT_LISTING_CACHE_BYTES)
    }
}

impl ListingCache {
    pub(super) fn new(budget: usize) -> Self {
        Self {
            budget,
            state: Mutex::default(),
        }
    }

    fn get_or_make(
        &self,
        catalog: &Arc<Catalog>,
        query: &str,
        make: impl FnOnce() -> Listing,
    ) -> Arc<Listing> {
        if let Some(listing) = self.get(catalog, query) {
            return listing;
        }
        // Made without the lock: no other listing waits for this one.
        self.keep(catalog, query, Arc::new(make()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, catalog: &Arc<Catalog>, query: &str) -> Option<Arc<Listing>> {
        let mut guard = self.lock();
        let state = &mut *guard;
        if !state.of.as_ref().is_some_and(|of| Arc::ptr_eq(of, catalog)) {
            return None;
        }
        let entry = state.entries.get_mut(query)?;
        state.tick += 1;
        let listing = entry.listing.clone();
        let key = if entry.protected {
            state.protected.remove(&entry.tick)
        } else {
            state.probation.remove(&entry.tick)
        }
        .unwrap_or_else(|| Arc::from(query));
        let promoted = !entry.protected;
        entry.tick = state.tick;
        entry.protected = true;
        state.protected.insert(state.tick, key);
        if promoted {
            state.probation_bytes -= entry.bytes;
            state.protected_bytes += entry.bytes;
            // The protected part keeps at most four fifths of the budget.
            while state.protected_bytes > self.budget / 5 * 4 && state.protected.len() > 1 {
                let Some((_, key)) = state.protected.pop_first() else {
                    break;
                };
                if let Some(e) = state.entries.get_mut(&key) {
                    e.protected = false;
                    state.protected_bytes -= e.bytes;
                    state.probation_bytes += e.bytes;
                    state.probation.insert(e.tick, key);
                }
            }
        }
        Some(listing)
    }

    /// Keeps `listing` on probation and answers it, or the one another caller kept first.
    fn keep(&self, catalog: &Arc<Catalog>, query: &str, listing: Arc<Listing>) -> Arc<Listing> {
        let bytes = listing.bytes(query);
        let mut guard = self.lock();
        let state = &mut *guard;
        if !state.of.as_ref().is_some_and(|of| Arc::ptr_eq(of, catalog)) {
            *state = CacheState {
                of: Some(catalog.clone()),
                ..CacheState::default()
            };
        }
        if let Some(kept) = state.entries.get(query) {
            return kept.listing.clone();
        }
        if bytes > self.budget / 5 {
            // Larger than the probation part: answered, not kept.
            return listing;
        }
        state.tick += 1;
        let key: Arc<str> = Arc::from(query);
        state.entries.insert(
            key.clone(),
            Entry {
                listing: listing.clone(),
                bytes,
                tick: state.tick,
                protected: false,
            },
        );
        state.probation.insert(state.tick, key);
        state.probation_bytes += bytes;
        while state.probation_bytes + state.protected_bytes > self.budget {
            let Some((_, victim)) = state
                .probation
                .pop_first()
                .or_else(|| state.protected.pop_first())
            else {
                break;
            };
            if let Some(e) = state.entries.remove(&victim) {
                if e.protected {
                    state.protected_bytes -= e.bytes;
                } else {
                    state.probation_bytes -= e.bytes;
                }
            }
        }
        listing
    }
}

impl CatalogService {
    /// Products or SKUs matching `filter`, optionally only those `customer` may buy, in the
    /// current month or as of `month` (a past month's listings are kept with it).
    #[allow(clippy::too_many_arguments)] // the request's fields, each validated
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: CatalogFilter,
        purchasable_by: Option<CustomerId>,
        view: View,
        requested_page_size: i32,
        page_token: &str,
        month: Option<Month>,
    ) -> Result<ListingPage, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!(
            "list|{view:?}|{filter:?}|{purchasable_by:?}{}",
            super::month_key(month)
        );
        let after = self.tokens.decode(&query, page_token)?;
        let as_of = self.as_of(month).await?;
        let catalog = as_of.catalog().clone();
        let listings = match &as_of {
            AsOf::Current(_) => &*self.listings,
            AsOf::Past(past) => &past.listings,
        };
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
            None => listings.get_or_make(&catalog, &query, || {
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
            partition_point(listing.rows.len(), |at| {
                listing.key(&catalog, at).as_str() <= a.as_str()
            })
        });
        let page = listing.rows.get(start..).unwrap_or_default();
        let page = page.get(..limit).unwrap_or(page);
        let next_page_token = if start + page.len() < listing.rows.len() && !page.is_empty() {
            self.tokens
                .encode(&query, &listing.key(&catalog, start + page.len() - 1))
        } else {
            String::new()
        };
        Ok(ListingPage {
            rows: page
                .iter()
                .filter_map(|r| listing.ids(&catalog, r))
                .collect(),
            sku_counts: page.iter().map(|r| r.sku_count as usize).collect(),
            catalog,
            next_page_token,
            total_size: listing.rows.len(),
        })
    }
}

/// The first index in `0..len` where `before` turns false (it is true, then false).
pub(super) fn partition_point(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = low + (high - low) / 2;
        if before(mid) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low
}

#[cfg(test)]
mod tests;
