//! The catalog: reads from the in-memory snapshot, listings (`listing`), what a customer may
//! buy (`offers`), the purchasability check, and loading months (`months`: import, diff,
//! publish, reload).

mod listing;
mod month_changes;
mod months;
mod offers;
mod past;

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Notify;

pub use super::paging::Page;
pub use listing::{ListingPage, View};
pub use months::{ImportError, ImportSummary};
pub use offers::{OfferPage, OfferRow};
pub use past::DEFAULT_PAST_MONTHS_BYTES;

use past::AsOf;

use super::Clock;
use super::customers::CustomerService;
use super::paging::{PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, Catalog, CatalogFilter, Month, Product, Segment, Term,
};
use crate::domain::customer::{Caller, Partner};
use crate::domain::eligibility::{self, Buyer, Intent, Problem};
use crate::domain::ids::{CatalogItemId, CountryCode, CustomerId, ProductId, SkuId};
use crate::domain::money::Money;
use crate::import::ImportLimits;
use crate::store::{SnapshotFile, Standing, Store};

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
    /// Months of change log retained for resuming subscribers.
    change_log_months: usize,
    /// The caps every import's files are read under.
    import_limits: ImportLimits,
    published: Arc<Notify>,
    listings: Arc<listing::ListingCache>,
    offer_cache: Arc<offers::OfferCache>,
    /// Past months read as of (`past`), within their byte budget.
    past: Arc<past::PastMonths>,
    /// Where the current month's snapshot is kept between starts (`months.rs`); none: every
    /// start reads the month from the store.
    snapshot_file: Option<SnapshotFile>,
    /// One snapshot file written at a time (a publish and the feed may load the same month).
    snapshot_writes: Arc<std::sync::Mutex<()>>,
}

impl CatalogService {
    pub fn new(
        store: Store,
        customers: CustomerService,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
        change_log_months: usize,
    ) -> Self {
        Self {
            snapshot: Arc::new(ArcSwap::from_pointee(Catalog::empty())),
            store,
            customers,
            tokens,
            clock,
            change_log_months,
            import_limits: ImportLimits::default(),
            published: Arc::new(Notify::new()),
            listings: Arc::default(),
            offer_cache: Arc::default(),
            past: Arc::default(),
            snapshot_file: None,
            snapshot_writes: Arc::default(),
        }
    }

    /// The current month's snapshot is read from `file` at start when it matches the store,
    /// and written to it whenever a month is loaded from the store.
    pub fn with_snapshot_file(mut self, file: Option<SnapshotFile>) -> Self {
        self.snapshot_file = file;
        self
    }

    /// Past months read as of are kept within `bytes` (each month's snapshot plus an eighth
    /// of `listing_bytes` for its own listings; 256 MiB and 8 MiB otherwise).
    pub fn with_past_months_bytes(mut self, bytes: usize, listing_bytes: usize) -> Self {
        self.past = Arc::new(past::PastMonths::new(bytes, listing_bytes / 8));
        self
    }

    /// Listings kept per snapshot within `bytes` (64 MiB otherwise).
    pub fn with_listing_cache_bytes(mut self, bytes: usize) -> Self {
        self.listings = Arc::new(listing::ListingCache::new(bytes));
        self
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

    /// `month`: none for the current month (as every read below).
    pub async fn product(
        &self,
        month: Option<Month>,
        id: &ProductId,
    ) -> Result<(Arc<Catalog>, Product, usize), DomainError> {
        let catalog = self.as_of(month).await?.catalog().clone();
        let product = catalog
            .product(id)
            .cloned()
            .ok_or_else(|| DomainError::not_found("product", id.to_string()))?;
        let skus = catalog.skus_of(id).count();
        Ok((catalog, product, skus))
    }

    /// The SKUs of a product sold in `country` (if given) to `segment` (default: not nonprofit).
    pub async fn skus(
        &self,
        month: Option<Month>,
        product: &ProductId,
        country: Option<CountryCode>,
        segment: Option<Segment>,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<(Arc<Catalog>, Page<SkuId>), DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("skus|{product}|{country:?}|{segment:?}{}", month_key(month));
        let after = self.tokens.decode(&query, page_token)?;
        let catalog = self.as_of(month).await?.catalog().clone();
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

    pub async fn sku(
        &self,
        month: Option<Month>,
        product: &ProductId,
        sku: &SkuId,
    ) -> Result<Arc<Catalog>, DomainError> {
        let catalog = self.as_of(month).await?.catalog().clone();
        if catalog.sku(product, sku).is_none() {
            return Err(DomainError::not_found("sku", format!("{product}/{sku}")));
        }
        Ok(catalog)
    }

    #[allow(clippy::too_many_arguments)] // the request's fields, each validated
    pub async fn availabilities(
        &self,
        month: Option<Month>,
        product: &ProductId,
        sku: &SkuId,
        country: Option<CountryCode>,
        segment: Option<Segment>,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<(Arc<Catalog>, Page<Availability>), DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!(
            "availabilities|{product}|{sku}|{country:?}|{segment:?}{}",
            month_key(month)
        );
        let after = self.tokens.decode(&query, page_token)?;
        let catalog = self.as_of(month).await?.catalog().clone();
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
        let page = paginate(
            items,
            after.as_deref(),
            limit,
            |a| format!("{}|{}", a.country, a.segment),
            &self.tokens,
            &query,
        );
        Ok((catalog, page))
    }

    pub async fn resolve(
        &self,
        month: Option<Month>,
        id: &CatalogItemId,
    ) -> Result<(Arc<Catalog>, CatalogItemId), DomainError> {
        let catalog = self.as_of(month).await?.catalog().clone();
        if catalog.item(id).is_none() {
            return Err(DomainError::not_found("catalog item", id.to_string()));
        }
        Ok((catalog, id.clone()))
    }

    /// What the eligibility rules see of `standing`'s customer, bought for by `caller`, now.
    fn buyer<'a>(
        &self,
        catalog: &'a Catalog,
        partner: &'a Partner,
        standing: &'a Standing,
        caller: &Caller,
    ) -> Buyer<'a> {
        Buyer {
            catalog,
            partner,
            customer: &standing.customer,
            role: caller.role,
            holdings: &standing.held.holdings,
            now: self.clock.now(),
        }
    }

    /// May `customer` buy `quantity` of `item` for `term`/`cycle`; every failed rule if not.
    /// The rules judge a purchase now (the current month); the price is `price_month`'s.
    #[allow(clippy::too_many_arguments)] // the request's fields, each validated
    pub async fn check(
        &self,
        caller: &Caller,
        customer: CustomerId,
        item: &CatalogItemId,
        quantity: i32,
        term: Term,
        billing_cycle: BillingCycle,
        price_month: Option<Month>,
    ) -> Result<Verdict, DomainError> {
        // An unknown month is refused before anything is read for the customer.
        let priced = self.as_of(price_month).await?;
        let (partner, standing) = self.customers.buyer(caller, customer).await?;
        let catalog = match &priced {
            AsOf::Current(current) => current.clone(),
            AsOf::Past(_) => self.snapshot(),
        };
        let resolved = catalog
            .item(item)
            .ok_or_else(|| DomainError::not_found("catalog item", item.to_string()))?;
        let buyer = self.buyer(&catalog, &partner, &standing, caller);
        let problems = eligibility::check(
            &buyer,
            &Intent {
                item: resolved,
                quantity,
                term,
                billing_cycle,
            },
        );
        let unit_price = match &priced {
            AsOf::Current(_) => Some(resolved),
            AsOf::Past(past) => past.catalog.item(item),
        }
        .and_then(|priced| priced.availability.price_for(term, billing_cycle))
        .map(|t| t.unit_price);
        let extended_price = unit_price.and_then(|p| p.checked_mul(i64::from(quantity)));
        Ok(Verdict {
            problems,
            unit_price,
            extended_price,
        })
    }
}

/// What a page token's query adds for a read as of `month` (nothing for the current month,
/// so tokens made before months could be asked for still resume): a token made for one month
/// is refused for another.
fn month_key(month: Option<Month>) -> String {
    month.map(|m| format!("|month={m}")).unwrap_or_default()
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
