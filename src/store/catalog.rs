//! The monthly catalog: loaded whole into a snapshot (`load`); `month_writer.rs` saves it.

mod load;

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
