//! The monthly catalog: loaded whole into a snapshot (`load`) or from the snapshot file a
//! replica keeps of it (`snapshot_file`); `month_writer.rs` saves it.

mod load;
mod snapshot_file;

pub use snapshot_file::{FORMAT_VERSION, SnapshotFile, SnapshotFileError};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Store;
use super::entity::price_list;
use crate::domain::DomainError;
use crate::domain::catalog::Month;

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

    /// What identifies a stored month's content for a snapshot file: when it was imported
    /// and published, and its revisions. A published month never changes, and importing a
    /// month again sets another `imported_at`, so a file of another database or import of
    /// the month carries another stamp. `None`: no such month.
    pub async fn month_stamp(&self, month: Month) -> Result<Option<String>, DomainError> {
        let row = price_list::Entity::find_by_id(month.to_string())
            .one(self.engine.pool())
            .await?;
        Ok(row.map(|r| {
            let micros = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or_else(|| "-".to_owned(), |t| t.timestamp_micros().to_string())
            };
            let revision = |r: Option<i64>| r.map_or_else(|| "-".to_owned(), |r| r.to_string());
            format!(
                "{} {} imported {} published {} revisions {}..{}",
                r.month,
                r.status,
                micros(Some(r.imported_at)),
                micros(r.published_at),
                revision(r.first_revision),
                revision(r.last_revision),
            )
        }))
    }

    /// The SQLite database's file (`None` on PostgreSQL or in memory).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.engine.sqlite_file()
    }

    /// Every published month, oldest first (a published month is never deleted).
    pub async fn published_months(&self) -> Result<Vec<Month>, DomainError> {
        let rows: Vec<String> = price_list::Entity::find()
            .select_only()
            .column(price_list::Column::Month)
            .filter(price_list::Column::Status.eq(STATUS_PUBLISHED))
            .order_by_asc(price_list::Column::Month)
            .into_tuple()
            .all(self.engine.pool())
            .await?;
        rows.iter().map(|m| Month::parse("month", m)).collect()
    }
}
