//! Two stored months side by side, SKU by SKU: what the diff of a month against the one before
//! reads. The SKU keys of both months (a few thousand) are read once and walked in (product
//! id, SKU id) order, a few SKUs per step; each step reads those SKUs' rows of both months
//! (`availabilities_by_sku`, the prices by their key), so memory holds one step, not a month.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::entity::{availability, availability_price, product, sku, sku_prerequisite};
use super::{Store, corrupt, parse_sku_pairs};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, Month, ProductType, Segment, Sku, Term, TermPrice,
};
use crate::domain::changes::MonthSku;
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

/// SKUs read per step (each with up to one availability per market and segment).
const SKUS_PER_STEP: usize = 8;
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
pub struct SkuPairs {
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
        Ok(SkuPairs {
            store: self.clone(),
            months,
            product_types,
            keys,
            next: 0,
        })
    }
}

impl SkuPairs {
    /// The next few SKUs, in (product id, SKU id) order; `None` when every SKU was given.
    pub async fn next(&mut self) -> Result<Option<Vec<SkuPair>>, DomainError> {
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
