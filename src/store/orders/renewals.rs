//! The renewal pass's reads and its write: due subscriptions in (commitment end, id) order, and
//! a batch of judged term ends written in one transaction, each subscription only at the
//! version it was judged at. A subscription another pass (another replica, or a rerun after a
//! crash) wrote first no longer has that version: its update changes no row and nothing of it
//! is written, so each term ends once, whoever runs the pass and however often.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use super::super::Store;
use super::super::entity::{customer, subscription};
use super::events::record_transactions;
use super::rows::subscription_from_row;
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, PartnerId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionStatus, TermEnd};

/// A subscription read by the pass, with its partner.
pub type Held = (PartnerId, Subscription);

/// What a batch wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TermEndsWritten {
    pub renewed: u64,
    pub expired: u64,
}

/// What the pass ends: subscriptions still held.
fn live() -> [&'static str; 2] {
    [
        SubscriptionStatus::Active.as_str(),
        SubscriptionStatus::Suspended.as_str(),
    ]
}

fn held(rows: Vec<subscription::Model>) -> Result<Vec<Held>, DomainError> {
    rows.into_iter()
        .map(|row| {
            let partner = PartnerId::parse("partner", &row.partner_id)
                .map_err(|_| super::super::corrupt("partner", &row.partner_id))?;
            Ok((partner, subscription_from_row(row)?))
        })
        .collect()
}

impl Store {
    /// Up to `limit` live subscriptions whose commitment ends at or before `until`, the
    /// earliest first (then by id).
    pub async fn due_subscriptions(
        &self,
        until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Held>, DomainError> {
        let rows = subscription::Entity::find()
            .filter(subscription::Column::CommitmentEndAt.lte(until))
            .filter(subscription::Column::Status.is_in(live()))
            .order_by_asc(subscription::Column::CommitmentEndAt)
            .order_by_asc(subscription::Column::Id)
            .limit(limit)
            .all(&self.engine.direct())
            .await?;
        held(rows)
    }

    /// Subscriptions `ids` (whatever their partner, status), and the live add-ons hanging on
    /// `bases`: what judging a batch of term ends needs besides the batch.
    pub async fn renewal_neighbours(
        &self,
        ids: &[SubscriptionId],
        bases: &[SubscriptionId],
    ) -> Result<Vec<Held>, DomainError> {
        if ids.is_empty() && bases.is_empty() {
            return Ok(Vec::new());
        }
        let text = |ids: &[SubscriptionId]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();
        // Two lookups, each by its own index (an OR of both would scan the table).
        let mut rows = Vec::new();
        if !ids.is_empty() {
            rows.extend(
                subscription::Entity::find()
                    .filter(subscription::Column::Id.is_in(text(ids)))
                    .all(&self.engine.direct())
                    .await?,
            );
        }
        if !bases.is_empty() {
            rows.extend(
                subscription::Entity::find()
                    .filter(subscription::Column::ParentSubscriptionId.is_in(text(bases)))
                    .filter(subscription::Column::Status.is_in(live()))
                    .all(&self.engine.direct())
                    .await?,
            );
        }
        held(rows)
    }

    /// Writes `ends` (each judged on the subscription `before` it) in one transaction: the
    /// customers' holdings versions first (every writer of holdings takes a customer's row
    /// before its subscriptions', in id order here, so two passes cannot deadlock), then each
    /// subscription only if it is still at the version judged, with its record. What another
    /// writer changed meanwhile is left out (the next batch reads it again).
    pub async fn write_term_ends(
        &self,
        ends: &[(PartnerId, &Subscription, TermEnd)],
        now: DateTime<Utc>,
    ) -> Result<TermEndsWritten, DomainError> {
        let mut written = TermEndsWritten::default();
        if ends.is_empty() {
            return Ok(written);
        }
        let mut customers: Vec<CustomerId> = ends.iter().map(|(_, s, _)| s.customer_id).collect();
        customers.sort_by_key(ToString::to_string);
        customers.dedup();
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        for id in &customers {
            customer::Entity::update_many()
                .col_expr(
                    customer::Column::HoldingsVersion,
                    Expr::col(customer::Column::HoldingsVersion).add(1),
                )
                .filter(customer::Column::Id.eq(id.to_string()))
                .exec(&txn)
                .await?;
        }
        let mut records = Vec::with_capacity(ends.len());
        for (partner, before, end) in ends {
            let after = &end.after;
            let next = after.next_term.clone().unwrap_or_default();
            let (next_sku, next_availability) = match &next.sku {
                Some((sku, availability)) => {
                    (Some(sku.to_string()), Some(availability.to_string()))
                }
                None => (None, None),
            };
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
                .col_expr(subscription::Column::StartAt, Expr::value(after.start_at))
                .col_expr(
                    subscription::Column::CommitmentEndAt,
                    Expr::value(after.commitment_end_at),
                )
                .col_expr(
                    subscription::Column::UnitPriceMicros,
                    Expr::value(after.unit_price.micros),
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
                .col_expr(subscription::Column::NextSkuId, Expr::value(next_sku))
                .col_expr(
                    subscription::Column::NextAvailabilityId,
                    Expr::value(next_availability),
                )
                .col_expr(
                    subscription::Column::ExpiryReason,
                    Expr::value(after.expiry_reason.map(|r| r.as_str().to_owned())),
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
                continue;
            }
            if end.renewed() {
                written.renewed += 1;
            } else {
                written.expired += 1;
            }
            records.push((*partner, end.record.clone()));
        }
        // Each partner's records with their events, partners in id order: their event heads are
        // locked to the commit, after the holdings, as every other writer does.
        records.sort_by_key(|(partner, _)| partner.to_string());
        let mut partners = Vec::new();
        for group in records.chunk_by(|a, b| a.0 == b.0) {
            let partner = group[0].0;
            let ts: Vec<_> = group.iter().map(|(_, t)| t.clone()).collect();
            record_transactions(&txn, partner, &ts).await?;
            partners.push(partner);
        }
        txn.commit().await?;
        drop(turn);
        for id in customers {
            self.holdings_changed(id);
        }
        for partner in partners {
            self.subscription_events_written(partner);
        }
        Ok(written)
    }
}
