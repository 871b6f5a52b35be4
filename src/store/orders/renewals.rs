//! The renewal pass's reads and its write: due subscriptions in (commitment end, id) order, and
//! a batch of judged term ends written in one transaction, each subscription only at the
//! version it was judged at. A subscription another pass (another replica, or a rerun after a
//! crash) wrote first no longer has that version: its update changes no row and nothing of it
//! is written, so each term ends once, whoever runs the pass and however often.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, IntoIden, LockType, Order, Query, TableRef, UpdateStatement, ValueTuple,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, Value,
};

use super::super::Store;
use super::super::entity::{customer, subscription, subscription_event, subscription_transaction};
use super::events::event_row;
use super::rows::subscription_from_row;
use super::transactions::transaction_row;
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, PartnerId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionStatus, SubscriptionTransaction, TermEnd};
use crate::domain::subscription::SubscriptionEventKind;

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

    /// Writes `ends` (each judged on the subscription `before` it) in one transaction of four
    /// statements whatever the batch's size: the customers' holdings versions (every writer of
    /// holdings takes a customer's row before its subscriptions'; on PostgreSQL the pass locks
    /// its customers in id order, so two passes cannot deadlock), then every subscription still
    /// at the version and status judged, set from a `VALUES` list (`UPDATE … FROM`, answering
    /// the ids it changed), then the changed ones' records and events. What another writer
    /// changed meanwhile is left out (the next batch reads it again).
    pub async fn write_term_ends(
        &self,
        ends: &[(PartnerId, &Subscription, TermEnd)],
        now: DateTime<Utc>,
    ) -> Result<TermEndsWritten, DomainError> {
        let mut written = TermEndsWritten::default();
        if ends.is_empty() {
            return Ok(written);
        }
        // Each subscription once, as first named (one row of the update's list each).
        let mut named = HashSet::new();
        let ends: Vec<&(PartnerId, &Subscription, TermEnd)> =
            ends.iter().filter(|(_, s, _)| named.insert(s.id)).collect();
        let mut customers: Vec<(String, CustomerId)> = ends
            .iter()
            .map(|(_, s, _)| (s.customer_id.to_string(), s.customer_id))
            .collect();
        customers.sort();
        customers.dedup();
        let turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
        let backend = txn.get_database_backend();
        txn.execute_raw(backend.build(&holdings_changed(&customers)))
            .await?;
        let changed: HashSet<String> = txn
            .query_all_raw(backend.build(&term_ends_update(&ends, now)))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<_, _>>()?;
        let mut records: Vec<(PartnerId, &Subscription, &SubscriptionTransaction)> = Vec::new();
        for (partner, before, end) in &ends {
            if !changed.contains(&before.id.to_string()) {
                continue;
            }
            if end.renewed() {
                written.renewed += 1;
            } else {
                written.expired += 1;
            }
            records.push((*partner, &end.after, &end.record));
        }
        if !records.is_empty() {
            subscription_transaction::Entity::insert_many(
                records
                    .iter()
                    .map(|(partner, _, t)| transaction_row(*partner, t)),
            )
            .exec_without_returning(&txn)
            .await?;
            // Last: each partner's event head stays locked to the commit. Partners in id
            // order, as every other writer takes them.
            records.sort_by_key(|(partner, _, _)| partner.to_string());
            subscription_event::Entity::insert_many(records.iter().map(|(partner, after, t)| {
                let kind = SubscriptionEventKind::of_transaction(t.kind);
                event_row(*partner, kind, after, Some(t), t.created_at)
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        drop(turn);
        for (_, id) in customers {
            self.holdings_changed(id);
        }
        let mut partners: Vec<PartnerId> = records.iter().map(|(p, _, _)| *p).collect();
        partners.dedup();
        for partner in partners {
            self.subscription_events_written(partner);
        }
        Ok(written)
    }
}

/// One more holdings version for each of `customers` (sorted by id). PostgreSQL locks their
/// rows in id order first (`FOR UPDATE` in the subquery; SQLite has no row locks: its writer
/// holds the whole file).
fn holdings_changed(customers: &[(String, CustomerId)]) -> UpdateStatement {
    let locked = Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .and_where(customer::Column::Id.is_in(customers.iter().map(|(c, _)| c.clone())))
        .order_by(customer::Column::Id, Order::Asc)
        .lock(LockType::Update)
        .to_owned();
    Query::update()
        .table(customer::Entity)
        .value(
            customer::Column::HoldingsVersion,
            Expr::col(customer::Column::HoldingsVersion).add(1),
        )
        .and_where(customer::Column::Id.in_subquery(locked))
        .to_owned()
}

/// The row's guards, then what a term end sets: the columns of the update's `VALUES` list,
/// in order (a `VALUES` list's columns are named column1, column2, … on both backends).
const GUARDS: usize = 4;
const TERM_END_COLUMNS: [subscription::Column; 18] = [
    subscription::Column::Status,
    subscription::Column::AutoRenew,
    subscription::Column::SkuId,
    subscription::Column::AvailabilityId,
    subscription::Column::Quantity,
    subscription::Column::Term,
    subscription::Column::BillingCycle,
    subscription::Column::StartAt,
    subscription::Column::CommitmentEndAt,
    subscription::Column::UnitPriceMicros,
    subscription::Column::NextTerm,
    subscription::Column::NextBillingCycle,
    subscription::Column::NextQuantity,
    subscription::Column::NextSkuId,
    subscription::Column::NextAvailabilityId,
    subscription::Column::ExpiryReason,
    subscription::Column::UpdatedAt,
    subscription::Column::Version,
];

/// The batch's update: `UPDATE subscriptions SET … FROM (VALUES …) AS v WHERE` the guards
/// (id, partner, version and status judged) hold, `RETURNING` the ids changed. One statement
/// for the batch (SQLite 3.33+ and PostgreSQL both take `UPDATE … FROM`).
fn term_ends_update(
    ends: &[&(PartnerId, &Subscription, TermEnd)],
    now: DateTime<Utc>,
) -> UpdateStatement {
    let rows = ends.iter().map(|(partner, before, end)| {
        let after = &end.after;
        let next = after.next_term.clone().unwrap_or_default();
        let (next_sku, next_availability) = match &next.sku {
            Some((sku, availability)) => (Some(sku.to_string()), Some(availability.to_string())),
            None => (None, None),
        };
        let values: [Value; GUARDS + TERM_END_COLUMNS.len()] = [
            // The guards.
            before.id.to_string().into(),
            partner.to_string().into(),
            before.version.into(),
            before.status.as_str().into(),
            // TERM_END_COLUMNS.
            after.status.as_str().into(),
            after.auto_renew.into(),
            after.item.sku.to_string().into(),
            after.item.availability.to_string().into(),
            after.quantity.into(),
            after.term.as_str().into(),
            after.billing_cycle.as_str().into(),
            after.start_at.into(),
            after.commitment_end_at.into(),
            after.unit_price.micros.into(),
            next.term.map(|t| t.as_str().to_owned()).into(),
            next.billing_cycle.map(|c| c.as_str().to_owned()).into(),
            next.quantity.into(),
            next_sku.into(),
            next_availability.into(),
            after.expiry_reason.map(|r| r.as_str().to_owned()).into(),
            now.into(),
            after.version.into(),
        ];
        ValueTuple::Many(values.into())
    });
    let v = Alias::new("v");
    let column = |n: usize| Expr::col((v.clone(), Alias::new(format!("column{n}"))));
    let guarded = |c: subscription::Column| Expr::col((subscription::Entity, c));
    Query::update()
        .table(subscription::Entity)
        .values(
            TERM_END_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| (*c, column(GUARDS + 1 + i))),
        )
        .from(TableRef::ValuesList(rows.collect(), v.clone().into_iden()))
        .and_where(guarded(subscription::Column::Id).eq(column(1)))
        .and_where(guarded(subscription::Column::PartnerId).eq(column(2)))
        .and_where(guarded(subscription::Column::Version).eq(column(3)))
        .and_where(guarded(subscription::Column::Status).eq(column(4)))
        .returning_col(subscription::Column::Id)
        .to_owned()
}
