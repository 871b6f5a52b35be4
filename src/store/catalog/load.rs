//! Loading a month: each table streamed once in its stored order (no sort asked of the
//! database), its rows decoded as plain tuples (no entity model per row) straight into the
//! month's data, product and SKU ids shared by every availability that names them, each
//! availability's prices found by its id. Nothing is kept per row but the row itself.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{Stream, TryStreamExt};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::super::entity::{availability, availability_price, product, sku, sku_prerequisite};
use super::super::{Store, corrupt};
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
    /// availabilities by (product, SKU) then id, each one's prices by (term, billing cycle).
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

        let rows = availability::Entity::find()
            .select_only()
            .columns([
                availability::Column::Id,
                availability::Column::ProductId,
                availability::Column::SkuId,
                availability::Column::Country,
                availability::Column::Segment,
                availability::Column::Currency,
                availability::Column::EndOfSale,
            ])
            .filter(availability::Column::Month.eq(&m))
            .into_tuple::<AvailabilityRow>()
            .stream(db)
            .await?;
        let mut availabilities = availabilities_of(&skus, rows).await?;
        availabilities.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let availabilities_read = started.elapsed();

        let prices = availability_price::Entity::find()
            .select_only()
            .columns([
                availability_price::Column::AvailabilityId,
                availability_price::Column::Term,
                availability_price::Column::BillingCycle,
                availability_price::Column::UnitPriceMicros,
                availability_price::Column::ErpPriceMicros,
                availability_price::Column::EffectiveStart,
                availability_price::Column::EffectiveEnd,
            ])
            .filter(availability_price::Column::Month.eq(&m))
            .into_tuple::<PriceRow>()
            .stream(db)
            .await?;
        add_prices(&mut availabilities, prices).await?;
        // A stable sort: by id within each SKU.
        availabilities.sort_by(|a, b| (&a.product_id, &a.sku_id).cmp(&(&b.product_id, &b.sku_id)));
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
        });
    }
    skus.sort_unstable_by(|a, b| (&a.product_id, &a.id).cmp(&(&b.product_id, &b.id)));
    Ok(skus)
}

/// The availabilities without their prices, sharing their SKUs' ids (`skus` sorted).
async fn availabilities_of(
    skus: &[Sku],
    rows: impl Stream<Item = Result<AvailabilityRow, DbErr>>,
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

/// Adds each price to its availability (`availabilities` sorted by id); a price of no
/// availability is dropped, as it was never sold. Prices come grouped by availability (the
/// stored order), so each group is looked up once; each distinct list of prices is kept once.
async fn add_prices(
    availabilities: &mut [Availability],
    rows: impl Stream<Item = Result<PriceRow, DbErr>>,
) -> Result<(), DomainError> {
    let mut rows = std::pin::pin!(rows);
    let mut lists = TermLists::default();
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
            at = availabilities
                .binary_search_by(|a| a.id.as_str().cmp(&availability_id))
                .ok();
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
