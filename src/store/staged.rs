//! A month's diff kept from its preview to its publish. Listing every change of an imported
//! month (the `changes` command) reads both full months, as a publish does; it keeps what it
//! listed here, with what it was computed from: the month then current and the month's import
//! (`price_lists.imported_at`). A publish that finds the same two copies the kept changes into
//! the log inside its transaction (`Publishing::write_staged`) instead of reading both months
//! again, so it publishes exactly what was previewed; anything else (another month published
//! since, the month imported again) and it diffs the months itself. A new import of the month
//! and its publish drop what was kept.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryTrait, Statement,
};

use super::Store;
use super::changes::change_from_row;
use super::engine::{Bulk, Cell, Rows, Table};
use super::entity::{catalog_change, staged_diff};
use crate::domain::DomainError;
use crate::domain::catalog::Month;
use crate::domain::changes::CatalogChange;

/// The kept changes: `catalog_changes`' columns, `revision` being the place in the diff (from 1).
pub(super) const STAGED_CHANGES: Table = Table {
    name: "staged_changes",
    columns: &[
        "revision",
        "month",
        "kind",
        "product_id",
        "sku_id",
        "availability_id",
        "country",
        "segment",
        "product_type",
        "changes",
        "published_at",
    ],
    by_month: None,
};

/// What a month's kept changes were computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagedDiff {
    /// The month current when they were computed.
    pub against: Month,
    /// The import of the month they were computed from.
    pub imported_at: DateTime<Utc>,
    pub changes: u64,
}

impl StagedDiff {
    /// Whether these are the changes of the import of `imported_at` against `current`.
    pub fn is_for(&self, current: Option<Month>, imported_at: Option<DateTime<Utc>>) -> bool {
        current == Some(self.against) && imported_at == Some(self.imported_at)
    }
}

/// What `month`'s kept changes were computed from, read on `db` (a publish's transaction, or
/// the pool).
pub(super) async fn staged_diff_in(
    db: &impl ConnectionTrait,
    month: &str,
) -> Result<Option<StagedDiff>, DomainError> {
    let Some(row) = staged_diff::Entity::find_by_id(month.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(StagedDiff {
        against: Month::parse("against_month", &row.against_month)?,
        imported_at: row.imported_at,
        changes: u64::try_from(row.changes).unwrap_or(0),
    }))
}

/// Deleting `month`'s kept changes: the statements, for any transaction.
pub(super) fn drop_staged(month: &str, backend: DbBackend) -> [Statement; 2] {
    [
        backend.build(
            &Query::delete()
                .from_table(Alias::new(STAGED_CHANGES.name))
                .and_where(Expr::col(Alias::new("month")).eq(month))
                .to_owned(),
        ),
        staged_diff::Entity::delete_many()
            .filter(staged_diff::Column::Month.eq(month))
            .build(backend),
    ]
}

/// A kept change's row: its `revision` is its place in the diff.
fn staged_row(month: &str, at: DateTime<Utc>, c: &CatalogChange, rows: &mut Rows<'_>) {
    // `FieldChange` serializes to a JSON array of plain strings: it cannot fail.
    let fields = serde_json::to_string(&c.fields).unwrap_or_default();
    rows.row(&[
        Cell::Int(c.revision as i64),
        Cell::Text(month),
        Cell::Text(c.kind.as_str()),
        Cell::Text(&c.product_id),
        Cell::Text(&c.sku_id),
        Cell::Text(&c.availability_id),
        Cell::Text(&c.country),
        Cell::Text(c.segment.map_or("", |s| s.as_str())),
        Cell::Text(c.product_type.as_str()),
        Cell::Text(&fields),
        Cell::Time(Some(at)),
    ]);
}

/// A diff being kept: one bulk transaction (and, on SQLite, this process's write turn).
/// Nothing is kept until `commit`.
pub struct Staging {
    bulk: Bulk,
    month: Arc<str>,
    diff: StagedDiff,
    written: i64,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Store {
    /// Begins keeping `month`'s changes, computed against `against` from the import of
    /// `imported_at`, in the place of any kept before.
    pub async fn begin_staging(
        &self,
        month: Month,
        against: Month,
        imported_at: DateTime<Utc>,
    ) -> Result<Staging, DomainError> {
        let m = month.to_string();
        let turn = self.engine.write_turn().await;
        let mut bulk = self.engine.begin_bulk().await?;
        for statement in drop_staged(&m, bulk.backend()) {
            bulk.execute(statement).await?;
        }
        Ok(Staging {
            bulk,
            month: m.into(),
            diff: StagedDiff {
                against,
                imported_at,
                changes: 0,
            },
            written: 0,
            _turn: turn,
        })
    }

    /// What `month`'s kept changes were computed from, if any are kept.
    pub async fn staged_diff(&self, month: Month) -> Result<Option<StagedDiff>, DomainError> {
        staged_diff_in(self.engine.pool(), &month.to_string()).await
    }

    /// `month`'s kept changes after the `after`th, in their order, at most `limit`; each
    /// change's `revision` is its place in the diff.
    pub async fn staged_changes(
        &self,
        month: Month,
        after: u64,
        limit: u64,
    ) -> Result<Vec<CatalogChange>, DomainError> {
        let select = Query::select()
            .columns(STAGED_CHANGES.columns.iter().map(|c| Alias::new(*c)))
            .from(Alias::new(STAGED_CHANGES.name))
            .and_where(Expr::col(Alias::new("month")).eq(month.to_string()))
            .and_where(Expr::col(Alias::new("revision")).gt(after as i64))
            .order_by(Alias::new("revision"), Order::Asc)
            .limit(limit)
            .to_owned();
        let backend = self.engine.pool().get_database_backend();
        catalog_change::Entity::find()
            .from_raw_sql(backend.build(&select))
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(change_from_row)
            .collect()
    }
}

impl Staging {
    /// Keeps the next changes, in their order.
    pub async fn write(&mut self, mut changes: Vec<CatalogChange>) -> Result<(), DomainError> {
        for c in &mut changes {
            self.written += 1;
            c.revision = self.written as u64;
        }
        let (month, at) = (self.month.clone(), self.diff.imported_at);
        let changes: Arc<[CatalogChange]> = changes.into();
        self.bulk
            .insert(&STAGED_CHANGES, changes, move |c, rows| {
                staged_row(&month, at, c, rows)
            })
            .await
    }

    /// Keeps what was written, with what it was computed from.
    pub async fn commit(mut self) -> Result<StagedDiff, DomainError> {
        let diff = StagedDiff {
            changes: self.written as u64,
            ..self.diff
        };
        let header = staged_diff::Entity::insert(staged_diff::ActiveModel {
            month: Set(self.month.to_string()),
            against_month: Set(diff.against.to_string()),
            imported_at: Set(diff.imported_at),
            changes: Set(self.written),
        })
        .build(self.bulk.backend());
        self.bulk.execute(header).await?;
        self.bulk.commit().await?;
        Ok(diff)
    }
}
