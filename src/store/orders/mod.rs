//! Orders and subscriptions: checkout's write (`checkout.rs`), what a customer holds
//! (`holdings.rs`), reads, cancellation (`lifecycle.rs`), the record of every change
//! (`transactions.rs`) and provisioning.

mod checkout;
mod conversion;
pub mod events;
mod holdings;
mod lifecycle;
mod quantity;
mod renewals;
mod rows;
mod transactions;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use super::Store;
use super::engine::{GuardedWrite, Outcome};
use super::entity::{order, order_line, subscription};
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, OrderId, PartnerId, SubscriptionId};
use crate::domain::order::{Order, OrderFilter, OrderStatus, Subscription, SubscriptionFilter};
use rows::{load_order, order_from_rows, subscription_from_row, transactions_of_orders};

pub use checkout::{Placement, PlannedOrder, Refusal};
pub use holdings::CustomerHoldings;
use holdings::holdings_at;
pub(super) use holdings::read_holdings;
pub use lifecycle::{Cancellation, Recorded};
pub use quantity::change_resource;
pub use renewals::{Held, TermEndsWritten};

impl Store {
    /// What customer `id` of `partner` holds, read now with its `holdings_version`; `None` if
    /// there is no such customer.
    pub async fn holdings(
        &self,
        partner: PartnerId,
        id: CustomerId,
    ) -> Result<Option<CustomerHoldings>, DomainError> {
        holdings_at(&self.engine.direct(), Some(partner), id).await
    }

    pub async fn order(
        &self,
        partner: PartnerId,
        id: OrderId,
    ) -> Result<Option<Order>, DomainError> {
        load_order(self.engine.pool(), partner, id).await
    }

    /// A customer's orders, newest first, optionally by status and creation time, after the
    /// `(created_at, id)` key of the previous page.
    pub async fn list_orders(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        filter: &OrderFilter,
        after: Option<(DateTime<Utc>, String)>,
        limit: u64,
    ) -> Result<Vec<Order>, DomainError> {
        let OrderFilter { status, from, to } = *filter;
        let mut query = order::Entity::find()
            .filter(order::Column::PartnerId.eq(partner.to_string()))
            .filter(order::Column::CustomerId.eq(customer.to_string()))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(order::Column::Status.eq(status.as_str()));
        }
        if let Some(from) = from {
            query = query.filter(order::Column::CreatedAt.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(order::Column::CreatedAt.lt(to));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                Expr::col(order::Column::CreatedAt)
                    .lt(at)
                    .or(Expr::col(order::Column::CreatedAt)
                        .eq(at)
                        .and(Expr::col(order::Column::Id).lt(id))),
            );
        }
        let rows = query.all(self.engine.pool()).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.is_in(ids.clone()))
            .order_by_asc(order_line::Column::LineNumber)
            .all(self.engine.pool())
            .await?;
        let mut transactions = transactions_of_orders(self.engine.pool(), ids).await?;
        rows.into_iter()
            .map(|row| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    lines.drain(..).partition(|l| l.order_id == row.id);
                lines = rest;
                let (recorded, rest): (Vec<_>, Vec<_>) =
                    transactions.drain(..).partition(|t| t.order_id == row.id);
                transactions = rest;
                order_from_rows(row, mine, recorded)
            })
            .collect()
    }

    /// Marks pending orders whose subscriptions exist as completed; returns how many. A guarded
    /// write, as every hot write: on SQLite a commit on another connection than the writer's
    /// would empty the writer's page cache (SQLite drops it when the file changed under it),
    /// ten times a second under the provisioning loop.
    pub async fn complete_pending_orders(&self, limit: u64) -> Result<u64, DomainError> {
        let pending: Vec<String> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()))
            .order_by_asc(order::Column::CreatedAt)
            .limit(limit)
            .into_tuple()
            .all(&self.engine.direct())
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let count = pending.len() as u64;
        let update = order::Entity::update_many()
            .col_expr(
                order::Column::Status,
                Expr::value(OrderStatus::Completed.as_str()),
            )
            .col_expr(
                order::Column::Version,
                Expr::col(order::Column::Version).add(1),
            )
            .filter(order::Column::Id.is_in(pending))
            .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()));
        // All of them or none: an order cancelled meanwhile leaves the rest to the next pass
        // (on PostgreSQL, one statement, what it completed stands, and the answer is 0).
        let mut write = GuardedWrite::default();
        write.update(update.into_query(), count);
        Ok(match self.engine.write(write).await? {
            Outcome::Written => count,
            Outcome::Refused => 0,
        })
    }

    pub async fn subscription(
        &self,
        partner: PartnerId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, DomainError> {
        subscription::Entity::find_by_id(id.to_string())
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .one(self.engine.pool())
            .await?
            .map(subscription_from_row)
            .transpose()
    }

    pub async fn list_subscriptions(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        filter: &SubscriptionFilter,
        after: Option<SubscriptionId>,
        limit: u64,
    ) -> Result<Vec<Subscription>, DomainError> {
        let SubscriptionFilter {
            status,
            product,
            parent,
        } = filter.clone();
        let mut query = subscription::Entity::find()
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription::Column::CustomerId.eq(customer.to_string()))
            .order_by_asc(subscription::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(subscription::Column::Status.eq(status.as_str()));
        }
        if let Some(product) = product {
            query = query.filter(subscription::Column::ProductId.eq(product.to_string()));
        }
        if let Some(parent) = parent {
            query = query.filter(subscription::Column::ParentSubscriptionId.eq(parent.to_string()));
        }
        if let Some(after) = after {
            query = query.filter(subscription::Column::Id.gt(after.to_string()));
        }
        query
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(subscription_from_row)
            .collect()
    }
}
