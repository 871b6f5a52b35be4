//! Publishing a month: one transaction. The catalog state row is claimed first (the current
//! month set to the new one, only if it is still the month this publish read as current),
//! which serializes publishes across replicas; the change events are then written in batches
//! as the diff makes them, revisions following the last one without a gap; the last revision,
//! the price list's status and the log's compaction commit with them. Nobody sees any of it
//! before the commit.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::catalog::{STATUS_IMPORTED, STATUS_PUBLISHED};
use super::changes::NOTIFY_CHANNEL;
use super::entity::{catalog_change, catalog_state, price_list};
use super::month_writer::insert_chunked;
use super::staged::{STAGED_CHANGES, drop_staged, staged_diff_in};
use super::{Published, Store};
use crate::domain::DomainError;
use crate::domain::catalog::Month;
use crate::domain::changes::CatalogChange;
use crate::domain::error::Precondition;

/// A publish under way: its transaction is open and holds the catalog state row.
pub struct Publishing {
    store: Store,
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    month: String,
    previous: Option<Month>,
    /// When the month being published was imported, as the transaction reads it.
    imported_at: DateTime<Utc>,
    /// The revision before the first this publish writes.
    last_before: i64,
    /// The last revision written so far.
    last: i64,
    now: DateTime<Utc>,
}

/// What starting a publish found.
pub enum PublishStart {
    /// The month is already the current one: nothing to write.
    Done(Published),
    Open(Box<Publishing>),
}

fn not_after(m: &str, current: Month) -> DomainError {
    DomainError::FailedPrecondition {
        message: format!("month {m} is not after the current month {current}"),
        violations: vec![Precondition {
            code: "MONTH_NOT_AFTER_CURRENT".into(),
            subject: format!("months/{m}"),
            description: format!("only a month after {current} can be published"),
        }],
    }
}

/// The month changed under a publish (another month published, or this one imported again,
/// while it was read): nothing was written; publishing again reads it anew.
pub fn concurrent_publish(month: Month) -> DomainError {
    DomainError::Aborted {
        reason: "CONCURRENT_PUBLISH",
        message: format!(
            "the catalog changed while {month} was being published (another month published, \
             or {month} imported again): try again"
        ),
        current_etag: None,
    }
}

impl Store {
    /// Begins making the imported `month` current, or answers what publishing it did if it
    /// already is.
    pub async fn begin_publish(
        &self,
        month: Month,
        now: DateTime<Utc>,
    ) -> Result<PublishStart, DomainError> {
        let m = month.to_string();
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        let state = catalog_state::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| DomainError::Internal("the catalog_state row is missing".into()))?;
        let previous = state
            .current_month
            .as_deref()
            .map(|p| Month::parse("month", p))
            .transpose()?;
        // Claimed only if the current month is still the one just read (another replica may
        // publish in between) and before this one.
        let claimed = match &state.current_month {
            Some(current) if *current < m => {
                catalog_state::Entity::update_many()
                    .col_expr(catalog_state::Column::CurrentMonth, Expr::value(m.clone()))
                    .filter(catalog_state::Column::Id.eq(1))
                    .filter(catalog_state::Column::CurrentMonth.eq(current.clone()))
                    .exec(&txn)
                    .await?
                    .rows_affected
            }
            Some(_) => 0,
            None => {
                catalog_state::Entity::update_many()
                    .col_expr(catalog_state::Column::CurrentMonth, Expr::value(m.clone()))
                    .filter(catalog_state::Column::Id.eq(1))
                    .filter(catalog_state::Column::CurrentMonth.is_null())
                    .exec(&txn)
                    .await?
                    .rows_affected
            }
        };
        let list = price_list::Entity::find_by_id(m.clone()).one(&txn).await?;
        if claimed != 1 {
            drop(txn);
            drop(turn);
            let state = self.catalog_state().await?;
            return match (state.current_month, list) {
                (Some(current), Some(list))
                    if current == month && list.status == STATUS_PUBLISHED =>
                {
                    Ok(PublishStart::Done(Published {
                        first_revision: list.first_revision.unwrap_or(0) as u64,
                        last_revision: list.last_revision.unwrap_or(0) as u64,
                        newly: false,
                    }))
                }
                (Some(current), _) if current >= month => Err(not_after(&m, current)),
                // Another replica published an earlier month in between: try again.
                _ => Err(concurrent_publish(month)),
            };
        }
        let imported_at = match list {
            Some(list) if list.status == STATUS_IMPORTED => list.imported_at,
            _ => return Err(DomainError::not_found("imported month", m)),
        };
        Ok(PublishStart::Open(Box::new(Publishing {
            store: self.clone(),
            txn,
            _turn: turn,
            month: m,
            previous,
            imported_at,
            last_before: state.last_revision,
            last: state.last_revision,
            now,
        })))
    }
}

impl Publishing {
    /// The month current before this publish.
    pub fn previous(&self) -> Option<Month> {
        self.previous
    }

    /// When the month being published was imported.
    pub fn imported_at(&self) -> DateTime<Utc> {
        self.imported_at
    }

    /// Writes the next changes, numbered after the ones written so far.
    pub async fn write(&mut self, changes: &[CatalogChange]) -> Result<(), DomainError> {
        let rows = changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(catalog_change::ActiveModel {
                    revision: Set(self.last + 1 + i as i64),
                    month: Set(self.month.clone()),
                    kind: Set(c.kind.as_str().to_owned()),
                    product_id: Set(c.product_id.clone()),
                    sku_id: Set(c.sku_id.clone()),
                    availability_id: Set(c.availability_id.clone()),
                    country: Set(c.country.clone()),
                    segment: Set(c.segment.map(|s| s.as_str().to_owned()).unwrap_or_default()),
                    product_type: Set(c.product_type.as_str().to_owned()),
                    changes: Set(serde_json::to_string(&c.fields)
                        .map_err(|e| DomainError::Internal(e.to_string()))?),
                    published_at: Set(self.now),
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        insert_chunked(&self.txn, rows, CHUNK).await?;
        self.last += changes.len() as i64;
        Ok(())
    }

    /// Writes the changes kept for this month (`staged.rs`) as the log's next revisions, if
    /// they are this publish's diff: computed against the month current before it, from the
    /// import it publishes. Otherwise writes nothing and answers false.
    pub async fn write_staged(&mut self) -> Result<bool, DomainError> {
        let kept = staged_diff_in(&self.txn, &self.month)
            .await?
            .filter(|k| k.is_for(self.previous, Some(self.imported_at)));
        let Some(kept) = kept else {
            return Ok(false);
        };
        // revision + the last before, then the kept columns as they are, then the time.
        let columns = STAGED_CHANGES.columns;
        let mut select = Query::select();
        select.expr(Expr::col(Alias::new(columns[0])).add(self.last));
        for column in &columns[1..columns.len() - 1] {
            select.column(Alias::new(*column));
        }
        select
            .expr(Expr::value(self.now))
            .from(Alias::new(STAGED_CHANGES.name))
            .and_where(Expr::col(Alias::new("month")).eq(self.month.clone()));
        let insert = Query::insert()
            .into_table(catalog_change::Entity)
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .select_from(select)
            .map_err(|e| DomainError::Internal(format!("copying the kept changes: {e}")))?
            .to_owned();
        let written = self.txn.execute(&insert).await?.rows_affected();
        if written != kept.changes {
            return Err(DomainError::Internal(format!(
                "{} changes kept for {}, {written} copied",
                kept.changes, self.month
            )));
        }
        self.last += kept.changes as i64;
        Ok(true)
    }

    /// Commits the month, its changes and the log's compaction to the `keep_months` newest
    /// published months.
    pub async fn commit(self, keep_months: usize) -> Result<Published, DomainError> {
        let Publishing {
            store,
            txn,
            _turn,
            month: m,
            last_before,
            last,
            now,
            ..
        } = self;
        let first = last_before + 1;
        catalog_state::Entity::update_many()
            .col_expr(catalog_state::Column::LastRevision, Expr::value(last))
            .filter(catalog_state::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        price_list::Entity::update_many()
            .col_expr(price_list::Column::Status, Expr::value(STATUS_PUBLISHED))
            .col_expr(price_list::Column::PublishedAt, Expr::value(now))
            .col_expr(price_list::Column::FirstRevision, Expr::value(first))
            .col_expr(price_list::Column::LastRevision, Expr::value(last))
            .filter(price_list::Column::Month.eq(m.clone()))
            .exec(&txn)
            .await?;
        // Keep the log of the `keep_months` newest published months.
        let kept: Vec<String> = price_list::Entity::find()
            .filter(price_list::Column::Status.eq(STATUS_PUBLISHED))
            .order_by_desc(price_list::Column::Month)
            .limit(keep_months.max(1) as u64)
            .all(&txn)
            .await?
            .into_iter()
            .map(|p| p.month)
            .collect();
        if let Some(oldest_kept) = kept.last() {
            catalog_change::Entity::delete_many()
                .filter(catalog_change::Column::Month.lt(oldest_kept.clone()))
                .exec(&txn)
                .await?;
        }
        for statement in drop_staged(&m, txn.get_database_backend()) {
            txn.execute_raw(statement).await?;
        }
        store
            .engine
            .notify_in(&txn, NOTIFY_CHANNEL, &last.to_string())
            .await?;
        txn.commit().await?;
        Ok(Published {
            first_revision: first as u64,
            last_revision: last as u64,
            newly: true,
        })
    }
}

/// Change rows per INSERT (11 columns).
const CHUNK: usize = 500;
