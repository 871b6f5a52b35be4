//! Two stored months side by side, SKU by SKU: what the diff of a month against the one before
//! reads, walked in (product id, SKU id) order, a few SKUs per step. Two ways, giving the same
//! pairs:
//! - **stepwise** (`Store::sku_pairs`, a page of ListMonthChanges): the SKU keys of both months
//!   (a few thousand) are read once; each step reads its SKUs' rows of both months
//!   (`availabilities_by_sku`, the prices by their key), so memory holds one step. Each row is
//!   a seek: a whole full-size month this way took minutes.
//! - **whole** (`Store::month_pairs`, the `changes` command and a publish): each month is read
//!   once as a snapshot load reads it (`load_month`: every table streamed in its stored order,
//!   ids and equal price lists shared, ~200 B an availability), its availabilities sorted by
//!   (product, SKU, id) in memory, and the walk hands out slices of both.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::entity::{availability, availability_price, product, sku, sku_prerequisite};
use super::{Store, corrupt, parse_sku_pairs};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, CatalogData, Month, ProductType, Segment, Sku, Term, TermPrice,
};
use crate::domain::changes::MonthSku;
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

/// SKUs read per step (each with up to one availability per market and segment).
const SKUS_PER_STEP: usize = 8;
/// SKUs handed out per step of a walk over two whole months (already in memory).
const SKUS_PER_WHOLE_STEP: usize = 64;
/// Availability ids per price query: well under both backends' bound-parameter limits.
const IDS_PER_QUERY: usize = 1000;

type SkuKey = (String, String);

/// One SKU in the month before (`old`) and the new month (`new`); `None` where it is absent.
#[derive(Debug)]
pub struct SkuPair {
    pub old: Option<MonthSku>,
    pub new: Option<MonthSku>,
}

/// The walk over two months' SKUs.
pub struct SkuPairs(Walk);

enum Walk {
    Stepwise(Box<Stepwise>),
    Whole(Box<Whole>),
}

/// Reads each step's SKUs from the store.
struct Stepwise {
    store: Store,
    months: [String; 2],
    product_types: [HashMap<String, ProductType>; 2],
    keys: Vec<SkuKey>,
    next: usize,
}

impl Store {
    /// `old` and `new` side by side, from the SKU (`product id`, `SKU id`) `from` on.
    pub async fn sku_pairs(
        &self,
        old: Month,
        new: Month,
        from: Option<(String, String)>,
    ) -> Result<SkuPairs, DomainError> {
        let months = [old.to_string(), new.to_string()];
        let mut keys = BTreeSet::new();
        let mut product_types = [HashMap::new(), HashMap::new()];
        for (m, types) in months.iter().zip(product_types.iter_mut()) {
            let skus: Vec<SkuKey> = sku::Entity::find()
                .select_only()
                .column(sku::Column::ProductId)
                .column(sku::Column::Id)
                .filter(sku::Column::Month.eq(m))
                .into_tuple()
                .all(self.engine.pool())
                .await?;
            keys.extend(skus);
            let products: Vec<(String, String)> = product::Entity::find()
                .select_only()
                .column(product::Column::Id)
                .column(product::Column::ProductType)
                .filter(product::Column::Month.eq(m))
                .into_tuple()
                .all(self.engine.pool())
                .await?;
            for (id, kind) in products {
                types.insert(id, ProductType::from_db(&kind)?);
            }
        }
        let keys = match from {
            Some(from) => keys.split_off(&from).into_iter().collect(),
            None => keys.into_iter().collect(),
        };
        Ok(SkuPairs(Walk::Stepwise(Box::new(Stepwise {
            store: self.clone(),
            months,
            product_types,
            keys,
            next: 0,
        }))))
    }

    /// `old` and `new` side by side, each month read whole into memory first (both at once).
    pub async fn month_pairs(&self, old: Month, new: Month) -> Result<SkuPairs, DomainError> {
        let started = std::time::Instant::now();
        let (old, new) = tokio::try_join!(self.load_month(old), self.load_month(new))?;
        let read = started.elapsed();
        // Sorting a million availabilities: off the async workers.
        let whole = tokio::task::spawn_blocking(move || Whole::new([old, new]))
            .await
            .map_err(|e| DomainError::Internal(format!("sorting the months: {e}")))?;
        tracing::info!(
            read_ms = read.as_millis() as u64,
            sort_ms = (started.elapsed() - read).as_millis() as u64,
            skus = whole.keys.len(),
            "months read for their diff"
        );
        Ok(SkuPairs(Walk::Whole(Box::new(whole))))
    }
}

impl SkuPairs {
    /// The next few SKUs, in (product id, SKU id) order; `None` when every SKU was given.
    pub async fn next(&mut self) -> Result<Option<Vec<SkuPair>>, DomainError> {
        match &mut self.0 {
            Walk::Stepwise(walk) => walk.next().await,
            Walk::Whole(walk) => walk.next(),
        }
    }
}

/// Two months in memory, each one's SKUs sorted by (product, id) and its availabilities by
/// (product, SKU, id).
struct Whole {
    months: [CatalogData; 2],
    /// Every SKU of either month, in order: (month, position in its SKUs) of each side.
    keys: Vec<[Option<usize>; 2]>,
    /// Per month, where the next SKU's availabilities may begin.
    cursors: [usize; 2],
    next: usize,
}

fn sku_order(a: &Sku, b: &Sku) -> Ordering {
    (a.product_id.as_str(), a.id.as_str()).cmp(&(b.product_id.as_str(), b.id.as_str()))
}

/// Where `a` falls against the SKU `s`.
fn availability_order(a: &Availability, s: &Sku) -> Ordering {
    (a.product_id.as_str(), a.sku_id.as_str()).cmp(&(s.product_id.as_str(), s.id.as_str()))
}

impl Whole {
    fn new(mut months: [CatalogData; 2]) -> Self {
        for m in &mut months {
            m.products
                .sort_unstable_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
            m.skus.sort_unstable_by(sku_order);
            m.availabilities.sort_unstable_by(|a, b| {
                (a.product_id.as_str(), a.sku_id.as_str(), a.id.as_str()).cmp(&(
                    b.product_id.as_str(),
                    b.sku_id.as_str(),
                    b.id.as_str(),
                ))
            });
        }
        // Both SKU lists merged.
        let [old, new] = [&months[0].skus, &months[1].skus];
        let mut keys = Vec::with_capacity(old.len().max(new.len()));
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            let order = match (old.get(i), new.get(j)) {
                (Some(o), Some(n)) => sku_order(o, n),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            keys.push(match order {
                Ordering::Less => [Some(i), None],
                Ordering::Greater => [None, Some(j)],
                Ordering::Equal => [Some(i), Some(j)],
            });
            if order != Ordering::Greater {
                i += 1;
            }
            if order != Ordering::Less {
                j += 1;
            }
        }
        Whole {
            months,
            keys,
            cursors: [0, 0],
            next: 0,
        }
    }

    fn next(&mut self) -> Result<Option<Vec<SkuPair>>, DomainError> {
        if self.next >= self.keys.len() {
            return Ok(None);
        }
        let end = (self.next + SKUS_PER_WHOLE_STEP).min(self.keys.len());
        let mut step = Vec::with_capacity(end - self.next);
        for k in self.next..end {
            let [old, new] = self.keys[k];
            step.push(SkuPair {
                old: old.map(|i| self.sku(0, i)).transpose()?,
                new: new.map(|i| self.sku(1, i)).transpose()?,
            });
        }
        self.next = end;
        Ok(Some(step))
    }

    /// The SKU at `position` of month `side`, with its product's type and its availabilities
    /// (taken from that month's cursor on: SKUs are asked for in order).
    fn sku(&mut self, side: usize, position: usize) -> Result<MonthSku, DomainError> {
        let month = &self.months[side];
        let sku = &month.skus[position];
        let product = month
            .products
            .binary_search_by(|p| p.id.as_str().cmp(sku.product_id.as_str()))
            .map_err(|_| corrupt("SKU's product", sku.product_id.as_str()))?;
        let all = &month.availabilities;
        let mut from = self.cursors[side];
        // Availabilities of no SKU (the store never holds one) are passed over.
        while from < all.len() && availability_order(&all[from], sku) == Ordering::Less {
            from += 1;
        }
        let mut to = from;
        while to < all.len() && availability_order(&all[to], sku) == Ordering::Equal {
            to += 1;
        }
        self.cursors[side] = to;
        Ok(MonthSku {
            sku: sku.clone(),
            product_type: month.products[product].product_type,
            availabilities: all[from..to].to_vec(),
        })
    }
}

impl Stepwise {
    /// The next few SKUs, in (product id, SKU id) order; `None` when every SKU was given.
    async fn next(&mut self) -> Result<Option<Vec<SkuPair>>, DomainError> {
        if self.next >= self.keys.len() {
            return Ok(None);
        }
        let end = (self.next + SKUS_PER_STEP).min(self.keys.len());
        let step = &self.keys[self.next..end];
        self.next = end;
        let mut old = self.read(0, step).await?;
        let mut new = self.read(1, step).await?;
        Ok(Some(
            step.iter()
                .map(|key| SkuPair {
                    old: old.remove(key),
                    new: new.remove(key),
                })
                .collect(),
        ))
    }

    /// Month `side`'s rows of the SKUs `step`.
    async fn read(
        &self,
        side: usize,
        step: &[SkuKey],
    ) -> Result<HashMap<SkuKey, MonthSku>, DomainError> {
        let db = self.store.engine.pool();
        let m = &self.months[side];
        // The step's product ids and SKU ids, each a list: every condition is then one index
        // lookup per value (an OR of (product, SKU) pairs is a scan of the month's rows on
        // both backends). The lists may name a few more SKUs than the step's (another SKU of
        // one of its products): the caller takes only the step's.
        let products: BTreeSet<&str> = step.iter().map(|(p, _)| p.as_str()).collect();
        let skus: BTreeSet<&str> = step.iter().map(|(_, s)| s.as_str()).collect();
        let sku_rows = sku::Entity::find()
            .filter(sku::Column::Month.eq(m))
            .filter(sku::Column::ProductId.is_in(products.iter().copied()))
            .filter(sku::Column::Id.is_in(skus.iter().copied()))
            .all(db)
            .await?;
        if sku_rows.is_empty() {
            return Ok(HashMap::new());
        }
        let prerequisite_rows = sku_prerequisite::Entity::find()
            .filter(sku_prerequisite::Column::Month.eq(m))
            .filter(sku_prerequisite::Column::ProductId.is_in(products.iter().copied()))
            .filter(sku_prerequisite::Column::SkuId.is_in(skus.iter().copied()))
            .all(db)
            .await?;
        let availability_rows = availability::Entity::find()
            .filter(availability::Column::Month.eq(m))
            .filter(availability::Column::ProductId.is_in(products.iter().copied()))
            .filter(availability::Column::SkuId.is_in(skus.iter().copied()))
            .all(db)
            .await?;
        let mut prices: HashMap<String, Vec<availability_price::Model>> = HashMap::new();
        for ids in availability_rows.chunks(IDS_PER_QUERY) {
            let rows = availability_price::Entity::find()
                .filter(availability_price::Column::Month.eq(m))
                .filter(availability_price::Column::AvailabilityId.is_in(ids.iter().map(|a| &a.id)))
                .all(db)
                .await?;
            for row in rows {
                prices
                    .entry(row.availability_id.clone())
                    .or_default()
                    .push(row);
            }
        }

        let mut prerequisites: HashMap<SkuKey, Vec<(ProductId, SkuId)>> = HashMap::new();
        for r in prerequisite_rows {
            prerequisites
                .entry((r.product_id, r.sku_id))
                .or_default()
                .push((
                    parse_product(&r.prerequisite_product_id)?,
                    parse_sku(&r.prerequisite_sku_id)?,
                ));
        }
        let mut availabilities: HashMap<SkuKey, Vec<Availability>> = HashMap::new();
        for a in availability_rows {
            let terms = prices.remove(&a.id).unwrap_or_default();
            availabilities
                .entry((a.product_id.clone(), a.sku_id.clone()))
                .or_default()
                .push(availability_from_rows(a, terms)?);
        }
        let mut out = HashMap::with_capacity(sku_rows.len());
        for s in sku_rows {
            let key = (s.product_id.clone(), s.id.clone());
            let product_type = *self.product_types[side]
                .get(&s.product_id)
                .ok_or_else(|| corrupt("SKU's product", &s.product_id))?;
            let mut prerequisites = prerequisites.remove(&key).unwrap_or_default();
            prerequisites.sort();
            let sku = Sku {
                product_id: parse_product(&s.product_id)?,
                id: parse_sku(&s.id)?,
                title: s.title,
                description: s.description,
                min_quantity: s.min_quantity,
                max_quantity: s.max_quantity,
                is_trial: s.is_trial,
                prerequisites,
                seat_limit: s.seat_limit,
                seat_limit_type: s.seat_limit_type,
                unit_of_measure: s.unit_of_measure,
                category: s.category,
                is_reservation: s.is_reservation,
                provisioning_id: s.provisioning_id,
                conversions: parse_sku_pairs(&s.conversions)?,
                concurrent_limit: s.concurrent_limit,
                lifetime_limit: s.lifetime_limit,
            };
            let availabilities = availabilities.remove(&key).unwrap_or_default();
            out.insert(
                key,
                MonthSku {
                    sku,
                    product_type,
                    availabilities,
                },
            );
        }
        Ok(out)
    }
}

fn parse_product(id: &str) -> Result<ProductId, DomainError> {
    ProductId::parse("product_id", id).map_err(|_| corrupt("product id", id))
}

fn parse_sku(id: &str) -> Result<SkuId, DomainError> {
    SkuId::parse("sku_id", id).map_err(|_| corrupt("sku id", id))
}

fn availability_from_rows(
    a: availability::Model,
    prices: Vec<availability_price::Model>,
) -> Result<Availability, DomainError> {
    let currency =
        Currency::parse("currency", &a.currency).map_err(|_| corrupt("currency", &a.currency))?;
    let mut terms = prices
        .into_iter()
        .map(|t| {
            Ok(TermPrice {
                term: Term::from_db(&t.term)?,
                billing_cycle: BillingCycle::from_db(&t.billing_cycle)?,
                unit_price: Money::from_micros(currency, t.unit_price_micros),
                erp_price: Money::from_micros(currency, t.erp_price_micros),
                effective_start: t.effective_start,
                effective_end: t.effective_end,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    terms.sort_by_key(|t| (t.term, t.billing_cycle));
    Ok(Availability {
        id: AvailabilityId::parse("id", &a.id).map_err(|_| corrupt("availability id", &a.id))?,
        product_id: parse_product(&a.product_id)?,
        sku_id: parse_sku(&a.sku_id)?,
        country: CountryCode::parse("country", &a.country)
            .map_err(|_| corrupt("country", &a.country))?,
        segment: Segment::from_db(&a.segment)?,
        currency,
        terms: terms.into(),
        end_of_sale: a.end_of_sale,
    })
}
