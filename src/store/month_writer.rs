//! Writing a month: its rows go in as they are read, in multi-row INSERTs inside one
//! transaction, so an import never holds the month in memory and a refused one leaves nothing.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
};

use super::Store;
use super::catalog::{STATUS_IMPORTED, STATUS_PUBLISHED};
use super::entity::{availability, availability_price, price_list, product, sku, sku_prerequisite};
use crate::domain::DomainError;
use crate::domain::catalog::{Availability, CatalogData, Month, Product, Sku};

/// Rows per INSERT: well under SQLite's 32,766 bound parameters for the widest table (8
/// columns), and large enough that a statement's round trip is shared by many rows.
const CHUNK: usize = 1000;

/// Inserts `rows` in INSERTs of at most `chunk` rows each (a bound on bound parameters).
pub(super) async fn insert_chunked<A, C>(
    db: &C,
    rows: Vec<A>,
    chunk: usize,
) -> Result<(), DomainError>
where
    A: sea_orm::ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(chunk).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// A month being imported: one open transaction (and, on SQLite, this process's write turn).
/// Nothing is visible until `commit`; dropped without it, everything is rolled back.
pub struct MonthWriter {
    txn: DatabaseTransaction,
    month: String,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Store {
    /// Begins storing `month` as imported (not yet published), replacing a previous import of
    /// the same month. A published month cannot be replaced.
    pub async fn begin_month(&self, month: Month) -> Result<MonthWriter, DomainError> {
        let m = month.to_string();
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        // Writing first takes SQLite's write lock at once.
        price_list::Entity::update_many()
            .col_expr(
                price_list::Column::Status,
                Expr::col(price_list::Column::Status),
            )
            .filter(price_list::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        if let Some(existing) = price_list::Entity::find_by_id(m.clone()).one(&txn).await?
            && existing.status == STATUS_PUBLISHED
        {
            return Err(DomainError::FailedPrecondition {
                message: format!("month {m} is already published and cannot be imported again"),
                violations: vec![crate::domain::error::Precondition {
                    code: "MONTH_ALREADY_PUBLISHED".into(),
                    subject: format!("months/{m}"),
                    description: "a published month is immutable; import the next month".into(),
                }],
            });
        }
        price_list::Entity::delete_many()
            .filter(price_list::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        product::Entity::delete_many()
            .filter(product::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        sku::Entity::delete_many()
            .filter(sku::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        sku_prerequisite::Entity::delete_many()
            .filter(sku_prerequisite::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        availability::Entity::delete_many()
            .filter(availability::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        availability_price::Entity::delete_many()
            .filter(availability_price::Column::Month.eq(&m))
            .exec(&txn)
            .await?;
        price_list::Entity::insert(price_list::ActiveModel {
            month: Set(m.clone()),
            status: Set(STATUS_IMPORTED.to_owned()),
            imported_at: Set(Utc::now()),
            published_at: Set(None),
            first_revision: Set(None),
            last_revision: Set(None),
        })
        .exec(&txn)
        .await?;
        Ok(MonthWriter {
            txn,
            month: m,
            _turn: turn,
        })
    }

    /// Stores a month's whole catalog in one transaction as imported (not yet published).
    pub async fn save_month(&self, month: Month, data: &CatalogData) -> Result<(), DomainError> {
        let writer = self.begin_month(month).await?;
        writer.products(&data.products).await?;
        writer.skus(&data.skus).await?;
        writer.availabilities(&data.availabilities).await?;
        writer.commit().await
    }
}

impl MonthWriter {
    pub async fn products(&self, products: &[Product]) -> Result<(), DomainError> {
        let m = &self.month;
        let rows = products.iter().map(|p| product::ActiveModel {
            month: Set(m.clone()),
            id: Set(p.id.to_string()),
            title: Set(p.title.clone()),
            description: Set(p.description.clone()),
            product_type: Set(p.product_type.as_str().to_owned()),
            publisher: Set(p.publisher.clone()),
            billing_type: Set(p.billing_type.as_str().to_owned()),
            category: Set(p.category.clone()),
        });
        insert_chunked(&self.txn, rows.collect(), CHUNK).await
    }

    /// The SKUs and their prerequisites.
    pub async fn skus(&self, skus: &[Sku]) -> Result<(), DomainError> {
        let m = &self.month;
        let rows = skus.iter().map(|s| sku::ActiveModel {
            month: Set(m.clone()),
            product_id: Set(s.product_id.to_string()),
            id: Set(s.id.to_string()),
            title: Set(s.title.clone()),
            description: Set(s.description.clone()),
            min_quantity: Set(s.min_quantity),
            max_quantity: Set(s.max_quantity),
            is_trial: Set(s.is_trial),
            seat_limit: Set(s.seat_limit),
            seat_limit_type: Set(s.seat_limit_type.clone()),
            unit_of_measure: Set(s.unit_of_measure.clone()),
            category: Set(s.category.clone()),
            is_reservation: Set(s.is_reservation),
            provisioning_id: Set(s.provisioning_id.clone()),
        });
        insert_chunked(&self.txn, rows.collect(), CHUNK).await?;
        let prerequisites = skus.iter().flat_map(|s| {
            s.prerequisites
                .iter()
                .map(|(p, k)| sku_prerequisite::ActiveModel {
                    month: Set(m.clone()),
                    product_id: Set(s.product_id.to_string()),
                    sku_id: Set(s.id.to_string()),
                    prerequisite_product_id: Set(p.to_string()),
                    prerequisite_sku_id: Set(k.to_string()),
                })
        });
        insert_chunked(&self.txn, prerequisites.collect(), CHUNK).await
    }

    /// Availabilities and their prices.
    pub async fn availabilities(&self, availabilities: &[Availability]) -> Result<(), DomainError> {
        let m = &self.month;
        let rows = availabilities.iter().map(|a| availability::ActiveModel {
            month: Set(m.clone()),
            id: Set(a.id.to_string()),
            product_id: Set(a.product_id.to_string()),
            sku_id: Set(a.sku_id.to_string()),
            country: Set(a.country.to_string()),
            segment: Set(a.segment.as_str().to_owned()),
            currency: Set(a.currency.code().to_owned()),
            end_of_sale: Set(a.end_of_sale),
        });
        insert_chunked(&self.txn, rows.collect(), CHUNK).await?;
        let prices = availabilities.iter().flat_map(|a| {
            a.terms.iter().map(|t| availability_price::ActiveModel {
                month: Set(m.clone()),
                availability_id: Set(a.id.to_string()),
                term: Set(t.term.as_str().to_owned()),
                billing_cycle: Set(t.billing_cycle.as_str().to_owned()),
                unit_price_micros: Set(t.unit_price.micros),
                erp_price_micros: Set(t.erp_price.micros),
                effective_start: Set(t.effective_start),
                effective_end: Set(t.effective_end),
            })
        });
        insert_chunked(&self.txn, prices.collect(), CHUNK).await
    }

    /// Makes the month, whole, visible as imported.
    pub async fn commit(self) -> Result<(), DomainError> {
        self.txn.commit().await?;
        Ok(())
    }
}
