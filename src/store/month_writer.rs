//! Writing a month: its rows go in as they are read, inside one bulk transaction
//! (`engine/bulk.rs`: prepared single-row INSERTs on SQLite, COPY on PostgreSQL, on a
//! connection of its own), so an import never holds the month in memory and a refused one
//! leaves nothing.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::Store;
use super::catalog::{STATUS_IMPORTED, STATUS_PUBLISHED};
use super::engine::{Bulk, ByMonth, Cell, Rows, Table};
use super::entity::{price_list, product, sku, sku_prerequisite};
use super::sku_pairs;
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

const AVAILABILITIES: Table = Table {
    name: "availabilities",
    columns: &[
        "month",
        "id",
        "product_id",
        "sku_id",
        "country",
        "segment",
        "currency",
        "end_of_sale",
    ],
    by_month: Some(ByMonth {
        primary_key: &["month", "id"],
        indexes: &[&["month", "product_id", "sku_id"]],
    }),
};

const PRICES: Table = Table {
    name: "availability_prices",
    columns: &[
        "month",
        "availability_id",
        "term",
        "billing_cycle",
        "unit_price_micros",
        "erp_price_micros",
        "effective_start",
        "effective_end",
    ],
    by_month: Some(ByMonth {
        primary_key: &["month", "availability_id", "term", "billing_cycle"],
        indexes: &[],
    }),
};

fn availability_row(month: &str, a: &Availability, rows: &mut Rows<'_>) {
    rows.row(&[
        Cell::Text(month),
        Cell::Text(a.id.as_str()),
        Cell::Text(a.product_id.as_str()),
        Cell::Text(a.sku_id.as_str()),
        Cell::Text(a.country.as_str()),
        Cell::Text(a.segment.as_str()),
        Cell::Text(a.currency.code()),
        Cell::Time(a.end_of_sale),
    ]);
}

fn price_rows(month: &str, a: &Availability, rows: &mut Rows<'_>) {
    for t in a.terms.iter() {
        rows.row(&[
            Cell::Text(month),
            Cell::Text(a.id.as_str()),
            Cell::Text(t.term.as_str()),
            Cell::Text(t.billing_cycle.as_str()),
            Cell::Int(t.unit_price.micros),
            Cell::Int(t.erp_price.micros),
            Cell::Time(Some(t.effective_start)),
            Cell::Time(t.effective_end),
        ]);
    }
}

/// A month being imported: one open bulk transaction (and, on SQLite, this process's write
/// turn). Nothing is visible until `commit`; dropped without it, everything is rolled back.
pub struct MonthWriter {
    bulk: Bulk,
    month: Arc<str>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Store {
    /// Begins storing `month` as imported (not yet published), replacing a previous import of
    /// the same month. A published month cannot be replaced.
    pub async fn begin_month(&self, month: Month) -> Result<MonthWriter, DomainError> {
        let m = month.to_string();
        let turn = self.engine.write_turn().await;
        let mut bulk = self.engine.begin_bulk().await?;
        let backend = bulk.backend();
        // Writing first takes the price list's row lock (PostgreSQL) at once.
        bulk.execute(
            price_list::Entity::update_many()
                .col_expr(
                    price_list::Column::Status,
                    Expr::col(price_list::Column::Status),
                )
                .filter(price_list::Column::Month.eq(&m))
                .build(backend),
        )
        .await?;
        let status = price_list::Entity::find_by_id(m.clone())
            .select_only()
            .column(price_list::Column::Status)
            .build(backend);
        if bulk.query_text(status).await?.as_deref() == Some(STATUS_PUBLISHED) {
            return Err(DomainError::FailedPrecondition {
                message: format!("month {m} is already published and cannot be imported again"),
                violations: vec![crate::domain::error::Precondition {
                    code: "MONTH_ALREADY_PUBLISHED".into(),
                    subject: format!("months/{m}"),
                    description: "a published month is immutable; import the next month".into(),
                }],
            });
        }
        let deletes = [
            price_list::Entity::delete_many()
                .filter(price_list::Column::Month.eq(&m))
                .build(backend),
            product::Entity::delete_many()
                .filter(product::Column::Month.eq(&m))
                .build(backend),
            sku::Entity::delete_many()
                .filter(sku::Column::Month.eq(&m))
                .build(backend),
            sku_prerequisite::Entity::delete_many()
                .filter(sku_prerequisite::Column::Month.eq(&m))
                .build(backend),
        ];
        let staged = super::staged::drop_staged(&m, backend);
        for delete in deletes.into_iter().chain(staged) {
            bulk.execute(delete).await?;
        }
        bulk.replace_month(&AVAILABILITIES, &m).await?;
        bulk.replace_month(&PRICES, &m).await?;
        bulk.execute(
            price_list::Entity::insert(price_list::ActiveModel {
                month: Set(m.clone()),
                status: Set(STATUS_IMPORTED.to_owned()),
                imported_at: Set(Utc::now()),
                published_at: Set(None),
                first_revision: Set(None),
                last_revision: Set(None),
            })
            .build(backend),
        )
        .await?;
        Ok(MonthWriter {
            bulk,
            month: m.into(),
            _turn: turn,
        })
    }

    /// Stores a month's whole catalog in one transaction as imported (not yet published).
    pub async fn save_month(&self, month: Month, data: &CatalogData) -> Result<(), DomainError> {
        let mut writer = self.begin_month(month).await?;
        writer.products(&data.products).await?;
        writer.skus(&data.skus).await?;
        writer.availabilities(data.availabilities.clone()).await?;
        writer.commit().await
    }
}

impl MonthWriter {
    /// `rows` in INSERTs of at most `CHUNK` rows (the few thousand products and SKUs).
    async fn insert_models<A>(&mut self, rows: Vec<A>) -> Result<(), DomainError>
    where
        A: sea_orm::ActiveModelTrait + Send,
    {
        let backend = self.bulk.backend();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
            let statement = <A::Entity as EntityTrait>::insert_many(chunk).build(backend);
            self.bulk.execute(statement).await?;
        }
        Ok(())
    }

    pub async fn products(&mut self, products: &[Product]) -> Result<(), DomainError> {
        let m = self.month.to_string();
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
        self.insert_models(rows.collect()).await
    }

    /// The SKUs and their prerequisites.
    pub async fn skus(&mut self, skus: &[Sku]) -> Result<(), DomainError> {
        let m = self.month.to_string();
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
            conversions: Set(sku_pairs(&s.conversions)),
            concurrent_limit: Set(s.concurrent_limit),
            lifetime_limit: Set(s.lifetime_limit),
        });
        self.insert_models(rows.collect()).await?;
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
        self.insert_models(prerequisites.collect()).await
    }

    /// Availabilities and their prices (one price list's, typically), as bulk rows.
    pub async fn availabilities(
        &mut self,
        availabilities: Vec<Availability>,
    ) -> Result<(), DomainError> {
        let part: Arc<[Availability]> = availabilities.into();
        let month = self.month.clone();
        self.bulk
            .insert(&AVAILABILITIES, part.clone(), move |a, rows| {
                availability_row(&month, a, rows)
            })
            .await?;
        let month = self.month.clone();
        self.bulk
            .insert(&PRICES, part, move |a, rows| price_rows(&month, a, rows))
            .await
    }

    /// Makes the month, whole, visible as imported.
    pub async fn commit(self) -> Result<(), DomainError> {
        self.bulk.commit().await
    }
}
