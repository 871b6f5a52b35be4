//! A subscription's quantity change: written at the subscription's version and at the
//! customer's holdings version the rules judged it on, so two changes (or a change and a
//! checkout) racing for the last seats of a SKU cannot both win, across replicas too: the same
//! guard as checkout's (ARCHITECTURE.md, "Checkout").

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, UpdateMany};

use super::super::Store;
use super::super::entity::{customer, subscription};
use super::super::idempotency::{WriteKey, record, replay};
use super::events::record_transactions;
use super::lifecycle::Recorded;
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, PartnerId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionStatus, SubscriptionTransaction};

/// What a request id of a quantity change answers: the subscription and the version of it the
/// change made.
pub fn change_resource(t: &SubscriptionTransaction) -> String {
    format!("{}@{}", t.subscription_id, t.version)
}

/// A change of one subscription judged on the customer's holdings: who, at which holdings
/// version, and what it puts on the record.
pub(super) struct JudgedChange<'a> {
    pub partner: PartnerId,
    pub key: &'a WriteKey<'a>,
    pub customer: CustomerId,
    pub holdings_version: i64,
    pub t: &'a SubscriptionTransaction,
    pub now: DateTime<Utc>,
    /// What the caller is told to judge again when the holdings moved.
    pub judge_again: &'static str,
}

impl Store {
    /// Writes `t` (a quantity change of `sub`, judged at its version and on the customer's
    /// holdings at `holdings_version`) in one transaction, once per request id; ABORTED if
    /// either version moved meanwhile (nothing written: judge again).
    pub async fn change_quantity(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        sub: &Subscription,
        t: &SubscriptionTransaction,
        holdings_version: i64,
        now: DateTime<Utc>,
    ) -> Result<Recorded, DomainError> {
        let update = subscription::Entity::update_many()
            .col_expr(subscription::Column::Quantity, Expr::value(t.quantity))
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .col_expr(subscription::Column::Version, Expr::value(t.version))
            .filter(subscription::Column::Id.eq(sub.id.to_string()))
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription::Column::Version.eq(sub.version))
            .filter(subscription::Column::Status.eq(SubscriptionStatus::Active.as_str()));
        let change = JudgedChange {
            partner,
            key,
            customer: sub.customer_id,
            holdings_version,
            t,
            now,
            judge_again: "judge the change again",
        };
        self.write_judged(change, update).await
    }

    /// Writes a change judged on the customer's holdings in one transaction, once per request
    /// id: the customer's row at the holdings version judged (taken first, as checkout takes
    /// it: every writer of holdings locks it before the subscription's), then `update`, which
    /// must change the one subscription at the version judged, then the request id and the
    /// change on the record. ABORTED if either version moved meanwhile (nothing written).
    pub(super) async fn write_judged(
        &self,
        change: JudgedChange<'_>,
        update: UpdateMany<subscription::Entity>,
    ) -> Result<Recorded, DomainError> {
        let JudgedChange {
            partner,
            key,
            customer,
            holdings_version,
            t,
            now,
            judge_again,
        } = change;
        if replay(&self.engine.direct(), key).await?.is_some() {
            return Ok(Recorded::Replayed);
        }
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        let claimed = customer::Entity::update_many()
            .col_expr(
                customer::Column::HoldingsVersion,
                Expr::col(customer::Column::HoldingsVersion).add(1),
            )
            .filter(customer::Column::Id.eq(customer.to_string()))
            .filter(customer::Column::PartnerId.eq(partner.to_string()))
            .filter(customer::Column::HoldingsVersion.eq(holdings_version))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(DomainError::stale_etag(
                "customer holdings",
                None,
                None,
                judge_again,
            ));
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Err(DomainError::stale_etag(
                SubscriptionId::RESOURCE,
                None,
                None,
                "read it again",
            ));
        }
        if !record(&txn, key, &change_resource(t), now).await? {
            return Ok(Recorded::Replayed);
        }
        record_transactions(&txn, partner, std::slice::from_ref(t)).await?;
        txn.commit().await?;
        drop(turn);
        self.holdings_changed(customer);
        self.subscription_events_written(partner);
        Ok(Recorded::Written)
    }
}
