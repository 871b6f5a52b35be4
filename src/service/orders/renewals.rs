//! Renewals: the next term a partner schedules, and the pass that ends every term due (renewed
//! at the current catalog's price, or expired). One pass, three drivers: the server's
//! background loop, the `renew` subcommand and OperatorService.RunRenewals.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{CANCEL_ATTEMPTS, OrderService};
use crate::domain::DomainError;
use crate::domain::customer::Caller;
use crate::domain::error::Precondition;
use crate::domain::ids::{PartnerId, RequestId, SubscriptionId};
use crate::domain::order::{ExpiryReason, NextTermRequest, Subscription, TermEnd};
use crate::domain::subscription::SubscriptionEventKind;
use crate::store::{Held, WriteKey};

/// Subscriptions judged and written per transaction by the pass.
pub const RENEWAL_BATCH: u64 = 500;

/// What a renewal pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RenewalCounts {
    pub renewed: u64,
    pub expired: u64,
}

impl OrderService {
    /// Schedules `next` for subscription `id`'s next term (`None`: clears the schedule), at
    /// `etag` if given, once per request id; judged on the current catalog
    /// (`Subscription::with_next_term`).
    pub async fn schedule_next_term(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: SubscriptionId,
        etag: Option<&str>,
        next: Option<NextTermRequest>,
    ) -> Result<Subscription, DomainError> {
        caller.require(caller.role.may_purchase(), "change subscriptions")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "ScheduleNextTerm",
            fingerprint: format!("{id}|{}|{next:?}", etag.unwrap_or_default()),
        };
        let mut attempt = 0;
        loop {
            if self.store.replayed(&key).await?.is_some() {
                return self.subscription(caller, id).await;
            }
            let sub = self.subscription(caller, id).await?;
            let after = sub.with_next_term(etag, next.as_ref(), &self.catalog.snapshot())?;
            let now = self.clock.now();
            match self
                .store
                .set_subscription_state(
                    partner,
                    &key,
                    &sub,
                    &after,
                    SubscriptionEventKind::NextTermScheduled,
                    now,
                )
                .await
            {
                Ok(_) => return self.subscription(caller, id).await,
                Err(stale) if stale.is_stale_etag() && attempt + 1 < CANCEL_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Ends every term due at or before `until` (`None`: now): renews each live subscription
    /// with auto-renew at the current catalog's price of its (scheduled) next term, expires
    /// the others (`Subscription::at_term_end`), and an add-on with its base. Batches of
    /// `RENEWAL_BATCH`, each one transaction in which every subscription is written only at
    /// the version judged: run at once on several replicas, or again after a crash, each
    /// term ends once. Answers what this pass wrote.
    pub async fn run_renewals(
        &self,
        until: Option<DateTime<Utc>>,
    ) -> Result<RenewalCounts, DomainError> {
        let until = until.unwrap_or_else(|| self.clock.now());
        let mut counts = RenewalCounts::default();
        let mut idle = 0;
        loop {
            let catalog = self.catalog.snapshot();
            if catalog.month().is_none() {
                return Err(DomainError::FailedPrecondition {
                    message: "no catalog month is current: renewals are priced from it".into(),
                    violations: vec![Precondition {
                        code: crate::domain::order::order_code::NO_CURRENT_MONTH.into(),
                        subject: "catalog".into(),
                        description: "publish a month before running renewals".into(),
                    }],
                });
            }
            let due = self.store.due_subscriptions(until, RENEWAL_BATCH).await?;
            if due.is_empty() {
                break;
            }
            let ends = self.judge_term_ends(&due, &catalog).await?;
            let ends: Vec<(PartnerId, &Subscription, TermEnd)> =
                ends.iter().map(|(p, s, e)| (*p, s, e.clone())).collect();
            let written = self.store.write_term_ends(&ends, self.clock.now()).await?;
            counts.renewed += written.renewed;
            counts.expired += written.expired;
            if written.renewed + written.expired == 0 {
                // Everything read was changed by another writer meanwhile; read again, a few
                // times (the next pass takes what is left).
                idle += 1;
                if idle >= 3 {
                    break;
                }
            } else {
                idle = 0;
            }
        }
        if counts != RenewalCounts::default() {
            tracing::info!(
                renewed = counts.renewed,
                expired = counts.expired,
                %until,
                "renewal pass"
            );
        }
        Ok(counts)
    }

    /// The term ends of a batch of due subscriptions: bases first, then add-ons (which end
    /// with a base that ends), then the live add-ons of bases that expire here.
    async fn judge_term_ends(
        &self,
        due: &[Held],
        catalog: &crate::domain::catalog::Catalog,
    ) -> Result<Vec<(PartnerId, Subscription, TermEnd)>, DomainError> {
        let in_batch: HashSet<SubscriptionId> = due.iter().map(|(_, s)| s.id).collect();
        let parents: Vec<SubscriptionId> = due
            .iter()
            .filter_map(|(_, s)| s.parent)
            .filter(|p| !in_batch.contains(p))
            .collect();
        let bases: Vec<SubscriptionId> = due
            .iter()
            .filter(|(_, s)| s.parent.is_none())
            .map(|(_, s)| s.id)
            .collect();
        let neighbours = self.store.renewal_neighbours(&parents, &bases).await?;
        let price = |s: &Subscription| {
            let (item, term, cycle, _) = s.renewal_target();
            catalog
                .item(&item)
                .and_then(|found| found.availability.price_for(term, cycle))
                .map(|p| p.unit_price)
        };
        let mut ends = Vec::with_capacity(due.len());
        // Whether each base of the batch lives on, and when the expiring ones ended.
        let mut lives: HashMap<SubscriptionId, bool> = HashMap::new();
        let mut ended: HashMap<SubscriptionId, DateTime<Utc>> = HashMap::new();
        for (partner, sub) in due.iter().filter(|(_, s)| s.parent.is_none()) {
            if let Some(end) = sub.at_term_end(price(sub), true)? {
                lives.insert(sub.id, end.renewed());
                if !end.renewed() {
                    ended.insert(sub.id, end.record.created_at);
                }
                ends.push((*partner, sub.clone(), end));
            }
        }
        for (partner, sub) in due.iter().filter(|(_, s)| s.parent.is_some()) {
            let base_live = sub.parent.is_some_and(|p| match lives.get(&p) {
                Some(lives) => *lives,
                None => neighbours.iter().any(|(_, b)| b.id == p && b.is_live()),
            });
            if let Some(end) = sub.at_term_end(price(sub), base_live)? {
                ends.push((*partner, sub.clone(), end));
            }
        }
        for (partner, addon) in &neighbours {
            let Some(at) = addon.parent.and_then(|p| ended.get(&p)) else {
                continue;
            };
            if addon.is_live() && !in_batch.contains(&addon.id) {
                let end = addon.expired(*at, ExpiryReason::BaseEnded)?;
                ends.push((*partner, addon.clone(), end));
            }
        }
        Ok(ends)
    }
}
