//! Catalog reads from the in-memory snapshot, the purchasability check, and loading months.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::paging::{PageTokens, page_size};
use super::{Clock, customers::CustomerService};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, Catalog, CatalogData, CatalogFilter, Item, Month, Product, Segment,
    SkuView, Term,
};
use crate::domain::customer::Caller;
use crate::domain::eligibility::{self, Buyer, Holdings, Intent, Problem};
use crate::domain::ids::{CatalogItemId, CountryCode, CustomerId, ProductId, SkuId};
use crate::domain::money::Money;
use crate::import::{self, Source};
use crate::store::Store;

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

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
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
}

impl CatalogService {
    pub fn new(
        store: Store,
        customers: CustomerService,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            snapshot: Arc::new(ArcSwap::from_pointee(Catalog::empty())),
            store,
            customers,
            tokens,
            clock,
        }
    }

    pub fn snapshot(&self) -> Arc<Catalog> {
        self.snapshot.load_full()
    }

    /// Loads the current published month from the store and swaps it in for every reader.
    pub async fn reload(&self) -> Result<Option<Month>, DomainError> {
        let Some(month) = self.store.current_month().await? else {
            return Ok(None);
        };
        let data = self.store.load_month(month).await?;
        self.snapshot
            .store(Arc::new(Catalog::build(Some(month), data)));
        Ok(Some(month))
    }

    /// Imports a month from files, stores it published and makes it current.
    pub async fn import_and_publish<M: std::io::Read, P: std::io::Read>(
        &self,
        month: Month,
        offer_matrix: Source<M>,
        price_lists: Vec<Source<P>>,
    ) -> Result<(usize, usize, usize), ImportError> {
        let data =
            import::import_month(month, offer_matrix, price_lists).map_err(ImportError::Files)?;
        let counts = (
            data.products.len(),
            data.skus.len(),
            data.availabilities.len(),
        );
        self.publish_data(month, data)
            .await
            .map_err(ImportError::Store)?;
        Ok(counts)
    }

    async fn publish_data(&self, month: Month, data: CatalogData) -> Result<(), DomainError> {
        if let Some(current) = self.snapshot().month()
            && month < current
        {
            return Err(DomainError::FailedPrecondition {
                message: format!("month {month} is older than the current month {current}"),
                violations: Vec::new(),
            });
        }
        self.store.save_month(month, &data, true).await?;
        self.snapshot
            .store(Arc::new(Catalog::build(Some(month), data)));
        Ok(())
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
                let (partner, customer) = self.customers.buyer(caller, customer).await?;
                let holdings = Holdings::new(self.store.holdings(customer.id).await?);
                filter.country = Some(customer.country);
                Some((partner, customer, holdings))
            }
            None => None,
        };
        let now = self.clock.now();
        let offered = |view: &SkuView<'_>| -> bool {
            let Some((partner, customer, holdings)) = &buyer_parts else {
                return true;
            };
            let buyer = Buyer {
                catalog: &catalog,
                partner,
                customer,
                role: caller.role,
                holdings,
                now,
            };
            view.availabilities
                .iter()
                .filter(|a| a.country == customer.country)
                .any(|a| {
                    let item = Item {
                        product: view.product,
                        sku: *view,
                        availability: a,
                    };
                    eligibility::offer_problems(&buyer, &item).is_empty()
                })
        };

        let mut rows = Vec::new();
        let mut sku_counts = Vec::new();
        let mut total = 0;
        let mut last_key = None;
        let mut more = false;
        let matching = catalog.matching_skus(&filter).filter(|v| offered(v));
        match view {
            View::Sku => {
                for v in matching {
                    total += 1;
                    // A space sorts before every id character, so key order is (product, SKU) order.
                    let key = format!("{} {}", v.product.id, v.sku.id);
                    if after.as_ref().is_some_and(|a| key.as_str() <= a.as_str()) {
                        continue;
                    }
                    if rows.len() == limit {
                        more = true;
                        continue;
                    }
                    last_key = Some(key);
                    rows.push((v.product.id.clone(), Some(v.sku.id.clone())));
                }
            }
            View::Product => {
                let mut current: Option<(ProductId, usize)> = None;
                let mut flush = |product: ProductId,
                                 count: usize,
                                 rows: &mut Vec<_>,
                                 more: &mut bool,
                                 last: &mut Option<String>| {
                    if after
                        .as_ref()
                        .is_some_and(|a| product.as_str() <= a.as_str())
                    {
                        return;
                    }
                    if rows.len() == limit {
                        *more = true;
                        return;
                    }
                    *last = Some(product.to_string());
                    rows.push((product, None));
                    sku_counts.push(count);
                };
                for v in matching {
                    match &mut current {
                        Some((id, count)) if *id == v.product.id => *count += 1,
                        _ => {
                            if let Some((id, count)) = current.take() {
                                total += 1;
                                flush(id, count, &mut rows, &mut more, &mut last_key);
                            }
                            current = Some((v.product.id.clone(), 1));
                        }
                    }
                }
                if let Some((id, count)) = current {
                    total += 1;
                    flush(id, count, &mut rows, &mut more, &mut last_key);
                }
            }
        }
        let next_page_token = match (more, last_key) {
            (true, Some(key)) => self.tokens.encode(&query, &key),
            _ => String::new(),
        };
        Ok(ListingPage {
            catalog,
            rows,
            sku_counts,
            next_page_token,
            total_size: total,
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
        let (partner, customer) = self.customers.buyer(caller, customer).await?;
        let holdings = Holdings::new(self.store.holdings(customer.id).await?);
        let catalog = self.snapshot();
        let resolved = catalog
            .item(item)
            .ok_or_else(|| DomainError::not_found("catalog item", item.to_string()))?;
        let buyer = Buyer {
            catalog: &catalog,
            partner: &partner,
            customer: &customer,
            role: caller.role,
            holdings: &holdings,
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
    let mut rest = items
        .into_iter()
        .filter(|item| after.is_none_or(|a| key(item).as_str() > a));
    let page: Vec<T> = rest.by_ref().take(limit).collect();
    let next_page_token = match (rest.next(), page.last()) {
        (Some(_), Some(last)) => tokens.encode(query, &key(last)),
        _ => String::new(),
    };
    Page {
        items: page,
        next_page_token,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Files(import::ImportReport),
    #[error(transparent)]
    Store(DomainError),
}
