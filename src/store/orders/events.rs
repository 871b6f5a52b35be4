//! The partner's subscription events (m0018): written in the transaction of the change they
//! tell, numbered by the table's trigger (gap-free per partner), read by the event stream.
//!
//! Every transaction on the record makes an event (`record_transactions`, and checkout's rows
//! beside its transactions); a change without a transaction (suspension, reactivation,
//! auto-renew, expiry) calls [`append_subscription_event`]. Either takes the partner's head
//! row, which stays locked to the commit: write events last in a transaction.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityName, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::super::Store;
use super::super::entity::{
    subscription, subscription_event, subscription_event_head, subscription_transaction,
};
use super::rows::{subscription_from_row, transaction_from_row};
use super::transactions::transaction_row;
use crate::domain::DomainError;
use crate::domain::ids::{PartnerId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionTransaction};
use crate::domain::subscription::{SubscriptionEvent, SubscriptionEventKind};

/// Appends to `partner`'s events, inside the caller's transaction `db`, a `kind` event of
/// subscription `id` as it is now in that transaction (write the change first), with
/// `transaction` when the change has one. Takes the partner's head row (locked to the commit):
/// call it last. Wakes no stream: after the commit, call `Store::subscription_events_written`
/// (streams also poll).
pub async fn append_subscription_event<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    kind: SubscriptionEventKind,
    id: SubscriptionId,
    transaction: Option<&SubscriptionTransaction>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    use subscription::Column as S;
    use subscription_event::Column as E;
    let t = transaction;
    // Constants first, then the subscription's columns, as `columns` lists them.
    let constants: [(E, Expr); 8] = [
        (E::PartnerId, Expr::val(partner.to_string())),
        (E::Kind, Expr::val(kind.as_str())),
        (E::OccurredAt, Expr::val(now)),
        (
            E::TransactionKind,
            Expr::val(t.map(|t| t.kind.as_str().to_owned())),
        ),
        (E::QuantityDelta, Expr::val(t.map(|t| t.quantity_delta))),
        (E::PeriodStart, Expr::val(t.map(|t| t.period_start))),
        (E::PeriodEnd, Expr::val(t.and_then(|t| t.period_end))),
        (E::AmountMicros, Expr::val(t.map(|t| t.amount.micros))),
    ];
    let copied: [(E, S); 18] = [
        (E::SubscriptionId, S::Id),
        (E::CustomerId, S::CustomerId),
        (E::OrderId, S::OrderId),
        (E::ProductId, S::ProductId),
        (E::SkuId, S::SkuId),
        (E::AvailabilityId, S::AvailabilityId),
        (E::Quantity, S::Quantity),
        (E::Term, S::Term),
        (E::BillingCycle, S::BillingCycle),
        (E::Status, S::Status),
        (E::IsTrial, S::IsTrial),
        (E::ParentSubscriptionId, S::ParentSubscriptionId),
        (E::StartAt, S::StartAt),
        (E::CommitmentEndAt, S::CommitmentEndAt),
        (E::AutoRenew, S::AutoRenew),
        (E::Version, S::Version),
        (E::UnitPriceMicros, S::UnitPriceMicros),
        (E::Currency, S::Currency),
    ];
    let mut select = Query::select();
    select.from(subscription::Entity.table_ref());
    for (_, value) in &constants {
        select.expr(value.clone());
    }
    for (_, column) in &copied {
        select.column(*column);
    }
    select
        .and_where(S::Id.eq(id.to_string()))
        .and_where(S::PartnerId.eq(partner.to_string()));
    let mut insert = Query::insert();
    insert
        .into_table(subscription_event::Entity.table_ref())
        .columns(
            constants
                .iter()
                .map(|(c, _)| *c)
                .chain(copied.iter().map(|(c, _)| *c)),
        )
        .select_from(select)
        .map_err(|e| DomainError::Internal(format!("a subscription event's insert: {e}")))?;
    let written = db
        .execute_raw(db.get_database_backend().build(&insert))
        .await?;
    if written.rows_affected() != 1 {
        return Err(DomainError::Internal(format!(
            "an event of subscription {id}, which is not the partner's"
        )));
    }
    Ok(())
}

/// Writes transactions `ts` of `partner`'s subscriptions on the record, each with its event,
/// inside the caller's transaction `db` (write the subscriptions' changes first): every
/// transaction on the record is told on the event stream. Takes the partner's head row
/// (locked to the commit): call it last.
pub async fn record_transactions<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    ts: &[SubscriptionTransaction],
) -> Result<(), DomainError> {
    if ts.is_empty() {
        return Ok(());
    }
    subscription_transaction::Entity::insert_many(ts.iter().map(|t| transaction_row(partner, t)))
        .exec_without_returning(db)
        .await?;
    for t in ts {
        append_subscription_event(
            db,
            partner,
            SubscriptionEventKind::of_transaction(t.kind),
            t.subscription_id,
            Some(t),
            t.created_at,
        )
        .await?;
    }
    Ok(())
}

/// The `created` events of subscriptions `subs` written by checkout with their `new`
/// transactions `ts` (checkout writes its rows in one guarded write, not through
/// `record_transactions`).
pub(super) fn created_event_rows<'a>(
    partner: PartnerId,
    subs: &'a [Subscription],
    ts: &'a [SubscriptionTransaction],
    now: DateTime<Utc>,
) -> impl Iterator<Item = subscription_event::ActiveModel> + 'a {
    subs.iter().map(move |s| {
        let t = ts.iter().find(|t| t.subscription_id == s.id);
        event_row(partner, SubscriptionEventKind::Created, s, t, now)
    })
}

/// The event row of a `kind` change that left subscription `s` as it is (its state known to
/// the writer, as checkout's and the renewal pass's are), with `t` when the change has one.
pub(super) fn event_row(
    partner: PartnerId,
    kind: SubscriptionEventKind,
    s: &Subscription,
    t: Option<&SubscriptionTransaction>,
    now: DateTime<Utc>,
) -> subscription_event::ActiveModel {
    subscription_event::ActiveModel {
        partner_id: Set(partner.to_string()),
        revision: NotSet,
        kind: Set(kind.as_str().to_owned()),
        occurred_at: Set(now),
        subscription_id: Set(s.id.to_string()),
        customer_id: Set(s.customer_id.to_string()),
        order_id: Set(s.order_id.to_string()),
        product_id: Set(s.item.product.to_string()),
        sku_id: Set(s.item.sku.to_string()),
        availability_id: Set(s.item.availability.to_string()),
        quantity: Set(s.quantity),
        term: Set(s.term.as_str().to_owned()),
        billing_cycle: Set(s.billing_cycle.as_str().to_owned()),
        status: Set(s.status.as_str().to_owned()),
        is_trial: Set(s.is_trial),
        parent_subscription_id: Set(s.parent.map(|p| p.to_string())),
        start_at: Set(s.start_at),
        commitment_end_at: Set(s.commitment_end_at),
        auto_renew: Set(s.auto_renew),
        version: Set(s.version),
        unit_price_micros: Set(s.unit_price.micros),
        currency: Set(s.unit_price.currency.code().to_owned()),
        transaction_kind: Set(t.map(|t| t.kind.as_str().to_owned())),
        quantity_delta: Set(t.map(|t| t.quantity_delta)),
        period_start: Set(t.map(|t| t.period_start)),
        period_end: Set(t.and_then(|t| t.period_end)),
        amount_micros: Set(t.map(|t| t.amount.micros)),
    }
}

fn event_from_row(e: subscription_event::Model) -> Result<SubscriptionEvent, DomainError> {
    let subscription = subscription_from_row(subscription::Model {
        id: e.subscription_id.clone(),
        partner_id: e.partner_id.clone(),
        customer_id: e.customer_id.clone(),
        order_id: e.order_id.clone(),
        product_id: e.product_id,
        sku_id: e.sku_id,
        availability_id: e.availability_id,
        quantity: e.quantity,
        term: e.term,
        billing_cycle: e.billing_cycle,
        status: e.status,
        is_trial: e.is_trial,
        parent_subscription_id: e.parent_subscription_id,
        start_at: e.start_at,
        commitment_end_at: e.commitment_end_at,
        auto_renew: e.auto_renew,
        created_at: e.occurred_at,
        updated_at: e.occurred_at,
        version: e.version,
        unit_price_micros: e.unit_price_micros,
        currency: e.currency.clone(),
        next_term: None,
        next_billing_cycle: None,
        next_quantity: None,
        next_sku_id: None,
        next_availability_id: None,
        expiry_reason: None,
        converted_from: None,
    })?;
    let transaction = match (e.transaction_kind, e.period_start, e.amount_micros) {
        (Some(kind), Some(period_start), Some(amount_micros)) => {
            Some(transaction_from_row(subscription_transaction::Model {
                subscription_id: e.subscription_id,
                version: e.version,
                partner_id: e.partner_id,
                customer_id: e.customer_id,
                order_id: e.order_id,
                kind,
                quantity_delta: e.quantity_delta.unwrap_or(0),
                quantity: e.quantity,
                period_start,
                period_end: e.period_end,
                currency: e.currency,
                amount_micros,
                created_at: e.occurred_at,
            })?)
        }
        _ => None,
    };
    Ok(SubscriptionEvent {
        revision: u64::try_from(e.revision).unwrap_or(0),
        kind: SubscriptionEventKind::from_db(&e.kind)?,
        occurred_at: e.occurred_at,
        subscription,
        transaction,
    })
}

fn revision(r: u64) -> i64 {
    i64::try_from(r).unwrap_or(i64::MAX)
}

impl Store {
    /// `partner`'s events after revision `after`, oldest first, at most `limit`.
    pub async fn subscription_events_after(
        &self,
        partner: PartnerId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<SubscriptionEvent>, DomainError> {
        subscription_event::Entity::find()
            .filter(subscription_event::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription_event::Column::Revision.gt(revision(after)))
            .order_by_asc(subscription_event::Column::Revision)
            .limit(limit)
            .all(&self.engine.direct())
            .await?
            .into_iter()
            .map(event_from_row)
            .collect()
    }

    /// The last revision of each partner of `partners` that has events (others have none).
    pub async fn subscription_event_heads(
        &self,
        partners: &[PartnerId],
    ) -> Result<Vec<(PartnerId, u64)>, DomainError> {
        subscription_event_head::Entity::find()
            .filter(
                subscription_event_head::Column::PartnerId
                    .is_in(partners.iter().map(ToString::to_string)),
            )
            .all(&self.engine.direct())
            .await?
            .into_iter()
            .map(|h| {
                let partner = PartnerId::parse("partner", &h.partner_id)
                    .map_err(|_| super::super::corrupt("partner", &h.partner_id))?;
                Ok((partner, u64::try_from(h.last_revision).unwrap_or(0)))
            })
            .collect()
    }

    /// `partner`'s last revision (0: none yet).
    pub async fn subscription_event_head(&self, partner: PartnerId) -> Result<u64, DomainError> {
        Ok(self
            .subscription_event_heads(&[partner])
            .await?
            .first()
            .map_or(0, |(_, head)| *head))
    }

    /// The oldest revision of `partner` still kept, if any is.
    pub async fn oldest_subscription_event(
        &self,
        partner: PartnerId,
    ) -> Result<Option<u64>, DomainError> {
        let oldest: Option<Option<i64>> = subscription_event::Entity::find()
            .select_only()
            .column_as(subscription_event::Column::Revision.min(), "oldest")
            .filter(subscription_event::Column::PartnerId.eq(partner.to_string()))
            .into_tuple()
            .one(&self.engine.direct())
            .await?;
        Ok(oldest.flatten().and_then(|r| u64::try_from(r).ok()))
    }

    /// Forgets every partner's events up to its last one that occurred before `before`
    /// (a prefix of each partner's revisions, so what is kept has no gap); the number forgotten.
    pub async fn purge_subscription_events(
        &self,
        before: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        use subscription_event::Column as E;
        let _turn = self.engine.write_turn().await;
        let last_old = Query::select()
            .expr(Func::max(Expr::col(("old", E::Revision))))
            .from_as(subscription_event::Entity.table_ref(), "old")
            .and_where(
                Expr::col(("old", E::PartnerId)).equals((subscription_event::Entity, E::PartnerId)),
            )
            .and_where(Expr::col(("old", E::OccurredAt)).lt(before))
            .to_owned();
        let purged = subscription_event::Entity::delete_many()
            .filter(
                Expr::col((subscription_event::Entity, E::Revision))
                    .lte(Expr::SubQuery(None, Box::new(last_old.into()))),
            )
            .exec(self.engine.pool())
            .await?;
        Ok(purged.rows_affected)
    }
}

/// PostgreSQL: the channel on which a replica announces, after its commit, the partners whose
/// subscription events it wrote (payload: a partner id).
pub const SUBSCRIPTION_EVENTS_CHANNEL: &str = "csp_subscription_events";

/// The partners whose subscription events were written since the stream's pump last took
/// them: by this process (after its commits) or, on PostgreSQL, by another replica (its
/// announcement).
#[derive(Debug, Default)]
pub struct WrittenPartners {
    partners: std::sync::Mutex<std::collections::HashSet<PartnerId>>,
    written: tokio::sync::Notify,
}

impl WrittenPartners {
    pub(in crate::store) fn mark(&self, partner: PartnerId) {
        self.partners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(partner);
        // Stores a permit when nobody waits: `next` never misses a mark.
        self.written.notify_one();
    }

    /// The partners written since the last call, once there is one.
    pub async fn next(&self) -> std::collections::HashSet<PartnerId> {
        loop {
            let taken = std::mem::take(
                &mut *self
                    .partners
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if !taken.is_empty() {
                return taken;
            }
            self.written.notified().await;
        }
    }
}

impl Store {
    /// After the commit of a write with subscription events of `partner`: wakes this
    /// process's event streams and, on PostgreSQL, tells other replicas. (Streams also poll,
    /// so a writer that does not call this delays its events, never loses them.)
    pub fn subscription_events_written(&self, partner: PartnerId) {
        self.written_partners.mark(partner);
        if let Some(announcer) = &self.events_announcer {
            announcer.send(partner);
        }
    }

    /// The partners whose events were written: what the event streams' pump waits on.
    pub fn written_partners(&self) -> std::sync::Arc<WrittenPartners> {
        self.written_partners.clone()
    }
}
