//! Order history, cancellation (of an order, or of one subscription with its add-ons) and
//! subscriptions with the record of their changes.

use std::sync::Arc;

use chrono::DateTime;

use super::Clock;
use super::catalog::{CatalogService, Page};
use super::customers::CustomerService;
use super::paging::{PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::customer::Caller;
use crate::domain::ids::{CustomerId, OrderId, RequestId, SubscriptionId};
use crate::domain::order::{Order, Subscription, SubscriptionTransaction, TransactionKind};
pub use crate::domain::order::{OrderFilter, SubscriptionFilter};
use crate::store::{Cancellation, Store, WriteKey};

/// How many times a cancellation judged on something that moved meanwhile is judged again.
const CANCEL_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct OrderService {
    store: Store,
    catalog: CatalogService,
    customers: CustomerService,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
}

fn bad_token() -> DomainError {
    DomainError::invalid("page_token", "INVALID_PAGE_TOKEN", "page_token is corrupt")
}

impl OrderService {
    pub fn new(
        store: Store,
        catalog: CatalogService,
        customers: CustomerService,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            catalog,
            customers,
            tokens,
            clock,
        }
    }

    pub async fn get(&self, caller: &Caller, id: OrderId) -> Result<Order, DomainError> {
        let partner = caller.partner()?;
        self.store
            .order(partner, id)
            .await?
            .ok_or_else(|| DomainError::not_found(OrderId::RESOURCE, id.to_string()))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        customer: CustomerId,
        filter: OrderFilter,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Order>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let (partner, _) = self.customers.buyer(caller, customer).await?;
        let query = format!("orders|{}|{customer}|{filter:?}", partner.id);
        let after = match self.tokens.decode(&query, page_token)? {
            None => None,
            Some(key) => {
                let (micros, id) = key.split_once('|').ok_or_else(bad_token)?;
                let at = micros
                    .parse::<i64>()
                    .ok()
                    .and_then(DateTime::from_timestamp_micros)
                    .ok_or_else(bad_token)?;
                Some((at, id.to_owned()))
            }
        };
        let items = self
            .store
            .list_orders(partner.id, customer, &filter, after, limit as u64 + 1)
            .await?;
        Ok(self.tokens.page(&query, limit, items, |item| {
            format!("{}|{}", item.created_at.timestamp_micros(), item.id)
        }))
    }

    /// Cancels inside the window of every line still held, refunding what was billed for
    /// the current billing period pro rata; outside it says until when it was possible.
    pub async fn cancel(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: OrderId,
        etag: Option<&str>,
    ) -> Result<Order, DomainError> {
        caller.require(caller.role.may_purchase(), "cancel orders")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "CancelOrder",
            fingerprint: id.to_string(),
        };
        let mut attempt = 0;
        loop {
            if self.store.replayed(&key).await?.is_some() {
                return self.get(caller, id).await;
            }
            let order = self.get(caller, id).await?;
            let now = self.clock.now();
            let own: Vec<SubscriptionId> = order.lines.iter().map(|l| l.subscription_id).collect();
            let held = self
                .store
                .subscriptions_with_addons(partner, order.customer_id, &own)
                .await?;
            let (refund, transactions) = order.cancel(etag, now, &held)?;
            let cancellation = Cancellation {
                customer: order.customer_id,
                order: Some((&order, refund)),
                transactions: &transactions,
                resource_id: &order.id.to_string(),
            };
            match self.store.cancel(partner, &key, cancellation, now).await {
                Ok(_) => return self.get(caller, id).await,
                // Something moved since it was read (the order completed by its provisioning,
                // an add-on changed): read and judge again; a stale etag of the caller's is
                // then told as such.
                Err(stale) if stale.is_stale_etag() && attempt + 1 < CANCEL_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

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

    pub async fn subscription(
        &self,
        caller: &Caller,
        id: SubscriptionId,
    ) -> Result<Subscription, DomainError> {
        let partner = caller.partner()?;
        let mut sub = self
            .store
            .subscription(partner, id)
            .await?
            .ok_or_else(|| DomainError::not_found("subscription", id.to_string()))?;
        self.titled(&mut sub);
        Ok(sub)
    }

    fn titled(&self, sub: &mut Subscription) {
        if let Some(view) = self
            .catalog
            .snapshot()
            .sku(&sub.item.product, &sub.item.sku)
        {
            sub.title = view.sku.title.clone();
        }
    }

    pub async fn subscriptions(
        &self,
        caller: &Caller,
        customer: CustomerId,
        filter: SubscriptionFilter,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Subscription>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let (partner, _) = self.customers.buyer(caller, customer).await?;
        let query = format!("subscriptions|{}|{customer}|{filter:?}", partner.id);
        let after = self
            .tokens
            .decode(&query, page_token)?
            .map(|k| SubscriptionId::parse("page_token", &k))
            .transpose()?;
        let items = self
            .store
            .list_subscriptions(partner.id, customer, &filter, after, limit as u64 + 1)
            .await?;
        let Page {
            items,
            next_page_token,
        } = self
            .tokens
            .page(&query, limit, items, |item| item.id.to_string());
        let mut items = items;
        for sub in &mut items {
            self.titled(sub);
        }
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Provisioning: pending orders become completed once their subscriptions exist (they are
    /// written with the order, so one pass completes them).
    pub async fn provision_pending(&self) -> Result<u64, DomainError> {
        self.store.complete_pending_orders(500).await
    }

    /// Forgets request ids older than two days (the promise is at least 24 hours).
    pub async fn purge_request_ids(&self) -> Result<u64, DomainError> {
        self.store
            .purge_request_ids(self.clock.now() - chrono::Duration::days(2))
            .await
    }
}
