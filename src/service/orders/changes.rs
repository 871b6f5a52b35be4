//! Changes to one subscription: cancelling it (with its add-ons), changing its quantity
//! (checked as at purchase, under checkout's holdings-version guard), and its record.

use super::{CANCEL_ATTEMPTS, OrderService, bad_token, refused_by_rules};
use crate::domain::DomainError;
use crate::domain::customer::Caller;
use crate::domain::eligibility::{Holdings, quantity_change_problems};
use crate::domain::error::Precondition;
use crate::domain::ids::{PartnerId, RequestId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionTransaction, TransactionKind};
use crate::domain::subscription::SubscriptionEventKind;
use crate::service::catalog::Page;
use crate::service::paging::page_size;
use crate::store::{Cancellation, Recorded, WriteKey, change_resource};

/// How many times a quantity change is judged again after losing a race (for the customer's
/// holdings or the subscription); the loser of a race for the last seats is then refused by
/// the seat limit.
const CHANGE_ATTEMPTS: u32 = 8;

impl OrderService {
    /// Cancels one subscription inside its own window, and the add-ons hanging on it, each
    /// with a cancel transaction refunding the unused share of its billing period. Answers
    /// the subscription and those transactions (a retried request id: as first written).
    pub async fn cancel_subscription(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: SubscriptionId,
        etag: Option<&str>,
    ) -> Result<(Subscription, Vec<SubscriptionTransaction>), DomainError> {
        caller.require(caller.role.may_purchase(), "cancel subscriptions")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "CancelSubscription",
            fingerprint: id.to_string(),
        };
        let mut attempt = 0;
        loop {
            if self.store.replayed(&key).await?.is_some() {
                return self.cancelled(caller, id).await;
            }
            let sub = self.subscription(caller, id).await?;
            let now = self.clock.now();
            sub.check_cancel(etag, now)?;
            let held = self
                .store
                .subscriptions_with_addons(partner, sub.customer_id, &[id])
                .await?;
            let transactions = held
                .iter()
                .filter(|s| s.is_live() && (s.id != id || s.version == sub.version))
                .map(|s| s.cancellation(now))
                .collect::<Result<Vec<_>, _>>()?;
            let cancellation = Cancellation {
                customer: sub.customer_id,
                order: None,
                transactions: &transactions,
                resource_id: &id.to_string(),
            };
            let written = if transactions.iter().any(|t| t.subscription_id == id) {
                self.store.cancel(partner, &key, cancellation, now).await
            } else {
                // It moved between the two reads.
                Err(DomainError::stale_etag(
                    SubscriptionId::RESOURCE,
                    None,
                    None,
                    "read it again",
                ))
            };
            match written {
                Ok(_) => return self.cancelled(caller, id).await,
                Err(stale) if stale.is_stale_etag() && attempt + 1 < CANCEL_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Subscription `id` as cancelled, and the cancel transactions of it and of the add-ons
    /// ended with it (at the same instant).
    async fn cancelled(
        &self,
        caller: &Caller,
        id: SubscriptionId,
    ) -> Result<(Subscription, Vec<SubscriptionTransaction>), DomainError> {
        let partner = caller.partner()?;
        let sub = self.subscription(caller, id).await?;
        let held = self
            .store
            .subscriptions_with_addons(partner, sub.customer_id, &[id])
            .await?;
        let mut transactions = Vec::new();
        for s in held.iter().filter(|s| !s.is_live()) {
            let last = self
                .store
                .subscription_history(partner, s.id, s.version - 1, 1)
                .await?;
            transactions.extend(
                last.into_iter()
                    .filter(|t| t.kind == TransactionKind::Cancel),
            );
        }
        let at = transactions
            .iter()
            .find(|t| t.subscription_id == id)
            .map(|t| t.created_at);
        transactions.retain(|t| Some(t.created_at) == at);
        transactions.sort_by_key(|t| t.subscription_id != id);
        Ok((sub, transactions))
    }

    /// Subscription `id`'s record, oldest first, paged by the version each change made.
    pub async fn history(
        &self,
        caller: &Caller,
        id: SubscriptionId,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<SubscriptionTransaction>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let partner = caller.partner()?;
        // Another partner's subscription is not found, like a missing one.
        self.subscription(caller, id).await?;
        let query = format!("history|{partner}|{id}");
        let after = match self.tokens.decode(&query, page_token)? {
            None => 0,
            Some(key) => key.parse::<i64>().map_err(|_| bad_token())?,
        };
        let items = self
            .store
            .subscription_history(partner, id, after, limit as u64 + 1)
            .await?;
        Ok(self
            .tokens
            .page(&query, limit, items, |t| t.version.to_string()))
    }

    /// Changes subscription `id`'s quantity to `quantity` (see `Subscription::change_quantity`
    /// and `eligibility::quantity_change_problems`), at `etag` if given, once per request id.
    /// Answers the subscription and the change's transaction.
    pub async fn change_quantity(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: SubscriptionId,
        etag: Option<&str>,
        quantity: i32,
    ) -> Result<(Subscription, SubscriptionTransaction), DomainError> {
        caller.require(caller.role.may_purchase(), "change subscriptions")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "ChangeSubscriptionQuantity",
            fingerprint: format!("{id}|{quantity}|{}", etag.unwrap_or_default()),
        };
        let mut attempt = 0;
        loop {
            if let Some(done) = self.store.replayed(&key).await? {
                return self.changed(caller, id, &done).await;
            }
            let sub = self.subscription(caller, id).await?;
            let now = self.clock.now();
            let change = sub.change_quantity(etag, quantity, now)?;
            let (holdings, version) = self.holdings_of(partner, &sub).await?;
            self.check_quantity(partner, &sub, quantity, &holdings)
                .await?;
            let written = self
                .store
                .change_quantity(partner, &key, &sub, &change, version, now)
                .await;
            if let Some(done) = self
                .after_judged_write(caller, id, written, change, &mut attempt)
                .await?
            {
                return Ok(done);
            }
        }
    }

    /// Where a write judged on the holdings leaves its retry loop: the subscription now and
    /// the change once written; `None` to judge again: the same request id was written
    /// concurrently (the loop then answers what it wrote), or a version moved while
    /// attempts remain.
    pub(super) async fn after_judged_write(
        &self,
        caller: &Caller,
        id: SubscriptionId,
        written: Result<Recorded, DomainError>,
        change: SubscriptionTransaction,
        attempt: &mut u32,
    ) -> Result<Option<(Subscription, SubscriptionTransaction)>, DomainError> {
        match written {
            Ok(Recorded::Written) => Ok(Some((self.subscription(caller, id).await?, change))),
            Ok(Recorded::Replayed) => Ok(None),
            Err(stale) if stale.is_stale_etag() && *attempt + 1 < CHANGE_ATTEMPTS => {
                *attempt += 1;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// What the customer of `sub` holds, and the holdings version a change judged on it
    /// claims when it is written.
    pub(super) async fn holdings_of(
        &self,
        partner: PartnerId,
        sub: &Subscription,
    ) -> Result<(Holdings, i64), DomainError> {
        let held = self
            .store
            .holdings(partner, sub.customer_id)
            .await?
            .ok_or_else(|| {
                DomainError::Internal(format!("subscription {} has no customer", sub.id))
            })?;
        let version = held
            .version
            .ok_or_else(|| DomainError::Internal("holdings read without their version".into()))?;
        Ok((held.holdings, version))
    }

    /// The catalog's quantity rules for `sub` going to `to` seats, as at purchase, on what the
    /// customer holds.
    async fn check_quantity(
        &self,
        partner: PartnerId,
        sub: &Subscription,
        to: i32,
        holdings: &Holdings,
    ) -> Result<(), DomainError> {
        let catalog = self.catalog.snapshot();
        let subject = format!("subscriptions/{}", sub.id);
        let Some(view) = catalog.sku(&sub.item.product, &sub.item.sku) else {
            if to < sub.quantity {
                return Ok(());
            }
            return Err(DomainError::FailedPrecondition {
                message: "the SKU is no longer in the current price list: seats cannot be added"
                    .into(),
                violations: vec![Precondition {
                    code: crate::domain::eligibility::code::NOT_IN_CURRENT_PRICE_LIST.into(),
                    subject,
                    description: "seats can be added only to a SKU of the current price list"
                        .into(),
                }],
            });
        };
        let addons: Vec<i32> = if to < sub.quantity {
            self.store
                .subscriptions_with_addons(partner, sub.customer_id, &[sub.id])
                .await?
                .iter()
                .filter(|a| a.parent == Some(sub.id) && a.is_live())
                .filter(|a| {
                    catalog
                        .sku(&a.item.product, &a.item.sku)
                        .is_some_and(|v| v.sku.addon_limited_by_base())
                })
                .map(|a| a.quantity)
                .collect()
        } else {
            Vec::new()
        };
        let problems = quantity_change_problems(holdings, view.sku, sub.quantity, to, &addons);
        if problems.is_empty() {
            return Ok(());
        }
        Err(refused_by_rules(
            &format!("the quantity cannot be {to}"),
            &subject,
            &problems,
        ))
    }

    /// What a quantity change's request id answered: the subscription now and the change.
    pub(super) async fn changed(
        &self,
        caller: &Caller,
        id: SubscriptionId,
        resource: &str,
    ) -> Result<(Subscription, SubscriptionTransaction), DomainError> {
        let partner = caller.partner()?;
        let version = resource
            .rsplit_once('@')
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .ok_or_else(|| DomainError::Internal(format!("request id points at {resource:?}")))?;
        let sub = self.subscription(caller, id).await?;
        let change = self
            .store
            .subscription_history(partner, id, version - 1, 1)
            .await?
            .into_iter()
            .next()
            .filter(|t| change_resource(t) == resource)
            .ok_or_else(|| DomainError::Internal(format!("no transaction {resource}")))?;
        Ok((sub, change))
    }

    /// Suspends, reactivates or turns auto-renew on or off (`operation`, judged by `judge`
    /// on the subscription as read), at `etag` if given, once per request id.
    pub async fn set_state(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: SubscriptionId,
        etag: Option<&str>,
        change: StateChange,
    ) -> Result<Subscription, DomainError> {
        caller.require(caller.role.may_purchase(), "change subscriptions")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: change.operation(),
            fingerprint: format!("{id}|{}", etag.unwrap_or_default()),
        };
        let mut attempt = 0;
        loop {
            if self.store.replayed(&key).await?.is_some() {
                return self.subscription(caller, id).await;
            }
            let sub = self.subscription(caller, id).await?;
            let after = match change {
                StateChange::Suspend => sub.suspended(etag)?,
                StateChange::Reactivate => sub.reactivated(etag)?,
                StateChange::AutoRenew(on) => sub.with_auto_renew(etag, on)?,
            };
            let now = self.clock.now();
            match self
                .store
                .set_subscription_state(partner, &key, &sub, &after, change.event(), now)
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
}

/// A change of a subscription's status or auto-renew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Suspend,
    Reactivate,
    AutoRenew(bool),
}

impl StateChange {
    /// What the event stream says of it.
    fn event(self) -> SubscriptionEventKind {
        match self {
            StateChange::Suspend => SubscriptionEventKind::Suspended,
            StateChange::Reactivate => SubscriptionEventKind::Reactivated,
            StateChange::AutoRenew(_) => SubscriptionEventKind::AutoRenewChanged,
        }
    }
}

impl StateChange {
    fn operation(self) -> &'static str {
        match self {
            StateChange::Suspend => "SuspendSubscription",
            StateChange::Reactivate => "ReactivateSubscription",
            StateChange::AutoRenew(true) => "SetSubscriptionAutoRenew(on)",
            StateChange::AutoRenew(false) => "SetSubscriptionAutoRenew(off)",
        }
    }
}
