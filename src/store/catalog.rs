//! The monthly catalog: loaded whole into a snapshot (`month_writer.rs` saves it).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{availability, availability_price, price_list, product, sku, sku_prerequisite};
use super::{Store, corrupt};
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, BillingType, CatalogData, Month, Product, ProductType, Segment,
    Sku, Term, TermPrice,
};
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

pub const STATUS_IMPORTED: &str = "imported";
pub const STATUS_PUBLISHED: &str = "published";

impl Store {
    /// The newest published month.
    pub async fn current_month(&self) -> Result<Option<Month>, DomainError> {
        let row = price_list::Entity::find()
            .filter(price_list::Column::Status.eq(STATUS_PUBLISHED))
            .order_by_desc(price_list::Column::Month)
            .one(self.engine.pool())
            .await?;
        row.map(|r| Month::parse("month", &r.month)).transpose()
    }

    /// Loads a month's whole catalog.
    pub async fn load_month(&self, month: Month) -> Result<CatalogData, DomainError> {
        let m = month.to_string();
        let (products, skus, prerequisites, availabilities, prices) = tokio::try_join!(
            product::Entity::find()
                .filter(product::Column::Month.eq(&m))
                .all(self.engine.pool()),
            sku::Entity::find()
                .filter(sku::Column::Month.eq(&m))
                .all(self.engine.pool()),
            sku_prerequisite::Entity::find()
                .filter(sku_prerequisite::Column::Month.eq(&m))
                .all(self.engine.pool()),
            availability::Entity::find()
                .filter(availability::Column::Month.eq(&m))
                .all(self.engine.pool()),
            availability_price::Entity::find()
                .filter(availability_price::Column::Month.eq(&m))
                .all(self.engine.pool()),
        )?;

        let products = products
            .into_iter()
            .map(|p| {
                Ok(Product {
                    id: ProductId::parse("id", &p.id).map_err(|_| corrupt("product id", &p.id))?,
                    product_type: ProductType::from_db(&p.product_type)?,
                    billing_type: BillingType::from_db(&p.billing_type)?,
                    title: p.title,
                    description: p.description,
                    publisher: p.publisher,
                    category: p.category,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;

        let mut prerequisites_of: HashMap<(String, String), Vec<(ProductId, SkuId)>> =
            HashMap::new();
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
        let skus = skus
            .into_iter()
            .map(|s| {
                let mut prerequisites = prerequisites_of
                    .remove(&(s.product_id.clone(), s.id.clone()))
                    .unwrap_or_default();
                prerequisites.sort();
                Ok(Sku {
                    product_id: ProductId::parse("p", &s.product_id)
                        .map_err(|_| corrupt("product id", &s.product_id))?,
                    id: SkuId::parse("s", &s.id).map_err(|_| corrupt("sku id", &s.id))?,
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
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;

        let mut currencies: HashMap<String, Currency> = HashMap::new();
        let mut terms_of: HashMap<String, Vec<availability_price::Model>> = HashMap::new();
        for p in prices {
            terms_of
                .entry(p.availability_id.clone())
                .or_default()
                .push(p);
        }
        let mut out = Vec::with_capacity(availabilities.len());
        for a in availabilities {
            let currency = match currencies.get(&a.currency) {
                Some(c) => *c,
                None => {
                    let c = Currency::parse("currency", &a.currency)
                        .map_err(|_| corrupt("currency", &a.currency))?;
                    currencies.insert(a.currency.clone(), c);
                    c
                }
            };
            let mut terms = terms_of
                .remove(&a.id)
                .unwrap_or_default()
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
            out.push(Availability {
                id: AvailabilityId::parse("id", &a.id)
                    .map_err(|_| corrupt("availability id", &a.id))?,
                product_id: ProductId::parse("p", &a.product_id)
                    .map_err(|_| corrupt("product id", &a.product_id))?,
                sku_id: SkuId::parse("s", &a.sku_id).map_err(|_| corrupt("sku id", &a.sku_id))?,
                country: CountryCode::parse("c", &a.country)
                    .map_err(|_| corrupt("country", &a.country))?,
                segment: Segment::from_db(&a.segment)?,
                currency,
                terms,
                end_of_sale: a.end_of_sale,
            });
        }
        Ok(CatalogData {
            products,
            skus,
            availabilities: out,
        })
    }
}
