//! Catalog reads from the in-memory snapshot, the purchasability check, and loading months.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use arc_swap::ArcSwap;

pub use super::paging::Page;
use super::paging::{PageTokens, page_size};
use super::{Clock, customers::CustomerService};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, Catalog, CatalogFilter, Item, Month, Product, Segment, SkuView,
    Term,
};
use crate::domain::changes::{CatalogChange, diff};
use crate::domain::customer::Caller;
use crate::domain::eligibility::{self, Buyer, Intent, Problem};
use crate::domain::error::Precondition;
use crate::domain::ids::{CatalogItemId, CountryCode, CustomerId, ProductId, SkuId};
use crate::domain::money::Money;
use crate::import::{self, ImportLimits, Source};
use crate::store::{Published, Store};

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

/// The listings made from one snapshot, by query.
#[derive(Debug, Default)]
struct Listings {
    made: Mutex<Option<(Arc<Catalog>, ListingsByQuery)>>,
}

type ListingsByQuery = HashMap<String, Arc<Listing>>;

/// Queries kept per snapshot; past that many, all are forgotten at once.
const MAX_LISTINGS: usize = 1024;

impl Listings {
    fn get_or_make(
        &self,
        catalog: &Arc<Catalog>,
        query: &str,
        make: impl FnOnce() -> Listing,
    ) -> Arc<Listing> {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = match &mut *made {
            Some((of, kept)) if Arc::ptr_eq(of, catalog) => kept,
            other => &mut other.insert((catalog.clone(), HashMap::new())).1,
        };
        if let Some(listing) = kept.get(query) {
            return listing.clone();
        }
        // Made under the lock: a listing takes microseconds, and two callers never make the
        // same one twice.
        let listing = Arc::new(make());
        if kept.len() >= MAX_LISTINGS {
            kept.clear();
        }
        kept.insert(query.to_owned(), listing.clone());
        listing
    }
}

#[derive(Debug)]
pub struct Verdict {
    pub problems: Vec<Problem>,
    pub unit_price: Option<Money>,
    pub extended_price: Option<Money>,
}

/// Clones of the snapshot handle are cheap; all readers see the same swaps.
#[derive(Debug, Clone)]
pub struct CatalogService {
    snapshot: Arc<ArcSwap<Catalog>>,
    store: Store,
    customers: CustomerService,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
    /// Months of change log kept for resuming subscribers.
    keep_months: usize,
    /// The last diff computed: (month, the current month it was computed against, changes,
    /// the month built), for ListMonthChanges and for the publish that follows.
    diff_cache: Arc<Mutex<Option<DiffCache>>>,
    /// The caps every import's files are read under.
    import_limits: ImportLimits,
    published: Arc<Notify>,
    listings: Arc<Listings>,
}

type DiffCache = (Month, Option<Month>, Arc<Vec<CatalogChange>>, Arc<Catalog>);

/// What an import read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub products: usize,
    pub skus: usize,
    pub availabilities: usize,
    pub prices: usize,
}

impl CatalogService {
    pub fn new(
        store: Store,
        customers: CustomerService,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
        keep_months: usize,
    ) -> Self {
        Self {
            snapshot: Arc::new(ArcSwap::from_pointee(Catalog::empty())),
            store,
            customers,
            tokens,
            clock,
            keep_months,
            diff_cache: Arc::new(Mutex::new(None)),
            import_limits: ImportLimits::default(),
            published: Arc::new(Notify::new()),
            listings: Arc::default(),
        }
    }

    /// Imports read their files under `limits` (the defaults otherwise).
    pub fn with_import_limits(mut self, limits: ImportLimits) -> Self {
        self.import_limits = limits;
        self
    }

    pub fn import_limits(&self) -> ImportLimits {
        self.import_limits
    }

    pub fn snapshot(&self) -> Arc<Catalog> {
        self.snapshot.load_full()
    }

    /// Wakes whoever follows publishes (the change feed).
    pub fn published_signal(&self) -> Arc<Notify> {
        self.published.clone()
    }

    /// Loads the current published month from the store and swaps it in for every reader, if
    /// it is not the one already loaded.
    pub async fn reload(&self) -> Result<Option<Month>, DomainError> {
        let Some(month) = self.store.catalog_state().await?.current_month else {
            return Ok(None);
        };
        if self.snapshot().month() != Some(month) {
            let data = self.store.load_month(month).await?;
            self.snapshot
                .store(Arc::new(Catalog::build(Some(month), data)));
            tracing::info!(%month, "catalog snapshot loaded");
        }
        Ok(Some(month))
    }

    /// Reads a month's files and stores the month as imported (not yet published).
    pub async fn import_month<M, P>(
        &self,
        month: Month,
        offer_matrix: Source<M>,
        price_lists: Vec<Source<P>>,
    ) -> Result<ImportSummary, ImportError>
    where
        M: std::io::Read + Send + 'static,
        P: std::io::Read + Send + 'static,
    {
        // Parsing is CPU work and blocking reads: keep it off the async workers.
        let limits = self.import_limits;
        let data = tokio::task::spawn_blocking(move || {
            import::import_month(month, offer_matrix, price_lists, &limits)
        })
        .await
        .map_err(|e| ImportError::Store(DomainError::Internal(format!("import task: {e}"))))?
        .map_err(ImportError::Files)?;
        let summary = ImportSummary {
            products: data.products.len(),
            skus: data.skus.len(),
            availabilities: data.availabilities.len(),
            prices: data.availabilities.iter().map(|a| a.terms.len()).sum(),
        };
        if let Some(current) = self
            .store
            .catalog_state()
            .await
            .map_err(ImportError::Store)?
            .current_month
            && month <= current
        {
            return Err(ImportError::Store(DomainError::FailedPrecondition {
                message: format!("month {month} is not after the current month {current}"),
                violations: vec![Precondition {
                    code: "MONTH_NOT_AFTER_CURRENT".into(),
                    subject: format!("months/{month}"),
                    description: format!("only a month after {current} can be imported"),
                }],
            }));
        }
        self.store
            .save_month(month, &data)
            .await
            .map_err(ImportError::Store)?;
        self.forget_diff();
        Ok(summary)
    }

    /// Imports and publishes at once (the demo catalog, `import --publish`).
    pub async fn import_and_publish<M, P>(
        &self,
        month: Month,
        offer_matrix: Source<M>,
        price_lists: Vec<Source<P>>,
    ) -> Result<ImportSummary, ImportError>
    where
        M: std::io::Read + Send + 'static,
        P: std::io::Read + Send + 'static,
    {
        let summary = self.import_month(month, offer_matrix, price_lists).await?;
        self.publish(month).await.map_err(ImportError::Store)?;
        Ok(summary)
    }

    fn forget_diff(&self) {
        if let Ok(mut cache) = self.diff_cache.lock() {
            *cache = None;
        }
    }

    /// The current catalog as stored (which a replica's snapshot may briefly lag) and `month`
    /// built from the store.
    async fn current_and(&self, month: Month) -> Result<(Arc<Catalog>, Catalog), DomainError> {
        let state = self.store.catalog_state().await?;
        let snapshot = self.snapshot();
        let current = match state.current_month {
            None => Arc::new(Catalog::empty()),
            Some(m) if snapshot.month() == Some(m) => snapshot,
            Some(m) => Arc::new(Catalog::build(Some(m), self.store.load_month(m).await?)),
        };
        let next = Catalog::build(Some(month), self.store.load_month(month).await?);
        Ok((current, next))
    }

    /// What publishing the imported `month` would change, computed once per import.
    pub async fn month_changes(
        &self,
        month: Month,
    ) -> Result<Arc<Vec<CatalogChange>>, DomainError> {
        match self.store.month_status(month).await?.as_deref() {
            Some(crate::store::STATUS_IMPORTED) => {}
            Some(_) => {
                return Err(DomainError::FailedPrecondition {
                    message: format!(
                        "month {month} is already published: its changes are in the change stream"
                    ),
                    violations: vec![Precondition {
                        code: "MONTH_ALREADY_PUBLISHED".into(),
                        subject: format!("months/{month}"),
                        description: "watch the catalog changes from the month's first revision"
                            .into(),
                    }],
                });
            }
            None => return Err(DomainError::not_found("imported month", month.to_string())),
        }
        Ok(self.diff_of(month, self.snapshot().month()).await?.0)
    }

    /// The changes of `month` against `current`, and `month` built: from the cache if they
    /// were computed against that current month, else computed (and kept).
    async fn diff_of(
        &self,
        month: Month,
        current: Option<Month>,
    ) -> Result<(Arc<Vec<CatalogChange>>, Arc<Catalog>), DomainError> {
        if let Ok(cache) = self.diff_cache.lock()
            && let Some((m, against, changes, next)) = cache.as_ref()
            && *m == month
            && *against == current
        {
            return Ok((changes.clone(), next.clone()));
        }
        let (current, next) = self.current_and(month).await?;
        let next = Arc::new(next);
        let changes = Arc::new(diff(&current, &next, month));
        if let Ok(mut cache) = self.diff_cache.lock() {
            *cache = Some((month, current.month(), changes.clone(), next.clone()));
        }
        Ok((changes, next))
    }

    pub async fn list_month_changes(
        &self,
        month: Month,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<CatalogChange>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("month-changes|{month}");
        let after = self
            .tokens
            .decode(&query, page_token)?
            .map(|k| {
                k.parse::<usize>().map_err(|_| {
                    DomainError::invalid(
                        "page_token",
                        "INVALID_PAGE_TOKEN",
                        "page_token is corrupt",
                    )
                })
            })
            .transpose()?;
        let changes = self.month_changes(month).await?;
        let start = after.map_or(0, |a| a + 1);
        let items: Vec<CatalogChange> = changes.iter().skip(start).take(limit).cloned().collect();
        let last = start + items.len();
        let next_page_token = if last < changes.len() && !items.is_empty() {
            self.tokens.encode(&query, &(last - 1).to_string())
        } else {
            String::new()
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Makes the imported `month` current: its change events and the new state commit in one
    /// transaction, then every reader's snapshot switches at once and the feed is woken.
    /// Publishing the current month again changes nothing.
    pub async fn publish(&self, month: Month) -> Result<Published, DomainError> {
        let status = self.store.month_status(month).await?;
        if status.as_deref() == Some(crate::store::STATUS_PUBLISHED) {
            return self
                .store
                .publish_month(month, &[], self.keep_months, self.clock.now())
                .await;
        }
        // The diff computed for the import (or ListMonthChanges) if it was computed against
        // the month that is current in the store; the publish's transaction still refuses a
        // month that is not after the current one.
        let current = self.store.catalog_state().await?.current_month;
        let (changes, next) = self.diff_of(month, current).await?;
        let published = self
            .store
            .publish_month(month, &changes, self.keep_months, self.clock.now())
            .await?;
        if published.newly {
            self.snapshot.store(next);
            self.forget_diff();
            self.published.notify_one();
            tracing::info!(%month, first = published.first_revision, last = published.last_revision, "month published");
        }
        Ok(published)
    }

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
            // What matches depends only on the snapshot and the filter: each listing is made
            // once per snapshot, then paged.
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

    pub fn product(&self, id: &ProductId) -> Result<(Arc<Catalog>, Product, usize), DomainError> {
        let catalog = self.snapshot();
        let product = catalog
            .product(id)
            .cloned()
            .ok_or_else(|| DomainError::not_found("product", id.to_string()))?;
        let skus = catalog.skus_of(id).count();
        Ok((catalog, product, skus))
    }

    /// The SKUs of a product sold in `country` (if given) to `segment` (default: not nonprofit).
    pub fn skus(
        &self,
        product: &ProductId,
        country: Option<CountryCode>,
        segment: Option<Segment>,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<(Arc<Catalog>, Page<SkuId>), DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("skus|{product}|{country:?}|{segment:?}");
        let after = self.tokens.decode(&query, page_token)?;
        let catalog = self.snapshot();
        if catalog.product(product).is_none() {
            return Err(DomainError::not_found("product", product.to_string()));
        }
        let filter = CatalogFilter {
            country,
            segment,
            ..CatalogFilter::default()
        };
        let ids = catalog
            .skus_of(product)
            .filter(|v| {
                v.availabilities.iter().any(|a| {
                    country.is_none_or(|c| c == a.country) && filter.segment_matches(a.segment)
                })
            })
            .map(|v| v.sku.id.clone())
            .collect::<Vec<_>>();
        let page = paginate(
            ids,
            after.as_deref(),
            limit,
            |id| id.to_string(),
            &self.tokens,
            &query,
        );
        Ok((catalog, page))
    }

    pub fn sku(&self, product: &ProductId, sku: &SkuId) -> Result<Arc<Catalog>, DomainError> {
        let catalog = self.snapshot();
        if catalog.sku(product, sku).is_none() {
            return Err(DomainError::not_found("sku", format!("{product}/{sku}")));
        }
        Ok(catalog)
    }

    pub fn availabilities(
        &self,
        product: &ProductId,
        sku: &SkuId,
        country: Option<CountryCode>,
        segment: Option<Segment>,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Availability>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("availabilities|{product}|{sku}|{country:?}|{segment:?}");
        let after = self.tokens.decode(&query, page_token)?;
        let catalog = self.snapshot();
        let view = catalog
            .sku(product, sku)
            .ok_or_else(|| DomainError::not_found("sku", format!("{product}/{sku}")))?;
        let filter = CatalogFilter {
            segment,
            ..CatalogFilter::default()
        };
        let items: Vec<Availability> = view
            .availabilities
            .iter()
            .filter(|a| country.is_none_or(|c| c == a.country) && filter.segment_matches(a.segment))
            .cloned()
            .collect();
        Ok(paginate(
            items,
            after.as_deref(),
            limit,
            |a| format!("{}|{}", a.country, a.segment),
            &self.tokens,
            &query,
        ))
    }

    pub fn resolve(
        &self,
        id: &CatalogItemId,
    ) -> Result<(Arc<Catalog>, CatalogItemId), DomainError> {
        let catalog = self.snapshot();
        if catalog.item(id).is_none() {
            return Err(DomainError::not_found("catalog item", id.to_string()));
        }
        Ok((catalog, id.clone()))
    }

    /// May `customer` buy `quantity` of `item` for `term`/`cycle`; every failed rule if not.
    pub async fn check(
        &self,
        caller: &Caller,
        customer: CustomerId,
        item: &CatalogItemId,
        quantity: i32,
        term: Term,
        billing_cycle: BillingCycle,
    ) -> Result<Verdict, DomainError> {
        let (partner, standing) = self.customers.buyer(caller, customer).await?;
        let catalog = self.snapshot();
        let resolved = catalog
            .item(item)
            .ok_or_else(|| DomainError::not_found("catalog item", item.to_string()))?;
        let buyer = Buyer {
            catalog: &catalog,
            partner: &partner,
            customer: &standing.customer,
            role: caller.role,
            holdings: &standing.held.holdings,
            now: self.clock.now(),
        };
        let problems = eligibility::check(
            &buyer,
            &Intent {
                item: resolved,
                quantity,
                term,
                billing_cycle,
            },
        );
        let unit_price = resolved
            .availability
            .price_for(term, billing_cycle)
            .map(|t| t.unit_price);
        let extended_price = unit_price.and_then(|p| p.checked_mul(i64::from(quantity)));
        Ok(Verdict {
            problems,
            unit_price,
            extended_price,
        })
    }
}

/// Keyset paging over an ordered list: the items after `after`, at most `limit`.
fn paginate<T>(
    items: Vec<T>,
    after: Option<&str>,
    limit: usize,
    key: impl Fn(&T) -> String,
    tokens: &PageTokens,
    query: &str,
) -> Page<T> {
    let rest = items
        .into_iter()
        .filter(|item| after.is_none_or(|a| key(item).as_str() > a));
    tokens.page(query, limit, rest, &key)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Files(import::ImportReport),
    #[error(transparent)]
    Store(DomainError),
}
