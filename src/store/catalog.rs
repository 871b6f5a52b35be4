//! The monthly catalog: loaded whole into a snapshot (`load`); `month_writer.rs` saves it.

mod load;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

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
}
