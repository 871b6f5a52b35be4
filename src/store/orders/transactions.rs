//! The record of subscriptions' changes (m0014): its rows, a subscription's history and what
//! a cancellation reads first.

use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::super::Store;
use super::super::entity::{subscription, subscription_transaction};
use super::rows::{subscription_from_row, transaction_from_row};
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, PartnerId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionTransaction};

/// The row of transaction `t` of a subscription of `partner`.
pub(super) fn transaction_row(
    partner: PartnerId,
    t: &SubscriptionTransaction,
) -> subscription_transaction::ActiveModel {
    subscription_transaction::ActiveModel {
        subscription_id: Set(t.subscription_id.to_string()),
        version: Set(t.version),
        partner_id: Set(partner.to_string()),
        customer_id: Set(t.customer_id.to_string()),
        order_id: Set(t.order_id.to_string()),
        kind: Set(t.kind.as_str().to_owned()),
        quantity_delta: Set(t.quantity_delta),
        quantity: Set(t.quantity),
        period_start: Set(t.period_start),
        period_end: Set(t.period_end),
        currency: Set(t.amount.currency.code().to_owned()),
        amount_micros: Set(t.amount.micros),
        created_at: Set(t.created_at),
    }
}

impl Store {
    /// Subscription `id`'s transactions after version `after`, oldest first (the caller
    /// found the subscription first: this filters by partner all the same).
    pub async fn subscription_history(
        &self,
        partner: PartnerId,
        id: SubscriptionId,
        after: i64,
        limit: u64,
    ) -> Result<Vec<SubscriptionTransaction>, DomainError> {
        subscription_transaction::Entity::find()
            .filter(subscription_transaction::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription_transaction::Column::SubscriptionId.eq(id.to_string()))
            .filter(subscription_transaction::Column::Version.gt(after))
            .order_by_asc(subscription_transaction::Column::Version)
            .limit(limit)
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(transaction_from_row)
            .collect()
    }

    /// Subscriptions `ids` of a customer and the add-ons hanging on them, whatever their
    /// status: what cancelling them touches.
    pub async fn subscriptions_with_addons(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        ids: &[SubscriptionId],
    ) -> Result<Vec<Subscription>, DomainError> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        subscription::Entity::find()
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            // Add-ons hang on a base of the same customer: the customer's index finds both.
            .filter(subscription::Column::CustomerId.eq(customer.to_string()))
            .filter(
                Condition::any()
                    .add(subscription::Column::Id.is_in(ids.clone()))
                    .add(subscription::Column::ParentSubscriptionId.is_in(ids)),
            )
            .order_by_asc(subscription::Column::Id)
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(subscription_from_row)
            .collect()
    }
}
