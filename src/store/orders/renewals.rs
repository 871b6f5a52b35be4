//! The renewal pass's reads and its write: due subscriptions in (commitment end, id) order, and
//! a batch of judged term ends written in one transaction, each subscription only at the
//! version it was judged at. A subscription another pass (another replica, or a rerun after a
//! crash) wrote first no longer has that version: its update changes no row and nothing of it
//! is written, so each term ends once, whoever runs the pass and however often.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, TransactionTrait, Value,
};

use super::super::Store;
use super::super::entity::{subscription, subscription_event, subscription_transaction};
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
        txn.execute_raw(holdings_changed(backend, &customers))
            .await?;
        let changed: HashSet<String> = txn
            .query_all_raw(term_ends_update(backend, &ends, now))
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

/// `?` on SQLite, `$n` on PostgreSQL: the `n`th (from 1) placeholder of a raw statement.
fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// `(p1, p2, …)`: one row of `width` placeholders, the first numbered `first`.
fn placeholders(backend: DbBackend, first: usize, width: usize) -> String {
    let each: Vec<String> = (first..first + width)
        .map(|n| placeholder(backend, n))
        .collect();
    format!("({})", each.join(", "))
}

/// One more holdings version for each of `customers` (sorted by id): on PostgreSQL their rows
/// locked in that order first.
fn holdings_changed(backend: DbBackend, customers: &[(String, CustomerId)]) -> Statement {
    let list = placeholders(backend, 1, customers.len());
    let which = match backend {
        DbBackend::Postgres => {
            format!("SELECT id FROM customers WHERE id IN {list} ORDER BY id FOR UPDATE")
        }
        _ => format!("SELECT id FROM customers WHERE id IN {list}"),
    };
    let sql = format!(
        "UPDATE customers SET holdings_version = holdings_version + 1 WHERE id IN ({which})"
    );
    Statement::from_sql_and_values(
        backend,
        sql,
        customers.iter().map(|(c, _)| c.clone().into()),
    )
}

/// What a term end sets, after the row's guards (id, partner, version and status judged).
const TERM_END_COLUMNS: [&str; 18] = [
    "status",
    "auto_renew",
    "sku_id",
    "availability_id",
    "quantity",
    "term",
    "billing_cycle",
    "start_at",
    "commitment_end_at",
    "unit_price_micros",
    "next_term",
    "next_billing_cycle",
    "next_quantity",
    "next_sku_id",
    "next_availability_id",
    "expiry_reason",
    "updated_at",
    "version",
];

/// The batch's update: `WITH v(…) AS (VALUES …) UPDATE subscriptions SET … FROM v WHERE` the
/// guards hold, `RETURNING` the ids changed. One statement for the batch (SQLite 3.35+ and
/// PostgreSQL both take it).
fn term_ends_update(
    backend: DbBackend,
    ends: &[&(PartnerId, &Subscription, TermEnd)],
    now: DateTime<Utc>,
) -> Statement {
    let width = 4 + TERM_END_COLUMNS.len();
    let mut values: Vec<Value> = Vec::with_capacity(ends.len() * width);
    let mut rows = Vec::with_capacity(ends.len());
    for (partner, before, end) in ends {
        rows.push(placeholders(backend, values.len() + 1, width));
        let after = &end.after;
        let next = after.next_term.clone().unwrap_or_default();
        let (next_sku, next_availability) = match &next.sku {
            Some((sku, availability)) => (Some(sku.to_string()), Some(availability.to_string())),
            None => (None, None),
        };
        values.extend([
            before.id.to_string().into(),
            partner.to_string().into(),
            before.version.into(),
            before.status.as_str().into(),
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
        ]);
    }
    let set: Vec<String> = TERM_END_COLUMNS
        .iter()
        .map(|c| format!("{c} = v.{c}"))
        .collect();
    let sql = format!(
        "WITH v (id, partner_id, before_version, before_status, {columns}) AS (VALUES {rows}) \
         UPDATE subscriptions SET {set} FROM v \
         WHERE subscriptions.id = v.id AND subscriptions.partner_id = v.partner_id \
         AND subscriptions.version = v.before_version \
         AND subscriptions.status = v.before_status \
         RETURNING subscriptions.id",
        columns = TERM_END_COLUMNS.join(", "),
        rows = rows.join(", "),
        set = set.join(", "),
    );
    Statement::from_sql_and_values(backend, sql, values)
}
