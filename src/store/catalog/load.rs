//! Loading a month: each table streamed once in its stored order (no sort asked of the
//! database), its rows decoded as plain tuples (no entity model per row) straight into the
//! month's data, product and SKU ids shared by every availability that names them, each
//! availability's prices found by its id. Nothing is kept per row but the row itself.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{Stream, TryStreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::super::engine::{Cells, ScanRow};
use super::super::entity::{product, sku, sku_prerequisite};
use super::super::{Store, corrupt, parse_sku_pairs};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, BillingType, CatalogData, Month, Product, ProductType, Segment,
    Sku, Term, TermPrice,
};
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

type ProductRow = (String, String, String, String, String, String, String);
type AvailabilityRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
);
type PriceRow = (
    String,
    String,
    String,
    i64,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

impl Store {
    /// Loads a month's whole catalog: products sorted by id, SKUs by (product, id),
    /// availabilities in their stored order (the snapshot sorts them), each one's prices by
    /// (term, billing cycle).
    pub async fn load_month(&self, month: Month) -> Result<CatalogData, DomainError> {
        let m = month.to_string();
        let db = self.engine.pool();
        let started = std::time::Instant::now();
        let (products, (skus, prerequisites)) = tokio::try_join!(
            async {
                product::Entity::find()
                    .select_only()
                    .columns([
                        product::Column::Id,
                        product::Column::Title,
                        product::Column::Description,
                        product::Column::ProductType,
                        product::Column::Publisher,
                        product::Column::BillingType,
                        product::Column::Category,
                    ])
                    .filter(product::Column::Month.eq(&m))
                    .into_tuple::<ProductRow>()
                    .all(db)
                    .await
                    .map_err(DomainError::from)
            },
            async {
                let prerequisites = sku_prerequisite::Entity::find()
                    .filter(sku_prerequisite::Column::Month.eq(&m))
                    .all(db)
                    .await?;
                // A few thousand: their models are no cost.
                let skus = sku::Entity::find()
                    .filter(sku::Column::Month.eq(&m))
                    .all(db)
                    .await?;
                Ok::<_, DomainError>((skus, prerequisites))
            },
        )?;
        let mut products = products
            .into_iter()
            .map(product_of)
            .collect::<Result<Vec<_>, DomainError>>()?;
        products.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let skus = skus_of(&products, skus, prerequisites)?;
        let skus_read = started.elapsed();

        let rows = self.engine.month_rows::<AvailabilityRow>(
            "availabilities",
            "id, product_id, sku_id, country, segment, currency, end_of_sale",
            &m,
        )?;
        let mut availabilities = availabilities_of(&skus, rows).await?;
        let availabilities_read = started.elapsed();

        let prices = self.engine.month_rows::<PriceRow>(
            "availability_prices",
            "availability_id, term, billing_cycle, unit_price_micros, erp_price_micros, \
             effective_start, effective_end",
            &m,
        )?;
        add_prices(&mut availabilities, prices).await?;
        tracing::info!(
            %month,
            products_and_skus_ms = skus_read.as_millis() as u64,
            availabilities_ms = (availabilities_read - skus_read).as_millis() as u64,
            prices_ms = (started.elapsed() - availabilities_read).as_millis() as u64,
            "catalog month read"
        );
        Ok(CatalogData {
            products,
            skus,
            availabilities,
        })
    }
}

impl ScanRow for AvailabilityRow {
    fn from_cells(row: &impl Cells) -> Result<Self, String> {
        Ok((
            row.text(0)?,
            row.text(1)?,
            row.text(2)?,
            row.text(3)?,
            row.text(4)?,
            row.text(5)?,
            row.time(6)?,
        ))
    }
}

impl ScanRow for PriceRow {
    fn from_cells(row: &impl Cells) -> Result<Self, String> {
        Ok((
            row.text(0)?,
            row.text(1)?,
            row.text(2)?,
            row.int(3)?,
            row.int(4)?,
            row.time(5)?.ok_or("effective_start is NULL")?,
            row.time(6)?,
        ))
    }
}

fn product_of(row: ProductRow) -> Result<Product, DomainError> {
    let (id, title, description, product_type, publisher, billing_type, category) = row;
    Ok(Product {
        id: ProductId::parse("id", &id).map_err(|_| corrupt("product id", &id))?,
        product_type: ProductType::from_db(&product_type)?,
        billing_type: BillingType::from_db(&billing_type)?,
        title,
        description,
        publisher,
        category,
    })
}

/// The SKUs sorted by (product, id), sharing their products' ids (`products` sorted by id).
fn skus_of(
    products: &[Product],
    rows: Vec<sku::Model>,
    prerequisites: Vec<sku_prerequisite::Model>,
) -> Result<Vec<Sku>, DomainError> {
    let mut prerequisites_of: HashMap<(String, String), Vec<(ProductId, SkuId)>> = HashMap::new();
    for r in prerequisites {
        let pair = (
            ProductId::parse("p", &r.prerequisite_product_id)
                .map_err(|_| corrupt("prerequisite", &r.prerequisite_product_id))?,
            SkuId::parse("s", &r.prerequisite_sku_id)
                .map_err(|_| corrupt("prerequisite", &r.prerequisite_sku_id))?,
        );
        prerequisites_of
            .entry((r.product_id, r.sku_id))
            .or_default()
            .push(pair);
    }
    let mut skus = Vec::with_capacity(rows.len());
    for row in rows {
        let sku::Model {
            product_id,
            id,
            title,
            description,
            min_quantity,
            max_quantity,
            is_trial,
            seat_limit,
            seat_limit_type,
            unit_of_measure,
            category,
            is_reservation,
            provisioning_id,
            conversions,
            concurrent_limit,
            lifetime_limit,
            month: _,
        } = row;
        let mut prerequisites = prerequisites_of
            .remove(&(product_id.clone(), id.clone()))
            .unwrap_or_default();
        prerequisites.sort();
        let product_id = match products.binary_search_by(|p| p.id.as_str().cmp(&product_id)) {
            Ok(i) => products[i].id.clone(),
            Err(_) => ProductId::parse("p", &product_id)
                .map_err(|_| corrupt("product id", &product_id))?,
        };
        skus.push(Sku {
            product_id,
            id: SkuId::parse("s", &id).map_err(|_| corrupt("sku id", &id))?,
            title,
            description,
            min_quantity,
            max_quantity,
            is_trial,
            prerequisites,
            seat_limit,
            seat_limit_type,
            unit_of_measure,
            category,
            is_reservation,
            provisioning_id,
            conversions: parse_sku_pairs(&conversions)?,
            concurrent_limit,
            lifetime_limit,
        });
    }
    skus.sort_unstable_by(|a, b| (&a.product_id, &a.id).cmp(&(&b.product_id, &b.id)));
    Ok(skus)
}

/// The availabilities without their prices, sharing their SKUs' ids (`skus` sorted).
async fn availabilities_of(
    skus: &[Sku],
    rows: impl Stream<Item = Result<AvailabilityRow, DomainError>>,
) -> Result<Vec<Availability>, DomainError> {
    let find = |product: &str, sku: &str| {
        skus.binary_search_by(|s| (s.product_id.as_str(), s.id.as_str()).cmp(&(product, sku)))
            .ok()
            .map(|i| (skus[i].product_id.clone(), skus[i].id.clone()))
    };
    let mut out = Vec::new();
    let mut last: Option<(ProductId, SkuId)> = None;
    let mut currencies: Vec<(String, Currency)> = Vec::new();
    let unpriced: Arc<[TermPrice]> = Arc::new([]);
    let mut rows = std::pin::pin!(rows);
    while let Some((id, product_id, sku_id, country, segment, currency, end_of_sale)) =
        rows.try_next().await?
    {
        let ids = match last.take() {
            Some(ids) if ids.0.as_str() == product_id && ids.1.as_str() == sku_id => ids,
            _ => match find(&product_id, &sku_id) {
                Some(ids) => ids,
                // Of no SKU (the store never holds one): the snapshot drops it.
                None => (
                    ProductId::parse("p", &product_id)
                        .map_err(|_| corrupt("product id", &product_id))?,
                    SkuId::parse("s", &sku_id).map_err(|_| corrupt("sku id", &sku_id))?,
                ),
            },
        };
        let currency = match currencies.iter().find(|(code, _)| *code == currency) {
            Some((_, c)) => *c,
            None => {
                let c = Currency::parse("currency", &currency)
                    .map_err(|_| corrupt("currency", &currency))?;
                currencies.push((currency, c));
                c
            }
        };
        out.push(Availability {
            id: AvailabilityId::parse("id", &id).map_err(|_| corrupt("availability id", &id))?,
            product_id: ids.0.clone(),
            sku_id: ids.1.clone(),
            country: CountryCode::parse("c", &country).map_err(|_| corrupt("country", &country))?,
            segment: Segment::from_db(&segment)?,
            currency,
            terms: unpriced.clone(),
            end_of_sale,
        });
        last = Some(ids);
    }
    Ok(out)
}

/// Adds each price to its availability; a price of no availability is dropped, as it was
/// never sold. Prices come grouped by availability, and in the order the availabilities came
/// (both tables are written availability by availability), so each group is normally the next
/// availability: a comparison, no search. Any other order is found by id, through positions
/// sorted by id made the first time one is needed. Each distinct list of prices is kept once.
async fn add_prices(
    availabilities: &mut [Availability],
    rows: impl Stream<Item = Result<PriceRow, DomainError>>,
) -> Result<(), DomainError> {
    let mut rows = std::pin::pin!(rows);
    let mut lists = TermLists::default();
    let mut by_id: Option<Vec<u32>> = None;
    let mut next = 0;
    let mut at: Option<usize> = None;
    let mut group: Vec<TermPrice> = Vec::new();
    while let Some((availability_id, term, billing_cycle, unit, erp, start, end)) =
        rows.try_next().await?
    {
        let same = at.is_some_and(|i| availabilities[i].id.as_str() == availability_id);
        if !same {
            if let Some(i) = at {
                lists.give(&mut availabilities[i], &mut group);
            }
            at = match availabilities.get(next) {
                Some(a) if a.id.as_str() == availability_id => Some(next),
                _ => find(availabilities, &mut by_id, &availability_id),
            };
            if let Some(i) = at {
                next = i + 1;
            }
        }
        let Some(a) = at.map(|i| &availabilities[i]) else {
            continue;
        };
        group.push(TermPrice {
            term: Term::from_db(&term)?,
            billing_cycle: BillingCycle::from_db(&billing_cycle)?,
            unit_price: Money::from_micros(a.currency, unit),
            erp_price: Money::from_micros(a.currency, erp),
            effective_start: start,
            effective_end: end,
        });
    }
    if let Some(i) = at {
        lists.give(&mut availabilities[i], &mut group);
    }
    Ok(())
}

/// The position of the availability with this id, through `by_id` (made on first use).
fn find(availabilities: &[Availability], by_id: &mut Option<Vec<u32>>, id: &str) -> Option<usize> {
    let by_id = by_id.get_or_insert_with(|| {
        let mut positions: Vec<u32> = (0..availabilities.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        positions.sort_unstable_by(|&a, &b| {
            availabilities[a as usize]
                .id
                .cmp(&availabilities[b as usize].id)
        });
        positions
    });
    by_id
        .binary_search_by(|&i| availabilities[i as usize].id.as_str().cmp(id))
        .ok()
        .map(|found| by_id[found] as usize)
}

/// The distinct lists of prices read so far.
#[derive(Default)]
struct TermLists(HashSet<Arc<[TermPrice]>>);

impl TermLists {
    /// Gives `a` the prices of `group` (and any it had, should its rows not have come
    /// together), sorted by (term, billing cycle), as a list shared with every availability
    /// priced the same.
    fn give(&mut self, a: &mut Availability, group: &mut Vec<TermPrice>) {
        group.extend(a.terms.iter().cloned());
        group.sort_by_key(|t| (t.term, t.billing_cycle));
        a.terms = match self.0.get(group.as_slice()) {
            Some(list) => list.clone(),
            None => {
                let list: Arc<[TermPrice]> = group.as_slice().into();
                self.0.insert(list.clone());
                list
            }
        };
        group.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn availability(id: &str) -> Availability {
        Availability {
            id: AvailabilityId::parse("id", id).unwrap(),
            product_id: ProductId::parse("p", "CFQ7TTC0LH18").unwrap(),
            sku_id: SkuId::parse("s", "0001").unwrap(),
            country: CountryCode::parse("c", "DE").unwrap(),
            segment: Segment::Commercial,
            currency: Currency::parse("c", "EUR").unwrap(),
            terms: Arc::new([]),
            end_of_sale: None,
        }
    }

    fn price(id: &str, term: &str, cycle: &str, micros: i64) -> Result<PriceRow, DomainError> {
        let start = DateTime::<Utc>::from_timestamp(1_796_083_200, 0).unwrap();
        let row = (
            id.into(),
            term.into(),
            cycle.into(),
            micros,
            micros,
            start,
            None,
        );
        Ok(row)
    }

    /// The stored order needs no search; any other order is found by id, a group split in two
    /// is joined, a price of no availability is dropped, and equal lists are one list.
    #[tokio::test]
    async fn prices_reach_their_availabilities_in_any_order() {
        let mut availabilities = vec![availability("B1"), availability("A2"), availability("C3")];
        let rows = futures::stream::iter(vec![
            price("B1", "P1Y", "annual", 5),
            price("B1", "P1M", "monthly", 1),
            price("C3", "P1Y", "annual", 5),
            price("ZZ", "P1Y", "annual", 7),
            price("A2", "P1Y", "annual", 9),
            price("C3", "P1M", "monthly", 1),
        ]);
        add_prices(&mut availabilities, rows).await.unwrap();
        let terms = |a: &Availability| {
            a.terms
                .iter()
                .map(|t| (t.term, t.billing_cycle, t.unit_price.micros))
                .collect::<Vec<_>>()
        };
        let both = vec![
            (Term::P1M, BillingCycle::Monthly, 1),
            (Term::P1Y, BillingCycle::Annual, 5),
        ];
        assert_eq!(terms(&availabilities[0]), both);
        assert_eq!(terms(&availabilities[2]), both);
        assert_eq!(
            terms(&availabilities[1]),
            vec![(Term::P1Y, BillingCycle::Annual, 9)]
        );
        assert!(Arc::ptr_eq(
            &availabilities[0].terms,
            &availabilities[2].terms
        ));
    }
}
