//! What one customer may buy (ListOffers, and ListAvailabilities for a customer): the
//! snapshot's indexes narrow the SKUs to the customer's country and segments, then the
//! eligibility rules keep each availability checkout would accept. The offers made are kept a
//! second (`OfferCache`), so paging and repeated reads do not judge them again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::CatalogService;
use super::listing::partition_point;
use crate::domain::DomainError;
use crate::domain::catalog::{Availability, Catalog, CatalogFilter, Item, Segment, SkuView};
use crate::domain::customer::Caller;
use crate::domain::eligibility::{self, Buyer, Problem};
use crate::domain::ids::{CustomerId, ProductId, SkuId};
use crate::service::paging::{Page, page_size};
use crate::store::Standing;

/// One offer: an availability of a SKU at one of its terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferRow {
    /// The snapshot position of the SKU ([`Catalog::sku_at`]).
    pub sku: u32,
    /// The availability's index among the SKU's.
    pub availability: u16,
    /// The term's index among the availability's.
    pub term: u16,
}

impl OfferRow {
    /// The SKU and availability of the row, in `catalog`.
    pub fn resolve<'c>(&self, catalog: &'c Catalog) -> Option<(SkuView<'c>, &'c Availability)> {
        let view = catalog.sku_at(self.sku as usize)?;
        let availability = view.availabilities.get(usize::from(self.availability))?;
        Some((view, availability))
    }
}

/// Every offer of one query, title matches first when ranked.
#[derive(Debug)]
struct Offers {
    rows: Vec<OfferRow>,
    /// With words: how many rows match in titles (their keys start with `0 `, the rest `1 `).
    title_rows: Option<usize>,
}

/// Offers made for a customer, by customer and filter, answered again while they were made
/// from the same snapshot, the same cached standing of the customer (the same `Arc`: every
/// profile or holdings change replaces it, and the entry holds it, so it is never reused) and
/// the same partner GCC status, for at most `OFFERS_MAX_AGE`: the bound on how late a rule
/// that depends on the time (end of sale, a price's start) is seen. Checkout judges anew.
/// Entries hold the snapshot and the standing weakly: they keep neither alive, and their
/// allocations are not reused while an entry names them.
#[derive(Debug, Default)]
pub(super) struct OfferCache {
    entries: Mutex<HashMap<String, Made>>,
}

#[derive(Debug)]
struct Made {
    catalog: Weak<Catalog>,
    standing: Weak<Standing>,
    gcc: bool,
    at: Instant,
    offers: Arc<Offers>,
}

const OFFERS_MAX_AGE: Duration = Duration::from_secs(1);
/// Entries kept at most; past it the cache starts afresh (a second's worth of customers).
const OFFERS_MAX_ENTRIES: usize = 1024;

impl OfferCache {
    fn get_or_make(
        &self,
        query: &str,
        catalog: &Arc<Catalog>,
        standing: &Arc<Standing>,
        gcc: bool,
        make: impl FnOnce() -> Offers,
    ) -> Arc<Offers> {
        let lock = || self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(made) = lock().get(query).filter(|m| {
            std::ptr::eq(m.catalog.as_ptr(), Arc::as_ptr(catalog))
                && std::ptr::eq(m.standing.as_ptr(), Arc::as_ptr(standing))
                && m.gcc == gcc
                && m.at.elapsed() < OFFERS_MAX_AGE
        }) {
            return made.offers.clone();
        }
        let at = Instant::now();
        // Made without the lock: no other customer waits for this one.
        let offers = Arc::new(make());
        let mut entries = lock();
        if entries.len() >= OFFERS_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            query.to_owned(),
            Made {
                catalog: Arc::downgrade(catalog),
                standing: Arc::downgrade(standing),
                gcc,
                at,
                offers: offers.clone(),
            },
        );
        offers
    }
}

/// A page of offers, and what blocks them all.
#[derive(Debug)]
pub struct OfferPage {
    pub catalog: Arc<Catalog>,
    pub rows: Vec<OfferRow>,
    pub next_page_token: String,
    pub total_size: usize,
    pub customer_problems: Vec<Problem>,
}

impl CatalogService {
    /// What `customer` may buy in its country and segments, narrowed by `filter` (its
    /// country is the customer's; its segment, when set, one of the customer's).
    pub async fn offers(
        &self,
        caller: &Caller,
        customer: CustomerId,
        filter: CatalogFilter,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<OfferPage, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("offers|{customer}|{filter:?}");
        let after = self.tokens.decode(&query, page_token)?;
        let (partner, standing) = self.customers.buyer(caller, customer).await?;
        let catalog = self.snapshot();
        let buyer = self.buyer(&catalog, &partner, &standing, caller);
        let made = self
            .offer_cache
            .get_or_make(&query, &catalog, &standing, partner.gcc, || {
                make_offers(&buyer, &filter)
            });
        let (rows, title_rows) = (&made.rows, made.title_rows);
        let key = |at: usize| -> String {
            let Some((row, (view, _))) = rows.get(at).and_then(|r| Some((r, r.resolve(&catalog)?)))
            else {
                return String::new();
            };
            let key = format!(
                "{} {} {:05} {:05}",
                view.product.id, view.sku.id, row.availability, row.term
            );
            match title_rows {
                Some(titled) => format!("{} {key}", u8::from(at >= titled)),
                None => key,
            }
        };
        let start = after.as_ref().map_or(0, |a| {
            partition_point(rows.len(), |at| key(at).as_str() <= a.as_str())
        });
        let end = rows.len().min(start.saturating_add(limit));
        let next_page_token = if end < rows.len() && end > start {
            self.tokens.encode(&query, &key(end - 1))
        } else {
            String::new()
        };
        Ok(OfferPage {
            rows: rows.get(start..end).unwrap_or_default().to_vec(),
            total_size: rows.len(),
            customer_problems: eligibility::customer_problems(&buyer),
            next_page_token,
            catalog,
        })
    }

    /// The availabilities of one SKU that `customer` may buy (see [`CatalogService::offers`]).
    pub async fn availabilities_for(
        &self,
        caller: &Caller,
        customer: CustomerId,
        product: &ProductId,
        sku: &SkuId,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Availability>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("availabilities|{product}|{sku}|{customer}");
        let after = self.tokens.decode(&query, page_token)?;
        let (partner, standing) = self.customers.buyer(caller, customer).await?;
        let catalog = self.snapshot();
        let view = catalog
            .sku(product, sku)
            .ok_or_else(|| DomainError::not_found("sku", format!("{product}/{sku}")))?;
        let buyer = self.buyer(&catalog, &partner, &standing, caller);
        let items: Vec<Availability> = offered_availabilities(&buyer, view, None)
            .map(|(_, a)| a.clone())
            .collect();
        Ok(super::paginate(
            items,
            after.as_deref(),
            limit,
            |a| format!("{}|{}", a.country, a.segment),
            &self.tokens,
            &query,
        ))
    }
}

/// Every offer for the buyer matching `filter`: title matches first when it has words.
fn make_offers(buyer: &Buyer<'_>, filter: &CatalogFilter) -> Offers {
    let catalog = buyer.catalog;
    let ranked = !filter.words.is_empty();
    let (mut titled, mut rest) = (Vec::new(), Vec::new());
    for position in offered_positions(buyer, filter) {
        let Some(view) = catalog.sku_at(position) else {
            continue;
        };
        let rows = if ranked && catalog.titles_hold(position, &filter.words) {
            &mut titled
        } else {
            &mut rest
        };
        for (a, availability) in offered_availabilities(buyer, view, filter.segment) {
            for t in 0..availability.terms.len() {
                rows.push(OfferRow {
                    sku: u32::try_from(position).unwrap_or(u32::MAX),
                    availability: u16::try_from(a).unwrap_or(u16::MAX),
                    term: u16::try_from(t).unwrap_or(u16::MAX),
                });
            }
        }
    }
    let title_rows = ranked.then_some(titled.len());
    titled.append(&mut rest);
    titled.shrink_to_fit();
    Offers {
        rows: titled,
        title_rows,
    }
}

/// Positions of the SKUs sold in the buyer's country to one of its segments (only `filter`'s
/// when set) that match the rest of `filter`, in (product, SKU) order.
fn offered_positions(buyer: &Buyer<'_>, filter: &CatalogFilter) -> Vec<usize> {
    let segments = buyer.customer.allowed_segments();
    let lists: Vec<Vec<usize>> = segments
        .iter()
        .filter(|s| filter.segment.is_none_or(|wanted| wanted == **s))
        .map(|s| {
            buyer.catalog.matching(&CatalogFilter {
                country: Some(buyer.customer.country),
                segment: Some(*s),
                ..filter.clone()
            })
        })
        .collect();
    match <[_; 1]>::try_from(lists) {
        Ok([one]) => one,
        Err(lists) => {
            let mut all: Vec<usize> = lists.into_iter().flatten().collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    }
}

/// The availabilities of `view` (with their index among its own) offered to the buyer: in
/// its country, in `segment` when set, and passing every offer rule.
fn offered_availabilities<'c>(
    buyer: &'c Buyer<'c>,
    view: SkuView<'c>,
    segment: Option<Segment>,
) -> impl Iterator<Item = (usize, &'c Availability)> + 'c {
    view.availabilities
        .iter()
        .enumerate()
        .filter(move |(_, a)| {
            a.country == buyer.customer.country
                && segment.is_none_or(|s| s == a.segment)
                && eligibility::offered(
                    buyer,
                    &Item {
                        product: view.product,
                        sku: view,
                        availability: a,
                    },
                )
        })
}
