//! A trial's conversion: the subscription row becomes the paid one (same id) at the version
//! judged and at the customer's holdings version the rules read, written as a quantity change
//! is (`quantity.rs`, `write_judged`): a conversion racing a checkout or another change for
//! the same seats or limits cannot both win.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::super::entity::subscription;
use super::super::idempotency::WriteKey;
use super::super::{Store, sku_pairs};
use super::lifecycle::Recorded;
use super::quantity::JudgedChange;
use crate::domain::DomainError;
use crate::domain::ids::PartnerId;
use crate::domain::order::{Subscription, SubscriptionStatus, SubscriptionTransaction};

impl Store {
    /// Writes `after` (trial `before` converted, judged at its version and on the customer's
    /// holdings at `holdings_version`) and its CONVERT transaction `t` in one transaction,
    /// once per request id (which then answers `<id>@<version>`); ABORTED if either version
    /// moved meanwhile (nothing written: judge again).
    #[allow(clippy::too_many_arguments)]
    pub async fn convert_trial(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        before: &Subscription,
        after: &Subscription,
        t: &SubscriptionTransaction,
        holdings_version: i64,
        now: DateTime<Utc>,
    ) -> Result<Recorded, DomainError> {
        let trial = [(before.item.product.clone(), before.item.sku.clone())];
        let update = subscription::Entity::update_many()
            .col_expr(
                subscription::Column::ProductId,
                Expr::value(after.item.product.to_string()),
            )
            .col_expr(
                subscription::Column::SkuId,
                Expr::value(after.item.sku.to_string()),
            )
            .col_expr(
                subscription::Column::AvailabilityId,
                Expr::value(after.item.availability.to_string()),
            )
            .col_expr(subscription::Column::Quantity, Expr::value(after.quantity))
            .col_expr(subscription::Column::Term, Expr::value(after.term.as_str()))
            .col_expr(
                subscription::Column::BillingCycle,
                Expr::value(after.billing_cycle.as_str()),
            )
            .col_expr(subscription::Column::IsTrial, Expr::value(false))
            .col_expr(subscription::Column::StartAt, Expr::value(after.start_at))
            .col_expr(
                subscription::Column::CommitmentEndAt,
                Expr::value(after.commitment_end_at),
            )
            .col_expr(
                subscription::Column::AutoRenew,
                Expr::value(after.auto_renew),
            )
            .col_expr(
                subscription::Column::UnitPriceMicros,
                Expr::value(after.unit_price.micros),
            )
            .col_expr(
                subscription::Column::Currency,
                Expr::value(after.unit_price.currency.code()),
            )
            .col_expr(
                subscription::Column::ConvertedFrom,
                Expr::value(sku_pairs(&trial)),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .col_expr(subscription::Column::Version, Expr::value(after.version))
            .filter(subscription::Column::Id.eq(before.id.to_string()))
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription::Column::Version.eq(before.version))
            .filter(subscription::Column::Status.eq(SubscriptionStatus::Active.as_str()))
            .filter(subscription::Column::IsTrial.eq(true));
        let change = JudgedChange {
            partner,
            key,
            customer: before.customer_id,
            holdings_version,
            t,
            now,
            judge_again: "judge the conversion again",
        };
        self.write_judged(change, update).await
    }
}
