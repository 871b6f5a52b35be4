//! Writes after the sale: a cancellation (of an order, or of one subscription), each
//! subscription ended at the version it was judged at, with its transaction on the record.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::super::Store;
use super::super::entity::{customer, order, subscription};
use super::super::idempotency::{WriteKey, record, replay};
use super::events::{append_subscription_event, record_transactions};
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, OrderId, PartnerId, SubscriptionId};
use crate::domain::money::Money;
use crate::domain::order::{
    Order, OrderStatus, Subscription, SubscriptionStatus, SubscriptionTransaction,
};
use crate::domain::subscription::SubscriptionEventKind;

/// What a judged cancellation writes.
#[derive(Debug, Clone, Copy)]
pub struct Cancellation<'a> {
    pub customer: CustomerId,
    /// The order cancelled, at the version judged, and its refund (CancelOrder).
    pub order: Option<(&'a Order, Money)>,
    /// One cancel transaction per subscription ended; each made version `t.version` of a
    /// subscription judged at `t.version - 1`.
    pub transactions: &'a [SubscriptionTransaction],
    /// What the request id answers on a retry.
    pub resource_id: &'a str,
}

/// What came of writing a change.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Written,
    /// This request id was done already (or concurrently): nothing written now.
    Replayed,
}

/// What `customer` holds changed: a checkout or change planned on the old holdings must not
/// be written.
async fn bump_holdings(
    txn: &sea_orm::DatabaseTransaction,
    partner: PartnerId,
    customer: CustomerId,
) -> Result<(), DomainError> {
    customer::Entity::update_many()
        .col_expr(
            customer::Column::HoldingsVersion,
            Expr::col(customer::Column::HoldingsVersion).add(1),
        )
        .filter(customer::Column::Id.eq(customer.to_string()))
        .filter(customer::Column::PartnerId.eq(partner.to_string()))
        .exec(txn)
        .await?;
    Ok(())
}

fn stale(resource: &'static str) -> DomainError {
    DomainError::stale_etag(resource, None, None, "read it again")
}

impl Store {
    /// Writes `c` in one transaction, once per request id: the order's status and refund,
    /// every subscription at the version judged (else ABORTED: something changed meanwhile),
    /// their transactions, and the customer's holdings version (a checkout planned on the old
    /// holdings, an add-on on a base ended here, must not be written).
    pub async fn cancel(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        c: Cancellation<'_>,
        now: DateTime<Utc>,
    ) -> Result<Recorded, DomainError> {
        if replay(&self.engine.direct(), key).await?.is_some() {
            return Ok(Recorded::Replayed);
        }
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        if let Some((order, refund)) = c.order {
            let updated = order::Entity::update_many()
                .col_expr(
                    order::Column::Status,
                    Expr::value(OrderStatus::Cancelled.as_str()),
                )
                .col_expr(order::Column::CancelledAt, Expr::value(now))
                .col_expr(order::Column::RefundMicros, Expr::value(refund.micros))
                .col_expr(
                    order::Column::Version,
                    Expr::col(order::Column::Version).add(1),
                )
                .filter(order::Column::Id.eq(order.id.to_string()))
                .filter(order::Column::PartnerId.eq(partner.to_string()))
                .filter(order::Column::Version.eq(order.version))
                .filter(order::Column::Status.is_in([
                    OrderStatus::Pending.as_str(),
                    OrderStatus::Completed.as_str(),
                ]))
                .exec(&txn)
                .await?;
            if updated.rows_affected != 1 {
                return Err(stale(OrderId::RESOURCE));
            }
        }
        if !record(&txn, key, c.resource_id, now).await? {
            return Ok(Recorded::Replayed);
        }
        for t in c.transactions {
            let updated = subscription::Entity::update_many()
                .col_expr(
                    subscription::Column::Status,
                    Expr::value(SubscriptionStatus::Cancelled.as_str()),
                )
                .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
                .col_expr(subscription::Column::AutoRenew, Expr::value(false))
                .col_expr(subscription::Column::Version, Expr::value(t.version))
                .filter(subscription::Column::Id.eq(t.subscription_id.to_string()))
                .filter(subscription::Column::PartnerId.eq(partner.to_string()))
                .filter(subscription::Column::Version.eq(t.version - 1))
                .filter(subscription::Column::Status.is_in([
                    SubscriptionStatus::Active.as_str(),
                    SubscriptionStatus::Suspended.as_str(),
                ]))
                .exec(&txn)
                .await?;
            if updated.rows_affected != 1 {
                return Err(stale(SubscriptionId::RESOURCE));
            }
        }
        bump_holdings(&txn, partner, c.customer).await?;
        // Last: it takes the partner's event head (the customer's row first, as checkout).
        record_transactions(&txn, partner, c.transactions).await?;
        txn.commit().await?;
        drop(turn);
        self.holdings_changed(c.customer);
        self.subscription_events_written(partner);
        Ok(Recorded::Written)
    }

    /// Writes `after` (a new status, auto-renew or next term of `before`, judged at its
    /// version), once per request id, with its `event` if any; ABORTED if it moved meanwhile. A
    /// new status bumps the customer's holdings version (a suspended base holds no add-on).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_subscription_state(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        before: &Subscription,
        after: &Subscription,
        event: SubscriptionEventKind,
        now: DateTime<Utc>,
    ) -> Result<Recorded, DomainError> {
        if replay(&self.engine.direct(), key).await?.is_some() {
            return Ok(Recorded::Replayed);
        }
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        if before.status != after.status {
            bump_holdings(&txn, partner, before.customer_id).await?;
        }
        let next = after.next_term.clone().unwrap_or_default();
        let updated = subscription::Entity::update_many()
            .col_expr(
                subscription::Column::Status,
                Expr::value(after.status.as_str()),
            )
            .col_expr(
                subscription::Column::AutoRenew,
                Expr::value(after.auto_renew),
            )
            .col_expr(
                subscription::Column::NextTerm,
                Expr::value(next.term.map(|t| t.as_str().to_owned())),
            )
            .col_expr(
                subscription::Column::NextBillingCycle,
                Expr::value(next.billing_cycle.map(|c| c.as_str().to_owned())),
            )
            .col_expr(
                subscription::Column::NextQuantity,
                Expr::value(next.quantity),
            )
            .col_expr(
                subscription::Column::NextSkuId,
                Expr::value(next.sku.as_ref().map(|(s, _)| s.to_string())),
            )
            .col_expr(
                subscription::Column::NextAvailabilityId,
                Expr::value(next.sku.as_ref().map(|(_, a)| a.to_string())),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .col_expr(subscription::Column::Version, Expr::value(after.version))
            .filter(subscription::Column::Id.eq(before.id.to_string()))
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription::Column::Version.eq(before.version))
            .filter(subscription::Column::Status.eq(before.status.as_str()))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(stale(SubscriptionId::RESOURCE));
        }
        if !record(&txn, key, &before.id.to_string(), now).await? {
            return Ok(Recorded::Replayed);
        }
        append_subscription_event(&txn, partner, event, before.id, None, now).await?;
        txn.commit().await?;
        drop(turn);
        if before.status != after.status {
            self.holdings_changed(before.customer_id);
        }
        self.subscription_events_written(partner);
        Ok(Recorded::Written)
    }
}
